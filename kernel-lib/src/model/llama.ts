/**
 * A Llama-style decoder in TensorFlow.js, the whole model in one file (nanoGPT style).
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
 * Speed on the tfjs wasm backend (config "a" of experiments/model-speed/probe-model-speed.ts: ~2,100 training
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
import { nativeBlasInfo, nativeKernels } from "./native-blas";

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
// Building blocks

/** A gradient: dy and the saved tensors → one gradient per input. */
type GradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];

/**
 * tf.customGrad with plain types: `f(inputs, save)` returns the value and its gradient function.
 * Tensors the gradient needs must go through `save` (the forward's other tensors are disposed).
 */
function customOp<T extends tf.Tensor>(f: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => { value: T; gradFunc: GradFunc }): (...inputs: tf.Tensor[]) => T {
  type Fn = Parameters<typeof tf.customGrad>[0];
  const g = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    return f(args as tf.Tensor[], save);
  }) as unknown as Fn);
  return g as unknown as (...inputs: tf.Tensor[]) => T;
}

/**
 * op(a) @ op(b) for 2-D a, b. With native BLAS under the wasm backend (native-blas.ts) the
 * transposes are free flags; on plain wasm they are done explicitly first, because XNNPACK's fast
 * GEMM takes only non-transposed operands (a transposed matMul falls to a loop ~6x slower).
 */
export function matMulT(a: tf.Tensor2D, b: tf.Tensor2D, transposeA = false, transposeB = false): tf.Tensor2D {
  if (nativeKernels()) return tf.matMul(a, b, transposeA, transposeB);
  return tf.matMul(transposeA ? tf.transpose(a) : a, transposeB ? tf.transpose(b) : b);
}

/**
 * y = x @ w for x (N, in), w (in, out) → (N, out), with the backward dx = dy @ wᵀ, dw = xᵀ @ dy
 * (see matMulT for how the transposes are done).
 */
export const linear = customOp<tf.Tensor2D>(([x, w], save) => {
  save([x, w]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy, [xs, ws]) => [matMulT(dy as tf.Tensor2D, ws as tf.Tensor2D, false, true), matMulT(xs as tf.Tensor2D, dy as tf.Tensor2D, true, false)],
  };
}) as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

/** RMSNorm over the last axis: x · rsqrt(mean(x²) + eps) · w.  x (N, C), w (C) → (N, C). */
export function rmsNorm(x: tf.Tensor2D, w: tf.Tensor1D, eps: number): tf.Tensor2D {
  const ms = tf.mean(tf.square(x), -1, true); // (N, 1)
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), w);
}

/** Rows of `table` (V, C) at `ids` (N) → (N, C); the gradient is a scatter-add into (V, C). */
function embed(table: tf.Tensor2D, ids: Int32Array): tf.Tensor2D {
  const [V, C] = table.shape;
  const f = customOp<tf.Tensor2D>(([E]) => ({
    value: tf.gather(E, tf.tensor1d(ids, "int32")) as tf.Tensor2D,
    gradFunc: (dy) => [tf.scatterND(tf.tensor2d(ids, [ids.length, 1], "int32"), dy, [V, C])],
  }));
  return f(table);
}

/** HF's inv_freq in float32: 1 / theta^(2i/d), i = 0 … d/2 − 1. */
export function ropeInvFreq(dim: number, theta: number): Float32Array {
  const out = new Float32Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) out[i] = Math.fround(1 / Math.fround(Math.pow(theta, Math.fround((2 * i) / dim))));
  return out;
}

/** Rotary tables of N positions, row-major (N, d): cos, and "signed sin" [−sin, sin]. */
export interface RopeTables {
  cos: Float32Array;
  sin: Float32Array;
  /** Head width d. */
  dim: number;
}

/**
 * Rotary tables for the given positions: HF's cos/sin of cat(freqs, freqs), freqs = pos · inv_freq
 * (float32 as torch computes them), with rotate_half's sign folded into the sin table, all times
 * `scale` (queries carry attention's 1/√d this way, for free).
 */
