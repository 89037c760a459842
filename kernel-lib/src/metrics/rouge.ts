/**
 * ROUGE-1, ROUGE-2 and ROUGE-L, reproducing Google's `rouge_score` package (the one behind
 * Hugging Face `evaluate`'s "rouge") with its defaults: default tokenizer, NO stemming.
 * Scores for the summary and question tasks should be comparable with numbers computed in
 * Python, so every rule below is rouge_score's, including its quirks:
 *  - tokens are lowercase runs of [a-z0-9]; any other character (punctuation, but also
 *    accented or non-Latin letters) is a separator, so "café" gives the token "caf";
 *  - ROUGE-N divides by max(count, 1), so an empty side gives 0, never NaN;
 *  - ROUGE-L is the sentence-level LCS score (rouge_score's "rougeL", not "rougeLsum").
 * Porter stemming (`use_stemmer=True`) is deliberately not offered: rouge_score uses NLTK's
 * variant of Porter, and a near-copy would give silently different numbers.
 *
 * Argument order: (prediction, reference), like the rest of ftgen's metrics. Note that
 * rouge_score's own `scorer.score(target, prediction)` takes the reference FIRST.
 */
import { checkPaired, mean } from "./shared";

export interface RougeScore {
  precision: number;
  recall: number;
  fmeasure: number;
}

export interface RougeScores {
  rouge1: RougeScore;
  rouge2: RougeScore;
  rougeL: RougeScore;
}

export type RougeType = keyof RougeScores;
export const ROUGE_TYPES: readonly RougeType[] = ["rouge1", "rouge2", "rougeL"];

export interface CorpusRouge {
  /** Per-item scores, in input order. */
  items: RougeScores[];
  /** Per type, the plain mean over items of precision, recall and F separately (F is NOT recomputed from mean P and R). */
  mean: RougeScores;
}

const NON_ALNUM = /[^a-z0-9]+/g;

/**
 * rouge_score's default tokenizer: lowercase, turn every run of characters outside [a-z0-9]
 * into one space, split on whitespace, drop empty tokens.
 */
export function rougeTokenize(text: string): string[] {
  // JS toLowerCase and Python str.lower both use Unicode full case mapping, so even the odd
  // cases that land in ASCII (U+212A KELVIN SIGN -> "k", U+0130 -> "i" + U+0307) agree.
  return text.toLowerCase().replace(NON_ALNUM, " ").split(" ").filter((t) => t.length > 0);
}

/** F-measure as rouge_score computes it: 2PR/(P+R), or 0 when P + R = 0. */
function fmeasure(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    // Tokens are [a-z0-9]+, so joining with a space is an unambiguous key.
    const key = tokens.slice(i, i + n).join(" ");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function scoreNgrams(pred: readonly string[], ref: readonly string[], n: number): RougeScore {
  const p = ngramCounts(pred, n);
  const r = ngramCounts(ref, n);
  let overlap = 0;
  for (const [gram, c] of r) overlap += Math.min(c, p.get(gram) ?? 0);
  const predTotal = Math.max(pred.length - n + 1, 0);
  const refTotal = Math.max(ref.length - n + 1, 0);
  const precision = overlap / Math.max(predTotal, 1);
  const recall = overlap / Math.max(refTotal, 1);
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

/**
 * Length of the longest common subsequence of two sequences (=== equality).
 * Classic dynamic programme, O(|a|·|b|) time, but keeping a single row over the shorter
 * sequence: O(min(|a|, |b|)) memory, so two 1000-token documents need a 1001-entry row.
 */
export function lcsLength<T>(a: readonly T[], b: readonly T[]): number {
  const [long, short] = a.length >= b.length ? [a, b] : [b, a];
  const m = short.length;
  if (m === 0) return 0;
  const row = new Int32Array(m + 1); // row[j] = LCS(long[0..i), short[0..j))
  for (let i = 0; i < long.length; i++) {
    const x = long[i];
    let diag = 0; // LCS(long[0..i-1), short[0..j-1)) before row[j-1] was overwritten
    for (let j = 1; j <= m; j++) {
      const up = row[j];
      if (x === short[j - 1]) row[j] = diag + 1;
      else if (row[j - 1] > up) row[j] = row[j - 1];
      diag = up;
    }
  }
  return row[m];
}

function scoreLcs(pred: readonly string[], ref: readonly string[]): RougeScore {
  if (pred.length === 0 || ref.length === 0) return { precision: 0, recall: 0, fmeasure: 0 };
  const lcs = lcsLength(pred, ref);
  const precision = lcs / pred.length;
  const recall = lcs / ref.length;
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

/**
 * ROUGE-N: overlap = Σ over n-grams of min(count in prediction, count in reference);
 * P = overlap / max(#prediction n-grams, 1), R = overlap / max(#reference n-grams, 1).
 */
export function rougeN(prediction: string, reference: string, n: number): RougeScore {
  if (!Number.isInteger(n) || n < 1) throw new Error(`rougeN: n must be a positive integer, got ${n}`);
  return scoreNgrams(rougeTokenize(prediction), rougeTokenize(reference), n);
}

/** ROUGE-L: P = LCS / #prediction tokens, R = LCS / #reference tokens; all 0 if either side has no tokens. */
export function rougeL(prediction: string, reference: string): RougeScore {
  return scoreLcs(rougeTokenize(prediction), rougeTokenize(reference));
}

/** ROUGE-1, ROUGE-2 and ROUGE-L of one prediction against one reference (tokenizes once). */
export function rouge(prediction: string, reference: string): RougeScores {
  const p = rougeTokenize(prediction);
  const r = rougeTokenize(reference);
  return { rouge1: scoreNgrams(p, r, 1), rouge2: scoreNgrams(p, r, 2), rougeL: scoreLcs(p, r) };
}

/**
 * Scores every (prediction, reference) pair and averages. The mean is the plain average of
 * per-item scores (what `evaluate`'s rouge gives with use_aggregator=False, then np.mean);
 * for a bootstrap interval, pass per-item F values to `meanCI` from ./bootstrap.
 */
export function corpusRouge(predictions: readonly string[], references: readonly string[]): CorpusRouge {
  checkPaired("corpusRouge", "predictions", predictions, "references", references);
  if (predictions.length === 0) throw new Error("corpusRouge: no items to score");
  const items = predictions.map((p, i) => rouge(p, references[i]));
  const avg = (type: RougeType): RougeScore => ({
    precision: mean(items.map((s) => s[type].precision)),
    recall: mean(items.map((s) => s[type].recall)),
    fmeasure: mean(items.map((s) => s[type].fmeasure)),
  });
  return { items, mean: { rouge1: avg("rouge1"), rouge2: avg("rouge2"), rougeL: avg("rougeL") } };
}
