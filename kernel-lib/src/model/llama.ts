/**
 * A Llama-style decoder in TensorFlow.js, the whole model in one file (nanoGPT style): parameters,
 * then the forward pass as embedding, blocks (attention, MLP) and final norm; the kernels it calls
 * are in kernels/ (ops, rope, attention, lm-head, kv-cache).
 *
 *   ids (B, T) ─ embed_tokens ─▶ x (B·T, C)
 *     for each layer:  x = x + o_proj(attention(rope(q_proj(norm(x))), rope(k_proj(norm(x))), v_proj(norm(x))))
 *                      x = x + down_proj(silu(gate_proj(norm(x))) · up_proj(norm(x)))
 *   norm ─▶ hidden (B, T, C) ─ lm_head (tied: embed_tokens) ─▶ logits (B, T, V)
 *
 * It follows Hugging Face's LlamaForCausalLM: RMSNorm (x · rsqrt(mean(x²) + eps) · w), rotary
 * embeddings with rotate_half on split halves and inv_freq = theta^(−2i/d), causal multi-head (or
 * grouped-query) attention, SwiGLU MLP, optional tied LM head, and HF parameter names
 * (model.embed_tokens.weight, model.layers.N.self_attn.q_proj.weight, …, model.norm.weight,
 * lm_head.weight), so model.safetensors maps 1:1 onto HF.
 *
 * Why the kernels are hand-written. Speed on the tfjs wasm backend (config "a" of experiments/model-speed/probe-model-speed.ts: ~2,100 training
 * tokens/s on one core, bound by XNNPACK's single-thread GEMM at ~30-35 GFLOP/s). XNNPACK's fast
 * GEMM is only used for a 2-D, non-transposed matMul; batched or transposed matMuls fall to a
 * naive loop (6x slower overall). And wasm's tf.slice/unstack copy the whole input out of the heap
 * for every piece. So:
 *  - linear weights are held TRANSPOSED, [in, out] (HF's [out, in] appears only in toHF/fromHF),
 *    and `linear` is a customGrad whose backward transposes explicitly;
 *  - attention runs per (batch row, head) on 2-D slices cut in JS, with a hand-written backward;
 *    decoding against a KV cache is batched instead (a few ops per layer; T = 1 needs no GEMM);
 *  - RoPE is a JS loop (customGrad), cheaper than the tf.reverse that rotate_half needs;
 *  - the embedding backward is a scatter-add (wasm has no UnsortedSegmentSum for gather's gradient);
 *  - the LM head and cross-entropy are one customGrad over the labelled rows only, in chunks of
 *    rows, so the (rows × vocab) logits never exist all at once when they would not fit (the wasm
 *    heap is 32-bit: 4 GiB).
 */
import * as tf from "@tensorflow/tfjs";
import { headDim, llamaConfig, type LlamaConfig } from "./config";
import { makeRng, type Rng } from "../util/random";
import { nativeKernels } from "./kernels/native-blas";
import { dropout, embed, linear, rmsNorm } from "./kernels/ops";
import { applyRope, continuedPositions, positionsFromMask, recordNextPositions, ropeInvFreq, ropeTables, type RopeTables } from "./kernels/rope";
import { attention, attentionBiasData, biasTensors, cachedAttention, nativeAttention, type AttnDims } from "./kernels/attention";
import { lmHeadLoss, type LmLossOptions } from "./kernels/lm-head";
import { KVCache } from "./kernels/kv-cache";

// ---------------------------------------------------------------------------------------------
// Parameters

/** Linear weights (HF [out, in]; held here as [in, out]). */
export function isLinearWeight(name: string): boolean {
  return name.endsWith("_proj.weight") || name === "lm_head.weight";
}

