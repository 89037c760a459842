/** The 13-gram contamination check on tiny hand-made texts, with overlap counts computed by hand. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ngramWords, ngramStrings, ngramHashes } from "../src/pretrain/corpus/ngrams";
import { checkContamination, assertClean, ContaminationError } from "../src/pretrain/corpus/contamination";
import type { CorpusDoc } from "../src/pretrain/corpus/types";

test("tokenization: NFKC, lower case, runs of letters and digits", () => {
  assert.deepEqual(ngramWords("Don't STOP—now: ﬁne 42x!"), ["don", "t", "stop", "now", "fine", "42x"]);
  assert.deepEqual(ngramStrings("a b c d", 3), ["a b c", "b c d"]);
  assert.equal(ngramHashes("a b", 3).length, 0);
  assert.deepEqual(ngramHashes("A, b; C d", 3), ngramHashes("a b c d", 3));
  assert.notEqual(ngramHashes("a b c", 3)[0], ngramHashes("a b d", 3)[0]);
});

test("overlap per file and per source group, with n = 3, counted by hand", () => {
  // test file: record 1 "one two three four five" → 3-grams {one two three, two three four, three four five}
  //            record 2 "six seven eight" → {six seven eight}; 4 distinct 3-grams in all.
  const files = [
    { file: "t/test.json", role: "test" as const, records: [["One two three four five"], ["six seven eight"]] },
    { file: "t/few.json", role: "few_shot" as const, records: [["nine ten eleven"], ["one two"]] },
  ];
  const docs: CorpusDoc[] = [
    // general text holds "two three four" (1 of 4 of the test file)
    { source: "g", kind: "general", text: "zero two three four zero" },
    // the paper's train inputs hold "six seven eight" and "two three four" again
    { source: "paper:x", kind: "paper-input", text: "Six, seven; eight. Two three four." },
    // n-grams never span documents: "three four" + "five" in two documents is no hit
    { source: "g", kind: "general", text: "three four" },
    { source: "m", kind: "mt-nli", text: "five" },
  ];
  const r = checkContamination(files, docs, { n: 3, maxOverlap: 0.3, maxPaperTrainOverlap: 0.6 });
  const t = r.files[0];
  assert.equal(t.ngrams, 4);
  assert.equal(t.found, 2);
  assert.deepEqual(t.foundBy, { general: 1, "paper-input": 2, multitask: 0 });
  assert.equal(t.foundOutsidePaper, 1);
  assert.equal(t.overlap, 0.5);
  assert.equal(t.overlapOutsidePaper, 0.25);
  assert.equal(t.overlapPaperTrain, 0.5);
  assert.equal(t.recordsHit, 2);
  const f = r.files[1];
  assert.equal(f.ngrams, 1); // "one two" is too short
  assert.equal(f.found, 0);
  assert.deepEqual(r.failures, []);
  assert.doesNotThrow(() => assertClean(r));
});

test("a file over the limit fails the check with one line naming the file", () => {
  const files = [{ file: "sentiment/x_test_500.json", role: "test" as const, records: [["a b c d e f"]] }];
  const r = checkContamination(files, [{ source: "g", kind: "general", text: "a b c d" }], { n: 3, maxOverlap: 0.01 });
  // 4 distinct 3-grams, 2 found outside the paper → 50%
  assert.equal(r.files[0].overlapOutsidePaper, 0.5);
  assert.throws(() => assertClean(r), (e: Error) => e instanceof ContaminationError && /sentiment\/x_test_500\.json: 50\.00%/.test(e.message) && !e.message.includes("\n"));
});
