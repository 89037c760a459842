/**
 * Rotary position embeddings as Hugging Face's Llama computes them (rotate_half on split halves,
 * inv_freq = theta^(−2i/d)), done as a JS loop with its own backward (cheaper on wasm than the
 * tf.reverse rotate_half needs), and the position ids of padded and cached rows.
 */
import * as tf from "@tensorflow/tfjs";
import { customOp } from "./ops";

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
