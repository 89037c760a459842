/**
 * GGUF reading and import (model/gguf*.ts) against hand-computed values:
 * - dequantize: one or two blocks of every type written byte by byte, expected floats worked out
 *   by hand from the block formulas; bit-exact agreement with gguf-py (the reference llama.cpp
 *   ships) on random blocks when the project's Python venv is there;
 * - unpermuteRows against llama.cpp's permute (numpy formula, and hand-written row orders);
 * - the llama.cpp → Hugging Face tensor names;
 * - end to end: a tiny Llama GGUF written by gguf-writer.ts (Q8_0 embedding, Q4_1 matrices, F32
 *   norms, a byte-level BPE vocabulary) imported into a folder: config.json, the float32 weights
 *   (dequantized and un-permuted), tokenizer.json in transformers.js, the card's hashes,
 *   loadModelFolder; and the one-line errors for files ftgen cannot import.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { dequantize, GGML_TYPE } from "../src/model/gguf-quants";
import { readGguf, readGgufTensor } from "../src/model/gguf";
import { ggufTokenizer } from "../src/model/gguf-tokenizer";
import { importGguf, hfTensorName, unpermuteRows, checkImportedFolder, type ImportedCard } from "../src/model/gguf-import";
import { loadSafetensors, float32ToFloat16Bits } from "../src/model/safetensors";
import { loadModelFolder } from "../src/model/folder";
import { initBackend } from "../src/model/backend";
import { BYTE_TO_UNICODE } from "../src/tokenizer/tokenizer-base";
import { makeRng, type Rng } from "../src/util/random";
import { projectRoot } from "../src/util/paths";
import { writeGguf, kv, type GgufWriteValue, type GgufWriteTensor } from "./gguf-writer";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-gguf-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

// ------------------------------------------------------------------------------------------------
// Byte helpers

const le16 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff];
const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const bytes = (...parts: number[][]): Uint8Array => Uint8Array.from(parts.flat());
const range = (n: number, f: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => f(i));
/** Strict deep-equal on plain arrays: Object.is per element, so -0 ≠ 0 and NaN = NaN. */
const values = (a: Float32Array): number[] => Array.from(a);
const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

// f16 bit patterns of the scales used below (sign | exponent+15 << 10 | mantissa).
const H = { half: 0x3800, quarter: 0x3400, two: 0x4000, minus1_25: 0xbd00, minus1_5: 0xbe00, plus1_5: 0x3e00 };

// ------------------------------------------------------------------------------------------------
// 1. dequantize, block by block

test("Q4_0: (q − 8)·d, low nibbles are elements 0–15, high nibbles 16–31; blocks are 18 bytes", () => {
  // Block 0: d = 0.5, byte i = i | (15 − i) << 4. Block 1: d = 2, every byte 0x3c (low 12, high 3).
  const block0 = bytes(le16(H.half), range(16, (i) => i | ((15 - i) << 4)));
  const block1 = bytes(le16(H.two), range(16, () => 0x3c));
  const out = dequantize(GGML_TYPE.Q4_0, bytes([...block0], [...block1]), 64);
  assert.deepEqual(values(out).slice(0, 16), [-4, -3.5, -3, -2.5, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5]);
  assert.deepEqual(values(out).slice(16, 32), [3.5, 3, 2.5, 2, 1.5, 1, 0.5, 0, -0.5, -1, -1.5, -2, -2.5, -3, -3.5, -4]);
  assert.deepEqual(values(out).slice(32), [...range(16, () => 8), ...range(16, () => -10)]); // (12 − 8)·2, (3 − 8)·2
});

test("Q4_1: q·d + m with d = 0.5, m = −1.25", () => {
  const block = bytes(le16(H.half), le16(H.minus1_25), range(16, (i) => i | ((15 - i) << 4)));
  const out = values(dequantize(GGML_TYPE.Q4_1, block, 32));
  assert.deepEqual(out.slice(0, 16), [-1.25, -0.75, -0.25, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.25, 3.75, 4.25, 4.75, 5.25, 5.75, 6.25]);
  assert.deepEqual(out.slice(16), [6.25, 5.75, 5.25, 4.75, 4.25, 3.75, 3.25, 2.75, 2.25, 1.75, 1.25, 0.75, 0.25, -0.25, -0.75, -1.25]);
});

test("Q5_0: (q − 16)·d, 5th bit of element j from qh bit j, of element j + 16 from bit j + 16", () => {
  // qh bits 0, 1, 15, 16, 31 set: elements 0, 1, 15 (low) and 16, 31 (high) get +16.
  const qh = (1 << 0) | (1 << 1) | (1 << 15) | (1 << 16) | (1 << 31);
  const block = bytes(le16(H.half), le32(qh), range(16, (i) => i | ((15 - i) << 4)));
  const out = values(dequantize(GGML_TYPE.Q5_0, block, 32));
  // Low: q = i (+16 for i = 0, 1, 15).
  assert.deepEqual(out.slice(0, 16), [0, 0.5, -7, -6.5, -6, -5.5, -5, -4.5, -4, -3.5, -3, -2.5, -2, -1.5, -1, 7.5]);
  // High: q = 15 − i (+16 for i = 0, 15).
  assert.deepEqual(out.slice(16), [7.5, -1, -1.5, -2, -2.5, -3, -3.5, -4, -4.5, -5, -5.5, -6, -6.5, -7, -7.5, 0]);
});

