/**
 * The shipped base model (data/base-model, made by `npm run pretrain`): it loads as a model folder
 * with its tokenizer, its card agrees with its files, and the held-out loss recomputed here on the
 * sample shipped beside it matches the card.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { initBackend } from "../src/model/backend";
import { loadModelFolder } from "../src/model/folder";
import { parameterCount } from "../src/model/llama";
import { BpeTokenizer } from "../src/tokenizer/tokenizer";
import { heldoutLoss } from "../src/pretrain/run/heldout";
import { readCorpusJsonl } from "../src/pretrain/corpus/corpus";
import type { ModelCard } from "../src/pretrain/run/model-card";
import { baseModelDir } from "../src/util/paths";
import { answerBoundaryMismatches, boundaryCase } from "../src/prompts/boundary";

const dir = baseModelDir(); // data/base-model (FTGEN_BASE_MODEL checks another export)

test("the shipped base model loads, and its card matches its files and its held-out loss", async () => {
  assert.ok(fs.existsSync(path.join(dir, "model.safetensors")), `${dir}: the base model is not there (npm run pretrain makes it)`);
  await initBackend({ quiet: true });
  const card = JSON.parse(fs.readFileSync(path.join(dir, "model-card.json"), "utf8")) as ModelCard;
  const { model, tokenizer } = loadModelFolder(dir, { loadTokenizer: (d: string) => BpeTokenizer.load(d) });
  assert.ok(tokenizer);
  assert.equal(parameterCount(model.config), card.parameters);
  assert.equal(tokenizer.vocabSize, model.config.vocab_size);
  assert.equal(fs.statSync(path.join(dir, card.files.weights)).size, card.files.bytes);
  assert.ok(card.files.bytes <= 25e6, "at most 25 MB");
  // Training really happened: the held-out loss is far below a uniform guess (ln V).
  assert.ok(card.heldout.all.loss < Math.log(model.config.vocab_size) - 2, `held-out loss ${card.heldout.all.loss}`);
  // Recompute the shipped sample's loss with the stored (f16) weights: the card's value, computed
  // at export from the f32 weights, within the f16 rounding.
  assert.ok(card.heldoutSample, "the card records the shipped held-out sample");
  const docs = readCorpusJsonl(path.join(dir, card.heldoutSample.file));
  assert.equal(docs.length, card.heldoutSample.docs);
  const got = heldoutLoss(model, tokenizer as BpeTokenizer, docs, { seqLen: card.recipe.config.train.seqLen, batchSize: 16 }).all;
  assert.equal(got.tokens, card.heldoutSample.tokens);
  assert.ok(Math.abs(got.loss - card.heldoutSample.loss) < 0.01, `recomputed ${got.loss}, card ${card.heldoutSample.loss}`);
  model.dispose();
});

test("the shipped tokenizer keeps every answer boundary but map 1's trailing space, and its card says so", () => {
  const card = JSON.parse(fs.readFileSync(path.join(dir, "model-card.json"), "utf8")) as ModelCard;
  const tok = BpeTokenizer.load(dir);
  const found = answerBoundaryMismatches(tok).map(boundaryCase);
  assert.deepEqual(found, ["1/inference/entailment", "1/inference/neutral", "1/inference/contradiction"]);
  assert.equal(card.corpus.tokenizerPretokenizer, tok.pretokenizer);
  assert.deepEqual(card.corpus.answerBoundaryMismatches, found);
  // the labels are one token each, so first-token scoring sees the whole word
  for (const label of ["positive", "negative", "yes", "no", "entailment", "neutral", "contradiction"]) assert.equal(tok.encode(label).length, 1, label);
});
