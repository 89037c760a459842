/**
 * Packing documents into fixed-length training sequences, as language-model pretraining does:
 * each document becomes BOS + its ids + EOS, the documents (in a seeded order) are concatenated into
 * one stream, and the stream is cut into windows of seqLen + 1 tokens with a stride of seqLen:
 *
 *   stream  B a a a E B b E B c c E          (seqLen 4)
 *   windows [B a a a E] [E B b E B] [B c c E]   (the last one shorter, only with keepPartial)
 *
 * Neighbouring windows share one token, so every token of the stream but the first is a target
 * exactly once: a window's inputs are its first seqLen tokens, its labels the last seqLen. Attention
 * is not masked at document boundaries (the model learns that BOS starts afresh).
 */
import { makeRng, shuffled } from "../../util/random";
import type { TokenizedExample } from "../../train/examples";

export interface PackOptions {
  /** Inputs per sequence: a window holds seqLen + 1 tokens. */
  seqLen: number;
  bosId: number;
  eosId: number;
  /** Seed of the document order; without one the given order is kept. */
  seed?: number | string;
  /** Keep the stream's last, shorter window (≥ 2 tokens) — for evaluation, where no token may be lost. */
  keepPartial?: boolean;
}

/** BOS + ids + EOS of every document, concatenated, as one Int32Array. */
export function documentStream(docs: readonly ArrayLike<number>[], bosId: number, eosId: number): Int32Array {
  let n = 0;
  for (const d of docs) n += d.length + 2;
  const out = new Int32Array(n);
  let o = 0;
  for (const d of docs) {
    out[o++] = bosId;
    for (let i = 0; i < d.length; i++) out[o++] = d[i];
    out[o++] = eosId;
  }
  return out;
}

/**
 * Windows of seqLen + 1 tokens, stride seqLen (see the module comment), as views into `stream`
 * (no copies: a corpus of millions of tokens stays one buffer that the garbage collector need not scan).
 */
export function cutStream(stream: Int32Array, seqLen: number, keepPartial = false): Int32Array[] {
  if (!Number.isInteger(seqLen) || seqLen < 1) throw new Error(`packing: seqLen must be a positive integer (got ${seqLen})`);
  const out: Int32Array[] = [];
  let start = 0;
  for (; start + seqLen + 1 <= stream.length; start += seqLen) out.push(stream.subarray(start, start + seqLen + 1));
  if (keepPartial && stream.length - start >= 2) out.push(stream.subarray(start));
  return out;
}

/** The documents in the order packing puts them for `seed` (also the order of scripts/lib/pretrain-stream.ts). */
export function packingOrder<T>(docs: readonly T[], seed: number | string): T[] {
  return shuffled(docs, makeRng(`pack:${seed}`));
}

/** Documents (token ids, no BOS/EOS) → packed sequences, in a seeded document order when `seed` is set. */
export function packDocuments(docs: readonly ArrayLike<number>[], opts: PackOptions): Int32Array[] {
  const ordered = opts.seed === undefined ? docs : packingOrder(docs, opts.seed);
  return cutStream(documentStream(ordered, opts.bosId, opts.eosId), opts.seqLen, opts.keepPartial);
}

/** Packed sequences as the training loop's examples: every position is a target (targetStart 1). */
export function packedExamples(sequences: ReadonlyArray<number[] | Int32Array>): TokenizedExample[] {
  return sequences.map((ids) => ({ ids, targetStart: 1, droppedPromptTokens: 0 }));
}
