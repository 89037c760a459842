// A forked child's last message reaches the parent however large it is (a study worker's records:
// disconnecting right after process.send lost a 50 MB message, and the study saw the worker exit
// without its records).
import { test } from "node:test";
import assert from "node:assert/strict";
import { fork } from "node:child_process";
import path from "node:path";

test("sendLast: a 50 MB last message arrives before the child exits", async () => {
  const size = 50_000_000;
  const child = fork(path.join(__dirname, "helpers", "ipc-child.ts"), [String(size)], { execArgv: ["--import", "tsx"] });
  let received = -1;
  child.on("message", (m: { data: string }) => { received = m.data.length; });
  const code = await new Promise<number | null>((resolve) => {
    child.on("exit", (c) => resolve(c));
    child.send("go");
  });
  assert.equal(code, 0);
  assert.equal(received, size);
});
