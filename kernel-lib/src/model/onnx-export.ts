/**
 * Our Llama as an ONNX graph in the Hugging Face layout that transformers.js and Optimum use for a
 * decoder with a KV cache:
 *
 *   inputs   input_ids (B, T) int64 · attention_mask (B, P + T) int64 · position_ids (B, T) int64 ·
 *            past_key_values.{l}.key / .value (B, KV, P, d) float32, one pair per layer ·
 *            num_logits_to_keep () int64: logits of the last k positions only (0: all)
 *   outputs  logits (B, k or T, V) float32 · present.{l}.key / .value (B, KV, P + T, d) float32
 *
 * The graph is the model of llama.ts written out with standard ONNX ops (opset 17), float32
 * weights as initializers:
 *
 *   x = embed_tokens[input_ids]                                   // (B, T, C)
 *   per layer: h = rms(x)·w; q, k, v = h·Wᵀ; rope(q), rope(k); k, v appended to the past;
 *              a = softmax(q·kᵀ/√d + causal and padding bias)·v; x += a·Woᵀ
 *              h = rms(x)·w; x += (silu(h·Wgᵀ) · h·Wuᵀ)·Wdᵀ
 *   logits = rms(x)·w · embed_tokensᵀ (tied) or lm_headᵀ
 *
 * The protobuf is written by onnx-proto (ONNX's own .proto compiled for protobufjs).
 */
import fs from "node:fs";
import path from "node:path";
import { onnx } from "onnx-proto";
import { readConfig, type LlamaConfig } from "./config";
import { loadSafetensors } from "./safetensors";
import { transpose2d } from "./llama";
import { ropeInvFreq } from "./kernels/rope";
import { writeFileAtomic } from "../util/atomic";

const T = onnx.TensorProto.DataType;
export const ONNX_OPSET = 17;
export const ONNX_FILE = path.join("onnx", "model.onnx");
/**
 * Version of the graph this file writes, kept in `producerVersion` and in onnx/export.json beside the
 * file, so that an export by an older ftgen is redone (2: the num_logits_to_keep input).
 */
export const ONNX_GRAPH_VERSION = 2;
export const ONNX_EXPORT_INFO = path.join("onnx", "export.json");
/** Added to a masked attention score: far below any real score, yet finite (no NaN on a fully masked row). */
const MASKED = -1e9;

/** A graph under construction: nodes, initializers and unique names. */
class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  private n = 0;

  /** Adds a node; returns its output names (one unless `outputs` > 1). */
  op(opType: string, inputs: string[], attrs: Record<string, number | number[] | string> = {}, outputs = 1, name?: string): string[] {
    const id = name ?? `${opType.toLowerCase()}_${this.n++}`;
    const outs = Array.from({ length: outputs }, (_, i) => (outputs === 1 ? id : `${id}_${i}`));
    this.nodes.push({ opType, input: inputs, output: outs, name: id, attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) });
    return outs;
  }

  /** One-output op. */
  o(opType: string, inputs: string[], attrs: Record<string, number | number[] | string> = {}, name?: string): string {
    return this.op(opType, inputs, attrs, 1, name)[0];
  }

  /** A float32 initializer. */
  floats(name: string, dims: number[], data: Float32Array): string {
    this.initializers.push({ name, dims, dataType: T.FLOAT, rawData: bytes(data) });
    return name;
  }

  /** An int64 constant initializer. */
  ints(name: string, values: number[], dims: number[] = [values.length]): string {
    this.initializers.push({ name, dims, dataType: T.INT64, rawData: bytes(BigInt64Array.from(values.map(BigInt))) });
    return name;
  }

  /** A float32 scalar constant initializer. */
  scalar(name: string, v: number): string {
    this.initializers.push({ name, dims: [], dataType: T.FLOAT, rawData: bytes(Float32Array.of(v)) });
    return name;
  }
}

