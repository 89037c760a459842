import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/model/backend";
import { llamaConfig, type LlamaConfig } from "../src/model/config";
import { LlamaModel, parameterShapes } from "../src/model/llama";
import { applyRope, ropeInvFreq, ropeTables } from "../src/model/kernels/rope";
import { makeRng } from "../src/util/random";

const quiet = { quiet: true };

/** Tiny configs: tied MHA, and untied GQA. */
const TINY = { vocab_size: 40, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 4, max_position_embeddings: 64 };
const tiny = (o: Partial<LlamaConfig> = {}): LlamaConfig => llamaConfig({ ...TINY, ...o });

function randomIds(rng: ReturnType<typeof makeRng>, rows: number, cols: number, V: number): number[][] {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.int(V)));
}

// ------------------------------------------------------------------------------------------
// A naive float64 reference of HF's LlamaForCausalLM, written from its definition, on HF-layout
// weights ([out, in]): rotate_half = cat(−x2, x1), scores q·k/√d, repeat_kv for GQA.

type W = Map<string, { shape: number[]; data: Float32Array }>;
const matvec = (w: { shape: number[]; data: Float32Array }, x: number[]): number[] => {
  const [out, inp] = w.shape;
  return Array.from({ length: out }, (_, o) => { let s = 0; for (let i = 0; i < inp; i++) s += w.data[o * inp + i] * x[i]; return s; });
};
const rms = (x: number[], w: Float32Array, eps: number): number[] => {
  const r = 1 / Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length + eps);
  return x.map((v, i) => v * r * w[i]);
};
function referenceLogits(cfg: LlamaConfig, w: W, ids: number[]): number[][] {
  const C = cfg.hidden_size, H = cfg.num_attention_heads, KV = cfg.num_key_value_heads, d = C / H, T = ids.length;
  const E = w.get("model.embed_tokens.weight")!;
  let x = ids.map((id) => Array.from(E.data.subarray(id * C, id * C + C)));
  const rope = (v: number[], pos: number): number[] => {
    const out: number[] = [];
    for (let h = 0; h < v.length / d; h++) {
      const xh = v.slice(h * d, h * d + d);
      const rot = [...xh.slice(d / 2).map((a) => -a), ...xh.slice(0, d / 2)];
      for (let i = 0; i < d; i++) {
        const f = pos * (1 / Math.pow(cfg.rope_theta, (2 * (i % (d / 2))) / d));
        out.push(xh[i] * Math.cos(f) + rot[i] * Math.sin(f));
      }
    }
    return out;
  };
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = (n: string) => w.get(`model.layers.${l}.${n}`)!;
    const h = x.map((r) => rms(r, p("input_layernorm.weight").data, cfg.rms_norm_eps));
    const q = h.map((r, t) => rope(matvec(p("self_attn.q_proj.weight"), r), t));
    const k = h.map((r, t) => rope(matvec(p("self_attn.k_proj.weight"), r), t));
    const v = h.map((r) => matvec(p("self_attn.v_proj.weight"), r));
    const att = q.map((qt, t) => {
      const out: number[] = [];
      for (let hh = 0; hh < H; hh++) {
        const kvh = Math.floor(hh / (H / KV));
        const s = Array.from({ length: t + 1 }, (_, j) => {
          let acc = 0;
          for (let i = 0; i < d; i++) acc += qt[hh * d + i] * k[j][kvh * d + i];
          return acc / Math.sqrt(d);
        });
        const m = Math.max(...s);
        const e = s.map((a) => Math.exp(a - m));
        const z = e.reduce((a, b) => a + b, 0);
        for (let i = 0; i < d; i++) out.push(e.reduce((a, pj, j) => a + (pj / z) * v[j][kvh * d + i], 0));
      }
      return out;
    });
    x = x.map((r, t) => { const o = matvec(p("self_attn.o_proj.weight"), att[t]); return r.map((a, i) => a + o[i]); });
    const h2 = x.map((r) => rms(r, p("post_attention_layernorm.weight").data, cfg.rms_norm_eps));
    x = x.map((r, t) => {
      const g = matvec(p("mlp.gate_proj.weight"), h2[t]), u = matvec(p("mlp.up_proj.weight"), h2[t]);
      const o = matvec(p("mlp.down_proj.weight"), g.map((a, i) => (a / (1 + Math.exp(-a))) * u[i]));
      return r.map((a, i) => a + o[i]);
    });
  }
  const head = cfg.tie_word_embeddings ? E : w.get("lm_head.weight")!;
  return x.map((r) => matvec(head, rms(r, w.get("model.norm.weight")!.data, cfg.rms_norm_eps)));
}

// ------------------------------------------------------------------------------------------

