/**
 * Causal (grouped-query) attention kernels: per (batch row, head) on 2-D slices cut in JS with a
 * hand-written backward (wasm's fast GEMM takes only 2-D operands), the native addon's fused
 * version, and decoding against a KV cache, batched. Masks are additive biases.
 */
import * as tf from "@tensorflow/tfjs";
import { nativeBlasInfo, nativeKernels } from "./native-blas";
import { customOp, matMulT } from "./ops";

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
export interface AttnDims {
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
export function attention(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, bias: tf.Tensor2D[], dims: AttnDims): tf.Tensor2D {
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
export function nativeAttention(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, bias: { data: Float32Array; rows: number }, dims: AttnDims): tf.Tensor2D {
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
export function attentionBiasData(B: number, T: number, past: number, mask?: Int32Array): { data: Float32Array; rows: number } {
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
export function biasTensors(bias: { data: Float32Array; rows: number }, T: number, S: number): tf.Tensor2D[] {
  return Array.from({ length: bias.rows }, (_, b) => tf.tensor2d(bias.data.subarray(b * T * S, (b + 1) * T * S), [T, S]));
}

/**
 * Attention of T new queries against a whole KV cache (inference, no gradient), batched over
 * (b, kv head): a few ops per layer whatever B and H are, which is what decoding one token per row
 * needs (per-(b, head) 2-D ops cost ~1,500 small ops per step at batch 16). The matMuls here are
 * batched (tfjs' plain loop rather than XNNPACK), fine at T = 1.
 * q (B·T, H·d) roped and scaled; kT (B·KV, d, S); v (B·KV, S, d); bias (B or 1, T, S) → (B·T, H·d).
 */
export function cachedAttention(q: tf.Tensor2D, kT: tf.Tensor3D, v: tf.Tensor3D, bias: { data: Float32Array; rows: number }, dims: AttnDims): tf.Tensor2D {
  const { B, T, H, KV, d } = dims;
  const g = H / KV, S = kT.shape[2];
  // queries of one kv group side by side: (B, T, KV, g, d) → (B·KV, g·T, d)
  const qg = tf.reshape(tf.transpose(tf.reshape(q, [B, T, KV, g, d]), [0, 2, 3, 1, 4]), [B * KV, g * T, d]);
  const scores = tf.reshape(tf.matMul(qg, kT), [B, KV * g, T, S]); // (B, H, T, S)
  const p = tf.softmax(tf.add(scores, tf.tensor4d(bias.data, [bias.rows, 1, T, S])));
  const o = tf.matMul(tf.reshape(p, [B * KV, g * T, S]), v); // (B·KV, g·T, d)
  return tf.reshape(tf.transpose(tf.reshape(o, [B, KV, g, T, d]), [0, 3, 1, 2, 4]), [B * T, H * d]);
}
