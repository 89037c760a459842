/** Model-free baselines (study/baselines.ts) against hand counts on the fixture data. */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { fetchedFixture } from "./fixtures";
import { balancedAccuracy, bestBaseline, firstWords, firstWordsBaseline, fixedOutputBaseline, predictedLabelShare, setBaselines } from "../src/study/baselines";
import { rougeL } from "../src/metrics/rouge";

// A train file for xsum whose summaries are their inputs' first 10 words, so N = 10 is chosen on it;
// on the test items themselves 5 words would score better (a baseline must not see the test items).
before(async () => {
  await fetchedFixture({
    "summary/xsum_train_2000.json": [
      { idx: 1, input: "Prices rose again in May and June across the whole of the country this year.", output: "Prices rose again in May and June across the whole of" },
      { idx: 2, input: "Schools will reopen next week after the long strike by teachers in every region.", output: "Schools will reopen next week after the long strike by teachers" },
      // Shares words with both others: the best fixed output.
      { idx: 3, input: "Prices of schools will reopen again after the strike in May across the country.", output: "Prices of schools will reopen again after the strike in" },
    ],
  });
});

test("predictedLabelShare: the most frequent output and its share; ties go to the first in order", () => {
  assert.deepEqual(predictedLabelShare([{ output: "no" }, { output: "yes" }, { output: "no" }, { output: "no" }]), { label: "no", share: 0.75 });
  assert.deepEqual(predictedLabelShare([{ output: "yes" }, { output: "no" }]), { label: "no", share: 0.5 });
  assert.deepEqual(predictedLabelShare([]), { label: "", share: 0 });
});

test("firstWords: the first n words, whitespace runs collapsed", () => {
  assert.equal(firstWords("  The  council voted\non Monday ", 3), "The council voted");
  assert.equal(firstWords("short", 10), "short");
});

test("firstWordsBaseline: N chosen on the train file, scored with ROUGE-L on the test items", () => {
  const b = firstWordsBaseline("summary", "xsum", 250);
  assert.equal(b.chosenOn, "train");
  assert.equal(b.n, 10, "chosen on the train file");
  // By hand: the two test items' first 10 words against their summaries.
  const score = (n: number): number => (rougeL(firstWords("The council voted on Monday to close the old bridge for repairs.", n), "Old bridge to close for repairs.").fmeasure
    + rougeL(firstWords("Heavy rain fell all week across the north of the country.", n), "A wet week in the north.").fmeasure) / 2;
  const want = score(10);
  assert.ok(score(5) !== want, "the test items alone would give another score");
  assert.ok(Math.abs(b.rougeL - want) < 1e-12, `${b.rougeL} vs ${want}`);
  assert.ok(b.ci.low <= b.rougeL && b.rougeL <= b.ci.high);
  assert.throws(() => firstWordsBaseline("sentiment", "amazon", 10), /sentiment is not a generation task/);
});

test("fixedOutputBaseline: the train reference closest (mean ROUGE-L F) to the others, answered to every test item", () => {
  const b = fixedOutputBaseline("summary", "xsum", 250);
  assert.equal(b.chosenOn, "train");
  // By hand: idx 3 against 1 and 2 shares "Prices … again … in" and "schools will reopen … after the … strike": it wins.
  const refs = ["Prices rose again in May and June across the whole of", "Schools will reopen next week after the long strike by teachers", "Prices of schools will reopen again after the strike in"];
  const mean = (i: number) => refs.filter((_, j) => j !== i).reduce((a, r) => a + rougeL(refs[i], r).fmeasure, 0) / 2;
  assert.ok(mean(2) > mean(0) && mean(2) > mean(1));
  assert.equal(b.text, refs[2]);
  const want = (rougeL(refs[2], "Old bridge to close for repairs.").fmeasure + rougeL(refs[2], "A wet week in the north.").fmeasure) / 2;
  assert.ok(Math.abs(b.rougeL - want) < 1e-12, `${b.rougeL} vs ${want}`);
  assert.throws(() => fixedOutputBaseline("detection", "paws", 10), /detection is not a generation task/);
  // The set's baselines, and the stronger one.
  const fw = firstWordsBaseline("summary", "xsum", 250);
  assert.deepEqual(setBaselines("summary", "xsum", 250), [{ name: "first 10 words", value: fw.rougeL }, { name: "best fixed output", value: b.rougeL }]);
  assert.equal(bestBaseline("summary", "xsum", 250).value, Math.max(fw.rougeL, b.rougeL));
});

test("balancedAccuracy: the mean of each gold label's recall (hand-computed); a constant answer gets 1/labels", () => {
  const items = [["yes", 1], ["yes", 1], ["yes", 0], ["no", 1]].map(([gold, score]) => ({ gold: gold as string, score: score as number }));
  assert.ok(Math.abs(balancedAccuracy(items) - (2 / 3 + 1) / 2) < 1e-12);
  const constant = ["yes", "yes", "yes", "no"].map((gold) => ({ gold, score: gold === "yes" ? 1 : 0 }));
  assert.equal(balancedAccuracy(constant), 0.5);
  assert.equal(balancedAccuracy([]), 0);
});
