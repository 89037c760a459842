/**
 * exportOnnx: the ONNX graph, run by onnxruntime-node, gives our tfjs model's logits (max abs
 * difference < 1e-4) on left-padded prompts, and its KV cache continues exactly like a full forward.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as ort from "onnxruntime-node";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/model/backend";
import { LlamaModel } from "../src/model/llama";
import { positionsFromMask } from "../src/model/kernels/rope";
import { leftPad } from "../src/model/inference";
import { saveModelFolder, loadModelFolder } from "../src/model/folder";
import { exportOnnx } from "../src/model/onnx-export";

let dir = "";
before(async () => {
  await initBackend({ quiet: true });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-onnx-"));
});

const i64 = (xs: ArrayLike<number>, dims: number[]) => new ort.Tensor("int64", BigInt64Array.from(Array.from(xs, (v) => BigInt(v))), dims);
const keep = (k: number) => new ort.Tensor("int64", BigInt64Array.of(BigInt(k)), []);

/** Left-padded ids and mask (flat, row-major) for prompts of different lengths. */
function batch(prompts: number[][]): { ids: number[]; mask: number[]; B: number; S: number } {
  const { ids, mask, width } = leftPad(prompts, 0);
  return { ids: ids.flat(), mask: mask.flat(), B: prompts.length, S: width };
}

