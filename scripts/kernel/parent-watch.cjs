"use strict";
/**
 * Preloaded into the tslab kernel (`node --require`, see kernelSpec in scripts/lib/jupyter.ts).
 *
 * Jupyter starts a kernel in a session of its own, so a kill of the study's process group (or of the
 * Jupyter process that started it) does not reach it: it would live on with parent PID 1, finishing
 * evaluations nobody waits for. The kernel exits when the process that started it is gone; the study's
 * worker processes, forked by the kernel, exit when their IPC channel to it closes (study/worker.ts).
 */
const parent = process.ppid;
const timer = setInterval(() => {
  if (process.ppid !== parent) {
    process.stderr.write(`ftgen: the kernel's parent (PID ${parent}) is gone; stopping the kernel\n`);
    process.exit(1);
  }
}, 500);
timer.unref();
