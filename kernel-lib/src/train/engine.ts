/**
 * What the training loop (loop.ts) asks of whatever computes gradients and updates weights: a
 * micro-batch's forward and backward, an optimizer step, and a snapshot for checkpoints. Two
 * engines: tfjs (any TrainableModel, its AdamW in tfjs; this file) and the native trainer for
 * Llama models too big for the wasm heap (native-trainer.ts: full fine-tuning or LoRA).
 */
import * as tf from "@tensorflow/tfjs";
import type { TensorData } from "../model/safetensors";
import type { Batch } from "./examples";
import { AdamW, GradientAccumulator, type AdamWConfig } from "./optim";

/** Weights, AdamW moments and step count, by the engine's tensor names (what a checkpoint holds). */
export interface EngineSnapshot {
  weights: Map<string, TensorData>;
  moments: Map<string, { m: Float32Array; v: Float32Array; shape: number[] }>;
  optimizerStep: number;
}

export interface StepEngine {
  /** Forward and backward of one micro-batch; its gradients join those held. Returns the loss summed over its labels. */
  accumulate(batch: Batch, dropoutSeed: string): Promise<number>;
  /**
   * One AdamW step on the held gradients averaged over `count` labels (clipped by global norm);
   * the held gradients are dropped. Returns the global norm before clipping.
   */
  apply(count: number, lr: number): number;
  /** Drops the held gradients without a step. */
  discard(): void;
  snapshot(): Promise<EngineSnapshot>;
  /** Loads a snapshot; `source` names it in errors (a checkpoint file). */
  restore(s: EngineSnapshot, source: string): void;
  /** Releases the optimizer state (not the model). */
  dispose(): void;
}

/** What the tfjs engine needs of a model. */
export interface TrainableModel {
  /** Trainable variables by (HF) name. */
  readonly variables: ReadonlyMap<string, tf.Variable>;
  /**
   * Mean cross-entropy over the batch's labels that are not −1, as a scalar the loop can
   * differentiate. `dropoutSeed` is set in training, unset in evaluation.
   */
  batchLoss(batch: Batch, dropoutSeed?: string): tf.Scalar;
}

/**
 * The tfjs engine: gradients by tf.variableGrads, weighted by each micro-batch's labels, and tfjs
 * AdamW (a new one from a config, or one the caller holds).
 */
export function tfjsEngine(model: TrainableModel, adam: Partial<AdamWConfig> | AdamW): StepEngine {
  const opt = adam instanceof AdamW ? adam : new AdamW(model.variables, adam);
  const varList = [...model.variables.values()];
  // tf.variableGrads keys gradients by the tfjs variable's own name; the optimizer by the model's.
  const keyOf = new Map([...model.variables].map(([key, v]) => [v.name, key]));
  let acc = new GradientAccumulator();
  return {
    async accumulate(batch, dropoutSeed) {
      const { value, grads } = tf.variableGrads(() => model.batchLoss(batch, dropoutSeed), varList);
      const v = (await value.data())[0];
      value.dispose();
      const named: Record<string, tf.Tensor> = {};
      for (const [vn, g] of Object.entries(grads)) named[keyOf.get(vn) ?? vn] = g;
      acc.add(named, batch.targetTokens);
      return v * batch.targetTokens;
    },
    apply(_count, lr) {
      const grads = acc.take();
      const norm = opt.apply(grads, lr);
      grads.forEach((g) => g.dispose());
      return norm;
    },
    discard() {
      const held = acc;
      acc = new GradientAccumulator();
      try {
        held.take().forEach((g) => g.dispose());
      } catch {
        // nothing was held
      }
    },
    async snapshot() {
      const weights = new Map<string, TensorData>();
      for (const [n, v] of model.variables) weights.set(n, { shape: [...v.shape], data: (await v.data()) as Float32Array });
      const os = await opt.state();
      return { weights, moments: new Map(Object.entries(os.moments)), optimizerStep: os.step };
    },
    restore(s, source) {
      for (const [n, v] of model.variables) {
        const t = s.weights.get(n);
        if (!t) throw new Error(`${source}: no tensor "${n}"`);
        if (t.shape.join(",") !== v.shape.join(",")) throw new Error(`${source}: "${n}" has shape [${t.shape}], the model [${v.shape}]`);
        const value = tf.tensor(t.data, t.shape);
        v.assign(value);
        value.dispose();
      }
      opt.load({ step: s.optimizerStep, moments: Object.fromEntries(s.moments) });
    },
    dispose() {
      opt.dispose();
    },
  };
}