/** Every parameter of `cfg` by HF name, with its HF shape, in a fixed order. */
export function parameterShapes(cfg: LlamaConfig): Map<string, number[]> {
  const C = cfg.hidden_size, F = cfg.intermediate_size, V = cfg.vocab_size;
  const kvC = cfg.num_key_value_heads * headDim(cfg);
  const m = new Map<string, number[]>();
  m.set("model.embed_tokens.weight", [V, C]);
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = `model.layers.${l}.`;
    m.set(p + "input_layernorm.weight", [C]);
    m.set(p + "self_attn.q_proj.weight", [C, C]);
    m.set(p + "self_attn.k_proj.weight", [kvC, C]);
    m.set(p + "self_attn.v_proj.weight", [kvC, C]);
    m.set(p + "self_attn.o_proj.weight", [C, C]);
    m.set(p + "post_attention_layernorm.weight", [C]);
    m.set(p + "mlp.gate_proj.weight", [F, C]);
    m.set(p + "mlp.up_proj.weight", [F, C]);
    m.set(p + "mlp.down_proj.weight", [C, F]);
  }
  m.set("model.norm.weight", [C]);
  if (!cfg.tie_word_embeddings) m.set("lm_head.weight", [V, C]);
  return m;
}

/** Number of parameters (tied embeddings counted once). */
export function parameterCount(cfg: LlamaConfig): number {
  let n = 0;
  for (const s of parameterShapes(cfg).values()) n += s.reduce((a, b) => a * b, 1);
  return n;
}

/** A standard normal draw (Box–Muller) from the seeded generator. */
function gaussian(rng: Rng): number {
  let u = 0;
  while (u === 0) u = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/** Transposes a row-major (rows, cols) matrix. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

// ---------------------------------------------------------------------------------------------
// The model

/** Integer matrices accepted as input: a tfjs int tensor (B, T), rows of ids, or flat data + shape. */
export type IntMatrix = tf.Tensor | number[][] | { data: Int32Array; rows: number; cols: number };

/** Flattens an IntMatrix to row-major int32 data. */
export function intMatrix(x: IntMatrix, what: string): { data: Int32Array; rows: number; cols: number } {
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2) throw new Error(`${what}: expected a rank-2 tensor, got shape [${x.shape}]`);
    const [rows, cols] = x.shape as [number, number];
    return { data: Int32Array.from(x.dataSync() as ArrayLike<number>), rows, cols };
  }
  if (Array.isArray(x)) {
    const rows = x.length, cols = rows ? x[0].length : 0;
    const data = new Int32Array(rows * cols);
    x.forEach((r, i) => {
      if (r.length !== cols) throw new Error(`${what}: row ${i} has ${r.length} entries, row 0 has ${cols}`);
      data.set(r, i * cols);
    });
    return { data, rows, cols };
  }
  if (x.data.length !== x.rows * x.cols) throw new Error(`${what}: ${x.data.length} values for ${x.rows}×${x.cols}`);
  return x;
}

export interface ForwardOptions {
  /**
   * (B, S) 1 for real tokens, 0 for padding, S = cache length + T (the whole row, cached keys
   * included). Default: all ones, i.e. plain causal attention.
   */
  attentionMask?: IntMatrix;
  /** (B, T) position ids. Default: from the mask (cumsum − 1), continuing the cache if any. */
  positions?: IntMatrix;
  /** Keys/values of earlier tokens; extended in place with this call's tokens. */
  cache?: KVCache;
  /** Dropout on the attention and MLP outputs before the residual adds (training). Default 0. */
  dropout?: number;
  /** Seed of the dropout masks (required with dropout > 0). */
  dropoutSeed?: number | string;
}

/** A right-padded training batch (structurally train/examples.ts' Batch). */
export interface TokenBatch {
  rows: number;
  cols: number;
  /** (rows, cols) input ids. */
  inputs: Int32Array;
  /** (rows, cols) next-token labels, −1 where no loss is taken. */
  labels: Int32Array;
}

export interface LossOptions extends ForwardOptions, LmLossOptions {}

/** What every layer of one forward pass shares: rotary tables, masks, shapes, cache, dropout. */
interface BlockContext {
  /** Rotary tables of the queries (scaled by 1/√d) and of the keys. */
  q: RopeTables;
  k: RopeTables;
  /** Attention biases (B or 1, T, S), and as per-row (T, S) tensors for the wasm full-sequence path. */
  bias: { data: Float32Array; rows: number };
  biasT: tf.Tensor2D[];
  dims: AttnDims;
  /** Cached keys before this call. */
  past: number;
  native: boolean;
  cache?: KVCache;
  rate: number;
  rng?: Rng;
}

