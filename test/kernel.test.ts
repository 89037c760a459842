/**
 * The kernel's zeromq send queue (scripts/kernel/zmq-send-queue.cjs). zeromq 6 throws EBUSY for a
 * send while another is in flight on the same socket; tslab sends without waiting, so a burst of
 * requests lost replies and could stop its shell loop. Checked at the socket and through Jupyter.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { jupyterEnv, jupyterPython } from "../scripts/lib/jupyter";

const root = path.resolve(__dirname, "..");
const preload = path.join(root, "scripts", "kernel", "zmq-send-queue.cjs");
const fromTslab = createRequire(require.resolve("tslab/package.json"));

interface Zmq {
  Socket: { prototype: { send: (msg: unknown) => Promise<void> } };
  Push: new () => { connect(a: string): void; close(): void; send(m: unknown): Promise<void> };
  Pull: new () => { bind(a: string): Promise<void>; receive(): Promise<Buffer[]>; close(): void };
}

test("zeromq send queue: a burst of unawaited sends on one socket all arrive, in order (unqueued, some throw EBUSY)", async () => {
  const zmq = fromTslab("zeromq") as Zmq;
  const unqueued = zmq.Socket.prototype.send;
  const pull = new zmq.Pull();
  const push = new zmq.Push();
  await pull.bind("tcp://127.0.0.1:*");
  const endpoint = (pull as unknown as { lastEndpoint: string }).lastEndpoint;
  push.connect(endpoint);
  try {
    // Unqueued: zeromq finishes 512 operations synchronously, defers the next, and refuses a send meanwhile.
    let busy = 0;
    let sentUnqueued = 0;
    for (let i = 0; i < 2000; i++) {
      try {
        void unqueued.call(push, `u${i}`).catch(() => undefined);
        sentUnqueued++;
      } catch (e) {
        assert.match((e as Error).message, /busy writing/);
        busy++;
      }
    }
    assert.ok(busy > 0, "the unqueued burst meets EBUSY (else this test shows nothing)");
    for (let i = 0; i < sentUnqueued; i++) await pull.receive();

    require(preload);
    assert.equal(zmq.Socket.prototype.send.name, "send_queued");
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 2000; i++) sends.push(push.send(`q${i}`)); // no throw: each waits for the one before
    await Promise.all(sends);
    for (let i = 0; i < 2000; i++) assert.equal(String((await pull.receive())[0]), `q${i}`);
  } finally {
    push.close();
    pull.close();
  }
});

test("the registered kernel answers all of a burst of 700 kernel_info requests, then still executes", () => {
  const r = spawnSync(jupyterPython(), [path.join(root, "test", "helpers", "kernel_burst.py"), "700"], {
    cwd: root, encoding: "utf8", timeout: 180_000, env: jupyterEnv(),
  });
  assert.equal(r.status, 0, r.stderr);
  const line = r.stdout.trim().split("\n").pop() ?? "";
  assert.deepEqual(JSON.parse(line), { replies: 700, requests: 700, execute: "ok" });
  assert.doesNotMatch(r.stderr, /busy writing/);
});
