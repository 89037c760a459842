/**
 * The native trainer (kernel-lib/native/trainer.cc, train/native-trainer.ts) against tfjs-wasm's own
 * kernels on small random Llamas: full fine-tuning's loss and every gradient against tf.variableGrads
 * of the tfjs model (tied and untied, grouped-query attention), one AdamW step against tfjs' AdamW,
 * and LoRA against the chain rule through the full gradient of the merged weights (dA = s·Bᵀ·Gᵀ,
 * dB = s·Gᵀ·Aᵀ), its merge against mergeLora's, and runs bit-identical for one thread count.
 * (transformers + PEFT check the same on SmolLM2: test/finetune-conformance.test.ts.)
 *
 * Skipped where the addon is not built, unless FTGEN_REQUIRE_NATIVE=1.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/model/backend";
import { llamaConfig, type LlamaConfig } from "../src/model/config";
import { LlamaModel } from "../src/model/llama";
import { loadNativeBlas, useNativeBlas } from "../src/model/kernels/native-blas";
import { NativeLlm } from "../src/model/native-lm";
import { LORA_MODULES, mergeLora } from "../src/model/lora";
import { NativeTrainer } from "../src/train/native-trainer";
import { collate, type Batch } from "../src/train/examples";
import { AdamW } from "../src/train/optim";

const { addon, reason } = loadNativeBlas();
const skip = addon || process.env.FTGEN_REQUIRE_NATIVE === "1" ? false : `native addon absent: ${reason}`;

function tinyConfig(tied: boolean): LlamaConfig {
  return llamaConfig({ vocab_size: 300, hidden_size: 64, intermediate_size: 96, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 128, tie_word_embeddings: tied });
}

/** Two rows of different lengths (right padding), the loss on each row's second half. */
function tinyBatch(): Batch {
  return collate([
    { ids: Array.from({ length: 20 }, (_, i) => (i * 37 + 5) % 300), targetStart: 12, droppedPromptTokens: 0 },
    { ids: Array.from({ length: 15 }, (_, i) => (i * 11 + 7) % 300), targetStart: 9, droppedPromptTokens: 0 },
  ], 0);
}

/** max |a − b| / max |b|. */
function relErr(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); m = Math.max(m, Math.abs(b[i])); }
  return d / Math.max(m, 1e-30);
}

/** Columns [c0, c0 + n) of a row-major (rows, width) matrix. */
function cols(w: Float32Array, rows: number, width: number, c0: number, n: number): Float32Array {
  const o = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) o.set(w.subarray(r * width + c0, r * width + c0 + n), r * n);
  return o;
}

/** The native trainer's gradient (of the summed loss) of every HF tensor, in tfjs' layout ([in, out] linear weights). */
function nativeGrads(t: NativeTrainer, cfg: LlamaConfig): Map<string, Float32Array> {
  const C = cfg.hidden_size, F = cfg.intermediate_size, d = C / cfg.num_attention_heads;
  const qd = cfg.num_attention_heads * d, kd = cfg.num_key_value_heads * d, ld = qd + 2 * kd;
  const g = (name: string): Float32Array => t.read(t.params.findIndex((p) => p.name === name), "grad");
  const out = new Map<string, Float32Array>([["model.embed_tokens.weight", g("embed")], ["model.norm.weight", g("norm")]]);
  if (!cfg.tie_word_embeddings) out.set("lm_head.weight", g("head"));
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = `model.layers.${l}.`, wqkv = g(`layers.${l}.wqkv`), wgu = g(`layers.${l}.wgu`);
    out.set(p + "input_layernorm.weight", g(`layers.${l}.ln1`));
    out.set(p + "post_attention_layernorm.weight", g(`layers.${l}.ln2`));
    out.set(p + "self_attn.q_proj.weight", cols(wqkv, C, ld, 0, qd));
    out.set(p + "self_attn.k_proj.weight", cols(wqkv, C, ld, qd, kd));
    out.set(p + "self_attn.v_proj.weight", cols(wqkv, C, ld, qd + kd, kd));
    out.set(p + "self_attn.o_proj.weight", g(`layers.${l}.wo`));
    out.set(p + "mlp.gate_proj.weight", cols(wgu, C, 2 * F, 0, F));
    out.set(p + "mlp.up_proj.weight", cols(wgu, C, 2 * F, F, F));
    out.set(p + "mlp.down_proj.weight", g(`layers.${l}.wd`));
  }
  return out;
}