/**
 * The Llama decoder. `variables` holds every parameter by its HF name; linear weights are held
 * TRANSPOSED, [in, out] (use toHF()/fromHF() — or folder.ts — for HF's [out, in] layout).
 */
export class LlamaModel {
  readonly config: LlamaConfig;
  /** Trainable parameters by HF name (linear weights [in, out]). */
  readonly variables: Map<string, tf.Variable>;
  /** Dropout rate batchLoss() uses in training (when the loop passes a seed). Default 0. */
  dropout = 0;
  private readonly invFreq: Float32Array;
  /** Cached transposed embedding (tied head) and the embedding data it was made from. */
  private headT?: { source: object; tensor: tf.Tensor2D };

  /**
   * @param config a validated config
   * @param weights every parameter by HF name in the compute layout (linear weights [in, out]);
   *   they become variables (the tensors are not disposed: pass fresh ones or dispose them after)
   */
  constructor(config: LlamaConfig, weights: ReadonlyMap<string, tf.Tensor>) {
    this.config = config;
    this.variables = new Map();
    for (const [name, hfShape] of parameterShapes(config)) {
      const t = weights.get(name);
      if (!t) throw new Error(`LlamaModel: missing parameter ${name}`);
      const want = isLinearWeight(name) ? [hfShape[1], hfShape[0]] : hfShape;
      if (t.shape.join(",") !== want.join(",")) throw new Error(`LlamaModel: ${name} has shape [${t.shape}], expected [${want}] (linear weights are [in, out] here)`);
      this.variables.set(name, tf.variable(t, true, undefined, "float32"));
    }
    this.invFreq = ropeInvFreq(headDim(config), config.rope_theta);
  }

