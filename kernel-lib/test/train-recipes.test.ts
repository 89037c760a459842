/** FT and FTICL from a base model folder to a new one, on fixture data, with a tiny Llama. */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { tinyModelWorkspace } from "./fixtures";
import { loadModelFolder } from "../src/model/folder";
import { finetune } from "../src/train/recipes";

let base = "", tmp = "";

before(async () => {
  ({ work: tmp, base } = await tinyModelWorkspace("ftgen-recipe-", { ctx: 128, seed: 1 }));
});

const weights = (dir: string): number[] => {
  const { model } = loadModelFolder(dir);
  const w = Array.from(model.variables.get("model.layers.0.mlp.up_proj.weight")!.dataSync());
  model.dispose();
  return w;
};

test("FT and FTICL write a model folder with its full configuration; a seed fixes the result", async () => {
  const common = { base, task: "sentiment" as const, fieldTokenCap: 32, train: { epochs: 3, batchSize: 1, microBatchSize: 1, lr: 1e-2, seed: 3 } };
  const ft = await finetune({ ...common, method: "ft", out: path.join(tmp, "ft") });
  assert.equal(ft.examples, 1);
  assert.equal(ft.result.steps, 3);
  assert.ok(ft.result.losses.every(Number.isFinite));
  assert.ok(ft.result.losses[2] < ft.result.losses[0], `loss ${ft.result.losses}`);
  for (const f of ["config.json", "tokenizer.json", "model.safetensors", "training.json"]) assert.ok(fs.existsSync(path.join(tmp, "ft", f)), f);
  const rec = JSON.parse(fs.readFileSync(path.join(tmp, "ft", "training.json"), "utf8"));
  assert.equal(rec.recipe, "ft");
  assert.equal(rec.k, 0);
  assert.equal(rec.trainFile, "sentiment/amazon_train_2000.json");
  assert.equal(rec.train.seed, 3);
  assert.equal(rec.losses.length, 3);

  const fticl = await finetune({ ...common, method: "fticl", k: 2, out: path.join(tmp, "fticl") });
  const rec2 = JSON.parse(fs.readFileSync(path.join(tmp, "fticl", "training.json"), "utf8"));
  assert.equal(rec2.recipe, "fticl");
  assert.equal(rec2.k, 2);
  assert.ok(fticl.result.tokens > ft.result.tokens, "demonstrations lengthen every example");
  assert.notDeepEqual(weights(path.join(tmp, "fticl")), weights(path.join(tmp, "ft")));

  const again = await finetune({ ...common, method: "ft", out: path.join(tmp, "ft-again") });
  assert.deepEqual(again.result.losses, ft.result.losses);
  assert.deepEqual(weights(path.join(tmp, "ft-again")), weights(path.join(tmp, "ft")));
  assert.ok(!fs.existsSync(path.join(tmp, "ft", ".checkpoints")));
});

test("FT on records of your own instead of the paper's train file", async () => {
  const records = [
    { position: 0, input: "Grand.", output: "positive" as const },
    { position: 1, input: "Dire.", output: "negative" as const },
    { position: 2, input: "Fine day.", output: "positive" as const },
  ];
  const r = await finetune({ base, task: "sentiment", method: "ft", fieldTokenCap: 32, records: { name: "mine:sentiment", records }, limit: 2,
    out: path.join(tmp, "own"), train: { epochs: 1, batchSize: 1, microBatchSize: 1, lr: 1e-2, seed: 3 } });
  assert.equal(r.examples, 2);
  assert.equal(r.result.steps, 2);
  const rec = JSON.parse(fs.readFileSync(path.join(tmp, "own", "training.json"), "utf8"));
  assert.equal(rec.trainFile, "mine:sentiment");
  assert.equal(rec.examples, 2);
});

test("records of your own are checked at the door: one line naming the item and the field", async () => {
  const bad: [unknown[], RegExp][] = [
    [[{ input: "Grand.", output: "positive" }, { input: "Meh.", output: "neutralish" }], /^finetune records "mine": item 1: label "neutralish" is not one of positive\/negative$/],
    [[{ input: "", output: "positive" }], /^finetune records "mine": item 0: field "input" is empty$/],
    [[{ input: "Grand.", output: 1 }], /^finetune records "mine": item 0: field "output" is number, not a string$/],
    [[{ output: "positive" }], /^finetune records "mine": item 0: missing field "input" \(task sentiment needs input, output\)$/],
    [[{ input: "Grand.", output: "positive", lable: "x" }], /^finetune records "mine": item 0: unexpected field "lable" for task sentiment$/],
  ];
  for (const [records, want] of bad) {
    await assert.rejects(finetune({ base, task: "sentiment", method: "ft", fieldTokenCap: 32, records: { name: "mine", records: records as never }, out: path.join(tmp, "bad") }), (e: Error) => want.test(e.message));
  }
  assert.ok(!fs.existsSync(path.join(tmp, "bad", "training.json")), "nothing trained");
});