for (const tied of [true, false]) {
  test(`full fine-tuning: loss and every gradient equal tfjs-wasm's (${tied ? "tied" : "untied"} embeddings, GQA)`, { skip }, async () => {
    await initBackend({ quiet: true });
    const cfg = tinyConfig(tied);
    const model = LlamaModel.init(cfg, 3);
    const batch = tinyBatch();
    const was = useNativeBlas(false); // the reference is tfjs' own kernels
    let loss: number, grads: Map<string, Float32Array>;
    try {
      const vars = [...model.variables.values()];
      const keyOf = new Map([...model.variables].map(([k, v]) => [v.name, k]));
      const r = tf.variableGrads(() => model.batchLoss(batch), vars);
      loss = r.value.dataSync()[0];
      grads = new Map(Object.entries(r.grads).map(([vn, g]) => [keyOf.get(vn)!, g.dataSync() as Float32Array]));
      r.value.dispose();
      Object.values(r.grads).forEach((g) => g.dispose());
    } finally {
      useNativeBlas(was);
    }
    const t = NativeTrainer.full(cfg, model.toHF(), {}, 2);
    try {
      const sum = await t.accumulate(batch, "s");
      assert.ok(Math.abs(sum / batch.targetTokens - loss) < 1e-5, `loss ${sum / batch.targetTokens} vs ${loss}`);
      const mine = nativeGrads(t, cfg);
      assert.equal(mine.size, grads.size);
      for (const [name, ref] of grads) {
        const scaled = Float32Array.from(ref, (v) => v * batch.targetTokens); // tfjs: the mean loss; native: the sum
        assert.ok(relErr(mine.get(name)!, scaled) < 1e-4, `${name}: relative error ${relErr(mine.get(name)!, scaled)}`);
      }
    } finally {
      t.dispose();
      model.dispose();
    }
  });
}

test("one AdamW step (clipping, weight decay, bias correction) equals tfjs AdamW's on the same gradients", { skip }, async () => {
  await initBackend({ quiet: true });
  const cfg = tinyConfig(true);
  const model = LlamaModel.init(cfg, 4);
  const batch = tinyBatch();
  const adam = { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, maxGradNorm: 0.5 };
  const t = NativeTrainer.full(cfg, model.toHF(), adam, 2);
  try {
    await t.accumulate(batch, "s");
    const grads = nativeGrads(t, cfg); // of the summed loss
    const norm = t.apply(batch.targetTokens, 1e-2);
    // tfjs: the same gradients (averaged) through its AdamW, which decays all but the norms as trainer.cc does.
    const opt = new AdamW(model.variables, adam);
    const g = new Map([...grads].map(([n, v]) => [n, tf.tensor(Float32Array.from(v, (x) => x / batch.targetTokens), model.variables.get(n)!.shape)]));
    const refNorm = opt.apply(g, 1e-2);
    g.forEach((x) => x.dispose());
    assert.ok(Math.abs(norm - refNorm) / refNorm < 1e-5, `norm ${norm} vs ${refNorm}`);
    assert.ok(refNorm > 0.5, "the step was clipped");
    const after = t.hfTensors();
    for (const [name, v] of model.toHF()) assert.ok(relErr(after.get(name)!.data, v.data) < 1e-6, `${name} after the step`);
    opt.dispose();
  } finally {
    t.dispose();
    model.dispose();
  }
});

test("LoRA: gradients are the chain rule through the merged weights' full gradient; forward and merge agree", { skip }, async () => {
  await initBackend({ quiet: true });
  const cfg = tinyConfig(true);
  const model = LlamaModel.init(cfg, 5);
  const batch = tinyBatch();
  const hf = model.toHF();
  model.dispose();
  const base = NativeLlm.fromHF(cfg, hf, 2)!;
  const lora = { rank: 4, alpha: 8, dropout: 0, targetModules: [...LORA_MODULES] };
  const t = NativeTrainer.lora(base, lora, { seed: 1 });
  let x = 1;
  const rnd = (): number => { x = (x * 16807) % 2147483647; return x / 2147483647 - 0.5; };
  t.params.forEach((p, i) => { if (p.name.endsWith("lora_B")) t.write(i, Float32Array.from({ length: p.shape[0] * p.shape[1] }, () => rnd() * 0.2)); });
  const adapter = { lora, tensors: t.loraTensors() };
  const merged = mergeLora(hf, adapter);
  const full = NativeTrainer.full(cfg, merged, {}, 2);
  try {
    const sum = await t.accumulate(batch, "s");
    const sumFull = await full.accumulate(batch, "s");
    assert.ok(Math.abs(sum - sumFull) / sumFull < 1e-6, `LoRA loss ${sum} vs the merged model's ${sumFull}`);
    const G = nativeGrads(full, cfg); // [in, out]
    const s = lora.alpha / lora.rank, r = lora.rank;
    for (const [name, A] of adapter.tensors) {
      if (!name.endsWith("lora_A.weight")) continue;
      const iA = t.params.findIndex((p) => p.name === name.replace(/^base_model\.model\.model\.layers\.(\d+)\.\w+\.(\w+)\.lora_A\.weight$/, "layers.$1.$2.lora_A"));
      const B = t.read(iA + 1), gA = t.read(iA, "grad"), gB = t.read(iA + 1, "grad");
      const g = G.get(name.replace("base_model.model.", "").replace(".lora_A.weight", ".weight"))!;
      const [, inN] = A.shape, outN = B.length / r;
      const refA = new Float32Array(r * inN), refB = new Float32Array(outN * r);
      for (let k = 0; k < r; k++) for (let i = 0; i < inN; i++) { let a = 0; for (let o = 0; o < outN; o++) a += B[o * r + k] * g[i * outN + o]; refA[k * inN + i] = s * a; }
      for (let o = 0; o < outN; o++) for (let k = 0; k < r; k++) { let a = 0; for (let i = 0; i < inN; i++) a += g[i * outN + o] * A.data[k * inN + i]; refB[o * r + k] = s * a; }
      assert.ok(relErr(gA, refA) < 1e-4, `${name}: ${relErr(gA, refA)}`);
      assert.ok(relErr(gB, refB) < 1e-4, `${name} (B): ${relErr(gB, refB)}`);
    }
    // The native merge (for evaluation) gives the logits of mergeLora's weights.
    const ids = Int32Array.from({ length: 17 }, (_, i) => (i * 13 + 1) % 300), mask = new Int32Array(17).fill(1);
    const a = t.inferenceModel(), b = full.inferenceModel();
    assert.ok(relErr(a.session(1, 32).step(ids, mask, 17), b.session(1, 32).step(ids, mask, 17)) < 1e-5);
    a.dispose();
  } finally {
    t.dispose();
    full.dispose();
    base.dispose();
  }
});

