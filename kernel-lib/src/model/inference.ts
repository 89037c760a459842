/**
 * Inference with a LlamaModel: batched label scoring and greedy generation.
 *
 *   scoreFirstToken(model, prompts, labelIds)          // classification by the first generated token
 *   labelLogLikelihoods(model, prompts, labelSeqs)     // Σ log p(label tokens | prompt), per label
 *   generateGreedy(model, prompts, { maxNewTokens: 60, stop: stopOnText((ids) => tok.decode(ids)) })
 *
 * Prompts are token-id arrays (BOS included if wanted). Batches are left-padded: padding goes first,
 * the attention mask hides it, and position ids come from the mask (HF's cumsum − 1), so every row
 * computes what it would alone. Items are sorted by length before batching (less padding) and
 * results come back in the caller's order.
 */
import * as tf from "@tensorflow/tfjs";
import type { LlamaModel } from "./llama";
import { NativeLlm } from "./native-lm";
import { nativeGenerate } from "./native-inference";
import { greedyLoop, leftPad, lengthBatches, type FinishReason, type GenerateOptions, type Generation } from "./decoding";

export { argmaxRow, greedyLoop, leftPad, lengthBatches, stopOnText, type FinishReason, type GenerateOptions, type Generation, type LeftPadded, type StopRule } from "./decoding";

/**
 * Runs `f` in a tf.tidy and returns its plain-JS result. (tf.tidy walks whatever it returns looking
 * for tensors: a 65k-entry Float32Array of logits cost ~10 ms per decoding step that way.)
 */
function tidyData<T>(f: () => T): T {
  let out: T | undefined;
  tf.tidy(() => {
    out = f();
  });
  return out as T;
}

function checkPrompts(prompts: readonly (readonly number[])[], what: string): void {
  prompts.forEach((p, i) => {
    if (p.length === 0) throw new Error(`${what}: prompt ${i} is empty (give at least one token, e.g. BOS)`);
  });
}

export interface ScoreOptions {
  /** Items per forward pass (default 16). */
  batchSize?: number;
  /** Padding id (default the config's pad_token_id; it is masked, so any id works). */
  padId?: number;
}

export interface LabelScores {
  /** Per item: index (into the label ids) of the most likely label. */
  argmax: number[];
  /** Per item, per label: log p(label id | prompt) for the first generated token (softmax over the full vocabulary). */
  logProbs: number[][];
}

/**
 * Classification by the first generated token: the logits at each prompt's last position,
 * restricted to `labelIds`. Returns the argmax label and the labels' log-probabilities.
 */
export function scoreFirstToken(model: LlamaModel, prompts: readonly (readonly number[])[], labelIds: readonly number[], opts: ScoreOptions = {}): LabelScores {
  checkPrompts(prompts, "scoreFirstToken");
  if (labelIds.length === 0) throw new Error("scoreFirstToken: no label ids");
  const V = model.config.vocab_size;
  labelIds.forEach((id) => {
    if (!(Number.isInteger(id) && id >= 0 && id < V)) throw new Error(`scoreFirstToken: label id ${id} is outside the vocabulary (${V})`);
  });
  const padId = opts.padId ?? model.config.pad_token_id;
  const logProbs: number[][] = new Array(prompts.length);
  for (const batch of lengthBatches(prompts.map((p) => p.length), opts.batchSize ?? 16)) {
    const { ids, mask, width } = leftPad(batch.map((i) => prompts[i]), padId);
    const rows = tidyData(() => {
      const h = model.hidden2d(ids, { attentionMask: mask }); // (B·W, C)
      const last = tf.gather(h, tf.tensor1d(batch.map((_, b) => b * width + width - 1), "int32")); // (B, C)
      const lp = tf.logSoftmax(model.logits(last)); // (B, V)
      return tf.gather(lp, tf.tensor1d([...labelIds], "int32"), 1).arraySync() as number[][]; // (B, L)
    });
    batch.forEach((i, b) => (logProbs[i] = rows[b]));
  }
  const argmax = logProbs.map((row) => row.reduce((best, v, j) => (v > row[best] ? j : best), 0));
  return { argmax, logProbs };
}

/**
 * Full-label log-likelihoods: for every item and every label (a token sequence), the sum over the
 * label's tokens of log p(token | prompt, earlier label tokens). Returns [item][label].
 */