export function ropeTables(positions: Int32Array, invFreq: Float32Array, scale = 1): RopeTables {
  const half = invFreq.length, d = 2 * half, N = positions.length;
  const cos = new Float32Array(N * d), sin = new Float32Array(N * d);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < half; i++) {
      const f = Math.fround(positions[n] * invFreq[i]);
      const c = Math.fround(Math.cos(f)) * scale, s = Math.fround(Math.sin(f)) * scale;
      cos[n * d + i] = c; cos[n * d + half + i] = c;
      sin[n * d + i] = -s; sin[n * d + half + i] = s;
    }
  }
  return { cos, sin, dim: d };
}

/**
 * out[n, h, i] = x[n, h, i]·cos[n, i] + x[n, h, swap(i)]·sin[n, i], swap exchanging the two halves:
 * x·cos + rotate_half(x)·sin with rotate_half(x) = [−x₂, x₁] (the sign is in the table).
 * `transposed` applies the adjoint (the backward): out[i] = x[i]·cos[i] + x[swap(i)]·sin[swap(i)].
 */
function rotate(src: Float32Array, t: RopeTables, nHeads: number, transposed: boolean): Float32Array {
  const d = t.dim, half = d / 2, N = src.length / (nHeads * d);
  const out = new Float32Array(src.length);
  for (let n = 0; n < N; n++) {
    const tb = n * d;
    for (let h = 0; h < nHeads; h++) {
      const o = (n * nHeads + h) * d;
      for (let i = 0; i < d; i++) {
        const j = i < half ? i + half : i - half;
        out[o + i] = src[o + i] * t.cos[tb + i] + src[o + j] * (transposed ? t.sin[tb + j] : t.sin[tb + i]);
      }
    }
  }
  return out;
}

/**
 * Rotary position embedding (HF convention) of x (N, nH·d) with tables for its N rows → (N, nH·d).
 * Computed in JS (a customGrad whose backward is the adjoint rotation): on wasm, the tf.reverse
 * that rotate_half needs cost ~12 ms per call against ~2 ms for this loop.
 */
export function applyRope(x: tf.Tensor2D, tables: RopeTables, nHeads: number): tf.Tensor2D {
  const f = customOp<tf.Tensor2D>(([xIn]) => ({
    value: tf.tensor2d(rotate(xIn.dataSync() as Float32Array, tables, nHeads, false), xIn.shape as [number, number]),
    gradFunc: (dy) => [tf.tensor2d(rotate(dy.dataSync() as Float32Array, tables, nHeads, true), dy.shape as [number, number])],
  }));
  return f(x);
}

/**
 * (B·T, nH·d) → B·nH tensors (T, d), ordered (b, h); with `transposed`, (d, T) each.
 * Done in JS over one read of x: on wasm, tf.slice/unstack/split copy the WHOLE input out of the
 * wasm heap for every piece (readSync), which made 64 pieces of a (4096, 128) tensor cost ~60 ms
 * against ~2 ms here. (Used inside customGrad ops only, where no tape is needed.)
 */
function splitHeadsJs(x: tf.Tensor, B: number, T: number, nH: number, d: number, transposed: boolean): tf.Tensor2D[] {
  const src = x.dataSync() as Float32Array;
  const C = nH * d;
  const out: tf.Tensor2D[] = [];
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < nH; h++) {
      const buf = new Float32Array(T * d);
      if (transposed) {
        for (let t = 0; t < T; t++) {
          const o = (b * T + t) * C + h * d;
          for (let j = 0; j < d; j++) buf[j * T + t] = src[o + j];
        }
        out.push(tf.tensor2d(buf, [d, T]));
      } else {
        for (let t = 0; t < T; t++) buf.set(src.subarray((b * T + t) * C + h * d, (b * T + t) * C + h * d + d), t * d);
        out.push(tf.tensor2d(buf, [T, d]));
      }
    }
  }
  return out;
}

/** (B·T, nH·d) → B·nH tensors (T, d), ordered (b, h). */
function splitHeads(x: tf.Tensor, B: number, T: number, nH: number, d: number): tf.Tensor2D[] {
  return splitHeadsJs(x, B, T, nH, d, false);
}

