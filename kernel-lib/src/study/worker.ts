/**
 * A study worker process (runner.ts forks it when RunOptions.workers > 1): it receives a part of a
 * study plan, runs it with runStudy in-process, and sends progress events and its records back.
 */
import { initBackend } from "../model/backend";
import { ResultStore } from "./store";
import { sendLast } from "../util/ipc";
import { runStudy } from "./runner";
import type { WorkerMessage, WorkerRequest } from "./run-contract";

// The kernel (or process) that forked this worker is gone: stop, rather than train for nobody.
let finished = false;
process.on("disconnect", () => { if (!finished) process.exit(1); });

process.on("message", (req: WorkerRequest) => {
  const send = (m: WorkerMessage): void => { process.send?.(m); };
  const finish = (m: WorkerMessage): void => {
    finished = true;
    sendLast(m);
  };
  (async () => {
    await initBackend({ quiet: true });
    const { storeDir, storeReadFrom, ...rest } = req.opts;
    const records = await runStudy(req.plan, { ...rest, store: new ResultStore(storeDir, storeReadFrom), onProgress: (event) => send({ kind: "event", event }) });
    finish({ kind: "done", records });
  })().catch((e: Error) => finish({ kind: "error", message: e.message }));
});
