/**
 * From training texts to batches: tokenization with a loss mask on the target only, length
 * bucketing (examples of similar length share a batch, so little compute goes to padding), and
 * collation into right-padded id/label arrays.
 */
import type { TrainingText } from "../prompts/build";
import { makeRng, shuffled } from "../util/random";
import { sequenceStart, type Encoder } from "../tokenizer/encoder";

export interface TokenizedExample {
  /** BOS, prompt tokens, target tokens, EOS (or any token window; an Int32Array view keeps big packed corpora off the GC's work). */
  ids: number[] | Int32Array;
  /** Index in `ids` of the first target token: the loss covers ids[targetStart..] (EOS included). */
  targetStart: number;
  /** Prompt tokens dropped from the left to fit `maxLen`. */
  droppedPromptTokens: number;
}

/**
 * Tokenize `BOS + prompt + target + EOS` (no BOS for a tokenizer that adds none). Prompt and target are encoded separately, as at
 * evaluation, where the label's tokens are looked up on their own. When the whole is longer than
 * `maxLen`, prompt tokens are dropped from the left (after BOS); the target is kept, cut to half of
 * `maxLen` at most.
 */
export function tokenizeTraining(enc: Encoder, text: TrainingText, maxLen: number): TokenizedExample {
  let prompt = enc.encode(text.prompt);
  const target = [...enc.encode(text.target), enc.eosId].slice(0, Math.max(1, Math.floor(maxLen / 2)));
  const start = sequenceStart(enc);
  const room = maxLen - start.length - target.length;
  const dropped = Math.max(0, prompt.length - room);
  if (dropped > 0) prompt = prompt.slice(dropped);
  return { ids: [...start, ...prompt, ...target], targetStart: start.length + prompt.length, droppedPromptTokens: dropped };
}

/** A right-padded training batch, flattened row-major. */
export interface Batch {
  /** Rows × columns. */
  rows: number;
  cols: number;
  /** (rows, cols) input ids; padding is `padId`. */
  inputs: Int32Array;
  /** (rows, cols) next-token labels: labels[r, t] = ids[r, t + 1] where it is a target token, else -1. */
  labels: Int32Array;
  /** Number of labels that are not -1 (the tokens the loss averages over). */
  targetTokens: number;
}

/**
 * Collate examples into a batch. Inputs are ids[0..n-2], labels ids[1..n-1] on target positions:
 * the model predicts each target token (and EOS) from everything before it.
 */
export function collate(examples: readonly TokenizedExample[], padId: number): Batch {
  const rows = examples.length;
  const cols = Math.max(...examples.map((e) => e.ids.length - 1));
  const inputs = new Int32Array(rows * cols).fill(padId);
  const labels = new Int32Array(rows * cols).fill(-1);
  let targetTokens = 0;
  examples.forEach((e, r) => {
    for (let t = 0; t < e.ids.length - 1; t++) {
      inputs[r * cols + t] = e.ids[t];
      if (t + 1 >= e.targetStart) {
        labels[r * cols + t] = e.ids[t + 1];
        targetTokens++;
      }
    }
  });
  return { rows, cols, inputs, labels, targetTokens };
}

export interface BucketOptions {
  /** Examples per batch. */
  batchSize: number;
  /** Seed of the shuffle; each epoch gets its own order from (seed, epoch). */
  seed: number | string;
  epoch: number;
  /** Batches sorted by length within windows of this many batches (default 50). */
  windowBatches?: number;
}

/**
 * The epoch's batches as lists of example indices: shuffle (seeded), sort by length within
 * windows, cut into batches, shuffle the batch order. Deterministic in (seed, epoch), which is
 * what lets a resumed run replay the same order.
 */
export function bucketBatches(lengths: readonly number[], opts: BucketOptions): number[][] {
  const rng = makeRng(`${opts.seed}:epoch:${opts.epoch}`);
  const order = shuffled(lengths.map((_, i) => i), rng);
  const window = opts.batchSize * (opts.windowBatches ?? 50);
  const batches: number[][] = [];
  for (let w = 0; w < order.length; w += window) {
    const chunk = order.slice(w, w + window).sort((a, b) => lengths[a] - lengths[b] || a - b);
    for (let b = 0; b < chunk.length; b += opts.batchSize) batches.push(chunk.slice(b, b + opts.batchSize));
  }
  return shuffled(batches, rng);
}

/** Padding share of a list of batches: 1 − real tokens / padded tokens. */
export function paddingShare(lengths: readonly number[], batches: readonly number[][]): number {
  let real = 0, padded = 0;
  for (const b of batches) {
    const max = Math.max(...b.map((i) => lengths[i]));
    padded += max * b.length;
    real += b.reduce((s, i) => s + lengths[i], 0);
  }
  return padded === 0 ? 0 : 1 - real / padded;
}
