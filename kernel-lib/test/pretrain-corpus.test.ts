/**
 * The corpus build end to end on fixtures written here: a tiny "paper data" folder (train, test
 * and few-shot files of all five tasks, with outputs that are easy to spot) and tiny outside
 * sources passed in memory. Checks: no output or label of the paper's data in the corpus, nothing
 * from test or few-shot files, decontamination, held-out split, determinism, skip when up to date,
 * and failure on contamination.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { gitBlobId } from "../src/data/gitBlob";
import { describePath, rawUrl, type Manifest } from "../src/data/manifest";
import { buildCorpus, readCorpusJsonl, DEFAULT_CORPUS_CONFIG, type CorpusConfig } from "../src/pretrain/corpus/corpus";
import type { LoadedSources } from "../src/pretrain/sources/load-sources";
import type { Synset } from "../src/pretrain/sources/wordnet";
import type { CorpusDoc } from "../src/pretrain/corpus/types";

const words = (i: number, tag: string): string => `${tag} ${["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu", "nu", "xi"].map((w, j) => `${w}${(i * 7 + j) % 97}${tag}`).join(" ")}.`;

const FILES: Record<string, unknown[]> = {
  "summary/xsum_train_2000.json": Array.from({ length: 30 }, (_, i) => ({ idx: i, input: `Article ${words(i, "xsumin")}`, output: `XSUMOUT${i} headline` })),
  "summary/xsum_test_500.json": [{ idx: 0, input: `Test article ${words(500, "xsumtest")}`, output: "XSUMTESTOUT" }],
  "summary/few_shot/xsum_few_shot.json": [{ idx: 3, input: `Article ${words(3, "xsumin")}`, output: "XSUMOUT3 headline" }], // = train record 3
  "question/socialqa_train_2000.json": Array.from({ length: 30 }, (_, i) => ({ idx: i, input: `Context ${words(i, "sqa")}`, answer: `SQAANSWER${i}`, output: `SQAQUESTION${i}?` })),
  "sentiment/amazon_train_2000.json": Array.from({ length: 30 }, (_, i) => ({ idx: i, input: `Review ${words(i, "amz")}`, output: i % 2 ? "positive" : "negative" })),
  "sentiment/amazon_test_500.json": [{ idx: 0, input: "Loved it a lot.", output: "positive" }],
  "detection/paws_train_2000.json": Array.from({ length: 30 }, (_, i) => ({ idx: i, input_1: `First ${words(i, "paws")}`, input_2: `Second ${words(i + 1, "paws")}`, output: i % 2 ? "yes" : "no" })),
  "inference/multinli_train_2000.json": Array.from({ length: 30 }, (_, i) => ({ idx: i, input_1: `Premise ${words(i, "mnli")}`, input_2: `Hypo ${words(i, "mnlih")}`, output: ["entailment", "neutral", "contradiction"][i % 3] })),
};

let root = "";
const synsets = new Map<string, Synset>([
  ["n:1", { key: "n:1", pos: "n", words: ["dog", "domestic dog"], pointers: [{ symbol: "@", target: "n:2", sourceWord: 0, targetWord: 0 }], definition: "a member of the genus Canis", examples: ["the dog barked"] }],
  ["n:2", { key: "n:2", pos: "n", words: ["animal", "beast"], pointers: [{ symbol: "~", target: "n:1", sourceWord: 0, targetWord: 0 }, { symbol: "~", target: "n:3", sourceWord: 0, targetWord: 0 }], definition: "a living organism", examples: [] }],
  ["n:3", { key: "n:3", pos: "n", words: ["cat", "true cat"], pointers: [{ symbol: "@", target: "n:2", sourceWord: 0, targetWord: 0 }], definition: "a small feline", examples: [] }],
  ["a:4", { key: "a:4", pos: "a", words: ["hot", "warm"], pointers: [{ symbol: "!", target: "a:5", sourceWord: 1, targetWord: 1 }], definition: "of high temperature", examples: ["a hot day"] }],
  ["a:5", { key: "a:5", pos: "a", words: ["cold", "chilly"], pointers: [{ symbol: "!", target: "a:4", sourceWord: 1, targetWord: 1 }], definition: "of low temperature", examples: [] }],
]);
const prose = Array.from({ length: 40 }, (_, i) => `The animal was a good friend number ${i} to the family. It is a great and happy day for them all. The dog was tired after the long walk home. The weather was awful and bad for the crops this year. They will stay in the old house near the river.`).join(" ");

function fakeSources(extra = ""): LoadedSources {
  return {
    brown: [{ file: "ca01", genre: "news", text: prose + extra }],
    sotu: [{ year: 1800, name: "A President", text: prose }],
    emails: Array.from({ length: 20 }, (_, i) => ({ subject: `Meeting about the plan ${i}`, body: `${prose.slice(0, 400)} item ${i}` })),
    wordnet: { synsets, nounIndex: new Map([["dog", ["n:1"]], ["animal", ["n:2"]], ["cat", ["n:3"]]]) },
    lexicon: { good: 3, great: 3, happy: 3, awful: -3, bad: -3, tired: -2 },
    labelled: [{ text: "Works great.", positive: true, source: "wink-sentiment" }, { text: "Broke at once.", positive: false, source: "wink-sentiment" }],
    kjv: [{ ref: "Genesis 1:1", text: "In the beginning God created the heaven and the earth." }, { ref: "Genesis 1:2", text: "And the earth was without form, and void; and darkness was upon the face." }],
    web: [{ ref: "Genesis 1:1", text: "In the beginning, God created the heavens and the earth." }, { ref: "Genesis 1:2", text: "The earth was formless and empty. Darkness was on the surface of the deep." }],
  };
}

const CONFIG: CorpusConfig = {
  ...DEFAULT_CORPUS_CONFIG,
  sources: ["brown", "sotu", "spam-assassin", "wordnet", "wink-sentiment", "kjv", "web"],
  maxDocChars: 500, heldoutFraction: 0.2, heldoutPerDataset: 3,
  multitaskDocs: { sentiment: 10, paraphrase: 10, nli: 10, summary: 10, question: 10 },
  shardDocs: 40, vocabSize: 300,
};
const VERSIONS = Object.fromEntries(CONFIG.sources.map((s) => [s, "fixture"]));

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-pretrain-"));
  const data = path.join(root, "data");
  const manifest: Manifest = { repo: "x/y", commit: "0".repeat(40), files: [] };
  for (const [rel, rows] of Object.entries(FILES)) {
    const file = path.join(data, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const bytes = Buffer.from(JSON.stringify(rows));
    fs.writeFileSync(file, bytes);
    manifest.files.push({ path: rel, ...describePath(rel), bytes: bytes.length, blob: gitBlobId(bytes), url: rawUrl(rel) });
  }
  fs.writeFileSync(path.join(root, "manifest.json"), JSON.stringify(manifest));
  process.env.FTGEN_MANIFEST = path.join(root, "manifest.json");
  process.env.FTGEN_DATA_DIR = data;
});

function readAll(dir: string): { train: CorpusDoc[]; heldout: CorpusDoc[] } {
  const shards = fs.readdirSync(dir).filter((f) => /^train-\d{5}\.jsonl$/.test(f)).sort();
  return { train: shards.flatMap((s) => readCorpusJsonl(path.join(dir, s))), heldout: readCorpusJsonl(path.join(dir, "heldout.jsonl")) };
}

test("the corpus holds the paper's train inputs but none of its outputs, labels, test or few-shot items", () => {
  const out = path.join(root, "corpus");
  const r = buildCorpus({ outDir: out, config: CONFIG, load: () => fakeSources(), versions: VERSIONS });
  assert.equal(r.skipped, false);
  for (const f of ["build.json", "stats.json", "contamination.json", "tokenizer.json", "tokenizer_config.json", "heldout.jsonl", "train-00000.jsonl"]) assert.ok(fs.existsSync(path.join(out, f)), f);
  const { train, heldout } = readAll(out);
  const all = [...train, ...heldout].map((d) => d.text).join("\n\n");
  assert.ok(/alpha\d+xsumin/.test(all) && /alpha\d+mnlih/.test(all), "train inputs are in");
  for (const marker of ["XSUMOUT", "SQAQUESTION", "SQAANSWER", "XSUMTESTOUT", "xsumtest", "Loved it a lot"]) assert.ok(!all.includes(marker), marker);
  // the paper's own labels never follow a paper input: no paper-input document has a label word of its task
  for (const d of [...train, ...heldout].filter((x) => x.kind === "paper-input")) assert.ok(!/\b(positive|negative|entailment|neutral|contradiction)\b/.test(d.text), d.text);
  // train record 3 of xsum is also the few-shot demonstration: left out
  assert.ok(!all.includes(words(3, "xsumin")));
  const build = JSON.parse(fs.readFileSync(path.join(out, "build.json"), "utf8")) as { paperTrainExcluded: Record<string, number> };
  assert.equal(build.paperTrainExcluded.xsum, 1);
  // held-out records of each paper dataset are not in the training shards
  const trainTexts = new Set(train.map((d) => d.text));
  const heldPaper = heldout.filter((d) => d.kind === "paper-input");
  assert.equal(heldPaper.length, 15);
  for (const d of heldPaper) assert.ok(!trainTexts.has(d.text));
  // every kind is there, and the statistics add up
  assert.deepEqual([...new Set(train.map((d) => d.kind))].sort(), ["general", "mt-nli", "mt-paraphrase", "mt-question", "mt-sentiment", "mt-summary", "paper-input"]);
  assert.equal(r.stats.totals.train.docs, train.length);
  assert.ok(r.stats.totals.train.tokens > 0);
  const c = r.contamination.files.find((f) => f.file === "summary/few_shot/xsum_few_shot.json");
  assert.ok(c && c.found === 0);
});

test("same inputs: the folder is kept; forced rebuild gives identical shards (seeded)", () => {
  const out = path.join(root, "corpus");
  const before = fs.readFileSync(path.join(out, "train-00000.jsonl"), "utf8");
  const again = buildCorpus({ outDir: out, config: CONFIG, load: () => { throw new Error("should not load"); }, versions: VERSIONS });
  assert.equal(again.skipped, true);
  const forced = buildCorpus({ outDir: out, config: CONFIG, load: () => fakeSources(), versions: VERSIONS, force: true });
  assert.equal(forced.skipped, false);
  assert.equal(fs.readFileSync(path.join(out, "train-00000.jsonl"), "utf8"), before);
  assert.equal(fs.readFileSync(path.join(out, "tokenizer.json"), "utf8").length > 0, true);
  const other = buildCorpus({ outDir: path.join(root, "corpus-seed2"), config: { ...CONFIG, seed: 99 }, load: () => fakeSources(), versions: VERSIONS });
  assert.notEqual(other.inputHash, forced.inputHash);
  assert.notEqual(fs.readFileSync(path.join(root, "corpus-seed2", "train-00000.jsonl"), "utf8"), before);
});

test("a test item in the general text fails the build with a one-line message naming the file", () => {
  const out = path.join(root, "corpus-bad");
  const leak = ` Test article ${words(500, "xsumtest")}`;
  assert.throws(
    () => buildCorpus({ outDir: out, config: { ...CONFIG, heldoutFraction: 0 }, load: () => fakeSources(leak), versions: VERSIONS }),
    (e: Error) => /^contamination check failed: summary\/xsum_test_500\.json: /.test(e.message) && !e.message.includes("\n"),
  );
  assert.ok(!fs.existsSync(out), "no corpus folder is left behind");
  assert.ok(fs.existsSync(`${out}.contamination-failed.json`));
});