test("Q5_1: q·d + m with d = 0.25, m = 1.5, qh = 0x5555aaaa", () => {
  // Byte i = i | i << 4; qh sets the 5th bit of odd low elements and of even high elements.
  const block = bytes(le16(H.quarter), le16(H.plus1_5), le32(0x5555aaaa), range(16, (i) => i | (i << 4)));
  const out = values(dequantize(GGML_TYPE.Q5_1, block, 32));
  assert.deepEqual(out.slice(0, 16), [1.5, 5.75, 2, 6.25, 2.5, 6.75, 3, 7.25, 3.5, 7.75, 4, 8.25, 4.5, 8.75, 5, 9.25]);
  assert.deepEqual(out.slice(16), [5.5, 1.75, 6, 2.25, 6.5, 2.75, 7, 3.25, 7.5, 3.75, 8, 4.25, 8.5, 4.75, 9, 5.25]);
});

test("Q8_0: signed bytes times d; two blocks of 34 bytes", () => {
  // Block 0: d = 0.25, q_j = 8j − 128 → 2j − 32. Block 1: d = −1.5, q = 127, −128, −1, then zeros (→ −0).
  const block0 = bytes(le16(H.quarter), range(32, (j) => (8 * j - 128) & 0xff));
  const block1 = bytes(le16(H.minus1_5), [127, 0x80, 0xff], range(29, () => 0));
  const out = values(dequantize(GGML_TYPE.Q8_0, bytes([...block0], [...block1]), 64));
  assert.deepEqual(out.slice(0, 32), range(32, (j) => 2 * j - 32));
  assert.deepEqual(out.slice(32), [-190.5, 192, 1.5, ...range(29, () => -0)]);
});

test("F16, BF16 and F32 read exactly", () => {
  // f16: 1, −2, 1/3 rounded (0x3555), +inf, smallest subnormal 2^−24, −0.
  const f16 = bytes(...[0x3c00, 0xc000, 0x3555, 0x7c00, 0x0001, 0x8000].map(le16));
  assert.deepEqual(values(dequantize(GGML_TYPE.F16, f16, 6)), [1, -2, 0.333251953125, Infinity, 2 ** -24, -0]);
  // bf16: the top half of a float32: 1, −3, 0.333984375, −inf.
  const bf16 = bytes(...[0x3f80, 0xc040, 0x3eab, 0xff80].map(le16));
  assert.deepEqual(values(dequantize(GGML_TYPE.BF16, bf16, 4)), [1, -3, 0.333984375, -Infinity]);
  const f32 = Float32Array.of(1.5, Math.fround(0.1), -3e38, 1e-45);
  assert.deepEqual(values(dequantize(GGML_TYPE.F32, new Uint8Array(f32.buffer), 4)), values(f32));
});

test("dequantize errors name the tensor and the type", () => {
  assert.throws(() => dequantize(GGML_TYPE.Q4_0, new Uint8Array(17), 32, "blk.0.attn_q.weight"),
    /^Error: blk\.0\.attn_q\.weight: 17 bytes of Q4_0 data, 32 elements need 18$/);
  assert.throws(() => dequantize(GGML_TYPE.Q8_0, new Uint8Array(34), 48, "token_embd.weight"),
    /^Error: token_embd\.weight: 48 elements do not fill whole Q8_0 blocks of 32$/);
  assert.throws(() => dequantize(GGML_TYPE.Q4_K, new Uint8Array(144), 256, "blk.3.ffn_down.weight"),
    /^Error: blk\.3\.ffn_down\.weight: GGML type Q4_K is not supported/);
  assert.throws(() => dequantize(99, new Uint8Array(4), 1, "x"), /^Error: x: GGML type type 99 is not supported/);
});

// ------------------------------------------------------------------------------------------------
// 1b. Bit-exact agreement with gguf-py's numpy dequantization

const python = process.env.FTGEN_PYTHON ?? path.join(projectRoot(), ".venv", "bin", "python");
const noPython = fs.existsSync(python) ? false : `no Python at ${python} (set FTGEN_PYTHON or create the project's .venv with gguf)`;

