/**
 * The data pipeline on fixtures of our own: a mirror folder with a few small files, a manifest
 * of their blob ids, fetching (copy + verify), refusal of a tampered file, optional files
 * reported unavailable, schema errors naming file and item, and typed loading.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { gitBlobId } from "../src/data/gitBlob";
import { FetchFailures, fetchPaperData } from "../src/data/fetch";
import { loadDataset, loadFewShot } from "../src/data/load";
import { validateRecords, labelBalance } from "../src/data/validate";
import { describePath } from "../src/data/manifest";
import { makeFixture } from "./fixtures";
import { paperDemos, kShotPrompt } from "../src/prompts/build";
import { dataReport } from "../src/data/report";

let tmp = "", mirror = "", cache = "";

before(() => {
  ({ root: tmp, mirror, cache } = makeFixture());
});

test("git blob ids are git's: hash-object of 'hello\\n'", () => {
  assert.equal(gitBlobId(Buffer.from("hello\n")), "ce013625030ba8dba906f756967f9e9ca394464a");
  assert.equal(gitBlobId(new Uint8Array(0)), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
});

test("manifest paths are classified by task, dataset, role and size", () => {
  assert.deepEqual(describePath("detection/paws_train_4000.json"), { task: "detection", dataset: "paws", role: "train", nominalSize: 4000 });
  assert.deepEqual(describePath("summary/few_shot/cnn_few_shot.json"), { task: "summary", dataset: "cnn", role: "few_shot", nominalSize: null });
  assert.deepEqual(describePath("prompt_map.json"), { task: null, dataset: null, role: "prompt_map", nominalSize: null });
  assert.throws(() => describePath("summary/readme.txt"), /cannot classify summary\/readme.txt/);
});

test("fetch copies and verifies from a mirror; optional missing files are unavailable, not fatal; a rerun is cached", async () => {
  const first = await fetchPaperData({ mirror, dataDir: cache });
  const n = first.length;
  assert.deepEqual(first.map((r) => r.status), [...Array(n - 1).fill("copied"), "unavailable"]);
  assert.match(first[n - 1].detail ?? "", /not in mirror/);
  const second = await fetchPaperData({ mirror, dataDir: cache });
  assert.deepEqual(second.map((r) => r.status), [...Array(n - 1).fill("cached"), "unavailable"]);
  // A corrupted cache file is detected and replaced from the mirror.
  fs.appendFileSync(path.join(cache, "sentiment/amazon_train_2000.json"), " ");
  const third = await fetchPaperData({ mirror, dataDir: cache });
  assert.equal(third[1].status, "copied");
});

test("mirror files whose blob does not match are refused by name, every file is checked, and all failures come in one report", async () => {
  const bad = path.join(tmp, "bad-mirror");
  fs.cpSync(mirror, bad, { recursive: true });
  fs.writeFileSync(path.join(bad, "sentiment/amazon_train_2000.json"), "[]");
  fs.writeFileSync(path.join(bad, "summary/xsum_test_500.json"), "[]");
  const cache2 = path.join(tmp, "cache2");
  await assert.rejects(fetchPaperData({ mirror: bad, dataDir: cache2 }), (e: Error) => {
    assert.ok(e instanceof FetchFailures && e.refused);
    const lines = e.message.split("\n");
    assert.match(lines[0], /^2 of \d+ data files failed:$/);
    assert.match(lines[1], /^  sentiment\/amazon_train_2000\.json: refused \(.*bad-mirror\/sentiment\/amazon_train_2000\.json: git blob \w+ does not match .* refusing it\)$/);
    assert.match(lines[2], /^  summary\/xsum_test_500\.json: refused \(/);
    return true;
  });
  // The good files after the first bad one were copied all the same.
  assert.ok(fs.existsSync(path.join(cache2, "summary/few_shot/xsum_few_shot.json")));
  assert.ok(!fs.existsSync(path.join(cache2, "sentiment/amazon_train_2000.json")));
});

test("a required file missing everywhere fails the fetch, naming it", async () => {
  const partial = path.join(tmp, "partial-mirror");
  fs.cpSync(mirror, partial, { recursive: true });
  fs.rmSync(path.join(partial, "inference/multinli_test_500.json"));
  await assert.rejects(fetchPaperData({ mirror: partial, dataDir: path.join(tmp, "cache3") }),
    (e: Error) => /^1 of \d+ data files failed:\n  inference\/multinli_test_500\.json: unavailable \(not in mirror/.test(e.message));
});

test("loading gives typed records; '-' labels and empty texts are counted and kept out", async () => {
  await fetchPaperData({ mirror, dataDir: cache });
  const amazon = loadDataset("sentiment", "amazon", "test");
  assert.equal(amazon.rows, 5);
  assert.deepEqual(amazon.records.map((r) => [r.position, r.idx, r.output]), [[0, 0, "positive"], [2, 2, "negative"], [3, 3, "positive"], [4, 4, "positive"]]);
  assert.deepEqual(amazon.excluded, [{ position: 1, reason: "empty-text", field: "input" }]);
  assert.deepEqual(labelBalance("sentiment", amazon.records), { positive: 3, negative: 1 });
  const limited = loadDataset("sentiment", "amazon", "test", { limit: 1 });
  assert.equal(limited.records.length, 1);
  const mnli = loadDataset("inference", "multinli", "test");
  assert.deepEqual(mnli.excluded, [{ position: 0, reason: "unlabelled" }]);
  assert.equal(mnli.records[0].output, "neutral");
  assert.equal(loadDataset("sentiment", "amazon", "train").records.length, 1);
  assert.throws(() => loadDataset("sentiment", "yelp", "test"), /no file in the paper's data for sentiment\/yelp test/);
  // A misspelt name is answered with the valid ones.
  assert.throws(() => loadDataset("sentiment", "amazn", "test"), /no file in the paper's data for sentiment\/amazn test; sentiment's datasets: amazon(, |$)/);
  assert.throws(() => loadDataset("sentiment", "amazon", "train", { size: 3000 }), /sentiment\/amazon train 3000; its train sizes: 2000/);
  assert.throws(() => loadDataset("summary", "xsum", "train", { size: 4000 }), /xsum_train_4000\.json is missing \(it is not in the reference mirror either\): run "npm run data" first/);
});

test("the few-shot pool gives the paper's first-k demonstrations", async () => {
  await fetchPaperData({ mirror, dataDir: cache });
  assert.deepEqual(loadFewShot("sentiment", "amazon").map((r) => r.input), ["Superb.", "Junk.", "Okay."]);
  assert.deepEqual(paperDemos("sentiment", "amazon", 2).map((r) => r.input), ["Superb.", "Junk."]);
  assert.throws(() => paperDemos("sentiment", "amazon", 4), /asked for 4 demonstrations, the few-shot file has 3/);
  const item = loadDataset("sentiment", "amazon", "test").records[0];
  assert.equal(kShotPrompt("sentiment", "amazon", item, 2, 0),
    "### Input:\nSuperb.\n### Sentiment:positive\n\n### Input:\nJunk.\n### Sentiment:negative\n\n### Input:\nLoved it.\n### Sentiment:");
});

test("the data report counts rows, exclusions and label balance per file", async () => {
  await fetchPaperData({ mirror, dataDir: cache });
  const rows = dataReport();
  const test500 = rows.find((r) => r.dataset === "amazon" && r.split === "test");
  assert.deepEqual(test500 && [test500.rows, test500.usable, test500.emptyText, test500.balance], [5, 4, 1, "positive 3 / negative 1"]);
  const xsum = rows.find((r) => r.dataset === "xsum");
  assert.equal(xsum?.available, false);
});

test("schema errors are one line naming the file and the item", () => {
  assert.throws(() => validateRecords("f.json", "sentiment", {}), /^Error: f\.json: expected a JSON array/);
  assert.throws(() => validateRecords("f.json", "sentiment", [{ input: "a", output: "positive" }, { input: "b" }]),
    /^Error: f\.json: item 1: missing field "output" \(task sentiment needs input, output\)$/);
  assert.throws(() => validateRecords("f.json", "sentiment", [{ input: "a", output: "neutral" }]),
    /^Error: f\.json: item 0: label "neutral" is not one of positive\/negative$/);
  assert.throws(() => validateRecords("f.json", "detection", [{ input_1: "a", input_2: 3, output: "yes" }]),
    /^Error: f\.json: item 0: field "input_2" is number, not a string$/);
  assert.throws(() => validateRecords("f.json", "question", [{ input: "a", answer: "b", output: "c", extra: 1 }]),
    /^Error: f\.json: item 0: unexpected field "extra" for task question$/);
  // "-" is only an unlabelled marker for NLI, not for sentiment.
  assert.throws(() => validateRecords("f.json", "sentiment", [{ input: "a", output: "-" }]), /label "-" is not one of/);
});
