import { test } from "node:test";
import assert from "node:assert/strict";
import { corpusBleu, tokenize13a, bleuFromStats } from "../src/metrics/bleu";

const close = (actual: number, expected: number, what: string, tol = 1e-9) =>
  assert.ok(Math.abs(actual - expected) < tol, `${what}: ${actual} vs ${expected}`);

test("13a: punctuation, commas/periods next to digits, dash after a digit", () => {
  // "!" gets spaces (rule 1); "o," and "m." split (rule 2: not preceded by a digit);
  // "3.5" stays (digit before and after); "5-" -> "5 - " (rule 4); "'" is not split.
  assert.equal(tokenize13a("Hello, world! It's 3.5-4 km."), "Hello , world ! It's 3.5 - 4 km .");
  // "1,000.50" stays whole; "a.b" -> "a . b"; "b," -> "b ,"; "3.x" -> "3 . x" (rule 3: not
  // followed by a digit); "_" and "$" are in rule 1's class.
  assert.equal(tokenize13a("1,000.50 and a.b, 3.x snake_case $5"), "1,000.50 and a . b , 3 . x snake _ case $ 5");
  // "-" with no digit before it is not split.
  assert.equal(tokenize13a("well-known e-mail"), "well-known e-mail");
});

test("13a: <skipped>, line-break joins, newlines, HTML entities", () => {
  // "<skipped>" removed, "-\n" joined, "\n" -> " ".
  assert.equal(tokenize13a("well-\nknown <skipped>line\ntwo"), "wellknown line two");
  // &quot; &amp; &lt; -> " & <, each then spaced by rule 1.
  assert.equal(tokenize13a("&quot;Hi&quot; &amp; bye&lt;3"), '" Hi " & bye < 3');
});

test("13a: splits on Python's whitespace set, not JavaScript's", () => {
  // U+00A0 and U+001C are whitespace for Python's str.split(); U+FEFF is not (JS \s would split it).
  assert.equal(tokenize13a("a\u00a0b\u001cc\ufeffd"), "a b c\ufeffd");
  assert.equal(tokenize13a("naïve café."), "naïve café .");
});

test("BLEU with a brevity penalty (one segment)", () => {
  // hyp "the cat sat on mat" (5 tokens), ref "the cat sat on the mat" (6 tokens)
  // 1-grams: 5/5 match; 2-grams: the cat, cat sat, sat on match, "on mat" not -> 3/4
  // 3-grams: the cat sat, cat sat on match, "sat on mat" not -> 2/3
  // 4-grams: "the cat sat on" matches, "cat sat on mat" not -> 1/2
  // precisions (%) 100, 75, 66.67, 50; geometric mean = (100*75*(200/3)*50)^(1/4) = (2.5e7)^(1/4) = 50*sqrt(2)
  // BP = exp(1 - 6/5) = exp(-0.2)  ->  BLEU = 50*sqrt(2)*exp(-0.2) = 70.7107 * 0.81873 = 57.8930
  const r = corpusBleu(["the cat sat on mat"], ["the cat sat on the mat"]);
  assert.deepEqual(r.counts, [5, 3, 2, 1]);
  assert.deepEqual(r.totals, [5, 4, 3, 2]);
  assert.deepEqual([r.sysLen, r.refLen], [5, 6]);
  [100, 75, 200 / 3, 50].forEach((p, i) => close(r.precisions[i], p, `p${i + 1}`));
  close(r.bp, Math.exp(-0.2), "bp");
  close(r.score, 50 * Math.SQRT2 * Math.exp(-0.2), "score");
  close(r.score, 57.8930, "score (4 dp)", 1e-4);
});

test("exp smoothing when the 4-gram count is 0", () => {
  // hyp "one two three four", ref "one two three five" (4 tokens each, BP = 1)
  // matches: 1-grams 3/4, 2-grams 2/3, 3-grams 1/2, 4-grams 0/1
  // exp smoothing: first zero order -> 100 / (2 * total) = 100 / (2 * 1) = 50
  // BLEU = (75 * (200/3) * 50 * 50)^(1/4) = (1.25e7)^(1/4) = 25 * 2^(5/4) = 59.4604...
  const r = corpusBleu(["one two three four"], ["one two three five"]);
  assert.deepEqual(r.counts, [3, 2, 1, 0]);
  assert.deepEqual(r.totals, [4, 3, 2, 1]);
  [75, 200 / 3, 50, 50].forEach((p, i) => close(r.precisions[i], p, `p${i + 1}`));
  assert.equal(r.bp, 1);
  close(r.score, 25 * Math.pow(2, 5 / 4), "score");
});