test("RoPE matches a hand-computed rotation at position 3 (HF rotate_half on split halves)", async () => {
  await initBackend(quiet);
  const invFreq = ropeInvFreq(4, 10000);
  assert.deepEqual(Array.from(invFreq), [1, Math.fround(0.01)]); // theta^(-2i/d) for i = 0, 1
  const x = tf.tensor2d([[1, 2, 3, 4]]);
  const out = applyRope(x, ropeTables(Int32Array.from([3]), invFreq), 1).dataSync();
  // x·cos + rotate_half(x)·sin with rotate_half([1,2,3,4]) = [−3,−4,1,2], angles [3, 0.03, 3, 0.03]
  const c = Math.cos, s = Math.sin;
  const want = [1 * c(3) - 3 * s(3), 2 * c(0.03) - 4 * s(0.03), 3 * c(3) + 1 * s(3), 4 * c(0.03) + 2 * s(0.03)];
  want.forEach((w, i) => assert.ok(Math.abs(out[i] - w) < 1e-6, `${i}: ${out[i]} vs ${w}`));
  // Position 0 is the identity.
  assert.deepEqual(Array.from(applyRope(x, ropeTables(Int32Array.from([0]), invFreq), 1).dataSync()), [1, 2, 3, 4]);
  x.dispose();
});

test("parameter names and shapes follow HF Llama", () => {
  const names = [...parameterShapes(tiny({ num_hidden_layers: 1, tie_word_embeddings: false, num_key_value_heads: 2 })).entries()];
  assert.deepEqual(names, [
    ["model.embed_tokens.weight", [40, 16]],
    ["model.layers.0.input_layernorm.weight", [16]],
    ["model.layers.0.self_attn.q_proj.weight", [16, 16]],
    ["model.layers.0.self_attn.k_proj.weight", [8, 16]],
    ["model.layers.0.self_attn.v_proj.weight", [8, 16]],
    ["model.layers.0.self_attn.o_proj.weight", [16, 16]],
    ["model.layers.0.post_attention_layernorm.weight", [16]],
    ["model.layers.0.mlp.gate_proj.weight", [24, 16]],
    ["model.layers.0.mlp.up_proj.weight", [24, 16]],
    ["model.layers.0.mlp.down_proj.weight", [16, 24]],
    ["model.norm.weight", [16]],
    ["lm_head.weight", [40, 16]],
  ]);
});

test("logits match a float64 reference of HF LlamaForCausalLM (tied MHA; untied GQA)", async () => {
  await initBackend(quiet);
  for (const cfg of [tiny({ initializer_range: 0.2 }), tiny({ initializer_range: 0.2, tie_word_embeddings: false, num_key_value_heads: 2 })]) {
    const model = LlamaModel.init(cfg, 3);
    const hf = model.toHF();
    const ids = [0, 7, 3, 39, 12, 12, 5];
    const want = referenceLogits(cfg, hf, ids);
    const got = model.forward([ids]);
    const g = got.arraySync()[0];
    got.dispose();
    let worst = 0;
    want.forEach((row, t) => row.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - g[t][j])))));
    assert.ok(worst < 1e-4, `max |diff| ${worst}`);
    model.dispose();
  }
});

test("loss: mean cross-entropy over target positions only, equal to log-softmax of forward()", async () => {
  await initBackend(quiet);
  const model = LlamaModel.init(tiny({ initializer_range: 0.2 }), 1);
  const ids = [[0, 5, 6, 7, 8], [0, 9, 10, 2, 2]];
  const labels = [[-1, -1, 7, 8, 1], [-1, 10, 1, -1, -1]];
  const loss = tf.tidy(() => model.loss(ids, labels).dataSync()[0]);
  const lp = tf.tidy(() => tf.logSoftmax(model.forward(ids)).arraySync() as number[][][]);
  let sum = 0, n = 0;
  labels.forEach((row, b) => row.forEach((l, t) => { if (l >= 0) { sum -= lp[b][t][l]; n++; } }));
  assert.ok(Math.abs(loss - sum / n) < 1e-5, `${loss} vs ${sum / n}`);
  // maskedLoss (targets + 0/1 mask) is the same loss; chunked and recomputing heads too.
  const targets = labels.map((r) => r.map((l) => Math.max(l, 0)));
  const mask = labels.map((r) => r.map((l) => (l >= 0 ? 1 : 0)));
  assert.ok(Math.abs(tf.tidy(() => model.maskedLoss(ids, targets, mask).dataSync()[0]) - loss) < 1e-6);
  assert.ok(Math.abs(tf.tidy(() => model.loss(ids, labels, { chunkRows: 2, keepProbs: false }).dataSync()[0]) - loss) < 1e-5);
  assert.equal(tf.tidy(() => model.loss(ids, labels.map((r) => r.map(() => -1))).dataSync()[0]), 0);
  model.dispose();
});