function bytes(a: Float32Array | BigInt64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength); // little-endian, as ONNX's raw_data
}

function attribute(name: string, v: number | number[] | string): onnx.IAttributeProto {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof v === "string") return { name, type: A.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: A.INTS, ints: v };
  return Number.isInteger(v) ? { name, type: A.INT, i: v } : { name, type: A.FLOAT, f: v };
}

function valueInfo(name: string, elemType: number, dims: (number | string)[]): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) } } },
  };
}

/** RMSNorm over the last axis, as llama.ts: x / √(mean(x²) + eps) · w. */
function rmsNorm(g: GraphBuilder, x: string, weight: string, eps: string): string {
  const ms = g.o("ReduceMean", [g.o("Mul", [x, x])], { axes: [-1], keepdims: 1 });
  return g.o("Mul", [g.o("Mul", [x, g.o("Reciprocal", [g.o("Sqrt", [g.o("Add", [ms, eps])])])]), weight]);
}

/** x·cos + rotate_half(x)·sin on (B, heads, T, d), rotate_half(x) = [−x₂, x₁]. */
function rope(g: GraphBuilder, x: string, cos: string, sin: string, c: Record<string, string>): string {
  const x1 = g.o("Slice", [x, c.zero1, c.half, c.axis3]);
  const x2 = g.o("Slice", [x, c.half, c.dim, c.axis3]);
  const rotated = g.o("Concat", [g.o("Neg", [x2]), x1], { axis: -1 });
  return g.o("Add", [g.o("Mul", [x, cos]), g.o("Mul", [rotated, sin])]);
}

