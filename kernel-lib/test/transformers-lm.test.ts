/**
 * Our model exported to ONNX and loaded by transformers.js (remote models off) scores like our tfjs
 * model: next-token log-probabilities over the whole vocabulary within 1e-4 on 20 prompts, the same
 * log-likelihoods, and token-identical greedy generations. Nothing is downloaded.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { initBackend } from "../src/model/backend";
import { makeTinyModelFolder } from "./fixtures";
import { exportOnnx } from "../src/model/onnx-export";
import { TfjsCausalLM } from "../src/evaluate/tfjs-lm";
import { sharedPrefixLength, TransformersCausalLM } from "../src/evaluate/transformers-lm";

let dir = "";
let ours: TfjsCausalLM;
let onnx: TransformersCausalLM;

before(async () => {
  await initBackend({ quiet: true });
  dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-tjs-")), "tiny-llama");
  makeTinyModelFolder(dir, { ctx: 128, seed: 11 });
  exportOnnx(dir);
  ours = TfjsCausalLM.fromFolder(dir);
  onnx = await TransformersCausalLM.fromFolder(dir, { batchSize: 8 });
});
after(() => { ours?.dispose(); onnx?.dispose(); });

const TEXTS = [
  "Fine.", "### Input:\nGreat product, works well.\n### Sentiment:", "### Summary:", "positive negative", "The", "Input: a b c",
  "### Input_1:\nA man sleeps.\n### Input_2:\nA man is awake.\n### Inference:", "no", "yes yes no", "It is good and it is bad.",
  "### Answer:\nA dog\n### Question:", "Summary of the text", "The movie was", "negative", "### Input:\n\n### Sentiment:positive\n\n### Input:\nbad\n### Sentiment:",
  "a", "What is it?", "Fine. Fine. Fine.", "The end.", "### Input:\nThe service was slow and the food cold.\n### Sentiment:",
];

test("the tokenizer transformers.js reads from our tokenizer.json encodes as ours", () => {
  for (const t of TEXTS) assert.deepEqual(onnx.tokenizer.encode(t), ours.tokenizer.encode(t), t);
  for (const t of TEXTS.slice(0, 5)) assert.equal(onnx.tokenizer.decode(ours.tokenizer.encode(t)), ours.tokenizer.decode(ours.tokenizer.encode(t)));
  assert.equal(onnx.tokenizer.decode([]), "", "an empty generation (EOS first) decodes to the empty string");
  assert.equal(onnx.tokenizer.eosId, ours.tokenizer.eosId);
});

test("next-token log-probabilities over the whole vocabulary match within 1e-4 on 20 prompts", async (t) => {
  const prompts = TEXTS.map((s) => [ours.tokenizer.bosId, ...ours.tokenizer.encode(s)]);
  const vocab = Array.from({ length: ours.model.config.vocab_size }, (_, i) => i);
  const a = await ours.nextTokenLogProbs(prompts, vocab);
  const b = await onnx.nextTokenLogProbs(prompts, vocab);
  let max = 0;
  a.forEach((row, i) => row.forEach((v, j) => { max = Math.max(max, Math.abs(v - b[i][j])); }));
  t.diagnostic(`max |Δ log p| over ${prompts.length} prompts × ${vocab.length} tokens: ${max.toExponential(2)}`);
  assert.ok(max < 1e-4, `${max}`);
  const ll = await onnx.logLikelihood(prompts.slice(0, 4), [[5, 6], [7], [8, 9, 10], [11]]);
  const llRef = await ours.logLikelihood(prompts.slice(0, 4), [[5, 6], [7], [8, 9, 10], [11]]);
  ll.forEach((v, i) => assert.ok(Math.abs(v - llRef[i]) < 1e-4, `${v} vs ${llRef[i]}`));
});

test("greedy generations are token-identical, batched with left padding, with and without a stop rule", async () => {
  const prompts = TEXTS.map((s) => [ours.tokenizer.bosId, ...ours.tokenizer.encode(s)]);
  const a = await ours.generate(prompts, 24);
  const b = await onnx.generate(prompts, 24);
  assert.deepEqual(b, a);
  assert.ok(a.some((g) => g.length > 5), "some rows generate more than a few tokens");
  const stop = (ids: readonly number[]) => ids.length >= 3;
  assert.deepEqual(await onnx.generate(prompts, 24, stop), await ours.generate(prompts, 24, stop));
});

test("sharedPrefixLength: the longest common token prefix, leaving every row a token of its own", () => {
  assert.equal(sharedPrefixLength([[1, 2, 3, 4], [1, 2, 3, 5], [1, 2, 9]]), 2);
  assert.equal(sharedPrefixLength([[1, 2, 3], [1, 2, 3, 4]]), 2, "a row that is all prefix keeps its last token");
  assert.equal(sharedPrefixLength([[1, 2], [3, 4]]), 0);
  assert.equal(sharedPrefixLength([[1, 2, 3]]), 0, "one row: nothing to share");
});

test("k-shot prompts (a shared demonstration prefix run once, its cache shared by every row) score and generate as tfjs does", async (t) => {
  const demos = "### Input:\nGreat product, works well.\n### Sentiment:positive\n\n### Input:\nThe service was slow and the food cold.\n### Sentiment:negative\n\n";
  const prompts = TEXTS.slice(0, 12).map((s) => [ours.tokenizer.bosId, ...ours.tokenizer.encode(`${demos}### Input:\n${s}\n### Sentiment:`)]);
  const shared = sharedPrefixLength(prompts);
  assert.ok(shared >= 16, `the prompts share ${shared} tokens`);
  const labels = [5, 9, 40, 41];
  const a = await ours.nextTokenLogProbs(prompts, labels);
  const b = await onnx.nextTokenLogProbs(prompts, labels);
  let max = 0;
  a.forEach((row, i) => row.forEach((v, j) => { max = Math.max(max, Math.abs(v - b[i][j])); }));
  t.diagnostic(`shared prefix ${shared} tokens; max |Δ log p| ${max.toExponential(2)}`);
  assert.ok(max < 1e-4, `${max}`);
  assert.deepEqual(await onnx.generate(prompts, 16), await ours.generate(prompts, 16));
});
