/**
 * Byte-level BPE training (the merges of ftgen's tokenizer).
 *
 * 1. Every text is split on special tokens ("<s>", "</s>", "<pad>" never enter a word), each
 *    section is pre-tokenized with the chosen regex, and identical pieces are counted.
 * 2. Each distinct piece becomes a sequence of byte ids (3 + byte). Adjacent pair counts are
 *    summed over distinct pieces weighted by their counts.
 * 3. Repeatedly the most frequent pair is merged into a new token, everywhere it occurs, until
 *    the vocabulary reaches `vocabSize` or no pair occurs `minFrequency` times.
 *
 * Tie-breaking (deterministic): among pairs with the same count, the pair with the smallest
 * (left id, right id) wins, ids being ours (bytes in byte order, then merged tokens in the order
 * they were made) — the rule of the Rust `tokenizers` BpeTrainer. Inside a word, occurrences are
 * merged left to right (in "a a a", merging (a, a) gives "aa a").
 * A merge whose result spells an existing token reuses its id (as the Rust trainer does), so
 * there can be slightly more merges than vocabSize − 259.
 *
 * Cost: one pass over the text for counting, then per merge only the words that contain the
 * merged pair are touched (an index pair → words, and a max-heap of pair counts with lazy
 * invalidation).
 */
import {
  BYTE_OFFSET, FIRST_MERGE_ID, SPECIAL_TOKENS, forEachPiece, forEachSection, preTokenizerRegex, pushUtf8,
  specialTokenRegex, type PreTokenizerKind,
} from "./tokenizer-base";

export interface BpeTrainOptions {
  /** Total vocabulary: 3 special tokens + 256 bytes + merged tokens. At least 259. */
  vocabSize: number;
  /** A pair must occur at least this often (weighted) to be merged. Default 2. */
  minFrequency?: number;
  /** Pre-tokenizer regex, default "llama3" (see PreTokenizerKind). */
  pretokenizer?: PreTokenizerKind;
}

export interface BpeTrainResult {
  /** Merges as (left id, right id) in rank order. */
  merges: Array<[number, number]>;
  /** Bytes of every non-special token, index id − 3 (bytes first, then merged tokens). */
  tokenBytes: Uint8Array[];
  stats: {
    /** Pre-tokenized pieces counted (with repeats). */
    pieces: number;
    /** Distinct pieces. */
    distinctPieces: number;
    /** Seconds counting pieces / learning merges. */
    countSeconds: number;
    mergeSeconds: number;
  };
}

/** Counts pre-tokenized pieces (raw text, before byte mapping) over `texts`. */
export function countPieces(texts: Iterable<string>, pretokenizer: PreTokenizerKind = "llama3"): Map<string, number> {
  const counts = new Map<string, number>();
  const re = preTokenizerRegex(pretokenizer);
  const keepGaps = pretokenizer === "llama3";
  const specials = specialTokenRegex();
  const specialIds = new Map(SPECIAL_TOKENS.map((t, i) => [t, i]));
  const add = (piece: string): void => { counts.set(piece, (counts.get(piece) ?? 0) + 1); };
  const onSection = (section: string): void => forEachPiece(section, re, keepGaps, add);
  const onSpecial = (): void => {};
  for (const text of texts) forEachSection(text, specials, specialIds, onSection, onSpecial);
  return counts;
}

/** Max-heap of (count, pair key): higher count first, then smaller key (= smaller (left, right)). */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];
  get size(): number { return this.keys.length; }
  private better(i: number, j: number): boolean {
    const ci = this.counts[i], cj = this.counts[j];
    return ci > cj || (ci === cj && this.keys[i] < this.keys[j]);
  }
  private swap(i: number, j: number): void {
    const c = this.counts[i]; this.counts[i] = this.counts[j]; this.counts[j] = c;
    const k = this.keys[i]; this.keys[i] = this.keys[j]; this.keys[j] = k;
  }
  push(count: number, key: number): void {
    this.counts.push(count); this.keys.push(key);
    let i = this.keys.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.better(i, p)) break;
      this.swap(i, p); i = p;
    }
  }
  /** Pops the top into out[0] = count, out[1] = key. */
  pop(out: [number, number]): void {
    out[0] = this.counts[0]; out[1] = this.keys[0];
    const lastC = this.counts.pop() as number, lastK = this.keys.pop() as number;
    const n = this.keys.length;
    if (n === 0) return;
    this.counts[0] = lastC; this.keys[0] = lastK;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < n && this.better(l, m)) m = l;
      if (r < n && this.better(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m); i = m;
    }
  }
}

