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
import { NativeDecoder } from "./native-decoder";

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

/** Left-padded rows and their attention mask (1 real, 0 padding). */
export interface LeftPadded {
  ids: number[][];
  mask: number[][];
  /** Length of the padded rows. */
  width: number;
}

/** Left-pads `seqs` with `padId` to a common length (at least `minWidth`). */
export function leftPad(seqs: readonly (readonly number[])[], padId: number, minWidth = 0): LeftPadded {
  const width = Math.max(minWidth, ...seqs.map((s) => s.length));
  const ids = seqs.map((s) => [...new Array<number>(width - s.length).fill(padId), ...s]);
  const mask = seqs.map((s) => [...new Array<number>(width - s.length).fill(0), ...new Array<number>(s.length).fill(1)]);
  return { ids, mask, width };
}

/** Item indices in batches of ≤ batchSize, shortest first. */
function lengthBatches(lengths: readonly number[], batchSize: number): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b);
  const out: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) out.push(order.slice(i, i + batchSize));
  return out;
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

/** Decides whether a row stops, given the tokens it has generated so far (EOS excluded) and its prompt's index. */
export type StopRule = (newIds: readonly number[], promptIndex: number) => boolean;

/** A stop rule: the decoded new tokens contain `text` (default "\n\n"). */
export function stopOnText(decode: (ids: readonly number[]) => string, text = "\n\n"): StopRule {
  return (ids) => decode(ids).includes(text);
}

export interface GenerateOptions {
  /** At most this many new tokens per row. */
  maxNewTokens: number;
  /** Stop a row at this id, which is not returned (default the config's eos_token_id; −1: never). */
  eosId?: number;
  /** Stop a row when this returns true; the token that triggered it is kept. */
  stop?: StopRule;
  /** Rows per batch (default 16). */
  batchSize?: number;
  padId?: number;
}

export type FinishReason = "eos" | "stop" | "length";

export interface Generation {
  /** Per prompt: the generated ids (without EOS). */
  tokens: number[][];
  finish: FinishReason[];
}

/** Index of the largest value in row `r` of a (rows, V) array; the first one on ties. */
export function argmaxRow(data: ArrayLike<number>, r: number, V: number): number {
  let best = 0, bestV = -Infinity;
  for (let i = 0; i < V; i++) {
    const v = data[r * V + i];
    if (v > bestV) {
      bestV = v;
      best = i;
    }
  }
  return best;
}

/**
 * The shared greedy loop: `next(step, lastTokens)` returns the logits (B, V) for the next token of
 * every row (the caller feeds its model however it likes); rows stop at EOS, on `stop`, or at
 * maxNewTokens.
 */
function greedyLoop(rowIds: readonly number[], V: number, opts: GenerateOptions, eosId: number, next: (step: number, last: number[]) => Float32Array): { tokens: number[][]; finish: FinishReason[] } {
  const B = rowIds.length;
  const tokens: number[][] = Array.from({ length: B }, () => []);
  const finish: (FinishReason | undefined)[] = new Array(B).fill(undefined);
  let last: number[] = [];
  for (let step = 0; step < opts.maxNewTokens; step++) {
    const logits = next(step, last);
    last = [];
    for (let b = 0; b < B; b++) {
      const id = argmaxRow(logits, b, V);
      last.push(id);
      if (finish[b]) continue;
      if (id === eosId) finish[b] = "eos";
      else {
        tokens[b].push(id);
        if (opts.stop?.(tokens[b], rowIds[b])) finish[b] = "stop";
      }
    }
    if (finish.every((f) => f !== undefined)) break;
  }
  return { tokens, finish: finish.map((f) => f ?? "length") };
}

function generate(model: LlamaModel, prompts: readonly (readonly number[])[], opts: GenerateOptions, cached: boolean): Generation {
  const what = cached ? "generateGreedy" : "generateGreedyUncached";
  checkPrompts(prompts, what);
  if (!(Number.isInteger(opts.maxNewTokens) && opts.maxNewTokens >= 0)) throw new Error(`${what}: maxNewTokens must be a non-negative integer (got ${opts.maxNewTokens})`);
  const V = model.config.vocab_size;
  const eosId = opts.eosId ?? model.config.eos_token_id;
  const padId = opts.padId ?? model.config.pad_token_id;
  const tokens: number[][] = new Array(prompts.length);
  const finish: FinishReason[] = new Array(prompts.length);
  for (const batch of lengthBatches(prompts.map((p) => p.length), opts.batchSize ?? 16)) {
    const B = batch.length;
    const { ids, mask, width } = leftPad(batch.map((i) => prompts[i]), padId);
    const lastRows = (w: number): tf.Tensor1D => tf.tensor1d(Array.from({ length: B }, (_, b) => b * w + w - 1), "int32");
    let result: { tokens: number[][]; finish: FinishReason[] };
    const native = cached ? NativeDecoder.create(model, B, width + opts.maxNewTokens) : undefined;
    if (native) {
      // The whole model in one native call per step (native-decoder.ts).
      const flatIds = Int32Array.from(ids.flat()), flatMask = Int32Array.from(mask.flat());
      result = greedyLoop(batch, V, opts, eosId, (step, last) =>
        step === 0 ? native.step(flatIds, flatMask, width) : native.step(Int32Array.from(last), new Int32Array(B).fill(1), 1));
    } else if (cached) {
      const cache = model.createCache(B);
      try {
        result = greedyLoop(batch, V, opts, eosId, (step, last) =>
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
      result = greedyLoop(batch, V, opts, eosId, (step, last) => {
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
