/** AdamW, clipping, accumulation and schedules against hand-computed values. */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { AdamW, GradientAccumulator, globalNorm } from "../src/train/optim";
import { linearLr, cosineLr } from "../src/train/schedule";

const close = (a: number, b: number, tol = 1e-6): void => assert.ok(Math.abs(a - b) < tol, `${a} vs ${b}`);

test("AdamW's first step with decoupled weight decay, by hand", async () => {
  await tf.setBackend("cpu");
  const p = tf.variable(tf.tensor1d([1]), true, "w");
  const opt = new AdamW(new Map([["w", p]]), { weightDecay: 0.01, maxGradNorm: 0 });
  const g = tf.tensor1d([0.5]);
  opt.apply(new Map([["w", g]]), 0.1);
  // m = 0.1·0.5 = 0.05, v = 0.001·0.25 = 0.00025; m̂ = 0.5, v̂ = 0.25; update = 0.5/(0.5+1e-8) ≈ 1
  // p = 1·(1 − 0.1·0.01) − 0.1·1 = 0.999 − 0.1 = 0.899
  close(p.dataSync()[0], 0.899);
  // Second step, same gradient: m = 0.9·0.05 + 0.05 = 0.095, v = 0.999·0.00025 + 0.00025 = 0.00049975
  // m̂ = 0.095/0.19 = 0.5, v̂ = 0.00049975/0.001999 = 0.25 → update ≈ 1; p = 0.899·0.999 − 0.1 = 0.798101
  opt.apply(new Map([["w", g]]), 0.1);
  close(p.dataSync()[0], 0.798101);
  const state = await opt.state();
  close(state.moments.w.m[0], 0.095);
  assert.equal(state.step, 2);
  opt.dispose(); p.dispose(); g.dispose();
});

test("norm variables are not decayed; gradients are clipped to the global norm", async () => {
  await tf.setBackend("cpu");
  const a = tf.variable(tf.tensor1d([0]), true, "a");
  const n = tf.variable(tf.tensor1d([2]), true, "layer.norm.weight");
  const opt = new AdamW(new Map([["a", a], ["layer.norm.weight", n]]), { weightDecay: 0.5, maxGradNorm: 1 });
  const ga = tf.tensor1d([3]), gn = tf.tensor1d([4]);
  const norm = opt.apply(new Map([["a", ga], ["layer.norm.weight", gn]]), 0.01);
  close(norm, 5); // √(9 + 16)
  const st = await opt.state();
  close(st.moments.a.m[0], 0.1 * 3 / (5 + 1e-6), 1e-6); // clipped gradient 0.6
  close(st.moments["layer.norm.weight"].m[0], 0.1 * 4 / (5 + 1e-6), 1e-6); // 0.8
  // norm weight: no decay: 2 − 0.01·1 = 1.99; a: 0 − 0.01 = −0.01
  close(n.dataSync()[0], 1.99, 1e-5);
  close(a.dataSync()[0], -0.01, 1e-5);
  opt.dispose(); [a, n, ga, gn].forEach((t) => t.dispose());
});

test("gradient accumulation gives the token-weighted mean and leaks no tensors", async () => {
  await tf.setBackend("cpu");
  const before = tf.memory().numTensors;
  const acc = new GradientAccumulator();
  acc.add({ w: tf.tensor1d([1, 2]) }, 2);
  acc.add({ w: tf.tensor1d([3, 6]) }, 6);
  const out = acc.take();
  // (2·[1,2] + 6·[3,6]) / 8 = [20/8, 40/8] = [2.5, 5]
  assert.deepEqual(Array.from(out.get("w")!.dataSync()), [2.5, 5]);
  out.get("w")!.dispose();
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => acc.take(), /nothing accumulated/);
  close(globalNorm([tf.tensor1d([3]), tf.tensor2d([[4]])]), 5);
});

test("linear schedule with warmup, as HF's get_linear_schedule_with_warmup", () => {
  const s = { lr: 1, warmupSteps: 2, totalSteps: 10 };
  assert.deepEqual([0, 1, 2, 6, 10, 12].map((t) => linearLr(s, t)), [0, 0.5, 1, 0.5, 0, 0]);
  // no warmup (the paper's setting): 1·(10 − 5)/10 at step 5
  assert.equal(linearLr({ lr: 1, warmupSteps: 0, totalSteps: 10 }, 5), 0.5);
  // cosine: halfway between warmup end and total, halfway between lr and the 10% floor
  close(cosineLr({ lr: 1, warmupSteps: 0, totalSteps: 10 }, 5), 0.55);
});