for (const [name, cfg] of [
  ["tied, multi-head", { vocab_size: 97, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 4, max_position_embeddings: 64 }],
  ["untied, grouped-query", { vocab_size: 97, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64, tie_word_embeddings: false }],
] as const) {
  test(`onnxruntime runs the exported graph with our logits, and its cache continues a prompt (${name})`, async (t) => {
    const folder = path.join(dir, name.replace(/\W+/g, "-"));
    const init = LlamaModel.init(cfg, 5);
    saveModelFolder(folder, init);
    init.dispose();
    const file = exportOnnx(folder);
    assert.equal(path.relative(folder, file), path.join("onnx", "model.onnx"));
    const session = await ort.InferenceSession.create(file);
    const L = cfg.num_hidden_layers, KV = cfg.num_key_value_heads, d = cfg.hidden_size / cfg.num_attention_heads;
    assert.deepEqual(session.inputNames, ["input_ids", "attention_mask", "position_ids", "num_logits_to_keep", ...Array.from({ length: L }, (_, l) => [`past_key_values.${l}.key`, `past_key_values.${l}.value`]).flat()]);
    assert.deepEqual(session.outputNames, ["logits", ...Array.from({ length: L }, (_, l) => [`present.${l}.key`, `present.${l}.value`]).flat()]);

    const { model } = loadModelFolder(folder);
    const prompts = [[5, 17, 23, 4, 88, 9], [61, 2, 2], [33, 34, 35, 36, 37, 38], [7]];
    const { ids, mask, B, S } = batch(prompts);
    const positions = positionsFromMask(Int32Array.from(mask), B, S);
    const emptyPast: Record<string, ort.Tensor> = {};
    for (let l = 0; l < L; l++) for (const kv of ["key", "value"]) emptyPast[`past_key_values.${l}.${kv}`] = new ort.Tensor("float32", new Float32Array(0), [B, KV, 0, d]);
    const out = await session.run({ input_ids: i64(ids, [B, S]), attention_mask: i64(mask, [B, S]), position_ids: i64(positions, [B, S]), num_logits_to_keep: keep(0), ...emptyPast });
    const ref = model.forward([...Array(B)].map((_, b) => ids.slice(b * S, (b + 1) * S)), [...Array(B)].map((_, b) => mask.slice(b * S, (b + 1) * S)));
    const refData = ref.dataSync();
    const got = out.logits.data as Float32Array;
    assert.deepEqual(out.logits.dims, [B, S, cfg.vocab_size]);
    let maxDiff = 0;
    for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) {
      if (mask[b * S + s] === 0) continue; // a padded query's row is not used
      for (let v = 0; v < cfg.vocab_size; v++) { const i = (b * S + s) * cfg.vocab_size + v; maxDiff = Math.max(maxDiff, Math.abs(got[i] - refData[i])); }
    }
    assert.ok(maxDiff < 1e-4, `max |Δ logits| ${maxDiff}`);
    ref.dispose();

    // num_logits_to_keep = 2: the last two positions' logits, the same numbers as in the full output.
    const tail = await session.run({ input_ids: i64(ids, [B, S]), attention_mask: i64(mask, [B, S]), position_ids: i64(positions, [B, S]), num_logits_to_keep: keep(2), ...emptyPast });
    assert.deepEqual(tail.logits.dims, [B, 2, cfg.vocab_size]);
    const tailData = tail.logits.data as Float32Array;
    let tailDiff = 0;
    for (let b = 0; b < B; b++) for (let j = 0; j < 2; j++) for (let v = 0; v < cfg.vocab_size; v++) {
      tailDiff = Math.max(tailDiff, Math.abs(tailData[(b * 2 + j) * cfg.vocab_size + v] - got[(b * S + S - 2 + j) * cfg.vocab_size + v]));
    }
    assert.ok(tailDiff < 1e-5, `num_logits_to_keep: max |Δ logits| ${tailDiff}`);

    // One cached step: the next token of each row with the present as the past.
    const next = [11, 12, 13, 14];
    const past: Record<string, ort.Tensor> = {};
    for (let l = 0; l < L; l++) for (const kv of ["key", "value"]) past[`past_key_values.${l}.${kv}`] = out[`present.${l}.${kv}`];
    assert.deepEqual(out["present.0.key"].dims, [B, KV, S, d]);
    const mask2 = [...Array(B)].flatMap((_, b) => [...mask.slice(b * S, (b + 1) * S), 1]);
    const pos2 = [...Array(B)].map((_, b) => positions[b * S + S - 1] + 1);
    const step = await session.run({ input_ids: i64(next, [B, 1]), attention_mask: i64(mask2, [B, S + 1]), position_ids: i64(pos2, [B, 1]), num_logits_to_keep: keep(1), ...past });
    const full = model.forward([...Array(B)].map((_, b) => [...ids.slice(b * S, (b + 1) * S), next[b]]), [...Array(B)].map((_, b) => mask2.slice(b * (S + 1), (b + 1) * (S + 1))));
    const fullData = full.dataSync();
    const stepData = step.logits.data as Float32Array;
    let stepDiff = 0;
    for (let b = 0; b < B; b++) for (let v = 0; v < cfg.vocab_size; v++) stepDiff = Math.max(stepDiff, Math.abs(stepData[b * cfg.vocab_size + v] - fullData[(b * (S + 1) + S) * cfg.vocab_size + v]));
    assert.ok(stepDiff < 1e-4, `cached step: max |Δ logits| ${stepDiff}`);
    assert.deepEqual(step["present.1.value"].dims, [B, KV, S + 1, d]);
    t.diagnostic(`max |Δ logits|: prompt ${maxDiff.toExponential(2)}, cached step ${stepDiff.toExponential(2)}`);
    full.dispose();
    model.dispose();
    await session.release();
    tf.disposeVariables();
  });
}

test("ONNX's own checker (Debian's python3-onnx, full check with shape inference) accepts the exported file", (t) => {
  const python = "/usr/bin/python3";
  const has = spawnSync(python, ["-c", "import onnx"], { encoding: "utf8" });
  if (has.status !== 0) { t.skip("python3-onnx is not installed (npm run setup installs it)"); return; }
  const folder = path.join(dir, "checked");
  const init = LlamaModel.init({ vocab_size: 50, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, max_position_embeddings: 32 }, 2);
  saveModelFolder(folder, init);
  init.dispose();
  const file = exportOnnx(folder);
  const r = spawnSync(python, ["-c", "import sys, onnx; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print('valid', m.ir_version, m.opset_import[0].version)", file], { encoding: "utf8" });
  assert.equal(r.stdout.trim(), "valid 8 17", r.stderr);
});