/** (B·T, nH·d) → B·nH tensors (d, T), ordered (b, h): the per-head transposes. */
function splitHeadsT(x: tf.Tensor, B: number, T: number, nH: number, d: number): tf.Tensor2D[] {
  return splitHeadsJs(x, B, T, nH, d, true);
}

/** Inverse of splitHeads: B·nH tensors (T, d) → (B·T, nH·d). */
function mergeHeads(parts: tf.Tensor[], B: number, T: number, nH: number, d: number): tf.Tensor2D {
  const bh = tf.reshape(tf.stack(parts), [B, nH, T, d]);
  return tf.reshape(tf.transpose(bh, [0, 2, 1, 3]), [B * T, nH * d]);
}

/** Inverse of splitHeadsT: B·nH tensors (d, T) → (B·T, nH·d). */
function mergeHeadsT(parts: tf.Tensor[], B: number, T: number, nH: number, d: number): tf.Tensor2D {
  const bh = tf.reshape(tf.stack(parts), [B, nH, d, T]);
  return tf.reshape(tf.transpose(bh, [0, 3, 1, 2]), [B * T, nH * d]);
}

/** Shapes of one attention call. */
interface AttnDims {
  B: number;
  /** Query length. */
  T: number;
  /** Query heads, key/value heads, head width. */
  H: number;
  KV: number;
  d: number;
}

/**
 * Causal softmax attention over the whole sequence, per (batch row, head) on 2-D slices.
 * q (B·T, H·d) already roped and scaled by 1/√d; k (B·T, KV·d) roped; v (B·T, KV·d);
 * bias: additive (T, T) masks (0 or −1e9), one per batch row or a single shared one.
 * → (B·T, H·d). The backward is written out (customGrad), all of it 2-D non-transposed matMuls:
 *   dP = dO·Vᵀ,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),  dQ = dS·K,  dKᵀ = Qᵀ·dS,  dVᵀ = dOᵀ·P.
 */
function attention(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, bias: tf.Tensor2D[], dims: AttnDims): tf.Tensor2D {
  const { B, T, H, KV, d } = dims;
  const group = H / KV;
  const kvIndex = (b: number, h: number): number => b * KV + Math.floor(h / group);
  const f = customOp<tf.Tensor2D>(([qIn, kIn, vIn], save) => {
    const qs = splitHeads(qIn, B, T, H, d); // B·H × (T, d)
    const kTs = splitHeadsT(kIn, B, T, KV, d); // B·KV × (d, T)
    const vs = splitHeads(vIn, B, T, KV, d); // B·KV × (T, d)
    const probs: tf.Tensor2D[] = [];
    const outs: tf.Tensor2D[] = [];
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        const j = kvIndex(b, h);
        const [p, o] = tf.tidy(() => {
          const s = tf.add(tf.matMul(qs[b * H + h], kTs[j]), bias[bias.length === 1 ? 0 : b]); // (T, T)
          const pr = tf.softmax(s) as tf.Tensor2D; // (T, T)
          return [pr, tf.matMul(pr, vs[j])]; // (T, d)
        });
        probs.push(p);
        outs.push(o);
      }
    }
    save([qIn, kIn, vIn, ...probs]);
    return {
      value: mergeHeads(outs, B, T, H, d),
      gradFunc: (dy, saved) =>
        tf.tidy(() => {
          const [qS, kS, vS] = saved as tf.Tensor2D[];
          const P = saved.slice(3) as tf.Tensor2D[];
          const dOs = splitHeads(dy, B, T, H, d); // (T, d)
          const dOTs = splitHeadsT(dy, B, T, H, d); // (d, T)
          const qTs = splitHeadsT(qS, B, T, H, d); // (d, T)
          const ks = splitHeads(kS, B, T, KV, d); // (T, d)
          const vTs = splitHeadsT(vS, B, T, KV, d); // (d, T)
          const dQ: tf.Tensor2D[] = [];
          const dKT: tf.Tensor2D[][] = Array.from({ length: B * KV }, () => []);
          const dVT: tf.Tensor2D[][] = Array.from({ length: B * KV }, () => []);
          for (let b = 0; b < B; b++) {
            for (let h = 0; h < H; h++) {
              const i = b * H + h, j = kvIndex(b, h);
              const [dq, dkT, dvT] = tf.tidy(() => {
                const p = P[i];
                const dP = tf.matMul(dOs[i], vTs[j]); // (T, T)
                const dS = tf.mul(p, tf.sub(dP, tf.sum(tf.mul(dP, p), -1, true))); // (T, T)
                return [tf.matMul(dS, ks[j]), tf.matMul(qTs[i], dS), tf.matMul(dOTs[i], p)]; // (T, d), (d, T), (d, T)
              });
              dQ.push(dq);
              dKT[j].push(dkT);
              dVT[j].push(dvT);
            }
          }
          const sumGroup = (xs: tf.Tensor2D[]): tf.Tensor2D => (xs.length === 1 ? xs[0] : tf.addN(xs));
          return [mergeHeads(dQ, B, T, H, d), mergeHeadsT(dKT.map(sumGroup), B, T, KV, d), mergeHeadsT(dVT.map(sumGroup), B, T, KV, d)];
        }),
    };
  });
  return f(q, k, v);
}

