/**
 * End to end on our own model: a tiny Llama with a tokenizer trained on fixture text, saved as a
 * model folder, loaded behind the CausalLM interface and evaluated on the fixture test sets.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { tinyModelWorkspace } from "./fixtures";
import { TfjsCausalLM } from "../src/evaluate/tfjs-lm";
import { evaluate, promptIds } from "../src/evaluate/evaluate";
import { scoreFirstToken } from "../src/model/inference";

let dir = "";

before(async () => {
  ({ base: dir } = await tinyModelWorkspace("ftgen-lm-", { ctx: 256, seed: 5 }));
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