/** Runs a Python script with JSON on stdin; returns its stdout parsed as JSON. */
function runPython(script: string, input: unknown): unknown {
  const r = spawnSync(python, ["-c", script], { input: JSON.stringify(input), encoding: "utf8", timeout: 120_000, maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `python failed: ${r.error?.message ?? ""}${r.stderr}`);
  return JSON.parse(r.stdout);
}

const PY_DEQUANTIZE = `
import sys, json, base64, numpy as np
from gguf import GGMLQuantizationType
from gguf.quants import dequantize
out = []
for c in json.load(sys.stdin):
    data = np.frombuffer(base64.b64decode(c["bytes"]), dtype=np.uint8)
    v = dequantize(data, GGMLQuantizationType(c["type"])).astype("<f4").ravel()
    out.append(base64.b64encode(v.tobytes()).decode())
print(json.dumps(out))
`;

/** Random f16 bits with a finite value (exponent field not all ones), subnormals included. */
const finiteF16 = (rng: Rng): number => { for (;;) { const h = rng.int(0x10000); if ((h & 0x7c00) !== 0x7c00) return h; } };

/** `n` random blocks of `type`, with finite scales (NaN payloads are not a dequantization matter). */
function randomBlocks(type: number, n: number, rng: Rng): { bytes: Uint8Array; elements: number } {
  const layout: Record<number, { size: number; per: number; scales: number[] }> = {
    [GGML_TYPE.Q4_0]: { size: 18, per: 32, scales: [0] },
    [GGML_TYPE.Q4_1]: { size: 20, per: 32, scales: [0, 2] },
    [GGML_TYPE.Q5_0]: { size: 22, per: 32, scales: [0] },
    [GGML_TYPE.Q5_1]: { size: 24, per: 32, scales: [0, 2] },
    [GGML_TYPE.Q8_0]: { size: 34, per: 32, scales: [0] },
    [GGML_TYPE.F16]: { size: 2, per: 1, scales: [0] },
  };
  if (type === GGML_TYPE.F32 || type === GGML_TYPE.BF16) {
    // Finite floats: random sign/exponent (not all ones)/mantissa.
    const out = type === GGML_TYPE.F32 ? new Uint32Array(n) : new Uint16Array(n);
    for (let i = 0; i < n; i++) {
      const hi = (rng.int(2) << 15) | (rng.int(255) << 7) | rng.int(128);
      out[i] = type === GGML_TYPE.F32 ? ((hi << 16) | rng.int(0x10000)) >>> 0 : hi;
    }
    return { bytes: new Uint8Array(out.buffer), elements: n };
  }
  const { size, per, scales } = layout[type];
  const b = Uint8Array.from({ length: n * size }, () => rng.int(256));
  const view = new DataView(b.buffer);
  for (let k = 0; k < n; k++) for (const s of scales) view.setUint16(k * size + s, finiteF16(rng), true);
  return { bytes: b, elements: n * per };
}

test("dequantize agrees bit for bit with gguf-py on random blocks of every type", { skip: noPython }, () => {
  const rng = makeRng("gguf-quants-vs-gguf-py");
  const types = ["F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"] as const;
  const cases = types.map((t) => ({ name: t, type: GGML_TYPE[t], ...randomBlocks(GGML_TYPE[t], 256, rng) }));
  const ref = runPython(PY_DEQUANTIZE, cases.map((c) => ({ type: c.type, bytes: Buffer.from(c.bytes).toString("base64") }))) as string[];
  cases.forEach((c, i) => {
    const ours = dequantize(c.type, c.bytes, c.elements, c.name);
    const theirs = Buffer.from(ref[i], "base64");
    assert.equal(theirs.length, ours.length * 4, `${c.name}: gguf-py returned ${theirs.length / 4} values for ${ours.length}`);
    const a = new Uint32Array(ours.buffer), b = new Uint32Array(theirs.buffer.slice(theirs.byteOffset, theirs.byteOffset + theirs.length));
    const bad = a.findIndex((x, j) => x !== b[j]);
    assert.equal(bad, -1, `${c.name}: element ${bad} is ${ours[bad]} here, ${new Float32Array(b.buffer)[bad]} in gguf-py`);
  });
});

// ------------------------------------------------------------------------------------------------
// 2. unpermuteRows undoes llama.cpp's q/k permutation

/**
 * convert_hf_to_gguf.py's permute as a row order: w.reshape(n_head, 2, rows/n_head/2, cols)
 * .swapaxes(1, 2).reshape(rows, cols). Entry g is the HF row that becomes GGUF row g.
 */
function llamaCppPermutation(rows: number, heads: number): number[] {
  const half = rows / heads / 2;
  const order: number[] = [];
  // After swapaxes the index order is (head, i < half, j < 2); the element came from (head, j, i).
  for (let h = 0; h < heads; h++) for (let i = 0; i < half; i++) for (let j = 0; j < 2; j++) order.push(h * 2 * half + j * half + i);
  return order;
}

function permuteRows(w: Float32Array, rows: number, cols: number, heads: number): Float32Array {
  const out = new Float32Array(w.length);
  llamaCppPermutation(rows, heads).forEach((src, g) => out.set(w.subarray(src * cols, (src + 1) * cols), g * cols));
  return out;
}

test("unpermuteRows inverts llama.cpp's permute (2 heads × 4 rows, 3 columns)", () => {
  const rows = 8, cols = 3;
  const hf = Float32Array.from({ length: rows * cols }, (_, k) => 10 * Math.floor(k / cols) + (k % cols)); // row r: 10r, 10r+1, 10r+2
  const gguf = permuteRows(hf, rows, cols, 2);
  assert.notDeepEqual(values(gguf), values(hf)); // the permutation moves rows, so the test can fail
  assert.deepEqual(values(unpermuteRows(gguf, rows, cols, 2)), values(hf));
  // GQA-sized key matrix: 2 heads of width 8, 5 columns.
  const k = Float32Array.from({ length: 16 * 5 }, (_, i) => i * 0.5 - 7);
  assert.deepEqual(values(unpermuteRows(permuteRows(k, 16, 5, 2), 16, 5, 2)), values(k));
});

test("unpermuteRows: hand-written row orders", () => {
  // numpy: np.arange(6).reshape(1, 2, 3, 1).swapaxes(1, 2).reshape(6) = [0 3 1 4 2 5].
  assert.deepEqual(llamaCppPermutation(6, 1), [0, 3, 1, 4, 2, 5]);
  assert.deepEqual(llamaCppPermutation(8, 2), [0, 2, 1, 3, 4, 6, 5, 7]);
  // GGUF rows labelled by their index; HF row j·3 + i comes from GGUF row 2i + j.
  const ggufRows = Float32Array.of(0, 1, 2, 3, 4, 5);
  assert.deepEqual(values(unpermuteRows(ggufRows, 6, 1, 1)), [0, 2, 4, 1, 3, 5]);
  // Two columns, two heads of 4: HF rows [G0, G2, G1, G3, G4, G6, G5, G7].
  const two = Float32Array.from({ length: 16 }, (_, k) => 100 * Math.floor(k / 2) + (k % 2));
  assert.deepEqual(values(unpermuteRows(two, 8, 2, 2)), [0, 1, 200, 201, 100, 101, 300, 301, 400, 401, 600, 601, 500, 501, 700, 701]);
  assert.throws(() => unpermuteRows(new Float32Array(6), 6, 1, 2), /6 rows do not split into 2 heads of pairs/);
});

// ------------------------------------------------------------------------------------------------
// 3. Tensor names

test("hfTensorName maps every llama.cpp Llama tensor name, and nothing else", () => {
  const expected: Record<string, string> = {
    "token_embd.weight": "model.embed_tokens.weight",
    "output_norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",
    "blk.0.attn_norm.weight": "model.layers.0.input_layernorm.weight",
    "blk.0.attn_q.weight": "model.layers.0.self_attn.q_proj.weight",
    "blk.1.attn_k.weight": "model.layers.1.self_attn.k_proj.weight",
    "blk.2.attn_v.weight": "model.layers.2.self_attn.v_proj.weight",
    "blk.3.attn_output.weight": "model.layers.3.self_attn.o_proj.weight",
    "blk.12.ffn_norm.weight": "model.layers.12.post_attention_layernorm.weight",
    "blk.29.ffn_gate.weight": "model.layers.29.mlp.gate_proj.weight",
    "blk.7.ffn_up.weight": "model.layers.7.mlp.up_proj.weight",
    "blk.0.ffn_down.weight": "model.layers.0.mlp.down_proj.weight",
  };
  for (const [g, hf] of Object.entries(expected)) assert.equal(hfTensorName(g), hf, g);
  for (const g of ["rope_freqs.weight", "blk.0.attn_qkv.weight", "blk.x.attn_q.weight", "token_embd.bias", "blk.0.attn_q.bias", "output", "model.embed_tokens.weight"]) {
    assert.equal(hfTensorName(g), undefined, g);
  }
});

// ------------------------------------------------------------------------------------------------
// 4. A tiny Llama GGUF, end to end

const C = 32, F = 64, LAYERS = 2, HEADS = 4, KV_HEADS = 2, KV_C = KV_HEADS * (C / HEADS);
// 256 byte tokens (id = byte), merged tokens, control tokens.
const MERGES = ["Ġ t", "h e", "Ġt he", "Ġ c", "a t", "Ġc at", "1 2"];
const CONTROL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];
const TOKENS = [...BYTE_TO_UNICODE, ...MERGES.map((m) => m.replace(" ", "")), ...CONTROL];
const V = TOKENS.length; // 266
const ID = Object.fromEntries(TOKENS.map((t, i) => [t, i]));
const PAD_ID = ID["<|endoftext|>"], BOS_ID = ID["<|im_start|>"], EOS_ID = ID["<|im_end|>"];