test("exp smoothing doubles for each further zero order", () => {
  // hyp "a b c d", ref "a b x d": 1-grams 3/4; 2-grams only "a b" -> 1/3;
  // 3-grams 0/2 -> 100 / (2 * 2) = 25; 4-grams 0/1 -> 100 / (4 * 1) = 25
  // BLEU = (75 * (100/3) * 25 * 25)^(1/4) = (1562500)^(1/4) = 25 * sqrt(2) = 35.355...
  const r = corpusBleu(["a b c d"], ["a b x d"]);
  assert.deepEqual(r.counts, [3, 1, 0, 0]);
  [75, 100 / 3, 25, 25].forEach((p, i) => close(r.precisions[i], p, `p${i + 1}`));
  close(r.score, 25 * Math.SQRT2, "score");
});

test("corpus BLEU sums counts and lengths before computing precisions and BP", () => {
  // The two segments above together: counts [5+3, 3+2, 2+1, 1+0] = [8, 5, 3, 1],
  // totals [5+4, 4+3, 3+2, 2+1] = [9, 7, 5, 3]; no zero count, so no smoothing.
  // lengths 9 vs 10 -> BP = exp(1 - 10/9) = exp(-1/9) (not the per-segment exp(-0.2) and 1).
  // BLEU = 100 * (8/9 * 5/7 * 3/5 * 1/3)^(1/4) * exp(-1/9) = 100 * (8/63)^(1/4) * exp(-1/9) = 53.417...
  const r = corpusBleu(["the cat sat on mat", "one two three four"], ["the cat sat on the mat", "one two three five"]);
  assert.deepEqual(r.counts, [8, 5, 3, 1]);
  assert.deepEqual(r.totals, [9, 7, 5, 3]);
  assert.deepEqual([r.sysLen, r.refLen], [9, 10]);
  close(r.bp, Math.exp(-1 / 9), "bp");
  close(r.score, 100 * Math.pow(8 / 63, 1 / 4) * Math.exp(-1 / 9), "score");
});

test("degenerate corpora follow sacreBLEU", () => {
  // No match at any order -> 0 with all precisions 0.
  const none = corpusBleu(["x y"], ["a b"]);
  assert.equal(none.score, 0);
  assert.deepEqual(none.precisions, [0, 0, 0, 0]);
  // Empty hypothesis: sysLen 0 -> BP 0, score 0.
  const empty = corpusBleu([""], ["a"]);
  assert.deepEqual([empty.score, empty.bp, empty.sysLen, empty.refLen], [0, 0, 0, 1]);
  // A one-token match: 1-gram 1/1, but no 2-grams at all -> the scan stops, p2..p4 stay 0 -> score 0.
  // Also: the raw segment is rstripped BEFORE 13a, so "end-\n" keeps its dash ("end-"), matching the ref.
  const short = corpusBleu(["end-\n"], ["end-"]);
  assert.deepEqual(short.counts, [1, 0, 0, 0]);
  assert.deepEqual(short.precisions, [100, 0, 0, 0]);
  assert.equal(short.score, 0);
});

test("bleuFromStats agrees with the hand-worked statistics", () => {
  // Same numbers as the smoothing case above, from raw statistics.
  close(bleuFromStats([3, 2, 1, 0], [4, 3, 2, 1], 4, 4).score, 25 * Math.pow(2, 5 / 4), "score");
});

test("bad input fails in one line", () => {
  assert.throws(() => corpusBleu(["a"], ["a", "b"]), /corpusBleu: hypotheses has 1 items but references has 2/);
  assert.throws(() => corpusBleu(["a"], [""]), /reference 0 is empty/);
  assert.throws(() => corpusBleu([], []), /no items/);
});
