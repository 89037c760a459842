/**
 * The model's building blocks as tfjs ops with their own backward (llama.ts composes them): a
 * customGrad with plain types, the linear layer on transposed weights, RMSNorm, the embedding with a
 * scatter-add gradient, and dropout. Why each is written by hand: llama.ts's header.
 */
import * as tf from "@tensorflow/tfjs";
import { nativeKernels } from "./native-blas";
import type { Rng } from "../../util/random";

/** A gradient: dy and the saved tensors → one gradient per input. */
export type GradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];

/**
 * tf.customGrad with plain types: `f(inputs, save)` returns the value and its gradient function.
 * Tensors the gradient needs must go through `save` (the forward's other tensors are disposed).
 */
export function customOp<T extends tf.Tensor>(f: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => { value: T; gradFunc: GradFunc }): (...inputs: tf.Tensor[]) => T {
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
export function embed(table: tf.Tensor2D, ids: Int32Array): tf.Tensor2D {
  const [V, C] = table.shape;
  const f = customOp<tf.Tensor2D>(([E]) => ({
    value: tf.gather(E, tf.tensor1d(ids, "int32")) as tf.Tensor2D,
    gradFunc: (dy) => [tf.scatterND(tf.tensor2d(ids, [ids.length, 1], "int32"), dy, [V, C])],
  }));
  return f(table);
}

/** Inverted dropout: x · m / (1 − rate) with m ~ Bernoulli(1 − rate) drawn from `rng`. */
export function dropout(x: tf.Tensor2D, rate: number, rng: Rng): tf.Tensor2D {
  const n = x.size, keep = 1 - rate, scale = 1 / keep;
  const m = new Float32Array(n);
  for (let i = 0; i < n; i++) m[i] = rng.next() < keep ? scale : 0;
  return tf.mul(x, tf.tensor(m, x.shape)) as tf.Tensor2D;
}