/** Learns merges from piece counts (see the file comment for the rules). */
export function learnMerges(pieceCounts: ReadonlyMap<string, number>, options: BpeTrainOptions): Omit<BpeTrainResult, "stats"> {
  const { vocabSize } = options;
  const minFrequency = Math.max(1, options.minFrequency ?? 2);
  if (!Number.isInteger(vocabSize) || vocabSize < FIRST_MERGE_ID) {
    throw new Error(`vocabSize must be an integer ≥ ${FIRST_MERGE_ID} (3 special tokens + 256 bytes), got ${vocabSize}`);
  }
  // Pair key = left * S + right: order-preserving and a small integer for vocabs up to ~32k.
  const S = vocabSize;

  // Token bytes (index id − BYTE_OFFSET) and a map from their latin1 spelling to id, for reuse.
  const tokenBytes: Uint8Array[] = [];
  const tokenIds = new Map<string, number>();
  for (let b = 0; b < 256; b++) { tokenBytes.push(Uint8Array.of(b)); tokenIds.set(String.fromCharCode(b), BYTE_OFFSET + b); }
  const spell = (bytes: Uint8Array): string => {
    let s = "";
    for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return s;
  };

  // Distinct words with at least two bytes (single bytes have no pairs).
  const words: number[][] = [];
  const freq: number[] = [];
  for (const [piece, count] of pieceCounts) {
    const ids = pushUtf8(piece, [], BYTE_OFFSET);
    if (ids.length < 2) continue;
    words.push(ids); freq.push(count);
  }

  const pairCount = new Map<number, number>();
  const where = new Map<number, number[]>();
  for (let w = 0; w < words.length; w++) {
    const s = words[w], f = freq[w];
    for (let i = 0; i + 1 < s.length; i++) {
      const key = s[i] * S + s[i + 1];
      const c = pairCount.get(key);
      if (c === undefined) { pairCount.set(key, f); where.set(key, [w]); }
      else {
        pairCount.set(key, c + f);
        const list = where.get(key) as number[];
        if (list[list.length - 1] !== w) list.push(w);
      }
    }
  }
  const heap = new PairHeap();
  for (const [key, c] of pairCount) heap.push(c, key);

  const merges: Array<[number, number]> = [];
  const stamp = new Int32Array(words.length).fill(-1);
  const top: [number, number] = [0, 0];
  let nextId = FIRST_MERGE_ID;
  let step = 0;

  while (nextId < vocabSize && heap.size > 0) {
    heap.pop(top);
    const [c, key] = top;
    const cur = pairCount.get(key) ?? 0;
    if (cur !== c) {
      // stale entry: re-queue with its lower current count; a higher count has its own entry
      if (cur > 0 && cur < c) heap.push(cur, key);
      continue;
    }
    if (c < minFrequency) break;

    const a = Math.floor(key / S), b = key - a * S;
    const ba = tokenBytes[a - BYTE_OFFSET], bb = tokenBytes[b - BYTE_OFFSET];
    const bytes = new Uint8Array(ba.length + bb.length);
    bytes.set(ba, 0); bytes.set(bb, ba.length);
    const spelled = spell(bytes);
    let z = tokenIds.get(spelled);
    if (z === undefined) {
      z = nextId++;
      tokenIds.set(spelled, z);
      tokenBytes.push(bytes);
    }
    merges.push([a, b]);

    const list = where.get(key) as number[];
    where.delete(key);
    pairCount.delete(key);
    const raised = new Set<number>();
    const change = (k: number, delta: number, w: number): void => {
      if (k === key) return;
      const n = (pairCount.get(k) ?? 0) + delta;
      if (n > 0) pairCount.set(k, n); else pairCount.delete(k);
      if (delta > 0) {
        raised.add(k);
        const l = where.get(k);
        if (l === undefined) where.set(k, [w]);
        else if (l[l.length - 1] !== w) l.push(w);
      }
    };
    for (const w of list) {
      if (stamp[w] === step) continue;
      stamp[w] = step;
      const s = words[w], f = freq[w], n = s.length;
      let found = false;
      for (let i = 0; i + 1 < n; i++) if (s[i] === a && s[i + 1] === b) { found = true; break; }
      if (!found) continue;
      // Left-to-right merge with the in-place neighbour bookkeeping of the Rust trainer: the left
      // neighbour is the already-rewritten symbol, the right one the original.
      const out: number[] = [];
      for (let i = 0; i < n;) {
        if (i + 1 < n && s[i] === a && s[i + 1] === b) {
          if (out.length > 0) {
            const p = out[out.length - 1];
            change(p * S + a, -f, w);
            change(p * S + z, f, w);
          }
          if (i + 2 < n) {
            const nx = s[i + 2];
            change(b * S + nx, -f, w);
            change(z * S + nx, f, w);
          }
          out.push(z);
          i += 2;
        } else {
          out.push(s[i]);
          i++;
        }
      }
      words[w] = out;
    }
    for (const k of raised) {
      const n = pairCount.get(k);
      if (n !== undefined) heap.push(n, k);
    }
    step++;
  }
  return { merges, tokenBytes };
}

/** Counts pieces in `texts` and learns merges. */
export function trainBpe(texts: Iterable<string>, options: BpeTrainOptions): BpeTrainResult {
  const t0 = performance.now();
  const counts = countPieces(texts, options.pretokenizer ?? "llama3");
  const t1 = performance.now();
  const { merges, tokenBytes } = learnMerges(counts, options);
  const t2 = performance.now();
  let pieces = 0;
  for (const c of counts.values()) pieces += c;
  return {
    merges, tokenBytes,
    stats: { pieces, distinctPieces: counts.size, countSeconds: (t1 - t0) / 1000, mergeSeconds: (t2 - t1) / 1000 },
  };
}
