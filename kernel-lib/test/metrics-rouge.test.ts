import { test } from "node:test";
import assert from "node:assert/strict";
import { rougeTokenize, rougeN, rougeL, rouge, corpusRouge, lcsLength, type RougeScore } from "../src/metrics/rouge";

function near(actual: RougeScore, expected: [number, number, number], what: string): void {
  const got = [actual.precision, actual.recall, actual.fmeasure];
  got.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-12, `${what} [P,R,F] = ${got} vs ${expected}`));
}

test("tokenizer: lowercase, non-[a-z0-9] runs are separators, non-ASCII letters vanish", () => {
  // "the café's 2nd-best, naïve!" -> "the caf s 2nd best na ve "
  assert.deepEqual(rougeTokenize("The Café's 2nd-Best, naïve!"), ["the", "caf", "s", "2nd", "best", "na", "ve"]);
  assert.deepEqual(rougeTokenize("日本語 text\n\tMORE"), ["text", "more"]);
  assert.deepEqual(rougeTokenize(""), []);
  assert.deepEqual(rougeTokenize(" ... "), []);
  // U+212A KELVIN SIGN lowercases to ASCII "k" under Unicode case mapping (Python's str.lower too).
  assert.deepEqual(rougeTokenize("5\u212A"), ["5k"]);
});

// rouge_score README example: reference "The quick brown fox jumps over the lazy dog",
// prediction "The quick brown dog jumps on the log."
const REF = "The quick brown fox jumps over the lazy dog";
const PRED = "The quick brown dog jumps on the log.";

test("ROUGE-1 and ROUGE-2 on the rouge_score README example", () => {
  // pred tokens (8): the quick brown dog jumps on the log
  // ref tokens (9):  the quick brown fox jumps over the lazy dog
  // unigram overlap: the 2 + quick + brown + dog + jumps = 6 -> P 6/8, R 6/9, F = 2*6/(8+9) = 12/17
  near(rougeN(PRED, REF, 1), [6 / 8, 6 / 9, 12 / 17], "rouge1");
  // pred bigrams (7): the quick, quick brown, brown dog, dog jumps, jumps on, on the, the log
  // ref bigrams (8):  the quick, quick brown, brown fox, fox jumps, jumps over, over the, the lazy, lazy dog
  // overlap 2 -> P 2/7, R 2/8, F = 2*2/(7+8) = 4/15
  near(rougeN(PRED, REF, 2), [2 / 7, 2 / 8, 4 / 15], "rouge2");
});

test("ROUGE-L on the README example", () => {
  // LCS = "the quick brown" + "jumps the" = 5 (after "brown", pred "dog jumps on the log" vs
  // ref "fox jumps over the lazy dog" share at most "jumps the"). P 5/8, R 5/9, F = 2*5/(8+9) = 10/17.
  near(rougeL(PRED, REF), [5 / 8, 5 / 9, 10 / 17], "rougeL");
  const all = rouge(PRED, REF);
  near(all.rouge1, [6 / 8, 6 / 9, 12 / 17], "rouge().rouge1");
  near(all.rouge2, [2 / 7, 2 / 8, 4 / 15], "rouge().rouge2");
  near(all.rougeL, [5 / 8, 5 / 9, 10 / 17], "rouge().rougeL");
});

test("n-gram counts are clipped", () => {
  // pred "the the the the" vs ref "the cat": unigram overlap min(4, 1) = 1 -> P 1/4, R 1/2,
  // F = 2*(1/4)(1/2)/(3/4) = 1/3. Bigrams: "the the" x3 vs "the cat" -> 0.
  // LCS = 1 -> same as ROUGE-1 here.
  const s = rouge("the the the the", "the cat");
  near(s.rouge1, [1 / 4, 1 / 2, 1 / 3], "rouge1");
  near(s.rouge2, [0, 0, 0], "rouge2");
  near(s.rougeL, [1 / 4, 1 / 2, 1 / 3], "rougeL");
});

test("empty sides give 0, never NaN (max(count, 1) denominators; LCS guard)", () => {
  near(rougeN("", "a b", 1), [0, 0, 0], "empty prediction");
  near(rougeL("!!!", "a"), [0, 0, 0], "punctuation-only prediction has no tokens");
  // A one-token exact match has no bigrams on either side: overlap 0 / max(0, 1) -> ROUGE-2 = 0.
  near(rougeN("a", "a", 2), [0, 0, 0], "rouge2 of one token");
  near(rougeL("a", "a"), [1, 1, 1], "rougeL of one token");
  assert.throws(() => rougeN("a", "a", 0), /positive integer/);
});

test("corpusRouge averages per-item scores", () => {
  // Items: the README example and ("a", "a") (R1 = 1, R2 = 0, RL = 1).
  // mean rouge1: P (3/4 + 1)/2 = 7/8, R (2/3 + 1)/2 = 5/6, F (12/17 + 1)/2 = 29/34
  // mean rouge2: P (2/7 + 0)/2 = 1/7, R (1/4 + 0)/2 = 1/8, F (4/15 + 0)/2 = 2/15
  // mean rougeL: P (5/8 + 1)/2 = 13/16, R (5/9 + 1)/2 = 7/9, F (10/17 + 1)/2 = 27/34
  const c = corpusRouge([PRED, "a"], [REF, "a"]);
  assert.equal(c.items.length, 2);
  near(c.items[1].rouge1, [1, 1, 1], "item 1 rouge1");
  near(c.mean.rouge1, [7 / 8, 5 / 6, 29 / 34], "mean rouge1");
  near(c.mean.rouge2, [1 / 7, 1 / 8, 2 / 15], "mean rouge2");
  near(c.mean.rougeL, [13 / 16, 7 / 9, 27 / 34], "mean rougeL");
  assert.throws(() => corpusRouge(["a"], []), /corpusRouge: predictions has 1 items but references has 0/);
  assert.throws(() => corpusRouge([], []), /no items/);
});

test("LCS length: textbook case, symmetry, and 1000-token documents", () => {
  // CLRS example: LCS("ABCBDAB", "BDCABA") = 4 (e.g. "BCBA").
  assert.equal(lcsLength([..."ABCBDAB"], [..."BDCABA"]), 4);
  assert.equal(lcsLength([..."BDCABA"], [..."ABCBDAB"]), 4);
  assert.equal(lcsLength([], ["a"]), 0);

  const a = Array.from({ length: 1000 }, (_, i) => `w${i}`);
  // b keeps the 900 tokens of `a` whose index is not a multiple of 10, in order, with 100 "x"
  // tokens (absent from a) interleaved -> LCS is exactly those 900 tokens.
  const b: string[] = [];
  a.forEach((t, i) => b.push(i % 10 === 0 ? "x" : t));
  const t0 = Date.now();
  assert.equal(lcsLength(a, b), 900);
  // Distinct tokens against their reverse: any common subsequence has length 1.
  assert.equal(lcsLength(a, [...a].reverse()), 1);
  assert.ok(Date.now() - t0 < 2000, "two 1000x1000 LCS runs should take well under 2 s");
  // Through ROUGE-L: P = 900/1000, R = 900/1000 -> F = 0.9.
  near(rougeL(b.join(" "), a.join(" ")), [0.9, 0.9, 0.9], "rougeL on long documents");
});