test("two runs with one seed and thread count are bit-identical (LoRA with dropout, and full)", { skip }, async () => {
  await initBackend({ quiet: true });
  const cfg = tinyConfig(true);
  const model = LlamaModel.init(cfg, 6);
  const hf = model.toHF();
  model.dispose();
  const base = NativeLlm.fromHF(cfg, hf, 2)!;
  const run = async (make: () => NativeTrainer): Promise<Float32Array[]> => {
    const t = make();
    try {
      for (let step = 0; step < 3; step++) {
        await t.accumulate(tinyBatch(), `seed:${step}`);
        t.apply(tinyBatch().targetTokens, 1e-2);
      }
      return t.params.map((_, i) => t.read(i));
    } finally {
      t.dispose();
    }
  };
  const lora = { rank: 4, alpha: 8, dropout: 0.2, targetModules: ["q_proj", "v_proj", "up_proj"] as const };
  const l1 = await run(() => NativeTrainer.lora(base, lora, { seed: 9 }));
  const l2 = await run(() => NativeTrainer.lora(base, lora, { seed: 9 }));
  assert.deepEqual(l2, l1);
  const l3 = await run(() => NativeTrainer.lora(base, lora, { seed: 10 }));
  assert.notDeepEqual(l3, l1, "another seed draws another A");
  const f1 = await run(() => NativeTrainer.full(cfg, hf, {}, 2));
  const f2 = await run(() => NativeTrainer.full(cfg, hf, {}, 2));
  assert.deepEqual(f2, f1);
  base.dispose();
});

test("discard drops the accumulated gradients without a step: the weights stay, and the next step sees only new gradients", { skip }, async () => {
  await initBackend({ quiet: true });
  const cfg = tinyConfig(false);
  const model = LlamaModel.init(cfg, 5);
  const batch = tinyBatch();
  const adam = { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, maxGradNorm: 0 };
  const a = NativeTrainer.full(cfg, model.toHF(), adam, 1), b = NativeTrainer.full(cfg, model.toHF(), adam, 1);
  try {
    await a.accumulate(batch, "s");
    assert.ok(a.read(0, "grad").some((x) => x !== 0), "gradients were held");
    a.discard();
    for (let i = 0; i < a.params.length; i++) assert.ok(a.read(i, "grad").every((x) => x === 0), `${a.params[i].name}: gradient zeroed`);
    for (const [name, v] of model.toHF()) assert.deepEqual(a.hfTensors().get(name)!.data, v.data, `${name}: no step taken`);
    // After a discard, a step equals a fresh trainer's on the same batch, bit for bit.
    await a.accumulate(batch, "s");
    await b.accumulate(batch, "s");
    assert.equal(a.apply(batch.targetTokens, 1e-2), b.apply(batch.targetTokens, 1e-2));
    const wa = a.hfTensors(), wb = b.hfTensors();
    for (const [name, v] of wb) assert.deepEqual(wa.get(name)!.data, v.data, name);
  } finally {
    a.dispose();
    b.dispose();
    model.dispose();
  }
});