export function labelLogLikelihoods(model: LlamaModel, prompts: readonly (readonly number[])[], labels: readonly (readonly number[])[], opts: ScoreOptions = {}): number[][] {
  checkPrompts(prompts, "labelLogLikelihoods");
  labels.forEach((l, j) => {
    if (l.length === 0) throw new Error(`labelLogLikelihoods: label ${j} has no tokens`);
  });
  const padId = opts.padId ?? model.config.pad_token_id;
  // One row per (item, label): input = prompt + label minus its last token.
  const pairs: { item: number; label: number; seq: number[] }[] = [];
  prompts.forEach((p, item) => labels.forEach((l, label) => pairs.push({ item, label, seq: [...p, ...l].slice(0, -1) })));
  const out = prompts.map(() => new Array<number>(labels.length).fill(0));
  for (const batch of lengthBatches(pairs.map((p) => p.seq.length), opts.batchSize ?? 16)) {
    const { ids, mask, width } = leftPad(batch.map((k) => pairs[k].seq), padId);
    const rowIdx: number[] = [], targets: number[] = [], owner: number[] = [];
    batch.forEach((k, b) => {
      const lab = labels[pairs[k].label];
      // The label's tokens are predicted at the last lab.length positions of the row.
      for (let j = 0; j < lab.length; j++) {
        rowIdx.push(b * width + width - lab.length + j);
        targets.push(lab[j]);
        owner.push(k);
      }
    });
    const lps = tidyData(() => {
      const h = model.hidden2d(ids, { attentionMask: mask }); // (B·W, C)
      const sel = tf.gather(h, tf.tensor1d(rowIdx, "int32")); // (R, C)
      const lp = tf.logSoftmax(model.logits(sel)); // (R, V)
      const V = model.config.vocab_size;
      const flat = tf.tensor1d(targets.map((t, r) => r * V + t), "int32");
      return tf.gather(tf.reshape(lp, [-1]), flat).dataSync(); // (R)
    });
    lps.forEach((v, r) => (out[pairs[owner[r]].item][pairs[owner[r]].label] += v));
  }
  return out;
}

function generate(model: LlamaModel, prompts: readonly (readonly number[])[], opts: GenerateOptions, cached: boolean): Generation {
  const what = cached ? "generateGreedy" : "generateGreedyUncached";
  checkPrompts(prompts, what);
  if (!(Number.isInteger(opts.maxNewTokens) && opts.maxNewTokens >= 0)) throw new Error(`${what}: maxNewTokens must be a non-negative integer (got ${opts.maxNewTokens})`);
  const V = model.config.vocab_size;
  const loopOpts: GenerateOptions = { ...opts, eosIds: opts.eosIds ?? [opts.eosId ?? model.config.eos_token_id] };
  const padId = opts.padId ?? model.config.pad_token_id;
  // The whole model on the native runtime (native-lm.ts), its weights copied once for all batches.
  const native = cached ? NativeLlm.fromModel(model) : undefined;
  if (native) {
    try {
      return nativeGenerate(native, prompts, { ...loopOpts, padId });
    } finally {
      native.dispose();
    }
  }
  const tokens: number[][] = new Array(prompts.length);
  const finish: FinishReason[] = new Array(prompts.length);
  for (const batch of lengthBatches(prompts.map((p) => p.length), opts.batchSize ?? 16)) {
    const B = batch.length;
    const { ids, mask, width } = leftPad(batch.map((i) => prompts[i]), padId);
    const lastRows = (w: number): tf.Tensor1D => tf.tensor1d(Array.from({ length: B }, (_, b) => b * w + w - 1), "int32");
    let result: { tokens: number[][]; finish: FinishReason[] };
    if (cached) {
      const cache = model.createCache(B);
      try {
        result = greedyLoop(batch, V, loopOpts, (step, last) =>
          tidyData(() => {
            const h = step === 0
              ? model.hidden2d(ids, { attentionMask: mask, cache }) // prefill (B·W, C)
              : model.hidden2d(last.map((t) => [t]), { cache }); // one new token per row (B, C)
            const rows = step === 0 ? tf.gather(h, lastRows(width)) : h;
            return model.logits(rows).dataSync() as Float32Array; // (B, V)
          }),
        );
      } finally {
        cache.dispose();
      }
    } else {
      // Every row grows by one token per step, as in the cached loop, so both see the same rows.
      const seqIds = ids.map((r) => [...r]);
      const seqMask = mask.map((r) => [...r]);
      result = greedyLoop(batch, V, loopOpts, (step, last) => {
        if (step > 0) last.forEach((t, b) => (seqIds[b].push(t), seqMask[b].push(1)));
        const w = seqIds[0].length;
        return tidyData(() => {
          const h = model.hidden2d(seqIds, { attentionMask: seqMask });
          return model.logits(tf.gather(h, lastRows(w))).dataSync() as Float32Array;
        });
      });
    }
    batch.forEach((i, b) => {
      tokens[i] = result.tokens[b];
      finish[i] = result.finish[b];
    });
  }
  return { tokens, finish };
}

/**
 * Batched greedy decoding with a KV cache: one prefill of the left-padded prompts, then one token
 * per row per step. Rows stop at EOS (not returned), when `stop` says so, or after maxNewTokens.
 */
export function generateGreedy(model: LlamaModel, prompts: readonly (readonly number[])[], opts: GenerateOptions): Generation {
  return generate(model, prompts, opts, true);
}

/** The same without a cache (the whole sequence again at every step): for tests and timing. */
export function generateGreedyUncached(model: LlamaModel, prompts: readonly (readonly number[])[], opts: GenerateOptions): Generation {
  return generate(model, prompts, opts, false);
}