/** A quantized matrix: each row's bytes and exact float values (HF row order). */
interface QMatrix { rows: number; cols: number; rowBytes: Uint8Array[]; rowValues: Float32Array[] }

const f16 = (x: number): number[] => { const h = float32ToFloat16Bits(x); return le16(h); };

/**
 * Q4_1 rows whose values are exact: d = 2^−k, m = −c·d, so q·d + m = (q − c)·d with no rounding.
 * Scales vary by block, so a block mix-up changes values.
 */
function q41Matrix(rows: number, cols: number, rng: Rng): QMatrix {
  const m: QMatrix = { rows, cols, rowBytes: [], rowValues: [] };
  for (let r = 0; r < rows; r++) {
    const rb: number[] = [], rv: number[] = [];
    for (let b = 0; b < cols / 32; b++) {
      const d = 2 ** -(4 + rng.int(3)), c = 6 + rng.int(4);
      const q = range(32, () => rng.int(16));
      rb.push(...f16(d), ...f16(-c * d), ...range(16, (i) => q[i] | (q[i + 16] << 4)));
      rv.push(...q.map((x) => (x - c) * d));
    }
    m.rowBytes.push(Uint8Array.from(rb));
    m.rowValues.push(Float32Array.from(rv));
  }
  return m;
}