/**
 * The same attention on the native addon (kernel-lib/native/attention.cc): per-head GEMMs on
 * strided views of q, k, v, so no head split or merge; the softmax P is kept in JS memory (off
 * the 32-bit wasm heap) for the backward. bias: (B or 1, T, T) additive, row-major.
 */
function nativeAttention(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, bias: { data: Float32Array; rows: number }, dims: AttnDims): tf.Tensor2D {
  const kernels = nativeKernels();
  if (!kernels) throw new Error("nativeAttention: the native addon is not installed");
  const { B, T, H, KV, d } = dims;
  const shape = [B, T, H, KV, d, bias.rows, Math.max(1, nativeThreads())];
  const f = customOp<tf.Tensor2D>(([qIn, kIn, vIn]) => {
    const qa = qIn.dataSync() as Float32Array, ka = kIn.dataSync() as Float32Array, va = vIn.dataSync() as Float32Array;
    const out = new Float32Array(B * T * H * d); // (B·T, H·d)
    const P = new Float32Array(B * H * T * T); // (B·H, T, T)
    kernels.attentionForward(shape, qa, ka, va, bias.data, out, P);
    return {
      value: tf.tensor2d(out, [B * T, H * d]),
      gradFunc: (dy) => {
        const dQ = new Float32Array(qa.length), dK = new Float32Array(ka.length), dV = new Float32Array(va.length);
        kernels.attentionBackward(shape, dy.dataSync() as Float32Array, qa, ka, va, P, dQ, dK, dV);
        return [tf.tensor2d(dQ, [B * T, H * d]), tf.tensor2d(dK, [B * T, KV * d]), tf.tensor2d(dV, [B * T, KV * d])];
      },
    };
  });
  return f(q, k, v);
}

/** Worker threads for native attention: OpenBLAS' thread count (FTGEN_BLAS_THREADS / all cores). */
function nativeThreads(): number {
  return nativeBlasInfo()?.threads ?? 1;
}

/** Additive mask value for a key a query may not see. */
const MASKED = -1e9;

/**
 * Attention biases, (B or 1, T, S) row-major: 0 where key s is visible to query t, −1e9 elsewhere.
 * Query t sits at key index past + t (causal); `mask` (B, S) with S = past + T marks real keys (1)
 * and padding (0). Without a mask, a single causal bias shared by all rows.
 */
function attentionBiasData(B: number, T: number, past: number, mask?: Int32Array): { data: Float32Array; rows: number } {
  const S = past + T, rows = mask ? B : 1;
  const out = new Float32Array(rows * T * S);
  for (let b = 0; b < rows; b++) {
    for (let t = 0; t < T; t++) {
      for (let s = 0; s < S; s++) {
        const visible = s <= past + t && (!mask || mask[b * S + s] !== 0);
        out[(b * T + t) * S + s] = visible ? 0 : MASKED;
      }
    }
  }
  return { data: out, rows };
}

