import { test } from "node:test";
import assert from "node:assert/strict";
import { accuracy, macroF1, confusionMatrix, splitScorable } from "../src/metrics/classification";

const NLI = ["entailment", "neutral", "contradiction"] as const;
const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} vs ${expected}`);

// A small NLI run: row 5 predicts a non-label ("maybe"); row 6 is an MNLI "-" row.
//   row:   0           1           2          3          4           5              6
const gold = ["entailment", "entailment", "entailment", "neutral", "neutral", "contradiction", "-"];
const pred = ["entailment", "entailment", "neutral", "neutral", "entailment", "maybe", "entailment"];

test("accuracy drops rows whose gold is outside the label set and counts them", () => {
  // Row 6 (gold "-") excluded -> 6 scored. Correct: rows 0, 1, 3 -> 3 / 6 = 0.5.
  // Row 5 ("maybe") stays in and is wrong.
  assert.deepEqual(accuracy(pred, gold, NLI), { value: 0.5, correct: 3, scored: 6, excluded: 1 });
  // Without a label set every row is scored: correct still 3 (row 6 "-" vs "entailment" is wrong) -> 3 / 7.
  const all = accuracy(pred, gold);
  assert.equal(all.scored, 7);
  assert.equal(all.excluded, 0);
  close(all.value, 3 / 7, "accuracy over all rows");
});

test("macroF1 follows sklearn zero_division=0 over the given labels", () => {
  // Scored pairs (gold, pred): (E,E) (E,E) (E,N) (N,N) (N,E) (C,maybe)
  // entailment:    tp = 2, predicted = 3 (rows 0,1,4), gold = 3 -> P 2/3, R 2/3, F1 = 2*2/(3+3) = 2/3
  // neutral:       tp = 1, predicted = 2 (rows 2,3),   gold = 2 -> P 1/2, R 1/2, F1 = 2*1/(2+2) = 1/2
  // contradiction: tp = 0, predicted = 0, gold = 1 -> P = 0 (0/0 -> 0), R = 0/1, F1 = 0
  // macro = (2/3 + 1/2 + 0) / 3 = (7/6) / 3 = 7/18
  const r = macroF1(pred, gold, NLI);
  close(r.value, 7 / 18, "macro F1");
  assert.equal(r.scored, 6);
  assert.equal(r.excluded, 1);
  const [e, n, c] = r.perLabel;
  assert.equal(e.label, "entailment");
  close(e.precision, 2 / 3, "P(entailment)");
  close(e.recall, 2 / 3, "R(entailment)");
  close(e.f1, 2 / 3, "F1(entailment)");
  assert.deepEqual([e.support, e.predicted], [3, 3]);
  close(n.f1, 1 / 2, "F1(neutral)");
  assert.deepEqual([n.support, n.predicted], [2, 2]);
  // The off-label prediction is a false negative for contradiction, a false positive for nobody.
  assert.deepEqual(c, { label: "contradiction", precision: 0, recall: 0, f1: 0, support: 1, predicted: 0 });
});

test("a label with no gold and no predictions scores F1 0 and still counts in the mean", () => {
  // entailment: tp 1, pred 1, gold 1 -> F1 1; neutral likewise 1; contradiction absent -> 0.
  // macro = (1 + 1 + 0) / 3 = 2/3 (sklearn f1_score(labels=..., average="macro", zero_division=0)).
  const r = macroF1(["entailment", "neutral"], ["entailment", "neutral"], NLI);
  close(r.value, 2 / 3, "macro F1 with an absent label");
  assert.deepEqual(r.perLabel[2], { label: "contradiction", precision: 0, recall: 0, f1: 0, support: 0, predicted: 0 });
});

test("confusion matrix: rows gold, columns predicted, off-label predictions per row", () => {
  // gold E: predicted E, E, N      -> [2, 1, 0]
  // gold N: predicted N, E         -> [1, 1, 0]
  // gold C: predicted "maybe"      -> [0, 0, 0], offLabel 1
  const cm = confusionMatrix(pred, gold, NLI);
  assert.deepEqual(cm, {
    labels: ["entailment", "neutral", "contradiction"],
    counts: [
      [2, 1, 0],
      [1, 1, 0],
      [0, 0, 0],
    ],
    offLabel: [0, 0, 1],
    scored: 6,
    excluded: 1,
  });
});

test("splitScorable lists the positions kept and excluded", () => {
  assert.deepEqual(splitScorable(gold, NLI), { scored: [0, 1, 2, 3, 4, 5], excluded: [6] });
});

test("nothing scorable: accuracy is NaN, macro F1 is 0 (every label 0/0 -> 0)", () => {
  const a = accuracy(["entailment"], ["-"], NLI);
  assert.ok(Number.isNaN(a.value));
  assert.deepEqual([a.scored, a.excluded], [0, 1]);
  assert.equal(macroF1(["entailment"], ["-"], NLI).value, 0);
});

test("length mismatches and bad label sets fail with a one-line error", () => {
  const cases: Array<[() => unknown, RegExp]> = [
    [() => accuracy(["a", "b"], ["a", "b", "c"]), /^accuracy: pred has 2 items but gold has 3/],
    [() => macroF1(["a"], [], ["a"]), /^macroF1: pred has 1 items but gold has 0/],
    [() => confusionMatrix([], ["a"], ["a"]), /^confusionMatrix: pred has 0 items but gold has 1/],
    [() => macroF1(["a"], ["a"], ["a", "a"]), /label "a" appears twice/],
    [() => confusionMatrix(["a"], ["a"], []), /label set is empty/],
  ];
  for (const [fn, re] of cases) {
    assert.throws(fn, (err: Error) => re.test(err.message) && !err.message.includes("\n"));
  }
});