test("finite differences agree with the gradients (cpu, float32, central differences)", async () => {
  await initBackend({ backend: "cpu", quiet: true });
  const cases: [LlamaConfig, boolean][] = [
    [tiny({ initializer_range: 0.3 }), false], // tied head, logits recomputed in the backward
    [tiny({ initializer_range: 0.3, tie_word_embeddings: false, num_key_value_heads: 2 }), true], // untied, GQA, kept softmax
  ];
  for (const [cfg, keepProbs] of cases) {
    const model = LlamaModel.init(cfg, 5);
    const ids = [[0, 5, 7, 9, 3, 4], [0, 8, 8, 1, 2, 2]];
    const labels = [[5, 7, -1, 3, 4, 1], [-1, 8, 1, -1, -1, -1]];
    const vars = [...model.variables.values()];
    const { value, grads } = tf.variableGrads(() => model.loss(ids, labels, { chunkRows: 4, keepProbs }), vars);
    value.dispose();
    const lossAt = (): number => tf.tidy(() => model.loss(ids, labels).dataSync()[0]);
    const eps = 1e-2;
    let checked = 0;
    for (const [name, v] of model.variables) {
      const g = grads[v.name].dataSync();
      // The two largest-|gradient| entries of each parameter (small ones drown in float32 noise).
      const idx = Array.from(g.keys()).sort((a, b) => Math.abs(g[b]) - Math.abs(g[a])).slice(0, 2);
      const base = v.dataSync().slice();
      for (const i of idx) {
        const at = (delta: number): number => {
          const d = base.slice();
          d[i] += delta;
          tf.tidy(() => v.assign(tf.tensor(d, v.shape)));
          return lossAt();
        };
        const fd = (at(eps) - at(-eps)) / (2 * eps);
        tf.tidy(() => v.assign(tf.tensor(base, v.shape)));
        const rel = Math.abs(fd - g[i]) / Math.max(Math.abs(fd), Math.abs(g[i]));
        assert.ok(rel < 2e-2, `${name}[${i}]: finite difference ${fd}, gradient ${g[i]}, rel err ${rel}`);
        checked++;
      }
    }
    assert.ok(checked >= 2 * vars.length);
    tf.dispose(Object.values(grads));
    model.dispose();
  }
});

test("numTensors stays flat across training steps (Adam, dropout, masked labels, chunked head)", async () => {
  await initBackend(quiet);
  for (const cfg of [tiny(), tiny({ tie_word_embeddings: false, num_key_value_heads: 1 })]) {
    const model = LlamaModel.init(cfg, 2);
    const opt = tf.train.adam(1e-3);
    const rng = makeRng(9);
    const counts: number[] = [];
    for (let step = 0; step < 4; step++) {
      const ids = randomIds(rng, 3, 9, cfg.vocab_size);
      const labels = ids.map((r) => r.map((t, i) => (i >= 4 ? t : -1)));
      const loss = opt.minimize(() => model.loss(ids, labels, { dropout: 0.1, dropoutSeed: `s${step}`, chunkRows: 5, keepProbs: step % 2 === 0 }), true, [...model.variables.values()]);
      assert.ok(Number.isFinite(loss!.dataSync()[0]));
      loss!.dispose();
      counts.push(tf.memory().numTensors);
    }
    // The first step creates Adam's moments; after it the count must not move.
    assert.deepEqual(counts.slice(1), [counts[1], counts[1], counts[1]], `numTensors per step: ${counts}`);
    opt.dispose();
    model.dispose();
  }
});

test("batchLoss (train/loop.ts interface) and seeded dropout", async () => {
  await initBackend(quiet);
  const model = LlamaModel.init(tiny(), 4);
  const batch = { rows: 2, cols: 4, inputs: Int32Array.from([0, 5, 6, 7, 0, 8, 2, 2]), labels: Int32Array.from([-1, 6, 7, 1, 8, 1, -1, -1]), targetTokens: 5 };
  const plain = tf.tidy(() => model.batchLoss(batch).dataSync()[0]);
  assert.equal(tf.tidy(() => model.batchLoss(batch, "seed").dataSync()[0]), plain, "dropout 0 by default");
  model.dropout = 0.5;
  const a = tf.tidy(() => model.batchLoss(batch, "seed").dataSync()[0]);
  const b = tf.tidy(() => model.batchLoss(batch, "seed").dataSync()[0]);
  const c = tf.tidy(() => model.batchLoss(batch, "other").dataSync()[0]);
  assert.equal(a, b, "same seed, same masks");
  assert.notEqual(a, c);
  assert.equal(tf.tidy(() => model.batchLoss(batch).dataSync()[0]), plain, "no seed: evaluation, no dropout");
  model.dispose();
});

test("a tiny model overfits one batch to near-zero loss", async () => {
  await initBackend(quiet);
  const cfg = tiny({ hidden_size: 32, intermediate_size: 64, num_attention_heads: 2 });
  const model = LlamaModel.init(cfg, 7);
  const rng = makeRng(3);
  const ids = randomIds(rng, 4, 12, cfg.vocab_size);
  const inputs = ids.map((r) => r.slice(0, -1));
  const labels = ids.map((r) => r.slice(1));
  const opt = tf.train.adam(1e-2);
  let loss = Infinity, steps = 0;
  while (steps < 200 && loss >= 0.05) {
    const l = opt.minimize(() => model.loss(inputs, labels), true, [...model.variables.values()])!;
    loss = l.dataSync()[0];
    l.dispose();
    steps++;
  }
  assert.ok(loss < 0.05, `loss ${loss} after ${steps} steps`);
  opt.dispose();
  model.dispose();
});
