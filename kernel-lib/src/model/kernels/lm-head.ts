/**
 * The LM head and the cross-entropy as one op over the labelled rows only, in chunks of rows, so
 * the (rows × vocab) logits never exist all at once where they would not fit (the wasm heap is
 * 32-bit: 4 GiB); the native addon's fused version where it is loaded.
 */
import * as tf from "@tensorflow/tfjs";
import { nativeKernels } from "./native-blas";
import { customOp, matMulT } from "./ops";

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
