/** Model-free baselines (study/baselines.ts) against hand counts on the fixture data. */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { fetchedFixture } from "./fixtures";
import { firstWords, firstWordsBaseline, predictedLabelShare } from "../src/study/baselines";
import { rougeL } from "../src/metrics/rouge";

// A train file for xsum whose summaries are their inputs' first 10 words, so N = 10 is chosen on it;
// on the test items themselves 5 words would score better (a baseline must not see the test items).
before(async () => {
  await fetchedFixture({
    "summary/xsum_train_2000.json": [
      { idx: 1, input: "Prices rose again in May and June across the whole of the country this year.", output: "Prices rose again in May and June across the whole of" },
      { idx: 2, input: "Schools will reopen next week after the long strike by teachers in every region.", output: "Schools will reopen next week after the long strike by teachers" },
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