/** Q8_0 rows: d = 2^−7 or 2^−8, values q·d exact. */
function q80Matrix(rows: number, cols: number, rng: Rng): QMatrix {
  const m: QMatrix = { rows, cols, rowBytes: [], rowValues: [] };
  for (let r = 0; r < rows; r++) {
    const rb: number[] = [], rv: number[] = [];
    for (let b = 0; b < cols / 32; b++) {
      const d = 2 ** -(7 + ((r + b) % 2));
      const q = range(32, () => rng.int(256) - 128);
      rb.push(...f16(d), ...q.map((x) => x & 0xff));
      rv.push(...q.map((x) => x * d));
    }
    m.rowBytes.push(Uint8Array.from(rb));
    m.rowValues.push(Float32Array.from(rv));
  }
  return m;
}

const concat = (parts: readonly Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(parts));
const concatF = (parts: readonly Float32Array[]): Float32Array => Float32Array.from(parts.flatMap((p) => Array.from(p)));

interface TinyLlama {
  kv: Record<string, GgufWriteValue>;
  tensors: GgufWriteTensor[];
  /** HF name → expected float32 values and shape, after import. */
  expected: Map<string, { shape: number[]; data: Float32Array }>;
}

/** The tiny model: HF-layout weights → llama.cpp row permutation of q/k → GGUF tensors. */
function tinyLlama(): TinyLlama {
  const rng = makeRng("tiny-llama-gguf");
  const tensors: GgufWriteTensor[] = [];
  const expected = new Map<string, { shape: number[]; data: Float32Array }>();
  const addMatrix = (gguf: string, hf: string, m: QMatrix, type: number, heads?: number): void => {
    // GGUF row g holds HF row order[g] (q and k only); ne is innermost first: [cols, rows].
    const order = heads ? llamaCppPermutation(m.rows, heads) : range(m.rows, (r) => r);
    tensors.push({ name: gguf, ne: [m.cols, m.rows], type, data: concat(order.map((r) => m.rowBytes[r])) });
    expected.set(hf, { shape: [m.rows, m.cols], data: concatF(m.rowValues) });
  };
  const addNorm = (gguf: string, hf: string): void => {
    const w = Float32Array.from({ length: C }, () => Math.fround(0.5 + rng.next()));
    tensors.push({ name: gguf, ne: [C], type: GGML_TYPE.F32, data: new Uint8Array(w.buffer) });
    expected.set(hf, { shape: [C], data: w });
  };
  addMatrix("token_embd.weight", "model.embed_tokens.weight", q80Matrix(V, C, rng), GGML_TYPE.Q8_0);
  for (let l = 0; l < LAYERS; l++) {
    const g = `blk.${l}.`, hf = `model.layers.${l}.`;
    addNorm(g + "attn_norm.weight", hf + "input_layernorm.weight");
    addMatrix(g + "attn_q.weight", hf + "self_attn.q_proj.weight", q41Matrix(C, C, rng), GGML_TYPE.Q4_1, HEADS);
    addMatrix(g + "attn_k.weight", hf + "self_attn.k_proj.weight", q41Matrix(KV_C, C, rng), GGML_TYPE.Q4_1, KV_HEADS);
    addMatrix(g + "attn_v.weight", hf + "self_attn.v_proj.weight", q41Matrix(KV_C, C, rng), GGML_TYPE.Q4_1);
    addMatrix(g + "attn_output.weight", hf + "self_attn.o_proj.weight", q41Matrix(C, C, rng), GGML_TYPE.Q4_1);
    addNorm(g + "ffn_norm.weight", hf + "post_attention_layernorm.weight");
    addMatrix(g + "ffn_gate.weight", hf + "mlp.gate_proj.weight", q41Matrix(F, C, rng), GGML_TYPE.Q4_1);
    addMatrix(g + "ffn_up.weight", hf + "mlp.up_proj.weight", q41Matrix(F, C, rng), GGML_TYPE.Q4_1);
    addMatrix(g + "ffn_down.weight", hf + "mlp.down_proj.weight", q41Matrix(C, F, rng), GGML_TYPE.Q4_1);
  }
  addNorm("output_norm.weight", "model.norm.weight"); // no output.weight: tied embeddings
  const kvs: Record<string, GgufWriteValue> = {
    "general.architecture": kv.str("llama"),
    "general.name": kv.str("Tiny Test Llama"),
    "general.alignment": kv.u32(32),
    "general.file_type": kv.u32(3), // MOSTLY_Q4_1
    "llama.block_count": kv.u32(LAYERS),
    "llama.context_length": kv.u32(64),
    "llama.embedding_length": kv.u32(C),
    "llama.feed_forward_length": kv.u32(F),
    "llama.attention.head_count": kv.u32(HEADS),
    "llama.attention.head_count_kv": kv.u32(KV_HEADS),
    "llama.rope.freq_base": kv.f32(10000),
    "llama.rope.dimension_count": kv.u32(C / HEADS),
    "llama.attention.layer_norm_rms_epsilon": kv.f32(1e-5),
    "tokenizer.ggml.model": kv.str("gpt2"),
    "tokenizer.ggml.pre": kv.str("smollm"),
    "tokenizer.ggml.tokens": kv.arr("string", TOKENS),
    "tokenizer.ggml.token_type": kv.arr("i32", TOKENS.map((t) => (CONTROL.includes(t) ? 3 : 1))),
    "tokenizer.ggml.merges": kv.arr("string", MERGES),
    "tokenizer.ggml.bos_token_id": kv.u32(BOS_ID),
    "tokenizer.ggml.eos_token_id": kv.u32(EOS_ID),
    "tokenizer.ggml.padding_token_id": kv.u32(PAD_ID),
    "tokenizer.ggml.add_bos_token": kv.bool(false),
  };
  return { kv: kvs, tensors, expected };
}

