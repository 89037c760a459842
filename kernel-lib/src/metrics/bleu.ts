/**
 * Corpus BLEU reproducing sacreBLEU's defaults (`sacrebleu.corpus_bleu(hyps, [refs])`,
 * signature nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp), so scores match numbers computed
 * with the Python package: 13a tokenization, n-grams up to 4, clipped counts summed over the
 * corpus, brevity penalty on corpus lengths, "exp" (NIST mteval-v13a) smoothing, no lowercasing,
 * one reference per item. Transcribed from sacrebleu's tokenizer_13a.py / tokenizer_re.py and
 * BLEU.compute_bleu in metrics/bleu.py (2.x).
 */
import { checkPaired } from "./shared";

/** sacreBLEU's default maximum n-gram order. */
export const BLEU_MAX_ORDER = 4;

export interface BleuResult {
  /** BLEU on sacreBLEU's 0–100 scale. */
  score: number;
  /** Per-order modified precisions, in PERCENT (0–100) as sacreBLEU reports them, after smoothing. */
  precisions: number[];
  /** Per-order clipped n-gram matches summed over the corpus. */
  counts: number[];
  /** Per-order hypothesis n-gram totals summed over the corpus. */
  totals: number[];
  /** Brevity penalty, exp(1 − refLen/sysLen) when sysLen < refLen, else 1 (0 when sysLen = 0). */
  bp: number;
  /** Total hypothesis tokens. */
  sysLen: number;
  /** Total reference tokens. */
  refLen: number;
}

// Python's str.split()/strip() whitespace: the code points where str.isspace() is true.
// Differs from JS \s: includes U+001C–U+001F and U+0085, excludes U+FEFF.
const PY_WS = "\\t\\n\\u000b\\f\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const PY_WS_RUN = new RegExp(`[${PY_WS}]+`, "g");
const PY_TRAILING_WS = new RegExp(`[${PY_WS}]+$`);

/** Python `s.split()` (no argument): split on runs of whitespace, no empty strings. */
function pySplit(s: string): string[] {
  return s.split(PY_WS_RUN).filter((t) => t.length > 0);
}