/** The biases as one (T, S) tensor per row (or a single shared one). */
function biasTensors(bias: { data: Float32Array; rows: number }, T: number, S: number): tf.Tensor2D[] {
  return Array.from({ length: bias.rows }, (_, b) => tf.tensor2d(bias.data.subarray(b * T * S, (b + 1) * T * S), [T, S]));
}

/** HF's position ids under padding: cumsum(mask) − 1 over the row, 0 on padding before any token. */
export function positionsFromMask(mask: Int32Array, B: number, S: number, T = S): Int32Array {
  const out = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    let seen = 0;
    for (let s = 0; s < S; s++) {
      if (mask[b * S + s] !== 0) seen++;
      if (s >= S - T) out[b * T + s - (S - T)] = Math.max(0, seen - 1);
    }
  }
  return out;
}

/**
 * Position ids (B, T) of T new tokens per row that continue a cache: row b starts at next[b], and
 * only real tokens (isReal(b, t); padding is not) advance it.
 */
export function continuedPositions(next: Int32Array, B: number, T: number, isReal: (b: number, t: number) => boolean): Int32Array {
  const out = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    let n = next[b];
    for (let t = 0; t < T; t++) {
      out[b * T + t] = n;
      if (isReal(b, t)) n++;
    }
  }
  return out;
}

/** After T new tokens: next[b] becomes one past the position of row b's last real token (unchanged without one). */
export function recordNextPositions(next: Int32Array, positions: Int32Array, B: number, T: number, isReal: (b: number, t: number) => boolean): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) if (isReal(b, t)) next[b] = positions[b * T + t] + 1;
  }
}

/** Inverted dropout: x · m / (1 − rate) with m ~ Bernoulli(1 − rate) drawn from `rng`. */
function dropout(x: tf.Tensor2D, rate: number, rng: Rng): tf.Tensor2D {
  const n = x.size, keep = 1 - rate, scale = 1 / keep;
  const m = new Float32Array(n);
  for (let i = 0; i < n; i++) m[i] = rng.next() < keep ? scale : 0;
  return tf.mul(x, tf.tensor(m, x.shape)) as tf.Tensor2D;
}

// ---------------------------------------------------------------------------------------------
// The LM head and the loss

export interface LmLossOptions {
  /** Rows of logits computed at once (default: as many as keep one chunk ≤ 16M values). */
  chunkRows?: number;
  /**
   * Keep the softmax of every chunk for the backward instead of recomputing the logits there
   * (default: when labelled rows × vocab ≤ 32M values, i.e. 128 MB).
   */
  keepProbs?: boolean;
}

/**
 * Mean cross-entropy of the LM head over the rows whose label is ≥ 0 (labels −1 are ignored), in
 * chunks of rows; only labelled rows go through the head. h (N, C) final hidden states; w the
 * head: (V, C) when `tied` (the embedding table), else (C, V) (lm_head held [in, out]); labels (N).
 * Returns a scalar (0 when no label). Differentiable in h and w (customGrad).
 *
 * Per row, with z = logits − max(logits) and p = softmax(logits) (XNNPACK's softmax, 3x faster
 * than exp on wasm): −log p[label] = log Σ exp z − z[label] = −log max(p) − z[label], since
 * max(p) = 1 / Σ exp z ≥ 1/V never underflows. The gradient wrt the logits is (p − onehot) / count.
 */
