/**
 * progressBar in its three forms, without Jupyter: a kernel (tslab's display hook replaced by a
 * recorder: one display_id, display_data then update_display_data), a terminal (one line redrawn
 * with a carriage return) and a log (a line every 10%). The real kernel is in test/notebooks.test.ts.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { progressBar, trainingStatus, formatSeconds } from "../src/notebook/progress";
import type { Progress } from "../src/train/loop";

const step = (s: number, total: number): Progress => {
  const p = { step: s, totalSteps: total, epoch: 0, loss: 3 - s / 4, lr: 1e-3, gradNorm: 1, tokensPerSecond: 1234.4 + s, elapsedSeconds: s, etaSeconds: 65 * (total - s), tokens: 1234 * s };
  return p;
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function recorder(): { writes: string[]; stream: { isTTY: boolean; write(s: string): boolean } } {
  const writes: string[] = [];
  return { writes, stream: { isTTY: true, write: (s: string) => { writes.push(s); return true; } } };
}

test("the training status names loss, tokens/s and ETA", () => {
  assert.equal(trainingStatus(step(2, 4)), "loss 2.5000 · 1,236 tokens/s · ETA 2m10s");
  assert.equal(formatSeconds(3725), "1h02m");
});

test("on a terminal: one line redrawn with a carriage return, ended by finish", () => {
  const { writes, stream } = recorder();
  const bar = progressBar("FT", { stream, minIntervalMs: 0 });
  for (let s = 1; s <= 3; s++) bar.onProgress(step(s, 3));
  bar.finish();
  assert.equal(writes.length, 4);
  assert.ok(writes.every((w) => w.startsWith("\r")), JSON.stringify(writes));
  assert.equal(writes[0], "\rFT [##########--------------------] step 1/3 (33%) loss 2.7500 · 1,235 tokens/s · ETA 2m10s\x1b[K");
  assert.equal(writes.slice(0, 3).join("").includes("\n"), false, "no newline before the end");
  assert.equal(writes[3], "\rFT [##############################] step 3/3 (100%) loss 2.2500 · 1,237 tokens/s · ETA 0s · done\x1b[K\n");
});

test("updates that come too fast are held, and the latest one is drawn when the interval is up", async () => {
  const { writes, stream } = recorder();
  const bar = progressBar("eval", { stream, minIntervalMs: 60 });
  for (let i = 1; i <= 5; i++) bar.update(i, 10, `item ${i}`);
  assert.equal(writes.length, 1, "only the first is drawn at once");
  await sleep(120);
  assert.equal(writes.length, 2);
  assert.match(writes[1], /5\/10 \(50%\) item 5/);
  bar.update(10, 10, "item 10"); // the last is always drawn
  assert.match(writes[2], /10\/10 \(100%\) item 10/);
  bar.finish("ok");
  bar.update(3, 10); // ignored once finished
  assert.equal(writes.length, 4);
});

test("in a log: a line every 10% and one at the end", () => {
  const { writes, stream } = recorder();
  stream.isTTY = false;
  const bar = progressBar("data", { stream });
  for (let i = 1; i <= 100; i++) bar.update(i, 100);
  bar.finish();
  assert.equal(writes.length, 12); // once for 1%..9% (decile 0), once each at 10%, 20% … 100%, then the finish
  assert.equal(writes[0], "data: 1/100 (1%)\n");
  assert.equal(writes[1], "data: 10/100 (10%)\n");
  assert.equal(writes[11], "data: 100/100 (100%) done\n");
});

// tslab's hook, as the kernel sets it while a cell runs.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const jupyter = require("tslab/dist/jupyter") as { lastWriteDisplayData: unknown };
after(() => { jupyter.lastWriteDisplayData = null; });

test("in a kernel: one display, shown once then updated in place by its display_id", async () => {
  const sent: { data: Record<string, string>; transient: { display_id?: string }; update: boolean }[] = [];
  jupyter.lastWriteDisplayData = (payload: { data: Record<string, string>; transient: { display_id?: string } }, update: boolean) => sent.push({ ...payload, update });
  const bar = progressBar("FT sentiment", { minIntervalMs: 0 });
  for (let s = 1; s <= 4; s++) bar.onProgress(step(s, 4));
  bar.finish();
  jupyter.lastWriteDisplayData = null;
  assert.deepEqual(sent.map((m) => m.update), [false, true, true, true, true]);
  const id = sent[0].transient.display_id;
  assert.ok(id);
  assert.ok(sent.every((m) => m.transient.display_id === id));
  const last = sent[sent.length - 1].data;
  assert.equal(last["text/plain"], "FT sentiment [##############################] step 4/4 (100%) loss 2.0000 · 1,238 tokens/s · ETA 0s · done");
  assert.match(last["text/html"], /<progress value="4" max="4"[^>]*><\/progress> step 4\/4 \(100%\) loss 2\.0000 · 1,238 tokens\/s · ETA 0s · done/);
  // a second bar is a second display
  jupyter.lastWriteDisplayData = (payload: { transient: { display_id?: string } }) => { assert.notEqual(payload.transient.display_id, id); };
  progressBar("other").update(1, 2);
  jupyter.lastWriteDisplayData = null;
});