const tiny = tinyLlama();
const ggufFile = path.join(tmp, "tiny-llama.Q4_1.gguf");
const outDir = path.join(tmp, "models", "tiny-llama");
let card: ImportedCard;

before(async () => {
  writeGguf(ggufFile, tiny);
  card = await importGguf(ggufFile, outDir, { source: { model: "test/tiny-llama" } });
});

test("gguf-writer: readGguf reads back the metadata, shapes (reversed), types, aligned offsets and data", async () => {
  const g = await readGguf(ggufFile);
  assert.equal(g.version, 3);
  assert.equal(g.metadata["general.architecture"], "llama");
  assert.equal(g.metadata["llama.attention.head_count_kv"], KV_HEADS);
  assert.equal(g.metadata["llama.attention.layer_norm_rms_epsilon"], Math.fround(1e-5)); // stored as f32
  assert.equal(g.metadata["tokenizer.ggml.add_bos_token"], false);
  assert.deepEqual(g.metadata["tokenizer.ggml.tokens"], TOKENS);
  assert.deepEqual(g.metadata["tokenizer.ggml.merges"], MERGES);
  assert.deepEqual([...g.tensors.keys()], tiny.tensors.map((t) => t.name));
  const embd = g.tensors.get("token_embd.weight")!;
  assert.deepEqual(embd.shape, [V, C]); // GGUF ne [32, 266] → row-major [266, 32]
  assert.equal(embd.type, GGML_TYPE.Q8_0);
  assert.equal(embd.bytes, V * 34);
  assert.deepEqual(g.tensors.get("blk.0.ffn_down.weight")!.shape, [C, F]);
  assert.deepEqual(g.tensors.get("blk.1.ffn_norm.weight")!.shape, [C]);
  const file = fs.readFileSync(ggufFile);
  for (const [i, t] of tiny.tensors.entries()) {
    const info = g.tensors.get(t.name)!;
    assert.equal(info.offset % 32, 0, `${t.name} at ${info.offset}`);
    assert.ok(Buffer.from(t.data).equals(file.subarray(info.offset, info.offset + info.bytes)), `${t.name}: data ${i} not where the table says`);
  }
  // Dequantized through the reader: the embedding and a norm equal their exact values.
  assert.deepEqual(values(readGgufTensor(g, "token_embd.weight")), values(tiny.expected.get("model.embed_tokens.weight")!.data));
  assert.deepEqual(values(readGgufTensor(g, "output_norm.weight")), values(tiny.expected.get("model.norm.weight")!.data));
});

test("gguf-writer: gguf-py's GGUFReader reads the same file", { skip: noPython }, () => {
  const script = `
import sys, json
from gguf import GGUFReader
r = GGUFReader(json.load(sys.stdin))
f = r.fields
print(json.dumps({
  "arch": f["general.architecture"].contents(),
  "heads": f["llama.attention.head_count"].contents(),
  "tokens": len(f["tokenizer.ggml.tokens"].contents()),
  "merges": f["tokenizer.ggml.merges"].contents(),
  "tensors": [[t.name, int(t.tensor_type), [int(x) for x in t.shape], int(t.data_offset)] for t in r.tensors],
}))
`;
  const py = runPython(script, ggufFile) as { arch: string; heads: number; tokens: number; merges: string[]; tensors: [string, number, number[], number][] };
  assert.equal(py.arch, "llama");
  assert.equal(py.heads, HEADS);
  assert.equal(py.tokens, V);
  assert.deepEqual(py.merges, MERGES);
  assert.deepEqual(py.tensors.map(([n, t, ne]) => [n, t, ne]), tiny.tensors.map((t) => [t.name, t.type, t.ne]));
});

