/**
 * End to end on our own model: a tiny Llama with a tokenizer trained on fixture text, saved as a
 * model folder, loaded behind the CausalLM interface and evaluated on the fixture test sets.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fetchedFixture, FIXTURE_FILES } from "./fixtures";
import { initBackend } from "../src/model/backend";
import { LlamaModel } from "../src/model/llama";
import { saveModelFolder } from "../src/model/folder";
import { trainTokenizer } from "../src/model/tokenizer";
import { TfjsCausalLM } from "../src/evaluate/tfjs-lm";
import { evaluate, promptIds } from "../src/evaluate/evaluate";
import { scoreFirstToken } from "../src/model/inference";

let dir = "";

before(async () => {
  await initBackend({ quiet: true });
  await fetchedFixture();
  const texts = Object.values(FIXTURE_FILES).flatMap((rows) => (rows as Record<string, unknown>[]).flatMap((r) => Object.values(r).filter((v): v is string => typeof v === "string")));
  const tok = trainTokenizer([...texts, "### Input:\n### Sentiment:positive negative\n\n### Summary:"], { vocabSize: 400 });
  const model = LlamaModel.init({ vocab_size: tok.vocabSize, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 2, max_position_embeddings: 256 }, 5);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-lm-"));
  saveModelFolder(dir, model, { tokenizer: tok });
  model.dispose();
});

test("a saved model folder evaluates through the CausalLM interface, consistently with the model's own scoring", async () => {
  const lm = TfjsCausalLM.fromFolder(dir);
  assert.match(lm.engine, /^tfjs-/);
  const cls = await evaluate(lm, { task: "sentiment", dataset: "amazon", k: 2, map: 0, limit: 250, fieldTokenCap: 64 });
  assert.equal(cls.n, 4);
  assert.ok(cls.items.every((x) => ["positive", "negative"].includes(x.output) && x.labelLogProbs!.length === 2 && x.labelLogProbs!.every((v) => v < 0)));
  // the adapter's scores are the model's own first-token scores for the same prompt ids
  const pos = lm.tokenizer.encode("positive")[0], neg = lm.tokenizer.encode("negative")[0];
  const ids = promptIds(lm.tokenizer, "### Input:\nLoved it.\n### Sentiment:");
  const direct = scoreFirstToken(lm.model, [ids], [pos, neg]).logProbs[0];
  const viaLm = (await lm.nextTokenLogProbs([ids], [pos, neg]))[0];
  assert.deepEqual(viaLm, direct);
  const gen = await evaluate(lm, { task: "summary", dataset: "xsum", k: 1, map: 0, limit: 250, fieldTokenCap: 64, maxNewTokens: 8 });
  assert.equal(gen.items.length, 2);
  assert.ok(gen.items.every((x) => x.score >= 0 && x.score <= 1 && !x.output.includes("\n\n")));
  lm.dispose();
});
