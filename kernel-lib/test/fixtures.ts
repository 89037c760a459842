/**
 * Test fixtures of our own: a tiny "paper data" folder (a few records per file, written here),
 * its manifest with their blob ids, and the environment pointing kernel-lib at them.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { gitBlobId } from "../src/data/gitBlob";
import { describePath, rawUrl, type Manifest } from "../src/data/manifest";
import { fetchPaperData } from "../src/data/fetch";
import { LlamaModel } from "../src/model/llama";
import { saveModelFolder } from "../src/model/folder";
import { trainTokenizer } from "../src/tokenizer/tokenizer";
import { initBackend } from "../src/model/backend";

export const FIXTURE_FILES: Record<string, unknown> = {
  "sentiment/amazon_test_500.json": [
    { idx: 0, input: "Loved it.", output: "positive" },
    { idx: 1, input: "  ", output: "negative" },
    { idx: 2, input: "Awful.", output: "negative" },
    { idx: 3, input: "Great value.", output: "positive" },
    { idx: 4, input: "Works well.", output: "positive" },
  ],
  "sentiment/amazon_train_2000.json": [{ idx: 9, input: "Fine.", output: "positive" }],
  "sentiment/few_shot/amazon_few_shot.json": [
    { idx: 5, input: "Superb.", output: "positive" },
    { idx: 6, input: "Junk.", output: "negative" },
    { idx: 7, input: "Okay.", output: "positive" },
  ],
  "inference/multinli_test_500.json": [
    { input_1: "A.", input_2: "B.", output: "-", idx: 0 },
    { input_1: "C.", input_2: "D.", output: "neutral", idx: 1 },
  ],
  "summary/xsum_test_500.json": [
    { input: "The council voted on Monday to close the old bridge for repairs.", output: "Old bridge to close for repairs.", idx: 0 },
    { input: "Heavy rain fell all week across the north of the country.", output: "A wet week in the north.", idx: 1 },
  ],
  "summary/few_shot/xsum_few_shot.json": [
    { input: "Prices rose again in May.", output: "Prices up in May.", idx: 7 },
  ],
};

export interface Fixture {
  root: string;
  mirror: string;
  cache: string;
}

/**
 * Write the fixture mirror and manifest under a temp folder and point FTGEN_MANIFEST/FTGEN_DATA_DIR at them.
 * `files` adds files to FIXTURE_FILES or replaces some of them (by path).
 */
export function makeFixture(files: Record<string, unknown> = {}): Fixture {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-fixture-"));
  const mirror = path.join(root, "mirror");
  const cache = path.join(root, "cache");
  const manifest: Manifest = { repo: "x/y", commit: "0".repeat(40), files: [] };
  for (const [rel, value] of Object.entries({ ...FIXTURE_FILES, ...files })) {
    const file = path.join(mirror, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const bytes = Buffer.from(JSON.stringify(value, null, 4));
    fs.writeFileSync(file, bytes);
    manifest.files.push({ path: rel, ...describePath(rel), bytes: bytes.length, blob: gitBlobId(bytes), url: rawUrl(rel) });
  }
  // In the manifest, not in the mirror: optional (reported) and never fatal.
  const missing = "summary/xsum_train_4000.json";
  manifest.files.push({ path: missing, ...describePath(missing), bytes: null, blob: "1".repeat(40), url: rawUrl(missing), optional: true });
  fs.writeFileSync(path.join(root, "manifest.json"), JSON.stringify(manifest));
  process.env.FTGEN_MANIFEST = path.join(root, "manifest.json");
  process.env.FTGEN_DATA_DIR = cache;
  return { root, mirror, cache };
}

/** makeFixture, then fetch it into the cache. */
export async function fetchedFixture(files: Record<string, unknown> = {}): Promise<Fixture> {
  const fx = makeFixture(files);
  await fetchPaperData({ mirror: fx.mirror, dataDir: fx.cache });
  return fx;
}

/**
 * A tiny model folder (2 layers, d 32) with a tokenizer trained on the fixture texts, for tests
 * that need a real model end to end. Needs an initialized tfjs backend.
 */
export function makeTinyModelFolder(dir: string, opts: { ctx: number; seed: number }): void {
  const texts = Object.values(FIXTURE_FILES).flatMap((rows) => (rows as Record<string, unknown>[]).flatMap((r) => Object.values(r).filter((v): v is string => typeof v === "string")));
  const tok = trainTokenizer([...texts, "### Input:\n### Sentiment:positive negative\n\n### Summary:"], { vocabSize: 400 });
  const model = LlamaModel.init({ vocab_size: tok.vocabSize, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 2, max_position_embeddings: opts.ctx }, opts.seed);
  saveModelFolder(dir, model, { tokenizer: tok });
  model.dispose();
}

/**
 * The usual set-up of a test that trains or scores: the backend, the fixture data, and a tiny model
 * folder `<work>/base` in a fresh temporary folder `work`.
 */
export async function tinyModelWorkspace(prefix: string, opts: { ctx: number; seed: number }): Promise<{ work: string; base: string }> {
  await initBackend({ quiet: true });
  await fetchedFixture();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const base = path.join(work, "base");
  makeTinyModelFolder(base, opts);
  return { work, base };
}