export function lmHeadLoss(h: tf.Tensor2D, w: tf.Tensor2D, tied: boolean, labels: Int32Array, opts: LmLossOptions = {}): tf.Scalar {
  const [N, C] = h.shape;
  const V = tied ? w.shape[0] : w.shape[1];
  if (labels.length !== N) throw new Error(`lmHeadLoss: ${labels.length} labels for ${N} rows`);
  const rows: number[] = []; // the labelled rows
  for (let i = 0; i < N; i++) {
    if (labels[i] >= V) throw new Error(`lmHeadLoss: label ${labels[i]} at row ${i} is outside the vocabulary (${V})`);
    if (labels[i] >= 0) rows.push(i);
  }
  const R = rows.length;
  if (R === 0) {
    const s = tf.add(tf.sum(h), tf.sum(w));
    return tf.sub(s, s) as tf.Scalar; // no target: 0, with zero gradients
  }
  const selected = R < N;
  const target = Int32Array.from(rows, (i) => labels[i]); // (R)
  const chunk = Math.max(1, Math.min(R, opts.chunkRows ?? Math.floor(16_777_216 / V)));
  if (nativeKernels()) return nativeLmHeadLoss(h, w, tied, rows, target, V, Math.min(chunk, 1024));
  const keepProbs = opts.keepProbs ?? R * V <= 33_554_432;
  const chunks: [number, number][] = [];
  for (let r = 0; r < R; r += chunk) chunks.push([r, Math.min(R, r + chunk)]);
  const rowsOf = (x: tf.Tensor2D, r0: number, r1: number): tf.Tensor2D =>
    chunks.length === 1 ? x : (tf.slice(x, [r0, 0], [r1 - r0, C]) as tf.Tensor2D);

  const f = customOp<tf.Scalar>(([hIn, wIn], save) => {
    const hSel = selected ? (tf.gather(hIn, tf.tensor1d(rows, "int32")) as tf.Tensor2D) : (hIn as tf.Tensor2D); // (R, C)
    const parts: tf.Scalar[] = [];
    const probs: tf.Tensor2D[] = [];
    for (const [r0, r1] of chunks) {
      const n = r1 - r0;
      const [part, p] = tf.tidy((): tf.Tensor[] => {
        const logits = matMulT(rowsOf(hSel, r0, r1), wIn as tf.Tensor2D, false, tied); // (n, V)
        const pr = tf.softmax(logits); // (n, V)
        const flat = Int32Array.from({ length: n }, (_, i) => i * V + target[r0 + i]);
        const z = tf.sub(tf.gather(tf.reshape(logits, [n * V]), tf.tensor1d(flat, "int32")), tf.max(logits, 1)); // (n) z[label]
        const nll = tf.sub(tf.neg(tf.log(tf.max(pr, 1))), z); // (n)
        const loss = tf.div(tf.sum(nll), R) as tf.Scalar;
        return keepProbs ? [loss, pr] : [loss];
      });
      parts.push(part as tf.Scalar);
      if (p) probs.push(p as tf.Tensor2D);
    }
    save([hSel, wIn, ...probs]);
    return {
      value: parts.length === 1 ? parts[0] : tf.addN(parts),
      gradFunc: (dy, saved) =>
        tf.tidy(() => {
          const [hS, wS] = saved as tf.Tensor2D[];
          const kept = saved.slice(2) as tf.Tensor2D[];
          const scale = tf.div(dy, R); // dLoss/dlogit = (p − onehot) · dy / R
          const dH: tf.Tensor2D[] = [];
          const dWs: tf.Tensor2D[] = []; // per chunk, in w's layout: (V, C) tied, (C, V) untied
          chunks.forEach(([r0, r1], ci) => {
            const [dh, dw] = tf.tidy(() => {
              const hc = rowsOf(hS, r0, r1); // (n, C)
              const p = keepProbs ? kept[ci] : (tf.softmax(matMulT(hc, wS, false, tied)) as tf.Tensor2D); // (n, V)
              // (int32 then cast: wasm's OneHot writes zeros when asked for float32)
              const onehot = tf.cast(tf.oneHot(tf.tensor1d(target.subarray(r0, r1), "int32"), V), "float32");
              const g = tf.mul(tf.sub(p, onehot), scale) as tf.Tensor2D; // (n, V)
              const dhc = matMulT(g, wS, false, !tied); // (n, C)
              return [dhc, tied ? matMulT(g, hc, true, false) : matMulT(hc, g, true, false)]; // (V, C) or (C, V)
            });
            dH.push(dh);
            dWs.push(dw);
          });
          const dW = dWs.length === 1 ? dWs[0] : tf.addN(dWs);
          const dHsel = dH.length === 1 ? dH[0] : tf.concat(dH, 0); // (R, C)
          const dh = selected ? tf.scatterND(tf.tensor2d(Int32Array.from(rows), [R, 1], "int32"), dHsel, [N, C]) : dHsel;
          return [dh, dW];
        }),
    };
  });
  return f(h, w);
}