test("importGguf: config.json describes the tiny Llama", () => {
  const cfg = JSON.parse(fs.readFileSync(path.join(outDir, "config.json"), "utf8")) as Record<string, unknown>;
  assert.equal(cfg.model_type, "llama");
  assert.deepEqual(cfg.architectures, ["LlamaForCausalLM"]);
  assert.equal(cfg.vocab_size, 266);
  assert.equal(cfg.hidden_size, 32);
  assert.equal(cfg.intermediate_size, 64);
  assert.equal(cfg.num_hidden_layers, 2);
  assert.equal(cfg.num_attention_heads, 4);
  assert.equal(cfg.num_key_value_heads, 2);
  assert.equal(cfg.max_position_embeddings, 64);
  assert.equal(cfg.rms_norm_eps, 1e-5); // not the f32 9.99999974738e-06
  assert.equal(cfg.rope_theta, 10000);
  assert.equal(cfg.tie_word_embeddings, true);
  assert.equal(cfg.bos_token_id, 264);
  assert.equal(cfg.eos_token_id, 265);
  assert.equal(cfg.pad_token_id, 263);
  assert.equal(cfg.torch_dtype, "float32");
  assert.deepEqual(fs.readdirSync(outDir).sort(),
    ["MODEL_CARD.md", "config.json", "generation_config.json", "model-card.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]);
  assert.equal(fs.readdirSync(path.dirname(outDir)).length, 1, "no temp folder left beside the model");
  assert.deepEqual(card.source.gguf.tensorTypes, { Q8_0: 1, F32: 5, Q4_1: 14 });
});

test("importGguf: model.safetensors holds every tensor dequantized, q/k rows un-permuted", () => {
  const { tensors } = loadSafetensors(path.join(outDir, "model.safetensors"));
  assert.deepEqual([...tensors.keys()].sort(), [...tiny.expected.keys()].sort());
  assert.ok(!tensors.has("lm_head.weight"), "tied: no lm_head");
  for (const [name, want] of tiny.expected) {
    const got = tensors.get(name)!;
    assert.equal(got.dtype, "F32", name);
    assert.deepEqual(got.shape, want.shape, name);
    assert.deepEqual(values(got.data), values(want.data), name);
  }
  // The permutation mattered: the file's q rows are not the HF rows.
  const q = tiny.tensors.find((t) => t.name === "blk.0.attn_q.weight")!;
  const inFile = dequantize(q.type, q.data, C * C);
  assert.notDeepEqual(values(inFile), values(tensors.get("model.layers.0.self_attn.q_proj.weight")!.data));
});

/** A folder's tokenizer in transformers.js (an ES module), from disk only, as transformers-lm.ts loads it. */
async function hfTokenizer(dir: string) {
  const tf = await import("@huggingface/transformers");
  tf.env.allowRemoteModels = false;
  tf.env.allowLocalModels = true;
  tf.env.localModelPath = path.dirname(dir) + path.sep;
  return tf.AutoTokenizer.from_pretrained(path.basename(dir));
}

test("importGguf: tokenizer.json loads in transformers.js; digits split one by one", async () => {
  const tok = await hfTokenizer(outDir);
  // "the" → t + he; " cat" → Ġc + at → Ġcat; " the" → Ġt + he → Ġthe; " 123" → Ġ 1 2 3 (no "12": digits
  // are split before the merges); <|im_end|> is one control token; no BOS (add_bos_token false).
  const text = "the cat the 123<|im_end|>";
  const ids = tok.encode(text);
  assert.deepEqual(ids, [ID.t, ID.he, ID["Ġcat"], ID["Ġthe"], ID["Ġ"], ID["1"], ID["2"], ID["3"], EOS_ID]);
  assert.deepEqual(ids, [116, 257, 261, 258, 32, 49, 50, 51, 265]);
  assert.deepEqual(tok.encode("12"), [49, 50]);
  assert.equal(tok.decode(ids), text);
  assert.equal(tok.bos_token_id, BOS_ID);
  assert.equal(tok.eos_token_id, EOS_ID);
  assert.equal(tok.pad_token_id, PAD_ID);
});

test("importGguf: loadModelFolder reads the folder; parameter count by hand", async () => {
  await initBackend({ quiet: true });
  const { model, config } = loadModelFolder(outDir);
  try {
    // V·C + layers·(2 norms + q + k + v + o + gate + up + down) + final norm.
    const perLayer = 2 * C + C * C + 2 * KV_C * C + C * C + 3 * F * C;
    const expectedCount = V * C + LAYERS * perLayer + C;
    assert.equal(expectedCount, 27104);
    let n = 0;
    for (const v of model.variables.values()) n += v.size;
    assert.equal(n, expectedCount);
    assert.equal(card.parameters, expectedCount);
    assert.equal(config.num_key_value_heads, KV_HEADS);
    const hf = model.toHF();
    assert.deepEqual(values(hf.get("model.layers.1.self_attn.k_proj.weight")!.data), values(tiny.expected.get("model.layers.1.self_attn.k_proj.weight")!.data));
  } finally {
    model.dispose();
  }
});

test("checkImportedFolder: clean folder has no problems; a changed byte is reported", () => {
  assert.deepEqual(checkImportedFolder(outDir), []);
  assert.deepEqual(Object.keys(card.files).sort(), ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]);
  const copy = path.join(tmp, "modified");
  fs.cpSync(outDir, copy, { recursive: true });
  const weights = path.join(copy, "model.safetensors");
  const b = fs.readFileSync(weights);
  b[b.length - 1] ^= 1;
  fs.writeFileSync(weights, b);
  assert.deepEqual(checkImportedFolder(copy), [`${weights}: sha256 differs from the card's`]);
  fs.rmSync(path.join(copy, "tokenizer.json"));
  assert.deepEqual(checkImportedFolder(copy).length, 2);
  assert.match(checkImportedFolder(copy)[1], /tokenizer\.json: missing$/);
});

test("ggufTokenizer: add_bos/add_eos_token add BOS/EOS; llama-bpe groups digits by three", async () => {
  // Tokenizer metadata only: ggufTokenizer reads nothing else.
  const file = path.join(tmp, "llama-bpe.gguf");
  writeGguf(file, {
    kv: {
      ...Object.fromEntries(Object.entries(tiny.kv).filter(([k]) => k.startsWith("tokenizer."))),
      "tokenizer.ggml.pre": kv.str("llama-bpe"),
      "tokenizer.ggml.add_bos_token": kv.bool(true),
      "tokenizer.ggml.add_eos_token": kv.bool(true),
    },
    tensors: [],
  });
  const t = ggufTokenizer(await readGguf(file), 64);
  assert.deepEqual([t.bosId, t.eosId, t.padId, t.addBos], [BOS_ID, EOS_ID, PAD_ID, true]);
  const dir = path.join(tmp, "tokenizers", "llama-bpe");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify(t.tokenizer));
  fs.writeFileSync(path.join(dir, "tokenizer_config.json"), JSON.stringify(t.config));
  const tok = await hfTokenizer(dir);
  // The Llama 3 regex takes "1234" as "123" + "4", so the merge "1 2" applies: 12, 3, 4.
  assert.deepEqual(tok.encode("the 1234"), [BOS_ID, ID.t, ID.he, ID["Ġ"], ID["12"], ID["3"], ID["4"], EOS_ID]);
  assert.deepEqual(tok.encode("the 1234", { add_special_tokens: false }), [ID.t, ID.he, ID["Ġ"], ID["12"], ID["3"], ID["4"]]);
});