  /** A freshly initialized model: every matrix N(0, initializer_range²), norms 1 (as HF). */
  static init(config: LlamaConfig | Partial<LlamaConfig> = {}, seed: number | string = 0): LlamaModel {
    const cfg = llamaConfig(config);
    const rng = makeRng(`llama-init:${seed}`);
    const weights = new Map<string, tf.Tensor>();
    for (const [name, shape] of parameterShapes(cfg)) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(n);
      if (name.endsWith("norm.weight")) data.fill(1);
      else for (let i = 0; i < n; i++) data[i] = gaussian(rng) * cfg.initializer_range;
      // HF layout [out, in] drawn row-major, then held [in, out]: the same model as HF's would be.
      const compute = isLinearWeight(name) ? transpose2d(data, shape[0], shape[1]) : data;
      weights.set(name, tf.tensor(compute, isLinearWeight(name) ? [shape[1], shape[0]] : shape));
    }
    const model = new LlamaModel(cfg, weights);
    weights.forEach((t) => t.dispose());
    return model;
  }

  /** A model from HF-layout tensors (e.g. read from model.safetensors). */
  static fromHF(config: LlamaConfig, tensors: ReadonlyMap<string, { shape: number[]; data: Float32Array }>, source = "weights"): LlamaModel {
    const weights = new Map<string, tf.Tensor>();
    try {
      for (const [name, shape] of parameterShapes(config)) {
        const t = tensors.get(name);
        if (!t) throw new Error(`${source}: missing tensor ${name}`);
        if (t.shape.join(",") !== shape.join(",")) throw new Error(`${source}: tensor ${name} has shape [${t.shape}], the config needs [${shape}]`);
        weights.set(name, isLinearWeight(name) ? tf.tensor(transpose2d(t.data, shape[0], shape[1]), [shape[1], shape[0]]) : tf.tensor(t.data, shape));
      }
      return new LlamaModel(config, weights);
    } finally {
      weights.forEach((t) => t.dispose());
    }
  }

  /** Every parameter in HF layout ([out, in] for linear weights), by HF name. */
  toHF(): Map<string, { shape: number[]; data: Float32Array }> {
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [name, v] of this.variables) {
      const data = v.dataSync() as Float32Array;
      if (isLinearWeight(name)) {
        const [inDim, outDim] = v.shape;
        out.set(name, { shape: [outDim, inDim], data: transpose2d(data, inDim, outDim) });
      } else out.set(name, { shape: [...v.shape], data: Float32Array.from(data) });
    }
    return out;
  }

  /** An empty KV cache for `batch` rows. */
  createCache(batch: number): KVCache {
    return new KVCache(batch, this.config.num_hidden_layers);
  }

  private param(name: string): tf.Variable {
    const v = this.variables.get(name);
    if (!v) throw new Error(`LlamaModel: no parameter ${name}`);
    return v;
  }

  /**
   * The key mask (B, S) — given, or the cache's followed by ones, or none (plain causal) — and the
   * position ids (B, T) — given, or continuing the cache, or from the mask (HF: cumsum − 1), or
   * 0…T−1. Records both in the cache, if any.
   */
  private inputsAround(B: number, T: number, opts: ForwardOptions): { mask?: Int32Array; positions: Int32Array } {
    const cache = opts.cache;
    const past = cache ? cache.length : 0;
    const S = past + T;
    let mask: Int32Array | undefined;
    if (opts.attentionMask !== undefined) {
      const m = intMatrix(opts.attentionMask, "attentionMask");
      if (m.rows !== B || m.cols !== S) throw new Error(`LlamaModel: attentionMask is ${m.rows}×${m.cols}, expected ${B}×${S} (cached + new tokens)`);
      mask = m.data;
    } else if (cache && past > 0) {
      mask = new Int32Array(B * S);
      for (let b = 0; b < B; b++) {
        mask.set(cache.mask.subarray(b * past, (b + 1) * past), b * S);
        mask.fill(1, b * S + past, (b + 1) * S);
      }
    }
    let positions: Int32Array;
    if (opts.positions !== undefined) {
      const p = intMatrix(opts.positions, "positions");
      if (p.rows !== B || p.cols !== T) throw new Error(`LlamaModel: positions are ${p.rows}×${p.cols}, expected ${B}×${T}`);
      positions = p.data;
    } else if (cache && past > 0) {
      positions = continuedPositions(cache.nextPosition, B, T, (b, t) => !mask || mask[b * S + past + t] !== 0);
    } else if (mask) positions = positionsFromMask(mask, B, S, T);
    else positions = Int32Array.from({ length: B * T }, (_, i) => i % T);
    if (cache) {
      const full = mask ?? new Int32Array(B * S).fill(1);
      cache.mask = full;
      recordNextPositions(cache.nextPosition, positions, B, T, (b, t) => full[b * S + past + t] !== 0);
    }
    return { mask, positions };
  }

  /**
   * The final hidden states (after the last RMSNorm): ids (B, T) → (B·T, C), row b·T + t.
   * With a cache, attends to its keys too and appends this call's keys/values to it.
   */
  hidden2d(ids: IntMatrix, opts: ForwardOptions = {}): tf.Tensor2D {
    const cfg = this.config;
    const { data: idData, rows: B, cols: T } = intMatrix(ids, "ids");
    for (let i = 0; i < idData.length; i++) {
      if (idData[i] < 0 || idData[i] >= cfg.vocab_size) throw new Error(`LlamaModel: token id ${idData[i]} is outside the vocabulary (${cfg.vocab_size})`);
    }
    const cache = opts.cache;
    if (cache && cache.batch !== B) throw new Error(`LlamaModel: cache for ${cache.batch} rows, ids have ${B}`);
    const past = cache ? cache.length : 0;
    const S = past + T;
    const H = cfg.num_attention_heads, KV = cfg.num_key_value_heads, d = headDim(cfg);

    const { mask, positions } = this.inputsAround(B, T, opts);

    const rate = opts.dropout ?? 0;
    if (rate > 0 && opts.dropoutSeed === undefined) throw new Error("LlamaModel: dropout needs a dropoutSeed");
    const rng = rate > 0 ? makeRng(`dropout:${opts.dropoutSeed}`) : undefined;

    const q = ropeTables(positions, this.invFreq, 1 / Math.sqrt(d)); // queries carry the 1/√d scale
    const k = ropeTables(positions, this.invFreq);
    const bias = attentionBiasData(B, T, past, mask);
    const native = nativeKernels() !== undefined;
    const biasT = past === 0 && !native ? biasTensors(bias, T, S) : []; // per-row 2-D biases for the wasm full-sequence path
    const dims: AttnDims = { B, T, H, KV, d };

    // Without a gradient being recorded (inference), each layer runs in its own tidy, so memory
    // holds one layer's activations rather than all of them (at 30 layers × 1536 wide, the
    // difference between fitting the 4 GiB wasm heap and not).
    const inference = tf.engine().state.gradientDepth === 0;
    const ctx: BlockContext = { q, k, bias, biasT, dims, past, native, cache, rate, rng };
    let x = embed(this.param("model.embed_tokens.weight") as tf.Tensor2D, idData); // (N, C), N = B·T
    for (let l = 0; l < cfg.num_hidden_layers; l++) {
      if (inference) {
        const next = tf.tidy(() => this.block(l, x, ctx));
        x.dispose();
        x = next;
      } else x = this.block(l, x, ctx);
    }
    if (cache) cache.length = S;
    return rmsNorm(x, this.param("model.norm.weight") as tf.Tensor1D, cfg.rms_norm_eps);
  }

  /** One decoder layer: x + attention(norm(x)), then + mlp(norm(x)).  x (N, C) → (N, C). */
  private block(l: number, x: tf.Tensor2D, ctx: BlockContext): tf.Tensor2D {
    const eps = this.config.rms_norm_eps;
    const norm = (n: string, y: tf.Tensor2D): tf.Tensor2D => rmsNorm(y, this.param(`model.layers.${l}.${n}.weight`) as tf.Tensor1D, eps);
    const a = this.attention(l, norm("input_layernorm", x), ctx); // (N, C)
    const x1 = tf.add(x, a) as tf.Tensor2D;
    const m = this.mlp(l, norm("post_attention_layernorm", x1), ctx); // (N, C)
    return tf.add(x1, m) as tf.Tensor2D;
  }

  /**
   * Causal self-attention of layer `l`: q, k roped (queries carry 1/√d), grouped-query heads, the
   * output projection, dropout.  h (N, C) → (N, C). With a cache, its keys are attended to and this
   * call's keys and values appended.
   */
  private attention(l: number, h: tf.Tensor2D, ctx: BlockContext): tf.Tensor2D {
    const { dims, cache } = ctx;
    const p = (n: string): tf.Tensor2D => this.param(`model.layers.${l}.self_attn.${n}.weight`) as tf.Tensor2D;
    const q = applyRope(linear(h, p("q_proj")), ctx.q, dims.H); // (N, H·d)
    const k = applyRope(linear(h, p("k_proj")), ctx.k, dims.KV); // (N, KV·d)
    const v = linear(h, p("v_proj")); // (N, KV·d)
    let y: tf.Tensor2D; // (N, H·d)
    if (ctx.past === 0) {
      // The whole sequence: per-(b, head) 2-D attention (training, prefill).
      y = ctx.native ? nativeAttention(q, k, v, ctx.bias, dims) : attention(q, k, v, ctx.biasT, dims);
      cache?.append(l, k, v, dims.B, dims.T, dims.KV, dims.d);
    } else {
      const kv = (cache as KVCache).append(l, k, v, dims.B, dims.T, dims.KV, dims.d);
      y = cachedAttention(q, kv.kT, kv.v, ctx.bias, dims);
    }
    const out = linear(y, p("o_proj")); // (N, C)
    return ctx.rng ? dropout(out, ctx.rate, ctx.rng) : out;
  }

  /** SwiGLU MLP of layer `l`: down(silu(gate(h)) · up(h)), dropout.  h (N, C) → (N, F) → (N, C). */
  private mlp(l: number, h: tf.Tensor2D, ctx: BlockContext): tf.Tensor2D {
    const p = (n: string): tf.Tensor2D => this.param(`model.layers.${l}.mlp.${n}.weight`) as tf.Tensor2D;
    const gate = linear(h, p("gate_proj")); // (N, F)
    const up = linear(h, p("up_proj")); // (N, F)
    const out = linear(tf.mul(tf.mul(gate, tf.sigmoid(gate)), up), p("down_proj")); // (N, C)
    return ctx.rng ? dropout(out, ctx.rate, ctx.rng) : out;
  }

  /** Hidden states as (B, T, C). */
  hidden(ids: IntMatrix, opts: ForwardOptions = {}): tf.Tensor3D {
    const { rows, cols } = intMatrix(ids, "ids");
    return tf.reshape(this.hidden2d(ids, opts), [rows, cols, this.config.hidden_size]);
  }

  /** The LM head: hidden (…, C) → logits (…, V). */
  logits(hidden: tf.Tensor): tf.Tensor {
    const C = this.config.hidden_size;
    const h2 = tf.reshape(hidden, [-1, C]) as tf.Tensor2D;
    return tf.reshape(tf.matMul(h2, this.headWeight()), [...hidden.shape.slice(0, -1), this.config.vocab_size]);
  }

  /**
   * The head as (C, V). Tied: the transposed embedding, kept between calls while the embedding
   * is unchanged and no gradient is being recorded (decoding would otherwise spend half its time
   * transposing it for every token).
   */
  private headWeight(): tf.Tensor2D {
    if (!this.config.tie_word_embeddings) return this.param("lm_head.weight") as tf.Tensor2D;
    const E = this.param("model.embed_tokens.weight") as tf.Tensor2D;
    if (tf.engine().state.gradientDepth > 0) return tf.transpose(E); // differentiable path
    if (!this.headT || this.headT.source !== E.dataId || this.headT.tensor.isDisposed) {
      this.headT?.tensor.dispose();
      this.headT = { source: E.dataId, tensor: tf.keep(tf.transpose(E)) };
    }
    return this.headT.tensor;
  }

  /**
   * Logits (B, T, V). Memory: B·T·V floats; for long batches use hidden2d + logits on the rows
   * you need, or loss() which works in chunks.
   */
  forward(ids: IntMatrix, attentionMask?: IntMatrix, positions?: IntMatrix): tf.Tensor3D {
    return tf.tidy(() => this.logits(this.hidden(ids, { attentionMask, positions })) as tf.Tensor3D);
  }

  /**
   * Mean next-token cross-entropy over the positions with a label ≥ 0: ids (B, T), labels (B, T)
   * where labels[b, t] is the token after ids[b, t], or −1 for no loss. A scalar, usable inside
   * tf.variableGrads / optimizer.minimize.
   */
  loss(ids: IntMatrix, labels: IntMatrix, opts: LossOptions = {}): tf.Scalar {
    const lab = intMatrix(labels, "labels");
    const h = this.hidden2d(ids, opts);
    if (lab.data.length !== h.shape[0]) throw new Error(`LlamaModel.loss: labels are ${lab.rows}×${lab.cols}, ids have ${h.shape[0]} positions`);
    const head = this.config.tie_word_embeddings ? this.param("model.embed_tokens.weight") : this.param("lm_head.weight");
    return lmHeadLoss(h, head as tf.Tensor2D, this.config.tie_word_embeddings, lab.data, opts);
  }

  /** loss() with targets and a 0/1 target mask instead of −1 labels. */
  maskedLoss(ids: IntMatrix, targets: IntMatrix, targetMask: IntMatrix, opts: LossOptions = {}): tf.Scalar {
    const t = intMatrix(targets, "targets"), m = intMatrix(targetMask, "targetMask");
    if (t.data.length !== m.data.length) throw new Error("LlamaModel.maskedLoss: targets and targetMask differ in shape");
    const labels = t.data.map((v, i) => (m.data[i] !== 0 ? v : -1));
    return this.loss(ids, { data: labels, rows: t.rows, cols: t.cols }, opts);
  }

  /** The training loop's interface (train/loop.ts): mean loss of a right-padded batch. */
  batchLoss(batch: TokenBatch, dropoutSeed?: string): tf.Scalar {
    const ids = { data: batch.inputs, rows: batch.rows, cols: batch.cols };
    const labels = { data: batch.labels, rows: batch.rows, cols: batch.cols };
    const rate = dropoutSeed !== undefined ? this.dropout : 0;
    return this.loss(ids, labels, { dropout: rate, dropoutSeed });
  }

  /** Disposes the variables. */
  dispose(): void {
    this.variables.forEach((v) => v.dispose());
    this.headT?.tensor.dispose();
    this.headT = undefined;
  }
}