/** The ONNX model of a model folder's weights and config. */
export function buildOnnxModel(config: LlamaConfig, tensors: ReadonlyMap<string, { shape: number[]; data: Float32Array }>): onnx.ModelProto {
  const C = config.hidden_size, H = config.num_attention_heads, KV = config.num_key_value_heads, d = C / H, V = config.vocab_size;
  const L = config.num_hidden_layers, rep = H / KV;
  const g = new GraphBuilder();
  const w = (name: string): { shape: number[]; data: Float32Array } => {
    const t = tensors.get(name);
    if (!t) throw new Error(`exportOnnx: tensor ${name} is missing`);
    return t;
  };
  // A linear weight is stored (out, in) as in PyTorch; the graph multiplies by its transpose (in, out).
  const linear = (name: string): string => {
    const t = w(name);
    return g.floats(name, [t.shape[1], t.shape[0]], transpose2d(t.data, t.shape[0], t.shape[1]));
  };
  const vector = (name: string): string => g.floats(name, w(name).shape, w(name).data);

  const c = {
    zero1: g.ints("const_zero_1d", [0]), half: g.ints("const_half", [d / 2]), dim: g.ints("const_dim", [d]), axis3: g.ints("const_axis3", [3]),
    axis0: g.ints("const_axis0", [0]), axis1: g.ints("const_axis1", [1]), axis2: g.ints("const_axis2", [2]), axes12: g.ints("const_axes12", [1, 2]), axisLast: g.ints("const_axis_last", [-1]),
  };
  const eps = g.scalar("const_eps", config.rms_norm_eps);
  const invSqrtD = g.scalar("const_inv_sqrt_d", 1 / Math.sqrt(d));
  const masked = g.scalar("const_masked", MASKED);
  const zeroF = g.scalar("const_zero_f", 0);
  const oneF = g.scalar("const_one_f", 1);
  const qShape = g.ints("const_q_shape", [0, 0, H, d]);
  const kvShape = g.ints("const_kv_shape", [0, 0, KV, d]);
  const mergedShape = g.ints("const_merged_shape", [0, 0, H * d]);
  const repShape = g.ints("const_rep_shape", [0, H, -1, d]);

  // Embedding: (B, T) → (B, T, C).
  const embed = w("model.embed_tokens.weight");
  g.floats("model.embed_tokens.weight", embed.shape, embed.data);
  let x = g.o("Gather", ["model.embed_tokens.weight", "input_ids"], { axis: 0 }, "embed");

  // Rotary tables from position_ids: freqs (B, T, d/2) in float32, emb = [freqs, freqs], then (B, 1, T, d).
  const invFreq = g.floats("rope_inv_freq", [d / 2], ropeInvFreq(d, config.rope_theta));
  const pos = g.o("Cast", ["position_ids"], { to: T.FLOAT });
  const freqs = g.o("Mul", [g.o("Unsqueeze", [pos, c.axisLast]), invFreq]);
  const emb = g.o("Concat", [freqs, freqs], { axis: -1 });
  const cos = g.o("Unsqueeze", [g.o("Cos", [emb]), c.axis1], {}, "rope_cos");
  const sin = g.o("Unsqueeze", [g.o("Sin", [emb]), c.axis1], {}, "rope_sin");

  // Attention bias (B, 1, T, S), S = past + T: key j is visible to query i when j ≤ past + i and mask[j] = 1.
  const past = g.o("Gather", [g.o("Shape", ["past_key_values.0.key"]), g.ints("const_two", [2], [])], { axis: 0 }, "past_length");
  const steps = g.o("Gather", [g.o("Shape", ["input_ids"]), g.ints("const_one", [1], [])], { axis: 0 }, "query_length");
  const total = g.o("Add", [past, steps], {}, "total_length");
  const one = g.ints("const_one_scalar", [1], []);
  const qIdx = g.o("Unsqueeze", [g.o("Range", [past, total, one]), c.axisLast]); // (T, 1)
  const kIdx = g.o("Unsqueeze", [g.o("Range", [g.ints("const_zero_scalar", [0], []), total, one]), c.axis0]); // (1, S)
  const causal = g.o("Where", [g.o("LessOrEqual", [kIdx, qIdx]), zeroF, masked]); // (T, S)
  const keep = g.o("Cast", ["attention_mask"], { to: T.FLOAT }); // (B, S)
  const padding = g.o("Unsqueeze", [g.o("Mul", [g.o("Sub", [oneF, keep]), masked]), c.axes12]); // (B, 1, 1, S)
  const bias = g.o("Add", [causal, padding], {}, "attention_bias");

  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}.`;
    const h = rmsNorm(g, x, vector(`${p}input_layernorm.weight`), eps);
    const heads = (proj: string, shape: string): string => g.o("Transpose", [g.o("Reshape", [g.o("MatMul", [h, linear(`${p}self_attn.${proj}.weight`)]), shape])], { perm: [0, 2, 1, 3] });
    const q = rope(g, heads("q_proj", qShape), cos, sin, c); // (B, H, T, d)
    const k = rope(g, heads("k_proj", kvShape), cos, sin, c); // (B, KV, T, d)
    const v = heads("v_proj", kvShape);
    const presentK = g.o("Concat", [`past_key_values.${l}.key`, k], { axis: 2 }, `present.${l}.key`); // (B, KV, S, d)
    const presentV = g.o("Concat", [`past_key_values.${l}.value`, v], { axis: 2 }, `present.${l}.value`);
    // Grouped-query attention: kv head j serves query heads j·rep … j·rep + rep − 1.
    const repeat = (t: string): string => (rep === 1 ? t : g.o("Reshape", [g.o("Concat", Array(rep).fill(g.o("Unsqueeze", [t, c.axis2])), { axis: 2 }), repShape]));
    const scores = g.o("Add", [g.o("Mul", [g.o("MatMul", [q, g.o("Transpose", [repeat(presentK)], { perm: [0, 1, 3, 2] })]), invSqrtD]), bias]); // (B, H, T, S)
    const attn = g.o("MatMul", [g.o("Softmax", [scores], { axis: -1 }), repeat(presentV)]); // (B, H, T, d)
    const merged = g.o("Reshape", [g.o("Transpose", [attn], { perm: [0, 2, 1, 3] }), mergedShape]); // (B, T, C)
    x = g.o("Add", [x, g.o("MatMul", [merged, linear(`${p}self_attn.o_proj.weight`)])]);
    const h2 = rmsNorm(g, x, vector(`${p}post_attention_layernorm.weight`), eps);
    const gate = g.o("MatMul", [h2, linear(`${p}mlp.gate_proj.weight`)]);
    const up = g.o("MatMul", [h2, linear(`${p}mlp.up_proj.weight`)]);
    x = g.o("Add", [x, g.o("MatMul", [g.o("Mul", [g.o("Mul", [gate, g.o("Sigmoid", [gate])]), up]), linear(`${p}mlp.down_proj.weight`)])]);
  }
  // num_logits_to_keep = k > 0: only the last k positions go through the vocabulary projection
  // (scoring reads one position; the projection is the model's largest matmul); 0: every position.
  const keepFrom = g.o("Neg", [g.o("Reshape", ["num_logits_to_keep", g.ints("const_shape_1", [1])])]); // [−k]; −0 = 0 keeps all
  const kept = g.o("Slice", [x, keepFrom, g.ints("const_int64_max", [Number.MAX_SAFE_INTEGER]), c.axis1]); // (B, T', C)
  const final = rmsNorm(g, kept, vector("model.norm.weight"), eps);
  const head = config.tie_word_embeddings
    ? g.floats("lm_head.weight_t", [C, V], transpose2d(embed.data, V, C))
    : linear("lm_head.weight");
  g.op("MatMul", [final, head], {}, 1, "logits");

  const kvDims = (len: string): (number | string)[] => ["batch_size", KV, len, d];
  const graph: onnx.IGraphProto = {
    name: "ftgen-llama",
    node: g.nodes,
    initializer: g.initializers,
    input: [
      valueInfo("input_ids", T.INT64, ["batch_size", "sequence_length"]),
      valueInfo("attention_mask", T.INT64, ["batch_size", "total_sequence_length"]),
      valueInfo("position_ids", T.INT64, ["batch_size", "sequence_length"]),
      valueInfo("num_logits_to_keep", T.INT64, []),
      ...Array.from({ length: L }, (_, l) => [valueInfo(`past_key_values.${l}.key`, T.FLOAT, kvDims("past_sequence_length")), valueInfo(`past_key_values.${l}.value`, T.FLOAT, kvDims("past_sequence_length"))]).flat(),
    ],
    output: [
      valueInfo("logits", T.FLOAT, ["batch_size", "logits_length", V]),
      ...Array.from({ length: L }, (_, l) => [valueInfo(`present.${l}.key`, T.FLOAT, kvDims("total_sequence_length")), valueInfo(`present.${l}.value`, T.FLOAT, kvDims("total_sequence_length"))]).flat(),
    ],
  };
  return onnx.ModelProto.create({
    irVersion: 8, producerName: "ftgen", producerVersion: `graph ${ONNX_GRAPH_VERSION}`, opsetImport: [{ domain: "", version: ONNX_OPSET }], graph,
  });
}

/**
 * Writes `<modelDir>/onnx/model.onnx` (float32 weights) from the folder's config.json and
 * model.safetensors, and returns its path. The folder's config.json already carries what
 * transformers.js reads (model_type "llama", heads, layers, vocab).
 */
export function exportOnnx(modelDir: string): string {
  const config = readConfig(modelDir);
  const { tensors } = loadSafetensors(path.join(modelDir, "model.safetensors"));
  const model = buildOnnxModel(config, tensors);
  const file = path.join(modelDir, ONNX_FILE);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, onnx.ModelProto.encode(model).finish());
  writeFileAtomic(path.join(modelDir, ONNX_EXPORT_INFO), JSON.stringify({ graphVersion: ONNX_GRAPH_VERSION, opset: ONNX_OPSET }) + "\n");
  return file;
}