// ------------------------------------------------------------------------------------------------
// Import errors: one line naming the file and the key (or tensor); no folder left behind

async function importError(name: string, kvChanges: Record<string, GgufWriteValue>, tensors = tiny.tensors): Promise<{ file: string; message: string; out: string }> {
  const file = path.join(tmp, `${name}.gguf`);
  writeGguf(file, { kv: { ...tiny.kv, ...kvChanges }, tensors });
  const out = path.join(tmp, "bad", name);
  let message = "";
  await assert.rejects(importGguf(file, out), (e: Error) => { message = e.message; return true; });
  assert.ok(!message.includes("\n"), `one line: ${message}`);
  assert.ok(!fs.existsSync(out), `${out} exists after a failed import`);
  return { file, message, out };
}

test("importGguf errors: architecture, tokenizer model, pre-tokenizer, unsupported tensor type", async () => {
  let r = await importError("qwen", { "general.architecture": kv.str("qwen2") });
  assert.match(r.message, new RegExp(`^${escapeRe(r.file)}: general\\.architecture is "qwen2"; ftgen reads Llama models \\("llama"\\) only$`));

  r = await importError("spm", { "tokenizer.ggml.model": kv.str("llama") });
  assert.match(r.message, new RegExp(`^${escapeRe(r.file)}: tokenizer\\.ggml\\.model is "llama"`));

  r = await importError("pre", { "tokenizer.ggml.pre": kv.str("qwen2") });
  assert.match(r.message, new RegExp(`^${escapeRe(r.file)}: tokenizer\\.ggml\\.pre "qwen2" is not one ftgen knows \\(.*smollm.*\\)$`));

  // A K-quant tensor: named with its type (Q4_K: 144 bytes per 256 elements).
  const tensors = tiny.tensors.map((t) => (t.name === "blk.1.ffn_down.weight" ? { ...t, type: GGML_TYPE.Q4_K, data: new Uint8Array((C * F / 256) * 144) } : t));
  r = await importError("q4k", {}, tensors);
  assert.match(r.message, new RegExp(`^${escapeRe(r.file)}: tensor blk\\.1\\.ffn_down\\.weight: GGML type Q4_K is not supported`));
});