// tokenizer_re.py's rules, applied in order, each to the whole line (left to right, non-overlapping,
// as Python's re.sub and JS's replace with /g both do). The character classes are pure ASCII, so
// matching on UTF-16 code units (JS) and on code points (Python) gives the same output.
const RULES_13A: ReadonlyArray<readonly [RegExp, string]> = [
  // language-dependent part (assuming Western languages): space around these symbols:
  // { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * + : ; < = > ? @ /
  [/([\{-\~\[-\` -\&\(-\+\:-\@\/])/g, " $1 "],
  // tokenize period and comma unless preceded by a digit
  [/([^0-9])([\.,])/g, "$1 $2 "],
  // tokenize period and comma unless followed by a digit
  [/([\.,])([^0-9])/g, " $1 $2"],
  // tokenize dash when preceded by a digit
  [/([0-9])(-)/g, "$1 $2 "],
];

/**
 * sacreBLEU's '13a' tokenizer (mteval-v13a): drop "<skipped>", join "-\n" line breaks, turn
 * newlines into spaces, unescape &quot; &amp; &lt; &gt;, then the regex rules above; returns the
 * tokens joined by single spaces, as sacreBLEU does. (It does not apply sacreBLEU's rstrip
 * of the raw segment; `corpusBleu` does.)
 */
export function tokenize13a(line: string): string {
  let s = line.split("<skipped>").join("");
  s = s.split("-\n").join("");
  s = s.split("\n").join(" ");
  if (s.includes("&")) {
    s = s.split("&quot;").join('"');
    s = s.split("&amp;").join("&");
    s = s.split("&lt;").join("<");
    s = s.split("&gt;").join(">");
  }
  s = ` ${s} `;
  for (const [re, rep] of RULES_13A) s = s.replace(re, rep);
  return pySplit(s).join(" ");
}

/** The tokens BLEU counts for one raw segment: sacreBLEU rstrips, tokenizes with 13a, then splits. */
function bleuTokens(segment: string): string[] {
  return pySplit(tokenize13a(segment.replace(PY_TRAILING_WS, "")));
}

function ngramCounts(tokens: readonly string[], maxOrder: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let n = 1; n <= maxOrder; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      // Tokens never contain whitespace, so a space-joined key is unambiguous (and keeps orders apart).
      const key = tokens.slice(i, i + n).join(" ");
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

/** sacreBLEU's my_log: log, floored to −9999999999 at 0 (so a zero precision zeroes the score). */
function myLog(x: number): number {
  return x === 0 ? -9999999999 : Math.log(x);
}

/**
 * BLEU from corpus sufficient statistics with sacreBLEU's "exp" smoothing: scanning orders
 * 1..4, each order with zero matches gets precision 100 / (2^k · total), k counting the
 * zero-match orders so far; an order with no hypothesis n-grams at all stops the scan (its
 * precision and the later ones stay 0, which makes the score 0). No matches at any order: 0.
 */
export function bleuFromStats(counts: readonly number[], totals: readonly number[], sysLen: number, refLen: number): BleuResult {
  const maxOrder = counts.length;
  if (totals.length !== maxOrder || maxOrder === 0) throw new Error(`bleuFromStats: need equal, non-empty counts and totals (got ${counts.length} and ${totals.length})`);
  const bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1;
  const precisions = new Array<number>(maxOrder).fill(0);
  const result = (score: number): BleuResult => ({ score, precisions, counts: counts.slice(), totals: totals.slice(), bp, sysLen, refLen });
  if (!counts.some((c) => c !== 0)) return result(0);
  let smooth = 1;
  for (let n = 0; n < maxOrder; n++) {
    if (totals[n] === 0) break;
    if (counts[n] === 0) {
      smooth *= 2;
      precisions[n] = 100 / (smooth * totals[n]);
    } else {
      precisions[n] = (100 * counts[n]) / totals[n];
    }
  }
  let logSum = 0;
  for (const p of precisions) logSum += myLog(p);
  return result(bp * Math.exp(logSum / maxOrder));
}

/**
 * Corpus BLEU of `hypotheses` against one reference each, with sacreBLEU's defaults.
 * Like sacreBLEU, an empty-string reference is an error (sacreBLEU: "Empty or `None` reference
 * sentence found."); an empty hypothesis is fine and contributes length 0.
 */
export function corpusBleu(hypotheses: readonly string[], references: readonly string[]): BleuResult {
  checkPaired("corpusBleu", "hypotheses", hypotheses, "references", references);
  if (hypotheses.length === 0) throw new Error("corpusBleu: no items to score");
  const counts = new Array<number>(BLEU_MAX_ORDER).fill(0);
  const totals = new Array<number>(BLEU_MAX_ORDER).fill(0);
  let sysLen = 0, refLen = 0;
  for (let i = 0; i < hypotheses.length; i++) {
    if (references[i] === "") throw new Error(`corpusBleu: reference ${i} is empty (sacreBLEU rejects empty references)`);
    const hyp = bleuTokens(hypotheses[i]);
    const ref = bleuTokens(references[i]);
    sysLen += hyp.length;
    refLen += ref.length;
    const refCounts = ngramCounts(ref, BLEU_MAX_ORDER);
    for (const [gram, c] of ngramCounts(hyp, BLEU_MAX_ORDER)) {
      const order = countSpaces(gram); // n-gram of order n has n − 1 spaces
      totals[order] += c;
      const r = refCounts.get(gram);
      if (r !== undefined) counts[order] += Math.min(c, r);
    }
  }
  return bleuFromStats(counts, totals, sysLen, refLen);
}

function countSpaces(s: string): number {
  let k = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 32) k++;
  return k;
}
