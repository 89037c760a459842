"use strict";
/**
 * Preloaded into the tslab kernel (`node --require`, see kernelSpec in scripts/lib/jupyter.ts).
 *
 * zeromq 6 allows one send in flight per socket. It completes up to 512 operations on a socket
 * synchronously, then defers one to the next turn of the event loop; a second send in that window
 * throws EBUSY ("Socket is busy writing") synchronously. tslab sends without waiting (status busy,
 * the reply, status idle, back to back), so a busy kernel drops messages, and a throw inside its
 * shell loop ends the loop: the kernel stays alive but never answers again ("Kernel didn't respond
 * in 60 seconds"). Here each socket's sends wait for the one before, in order.
 */
const path = require("node:path");

const tslabDir = path.dirname(require.resolve("tslab/package.json"));
const zmq = require(require.resolve("zeromq", { paths: [tslabDir] }));

/**
 * Chain every send on a zeromq Socket class behind the previous send on the same socket.
 * @param {{ prototype: { send: Function } }} Socket zeromq's native Socket class
 */
function queueSends(Socket) {
  const send = Socket.prototype.send;
  if (send.ftgenQueued) return;
  /** The last queued send of each socket, settled or not. */
  const last = new WeakMap();
  const queued = function send_queued(...args) {
    const start = () => send.apply(this, args);
    const before = last.get(this);
    let sent;
    if (before) sent = before.then(start);
    else {
      try {
        sent = Promise.resolve(start());
      } catch (err) {
        sent = Promise.reject(err);
      }
    }
    const settled = sent.then(() => undefined, () => undefined);
    last.set(this, settled);
    settled.then(() => {
      if (last.get(this) === settled) last.delete(this);
    });
    // A message for a socket closed at shutdown has nowhere to go; other failures still surface.
    return sent.catch((err) => {
      if (!this.closed) throw err;
    });
  };
  queued.ftgenQueued = true;
  // The native method is read-only but configurable.
  Object.defineProperty(Socket.prototype, "send", { value: queued, writable: false, enumerable: false, configurable: true });
}

queueSends(zmq.Socket);
module.exports = { queueSends };
