/**
 * AdamW with decoupled weight decay (Loshchilov & Hutter), global-norm gradient clipping and
 * gradient accumulation, over tfjs variables. tfjs ships Adam but not AdamW, and its optimizers
 * cannot report or clip the global norm, so the update is written out here.
 */
import * as tf from "@tensorflow/tfjs";

export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay: p ← p − lr·wd·p, applied to variables that `decays` selects. */
  weightDecay: number;
  /** Clip the global gradient norm to this value (0: no clipping). */
  maxGradNorm: number;
}

export const ADAMW_DEFAULTS: AdamWConfig = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1.0 };

/** State of one variable: first and second moment estimates. */
interface Moments {
  m: tf.Variable;
  v: tf.Variable;
}

export class AdamW {
  readonly config: AdamWConfig;
  /** Optimizer steps taken (bias correction uses it). */
  step = 0;
  private readonly moments = new Map<string, Moments>();

  /**
   * @param variables the trainable variables, by name
   * @param decays which variables get weight decay (by convention not norms or biases)
   */
  constructor(
    private readonly variables: ReadonlyMap<string, tf.Variable>,
    config: Partial<AdamWConfig> = {},
    private readonly decays: (name: string) => boolean = (name) => !/norm/.test(name),
  ) {
    this.config = { ...ADAMW_DEFAULTS, ...config };
  }

  private momentsOf(name: string, p: tf.Variable): Moments {
    let s = this.moments.get(name);
    if (!s) {
      s = { m: tf.variable(tf.zerosLike(p), false), v: tf.variable(tf.zerosLike(p), false) };
      this.moments.set(name, s);
    }
    return s;
  }

  /**
   * One update with gradients `grads` (by variable name) at learning rate `lr`.
   * Returns the global gradient norm before clipping.
   */
  apply(grads: ReadonlyMap<string, tf.Tensor>, lr: number): number {
    const { beta1, beta2, eps, weightDecay, maxGradNorm } = this.config;
    const norm = globalNorm([...grads.values()]);
    const scale = maxGradNorm > 0 && norm > maxGradNorm ? maxGradNorm / (norm + 1e-6) : 1;
    this.step += 1;
    const bc1 = 1 - Math.pow(beta1, this.step);
    const bc2 = 1 - Math.pow(beta2, this.step);
    for (const [name, g0] of grads) {
      const p = this.variables.get(name);
      if (!p) throw new Error(`AdamW: gradient for unknown variable "${name}"`);
      const s = this.momentsOf(name, p);
      tf.tidy(() => {
        const g = scale === 1 ? g0 : tf.mul(g0, scale);
        const m = tf.add(tf.mul(s.m, beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(s.v, beta2), tf.mul(tf.square(g), 1 - beta2));
        s.m.assign(m);
        s.v.assign(v);
        // p ← p − lr·( m̂ / (√v̂ + eps) + wd·p )
        const update = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), eps));
        const decayed = weightDecay > 0 && this.decays(name) ? tf.mul(p, 1 - lr * weightDecay) : p;
        p.assign(tf.sub(decayed, tf.mul(update, lr)));
      });
    }
    return norm;
  }

  /** Optimizer state as plain arrays (for checkpoints). */
  async state(): Promise<{ step: number; moments: Record<string, { m: Float32Array; v: Float32Array; shape: number[] }> }> {
    const moments: Record<string, { m: Float32Array; v: Float32Array; shape: number[] }> = {};
    for (const [name, s] of this.moments) {
      moments[name] = { m: (await s.m.data()) as Float32Array, v: (await s.v.data()) as Float32Array, shape: s.m.shape };
    }
    return { step: this.step, moments };
  }

  /** Restore what `state()` returned. */
  load(state: { step: number; moments: Record<string, { m: Float32Array; v: Float32Array; shape: number[] }> }): void {
    this.dispose();
    this.step = state.step;
    for (const [name, s] of Object.entries(state.moments)) {
      this.moments.set(name, { m: tf.variable(tf.tensor(s.m, s.shape), false), v: tf.variable(tf.tensor(s.v, s.shape), false) });
    }
  }

  dispose(): void {
    for (const s of this.moments.values()) {
      s.m.dispose();
      s.v.dispose();
    }
    this.moments.clear();
  }
}

/** √(Σ‖g‖²) over all gradients, read back as a number. */
export function globalNorm(grads: readonly tf.Tensor[]): number {
  if (grads.length === 0) return 0;
  const sq = tf.tidy(() => tf.addN(grads.map((g) => tf.sum(tf.square(g)))));
  const value = Math.sqrt(sq.dataSync()[0]);
  sq.dispose();
  return value;
}

/**
 * Sums gradients over micro-batches, each weighted (by its number of target tokens), so that the
 * accumulated gradient is that of the mean loss over all target tokens of the whole batch.
 */
export class GradientAccumulator {
  private sums = new Map<string, tf.Tensor>();
  private weight = 0;

  /** Add gradients of a micro-batch's mean loss, computed over `weight` target tokens. Disposes `grads`. */
  add(grads: Record<string, tf.Tensor>, weight: number): void {
    for (const [name, g] of Object.entries(grads)) {
      const prev = this.sums.get(name);
      const next = tf.tidy(() => (prev ? tf.add(prev, tf.mul(g, weight)) : tf.mul(g, weight)));
      prev?.dispose();
      g.dispose();
      this.sums.set(name, next);
    }
    this.weight += weight;
  }

  /** The weighted mean gradient; the accumulator is empty afterwards. The caller disposes the result. */
  take(): Map<string, tf.Tensor> {
    if (this.weight <= 0) throw new Error("GradientAccumulator: nothing accumulated");
    const out = new Map<string, tf.Tensor>();
    for (const [name, s] of this.sums) {
      out.set(name, tf.tidy(() => tf.div(s, this.weight)));
      s.dispose();
    }
    this.sums.clear();
    this.weight = 0;
    return out;
  }
}
