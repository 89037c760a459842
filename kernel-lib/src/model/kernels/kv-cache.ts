/** The keys and values of every layer, for incremental decoding (llama.ts, kernels/attention.ts). */
import * as tf from "@tensorflow/tfjs";

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