/**
 * lmHeadLoss on the native addon (kernel-lib/native/lm_head.cc): logits, softmax, loss and both
 * gradients in one pass over row chunks, outside the wasm heap (no (rows × vocab) tensor at all).
 * The gradients are computed with the loss when a gradient is being recorded, and scaled by dy.
 */
function nativeLmHeadLoss(h: tf.Tensor2D, w: tf.Tensor2D, tied: boolean, rows: number[], target: Int32Array, V: number, chunk: number): tf.Scalar {
  const kernels = nativeKernels();
  if (!kernels) throw new Error("nativeLmHeadLoss: the native addon is not installed");
  const [N, C] = h.shape, R = rows.length;
  const f = customOp<tf.Scalar>(([hIn, wIn]) => {
    const hAll = hIn.dataSync() as Float32Array; // (N, C)
    const hSel = R < N ? new Float32Array(R * C) : hAll; // (R, C)
    if (R < N) rows.forEach((r, i) => hSel.set(hAll.subarray(r * C, r * C + C), i * C));
    const recording = tf.engine().state.gradientDepth > 0;
    const dH = recording ? new Float32Array(R * C) : null; // (R, C)
    const dW = recording ? new Float32Array(V * C) : null; // w's layout
    const loss = kernels.lmHeadLoss([R, C, V, tied ? 1 : 0, chunk], hSel, wIn.dataSync() as Float32Array, target, dH, dW);
    return {
      value: tf.scalar(loss),
      gradFunc: (dy) => {
        if (!dH || !dW) throw new Error("lmHeadLoss: no gradient was recorded for this call");
        let dHall = dH;
        if (R < N) {
          dHall = new Float32Array(N * C); // unlabelled rows get zero
          rows.forEach((r, i) => dHall.set(dH.subarray(i * C, i * C + C), r * C));
        }
        return [tf.mul(tf.tensor2d(dHall, [N, C]), dy), tf.mul(tf.tensor(dW, wIn.shape), dy)];
      },
    };
  });
  return f(h, w);
}

// ---------------------------------------------------------------------------------------------
// KV cache

/** Keys and values of every layer for incremental decoding. Make one with model.createCache(B). */
export class KVCache {
  /** Keys so far, S. */
  length = 0;
  /** (B, S) row-major: 1 for a real key, 0 for padding. */
  mask: Int32Array = new Int32Array(0);
  /** Position id the next token of each row gets. */
  nextPosition: Int32Array;
  /** Per layer: keys transposed (B·KV, d, S) and values (B·KV, S, d), rows ordered (b, kv head). */
  readonly layers: { kT?: tf.Tensor3D; v?: tf.Tensor3D }[];

  constructor(readonly batch: number, numLayers: number) {
    this.nextPosition = new Int32Array(batch);
    this.layers = Array.from({ length: numLayers }, () => ({}));
  }

  /** Appends keys (B·T, KV·d) and values (B·T, KV·d) of T new tokens to layer `l`; returns the whole cache of that layer. */
  append(l: number, k: tf.Tensor2D, v: tf.Tensor2D, B: number, T: number, KV: number, d: number): { kT: tf.Tensor3D; v: tf.Tensor3D } {
    const lc = this.layers[l];
    const kTnew = tf.reshape(tf.transpose(tf.reshape(k, [B, T, KV, d]), [0, 2, 3, 1]), [B * KV, d, T]) as tf.Tensor3D;
    const vNew = tf.reshape(tf.transpose(tf.reshape(v, [B, T, KV, d]), [0, 2, 1, 3]), [B * KV, T, d]) as tf.Tensor3D;
    const kT = lc.kT ? tf.concat([lc.kT, kTnew], 2) : kTnew;
    const vv = lc.v ? tf.concat([lc.v, vNew], 1) : vNew;
    lc.kT?.dispose();
    lc.v?.dispose();
    lc.kT = tf.keep(kT);
    lc.v = tf.keep(vv);
    return { kT, v: vv };
  }

  dispose(): void {
    for (const l of this.layers) {
      l.kT?.dispose();
      l.v?.dispose();
      l.kT = undefined;
      l.v = undefined;
    }
    this.length = 0;
  }
}

