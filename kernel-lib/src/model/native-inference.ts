/**
 * Scoring and greedy decoding on the native runtime (native-lm.ts), with the prompts' shared
 * demonstrations computed once.
 *
 * A k-shot test set's prompts all begin with the same k demonstrations. PrefixCache keeps the keys
 * and values of the longest token prefix a batch's rows share and hands it to the next batches
 * (cut to what they share with it: keys depend only on their own position and the tokens before
 * them, so the first L keys of a prefix are exactly those of its first L tokens). Each row then
 * runs only its own tokens, and decoding reads the prefix once per group of rows.
 */
import type { NativeLlm, NativePrefix, NativeSession } from "./native-lm";
import { argmaxRow, leftPad, lengthBatches, sharedPrefixLength, type GenerateOptions, type Generation } from "./decoding";

/** Shortest shared prefix worth keeping: below it, the extra pass costs more than it saves. */
export const MIN_SHARED_PREFIX = 16;

/** The prefix of one model that later batches reuse. */
export class PrefixCache {
  private current?: NativePrefix;
  /** Tokens computed for prefixes, and tokens reused from one (for reports and tests). */
  computed = 0;
  reused = 0;

  constructor(private readonly lm: NativeLlm) {}

  /**
   * The prefix for these rows and how much of it they share: the cached one when they share at
   * least MIN_SHARED_PREFIX of its tokens and it is not much shorter than what they share among
   * themselves; else a new one (kept for the next batches); undefined when they share too little.
   * A single row shares its whole prompt but the last token with itself: one-row batches use only
   * a cached prefix, and make none.
   */
  get(rows: readonly (readonly number[])[]): { prefix: NativePrefix; length: number } | undefined {
    const own = sharedPrefixLength(rows);
    if (this.current) {
      const cur = this.current;
      let n = Math.min(cur.length, ...rows.map((r) => r.length - 1));
      for (let i = 0; i < n; i++) {
        if (rows.some((r) => r[i] !== cur.ids[i])) { n = i; break; }
      }
      if (n >= MIN_SHARED_PREFIX && own <= n + MIN_SHARED_PREFIX * 4) {
        this.reused += n * rows.length;
        return { prefix: cur, length: n };
      }
    }
    if (own < MIN_SHARED_PREFIX) return undefined;
    if (this.current) this.lm.freePrefix(this.current);
    this.current = this.lm.prefix(rows[0].slice(0, own));
    this.computed += own;
    this.reused += own * rows.length;
    return { prefix: this.current, length: own };
  }

  /** Drops the cached prefix and frees its memory. */
  clear(): void {
    if (this.current) this.lm.freePrefix(this.current);
    this.current = undefined;
  }
}

/** Rows after their shared prefix, left-padded: ids and mask (B, W) flat. */
function suffixBatch(rows: readonly (readonly number[])[], skip: number, padId: number): { ids: Int32Array; mask: Int32Array; width: number } {
  const { ids, mask, width } = leftPad(rows.map((r) => r.slice(skip)), padId);
  return { ids: Int32Array.from(ids.flat()), mask: Int32Array.from(mask.flat()), width };
}

function logSoftmaxAt(row: Float32Array, ids: readonly number[]): number[] {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  const lse = max + Math.log(sum);
  return ids.map((id) => row[id] - lse);
}

export interface NativeRunOptions {
  /** Rows per session (default 16). */
  batchSize?: number;
  padId?: number;
  /** The model's prefix cache (one per model, kept between calls); none: prefixes are not shared. */
  prefixes?: PrefixCache;
}

/**
 * Log-probabilities (softmax over the full vocabulary) of `candidates` as the next token after
 * each prompt: (prompts, candidates).
 */
export function nativeNextTokenLogProbs(lm: NativeLlm, prompts: readonly (readonly number[])[], candidates: readonly number[], opts: NativeRunOptions = {}): number[][] {
  const V = lm.config.vocab_size;
  for (const id of candidates) if (!(Number.isInteger(id) && id >= 0 && id < V)) throw new Error(`nativeNextTokenLogProbs: candidate ${id} is outside the vocabulary (${V})`);
  const out: number[][] = new Array(prompts.length);
  for (const batch of lengthBatches(prompts.map((p) => p.length), opts.batchSize ?? 16)) {
    const rows = batch.map((i) => prompts[i]);
    rows.forEach((r, b) => { if (r.length === 0) throw new Error(`nativeNextTokenLogProbs: prompt ${batch[b]} is empty`); });
    const pre = opts.prefixes?.get(rows);
    const skip = pre?.length ?? 0;
    const { ids, mask, width } = suffixBatch(rows, skip, opts.padId ?? lm.config.pad_token_id);
    const session = lm.session(rows.length, width, pre);
    let logits: Float32Array;
    try {
      logits = session.step(ids, mask, width);
    } finally {
      session.dispose();
    }
    batch.forEach((i, b) => (out[i] = logSoftmaxAt(logits.subarray(b * V, (b + 1) * V), candidates)));
  }
  return out;
}

/**
 * Greedy decoding: one pass over each batch's own prompt tokens (after the shared prefix), then one
 * token per row per step. Rows stop at an EOS id (not returned), on `stop`, or after maxNewTokens,
 * and finished rows leave the session, so later steps compute only the rows still going. The
 * tokens are those of decoding.ts' greedyLoop (the tests compare them with tfjs' loop).
 */
export function nativeGenerate(lm: NativeLlm, prompts: readonly (readonly number[])[], opts: GenerateOptions & NativeRunOptions): Generation {
  const V = lm.config.vocab_size;
  const eos = new Set(opts.eosIds ?? [opts.eosId ?? lm.config.eos_token_id]);
  const tokens: number[][] = prompts.map(() => []);
  const finish: Generation["finish"] = prompts.map(() => "length");
  for (const batch of lengthBatches(prompts.map((p) => p.length), opts.batchSize ?? 16)) {
    const rows = batch.map((i) => prompts[i]);
    rows.forEach((r, b) => { if (r.length === 0) throw new Error(`nativeGenerate: prompt ${batch[b]} is empty`); });
    if (opts.maxNewTokens <= 0) continue;
    const pre = opts.prefixes?.get(rows);
    const { ids, mask, width } = suffixBatch(rows, pre?.length ?? 0, opts.padId ?? lm.config.pad_token_id);
    const session = lm.session(rows.length, width + opts.maxNewTokens, pre);
    try {
      decodeBatch(session, batch, ids, mask, width);
    } finally {
      session.dispose();
    }
  }
  return { tokens, finish };

  function decodeBatch(session: NativeSession, batch: readonly number[], ids: Int32Array, mask: Int32Array, width: number): void {
    let active = [...batch]; // prompt index of each session row
    let logits = session.step(ids, mask, width);
    for (;;) {
      const next: number[] = [], keep: number[] = [];
      active.forEach((item, r) => {
        const id = argmaxRow(logits, r, V);
        if (eos.has(id)) { finish[item] = "eos"; return; }
        tokens[item].push(id);
        if (opts.stop?.(tokens[item], item)) finish[item] = "stop";
        else if (tokens[item].length < opts.maxNewTokens) { keep.push(r); next.push(id); }
      });
      if (keep.length === 0) break;
      if (keep.length < active.length) {
        session.keepRows(keep);
        active = keep.map((r) => active[r]);
      }
      logits = session.step(Int32Array.from(next), new Int32Array(next.length).fill(1), 1);
    }
  }
}
