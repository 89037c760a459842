/**
 * Word n-grams for the contamination check.
 *
 * Tokenization (stated once, used everywhere): the text is NFKC-normalised and lower-cased; words
 * are maximal runs of Unicode letters and digits (/[\p{L}\p{N}]+/u), so punctuation and
 * whitespace only separate words and "don't" is the two words "don", "t". An n-gram is n
 * consecutive words of one text field; n-grams never span two fields, records or documents.
 *
 * N-grams are stored as 53-bit hashes (two 32-bit FNV-1a-style lanes over the words), so a set of
 * millions of them fits in memory; with a few million n-grams on each side the expected number of
 * false matches is far below one.
 */

const WORD_RE = /[\p{L}\p{N}]+/gu;

/** The words of `text` under the rule above. */
export function ngramWords(text: string): string[] {
  return text.normalize("NFKC").toLowerCase().match(WORD_RE) ?? [];
}

function wordHash(w: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < w.length; i++) {
    h ^= w.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Hashes of every n-gram of `text` (in order, with repeats). */
export function ngramHashes(text: string, n: number): number[] {
  const words = ngramWords(text);
  if (words.length < n) return [];
  const a = words.map((w) => wordHash(w, 0x811c9dc5));
  const b = words.map((w) => wordHash(w, 0x2f6b7a31));
  const out: number[] = [];
  for (let i = 0; i + n <= words.length; i++) {
    let h1 = 0x9e3779b9, h2 = 0x85ebca6b;
    for (let j = i; j < i + n; j++) {
      h1 = Math.imul(h1 ^ a[j], 0x01000193) >>> 0;
      h1 = (h1 ^ (h1 >>> 15)) >>> 0;
      h2 = Math.imul(h2 ^ b[j], 0x5bd1e995) >>> 0;
      h2 = (h2 ^ (h2 >>> 13)) >>> 0;
    }
    out.push((h1 & 0x1fffff) * 4294967296 + h2);
  }
  return out;
}

/** The n-grams of `text` as word strings joined by a space (for tests and reports). */
export function ngramStrings(text: string, n: number): string[] {
  const words = ngramWords(text);
  const out: string[] = [];
  for (let i = 0; i + n <= words.length; i++) out.push(words.slice(i, i + n).join(" "));
  return out;
}
