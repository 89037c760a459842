/**
 * The training loop on a toy bigram model (one logit table, fast and exact): it learns, it is
 * deterministic, a killed run resumes from its checkpoint to the same losses and weights bit for
 * bit, and a non-finite loss stops it naming the step.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { train, FINETUNE_DEFAULTS, DivergedError, type TrainableModel, type Progress } from "../src/train/loop";
import type { Batch, TokenizedExample } from "../src/train/examples";

const V = 12;

/** logits(next | current) = W[current]: a bigram model. */
class Bigram implements TrainableModel {
  readonly variables: Map<string, tf.Variable>;
  poisonAtCall = -1;
  private calls = 0;
  constructor(seed: number) {
    this.variables = new Map([["w", tf.variable(tf.randomNormal([V, V], 0, 0.1, "float32", seed), true, `w${seed}-${Math.random()}`)]]);
  }
  batchLoss(batch: Batch): tf.Scalar {
    const poison = ++this.calls === this.poisonAtCall;
    return tf.tidy(() => {
      const keep: number[] = [], labels: number[] = [];
      batch.labels.forEach((l, i) => { if (l >= 0) { keep.push(batch.inputs[i]); labels.push(l); } });
      const logits = tf.gather(this.variables.get("w")!, tf.tensor1d(keep, "int32")); // (N, V)
      const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(labels, "int32"), V), logits) as tf.Scalar;
      return poison ? tf.mul(loss, NaN) as tf.Scalar : loss;
    });
  }
  weights(): number[] { return Array.from(this.variables.get("w")!.dataSync()); }
}

// Sequences that follow a fixed successor rule: next = (cur * 5 + 3) mod V, from ids ≥ 3.
function examples(n: number): TokenizedExample[] {
  const out: TokenizedExample[] = [];
  for (let i = 0; i < n; i++) {
    const ids = [0];
    let cur = 3 + (i % (V - 3));
    for (let t = 0; t < 3 + (i % 5); t++) { ids.push(cur); cur = 3 + ((cur * 5 + 3) % (V - 3)); }
    out.push({ ids, targetStart: 2, droppedPromptTokens: 0 });
  }
  return out;
}

const cfg = { ...FINETUNE_DEFAULTS, epochs: 3, batchSize: 8, microBatchSize: 4, lr: 0.1, warmupSteps: 2, seed: 7 };

test("the loop learns, reports progress, and is deterministic for a seed", async () => {
  await tf.setBackend("cpu");
  const data = examples(40);
  const seen: Progress[] = [];
  const m1 = new Bigram(1);
  const r1 = await train(m1, data, cfg, { onProgress: (p) => seen.push(p) });
  assert.equal(r1.steps, 15); // 3 epochs × ceil(40 / 8)
  assert.equal(seen.length, 15);
  assert.deepEqual(seen.map((p) => p.step), Array.from({ length: 15 }, (_, i) => i + 1));
  assert.ok(seen.every((p) => p.totalSteps === 15 && p.tokensPerSecond > 0 && p.etaSeconds >= 0));
  assert.equal(seen[14].etaSeconds, 0);
  assert.ok(r1.losses[14] < r1.losses[0] * 0.6, `loss ${r1.losses[0]} → ${r1.losses[14]}`);
  const m2 = new Bigram(1);
  const r2 = await train(m2, data, cfg);
  assert.deepEqual(r2.losses, r1.losses);
  assert.deepEqual(m2.weights(), m1.weights());
  m1.variables.forEach((v) => v.dispose()); m2.variables.forEach((v) => v.dispose());
});

test("a run killed after a checkpoint resumes to the same losses and weights, bit for bit", async () => {
  await tf.setBackend("cpu");
  const data = examples(40);
  const ckCfg = { ...cfg, checkpointEvery: 4 };
  const full = new Bigram(2);
  const whole = await train(full, data, ckCfg);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-ckpt-"));
  const killed = new Bigram(2);
  await assert.rejects(train(killed, data, ckCfg, {
    checkpointDir: dir, runKey: "r",
    onProgress: (p) => { if (p.step === 6) throw new Error("killed"); },
  }), /killed/);
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, "latest.json"), "utf8")).step, 4);

  const again = new Bigram(99); // different init: everything must come from the checkpoint
  const resumed = await train(again, data, ckCfg, { checkpointDir: dir, runKey: "r" });
  assert.equal(resumed.resumedFrom, 4);
  assert.deepEqual(resumed.losses, whole.losses);
  assert.deepEqual(again.weights(), full.weights());
  // only the last checkpoint folder is kept
  assert.deepEqual(fs.readdirSync(dir).filter((e) => e.startsWith("checkpoint-")), ["checkpoint-0000015"]);
  // another run key does not resume
  const other = await train(new Bigram(3), data, { ...ckCfg, maxSteps: 2 }, { checkpointDir: dir, runKey: "other" });
  assert.equal(other.resumedFrom, 0);
});

test("a non-finite loss stops the run with an error naming the step", async () => {
  await tf.setBackend("cpu");
  const m = new Bigram(4);
  m.poisonAtCall = 5; // micro-batch 5 = the first of step 3 (2 micro-batches a step)
  await assert.rejects(train(m, examples(40), cfg), (e: Error) => e instanceof DivergedError && /loss is NaN at step 3/.test(e.message));
});

test("tensors do not leak across training steps", async () => {
  await tf.setBackend("cpu");
  const m = new Bigram(5);
  const counts: number[] = [];
  await train(m, examples(40), { ...cfg, epochs: 1 }, { onProgress: () => counts.push(tf.memory().numTensors) });
  // after the first step creates the optimizer's moments, the count stays flat
  assert.ok(counts.slice(1).every((c) => c === counts[1]), `tensor counts ${counts}`);
});

test("a call stopped by its step or time budget checkpoints there, and the next call goes on to the same result", async () => {
  await tf.setBackend("cpu");
  const data = examples(40);
  const ckCfg = { ...cfg, checkpointEvery: 4 };
  const whole = await train(new Bigram(6), data, ckCfg);
  assert.equal(whole.stoppedBy, undefined);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-budget-"));
  const m = new Bigram(6);
  const first = await train(m, data, ckCfg, { checkpointDir: dir, runKey: "b", maxStepsThisRun: 3 });
  assert.equal(first.steps, 3);
  assert.equal(first.stoppedBy, "maxStepsThisRun");
  // the stop wrote a checkpoint at step 3, off the every-4 schedule
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, "latest.json"), "utf8")).step, 3);

  // a budget of 0 s stops after one step (the first step is always taken)
  const second = await train(new Bigram(50), data, ckCfg, { checkpointDir: dir, runKey: "b", maxSeconds: 0 });
  assert.equal(second.resumedFrom, 3);
  assert.equal(second.steps, 4);
  assert.equal(second.stoppedBy, "maxSeconds");

  const last = new Bigram(51);
  const third = await train(last, data, ckCfg, { checkpointDir: dir, runKey: "b", maxSeconds: 3600, maxStepsThisRun: 100 });
  assert.equal(third.resumedFrom, 4);
  assert.equal(third.steps, 15);
  assert.equal(third.stoppedBy, undefined);
  assert.deepEqual(third.losses, whole.losses);
  assert.equal(third.tokens, whole.tokens);
});