/**
 * Attention of T new queries against a whole KV cache (inference, no gradient), batched over
 * (b, kv head): a few ops per layer whatever B and H are, which is what decoding one token per row
 * needs (per-(b, head) 2-D ops cost ~1,500 small ops per step at batch 16). The matMuls here are
 * batched (tfjs' plain loop rather than XNNPACK), fine at T = 1.
 * q (B·T, H·d) roped and scaled; kT (B·KV, d, S); v (B·KV, S, d); bias (B or 1, T, S) → (B·T, H·d).
 */
function cachedAttention(q: tf.Tensor2D, kT: tf.Tensor3D, v: tf.Tensor3D, bias: { data: Float32Array; rows: number }, dims: AttnDims): tf.Tensor2D {
  const { B, T, H, KV, d } = dims;
  const g = H / KV, S = kT.shape[2];
  // queries of one kv group side by side: (B, T, KV, g, d) → (B·KV, g·T, d)
  const qg = tf.reshape(tf.transpose(tf.reshape(q, [B, T, KV, g, d]), [0, 2, 3, 1, 4]), [B * KV, g * T, d]);
  const scores = tf.reshape(tf.matMul(qg, kT), [B, KV * g, T, S]); // (B, H, T, S)
  const p = tf.softmax(tf.add(scores, tf.tensor4d(bias.data, [bias.rows, 1, T, S])));
  const o = tf.matMul(tf.reshape(p, [B * KV, g * T, S]), v); // (B·KV, g·T, d)
  return tf.reshape(tf.transpose(tf.reshape(o, [B, KV, g, T, d]), [0, 3, 1, 2, 4]), [B * T, H * d]);
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
    let x = embed(this.param("model.embed_tokens.weight") as tf.Tensor2D, idData); // (N, C)
    for (let l = 0; l < cfg.num_hidden_layers; l++) {
      const layer = (): tf.Tensor2D => {
        const p = (n: string): tf.Tensor2D => this.param(`model.layers.${l}.${n}`) as tf.Tensor2D;
        const h = rmsNorm(x, this.param(`model.layers.${l}.input_layernorm.weight`) as tf.Tensor1D, cfg.rms_norm_eps);
        const qh = applyRope(linear(h, p("self_attn.q_proj.weight")), q, H); // (N, H·d)
        const kh = applyRope(linear(h, p("self_attn.k_proj.weight")), k, KV); // (N, KV·d)
        const vh = linear(h, p("self_attn.v_proj.weight")); // (N, KV·d)
        let att: tf.Tensor2D; // (N, H·d)
        if (past === 0) {
          // The whole sequence: per-(b, head) 2-D attention (training, prefill).
          att = native ? nativeAttention(qh, kh, vh, bias, dims) : attention(qh, kh, vh, biasT, dims);
          cache?.append(l, kh, vh, B, T, KV, d);
        } else {
          const kv = (cache as KVCache).append(l, kh, vh, B, T, KV, d);
          att = cachedAttention(qh, kv.kT, kv.v, bias, dims);
        }
        let a = linear(att, p("self_attn.o_proj.weight")); // (N, C)
        if (rng) a = dropout(a, rate, rng);
        const x1 = tf.add(x, a) as tf.Tensor2D;
        const h2 = rmsNorm(x1, this.param(`model.layers.${l}.post_attention_layernorm.weight`) as tf.Tensor1D, cfg.rms_norm_eps);
        const gate = linear(h2, p("mlp.gate_proj.weight")); // (N, F)
        const up = linear(h2, p("mlp.up_proj.weight")); // (N, F)
        let m = linear(tf.mul(tf.mul(gate, tf.sigmoid(gate)), up), p("mlp.down_proj.weight")); // (N, C)
        if (rng) m = dropout(m, rate, rng);
        return tf.add(x1, m) as tf.Tensor2D;
      };
      if (inference) {
        const next = tf.tidy(layer);
        x.dispose();
        x = next;
      } else x = layer();
    }
    if (cache) cache.length = S;
    return rmsNorm(x, this.param("model.norm.weight") as tf.Tensor1D, cfg.rms_norm_eps);
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
