/**
 * Sharding a profile's study, merging results folders, and the SmolLM2 profile's plan and model keys:
 * shards partition the plan (whole models with their evaluations, base evaluations spread), the split
 * is the same on every call, merge refuses a key whose contents differ and writes nothing then, and a
 * LoRA profile's recipe names its tuning while ftgen's keys stay as they were.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { planStudy } from "../src/study/plan";
import { PROFILES } from "../src/study/profile";
import { parseShard, profilePlan, shardPlan, unionPlan } from "../src/study/shards";
import { notebookStudy, runOptions } from "../src/study/studies";
import { mergeResults } from "../src/study/merge";
import { ResultStore, stableJson } from "../src/study/store";
import { jobTraining, modelRecipe, trainRecordsFor } from "../src/study/runner";
import { LLM_FINETUNE_RECIPES } from "../src/train/recipes";

const evalId = (e: { model: string; dataset: string; k: number; map: number }): string => `${e.model}|${e.dataset}|${e.k}|${e.map}`;

test("unionPlan keeps each model and evaluation once; profilePlan is the notebooks' studies together", () => {
  const p = PROFILES.quick;
  const gen = planStudy(notebookStudy("generalization", p)), icl = planStudy(notebookStudy("icl", p));
  const u = unionPlan([gen, icl]);
  const want = new Set([...gen.evals, ...icl.evals].map(evalId));
  assert.equal(u.evals.length, want.size);
  assert.equal(new Set(u.models.map((m) => m.id)).size, u.models.length);
  // 01 and 02 share the base and FT models; 02 adds no model.
  assert.deepEqual(u.models.map((m) => m.id), gen.models.map((m) => m.id));
  const all = profilePlan(p);
  for (const e of u.evals) assert.ok(all.evals.some((x) => evalId(x) === evalId(e)));
  assert.ok(all.models.some((m) => m.method.kind === "fticl") && all.models.some((m) => m.trainSize === 4000));
  assert.throws(() => unionPlan([gen, { ...icl, spec: { ...icl.spec, testItems: 99 } }]), /scores 99 items/);
});

test("shards partition the plan: whole models with their evaluations, base evaluations spread, the same split every time", () => {
  const p = PROFILES.default;
  const plan = profilePlan(p);
  const opts = runOptions(p);
  const records = (m: (typeof plan.models)[number]) => trainRecordsFor(m, opts) ?? 0;
  for (const n of [1, 2, 3, 7]) {
    const parts = Array.from({ length: n }, (_, i) => shardPlan(plan, i, n, records, p.epochs));
    const evals = parts.flatMap((s) => s.evals.map(evalId));
    assert.equal(evals.length, plan.evals.length, `${n} shards: every evaluation once`);
    assert.deepEqual(new Set(evals), new Set(plan.evals.map(evalId)));
    const trained = parts.flatMap((s) => s.models.filter((m) => m.method.kind !== "base").map((m) => m.id));
    assert.equal(trained.length, plan.models.length - 1, `${n} shards: every fine-tuned model in exactly one shard`);
    for (const s of parts) {
      const mine = new Set(s.models.map((m) => m.id));
      // A shard has every evaluation of its fine-tuned models (it trains them itself) and no other model's.
      for (const e of s.evals) assert.ok(mine.has(e.model), `${e.model} evaluated without its model`);
      for (const m of s.models.filter((x) => x.method.kind !== "base")) assert.equal(s.evals.filter((e) => e.model === m.id).length, plan.evals.filter((e) => e.model === m.id).length);
    }
    if (n > 1) {
      // LPT keeps the shards within one unit of each other, and the base model's evaluations are spread.
      const costs = parts.map((s) => s.cost);
      assert.ok(Math.max(...costs) - Math.min(...costs) <= Math.max(...costs) * 0.5, `unbalanced: ${costs}`);
      assert.ok(parts.filter((s) => s.evals.some((e) => e.model === "base")).length > 1);
    }
    // Deterministic: the same call gives the same split.
    assert.deepEqual(shardPlan(plan, n - 1, n, records, p.epochs).evals.map(evalId), parts[n - 1].evals.map(evalId));
  }
});

test("parseShard: i/n with 0 ≤ i < n, else one line", () => {
  assert.deepEqual(parseShard("2/4"), { index: 2, count: 4 });
  for (const bad of ["4/4", "1", "a/b", "-1/2", "0/0"]) assert.throws(() => parseShard(bad), /--shard ".*": expected i\/n/);
});

function fakeRecord(store: ResultStore, key: string, value: number, scores: number[], extra: Record<string, unknown> = {}): void {
  store.put(key, "m", {
    spec: { task: "sentiment", dataset: "amazon", k: 0, map: 0, limit: scores.length, fieldTokenCap: 8 }, modelId: "native:/x", engine: "native (1 thread)",
    metric: "accuracy", value, ci: { low: 0, mid: value, high: 1 }, n: scores.length, excluded: 0, truncatedPrompts: 0, extra: {}, seconds: 1,
    items: scores.map((score, position) => ({ position, promptHash: "h", gold: "positive", output: "positive", score })), ...extra,
  } as never);
}

test("merge: copies records and model entries, counts identical ones, refuses a key whose contents differ and writes nothing", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-merge-"));
  const a = new ResultStore(path.join(tmp, "a")), b = new ResultStore(path.join(tmp, "b")), dest = path.join(tmp, "dest");
  fakeRecord(a, "k1", 1, [1, 1]);
  fakeRecord(b, "k2", 0.5, [1, 0]);
  // The same record computed elsewhere: another time, thread count and folder, the same contents.
  fakeRecord(b, "k1", 1, [1, 1], { seconds: 9, engine: "native (2 threads)", modelId: "native:/elsewhere" });
  a.putModel("f1", { id: "ft/x/s0", modelKey: "mk", weightsHash: "w1", seconds: 3, machine: { cpu: "A" } });
  b.putModel("f1", { id: "ft/x/s0", modelKey: "mk", weightsHash: "w1", seconds: 4, machine: { cpu: "B" } });
  const r = mergeResults([a.dir, b.dir], dest);
  assert.deepEqual(r, { added: { records: 2, models: 1 }, identical: { records: 1, models: 1 } });
  const merged = new ResultStore(dest);
  assert.deepEqual(merged.all().map((x) => x.key), ["k1", "k2"]);
  assert.deepEqual(merged.items("k2").map((x) => x.score), [1, 0]);
  // Merging again adds nothing.
  assert.deepEqual(mergeResults([a.dir, b.dir], dest).added, { records: 0, models: 0 });

  // A key whose items differ: refused, naming both files, and nothing of c is copied.
  const c = new ResultStore(path.join(tmp, "c"));
  fakeRecord(c, "k3", 0, [0]);
  fakeRecord(c, "k2", 0, [0, 0]);
  const before = fs.readdirSync(dest).sort();
  assert.throws(() => mergeResults([c.dir], dest), (e: Error) => /record k2 differs between .*dest.*k2\.json and .*c.*k2\.json \(/.test(e.message) && !e.message.includes("\n"));
  assert.deepEqual(fs.readdirSync(dest).sort(), before, "nothing written");
  // A model trained twice into other weights: refused.
  const d = new ResultStore(path.join(tmp, "d"));
  d.putModel("f1", { id: "ft/x/s0", modelKey: "mk", weightsHash: "w2" });
  assert.throws(() => mergeResults([d.dir], dest), /model f1 differs .*weightsHash: "w1" vs "w2"/);
  assert.throws(() => mergeResults([path.join(tmp, "nope")], dest), /no such results folder/);
});

test("a store reads through to its readFrom folders and writes only its own", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-readfrom-"));
  const committed = new ResultStore(path.join(tmp, "committed"));
  fakeRecord(committed, "k1", 1, [1]);
  committed.putModel("f1", { id: "m", modelKey: "mk", weightsHash: "w" });
  const shard = new ResultStore(path.join(tmp, "shard"), [committed.dir]);
  assert.equal(shard.get("k1")?.value, 1);
  assert.deepEqual(shard.items("k1").map((x) => x.score), [1]);
  assert.equal(shard.model("f1")?.weightsHash, "w");
  fakeRecord(shard, "k2", 0, [0]);
  assert.ok(fs.existsSync(path.join(shard.dir, "k2.json")) && !fs.existsSync(path.join(committed.dir, "k2.json")));
  assert.deepEqual(shard.all().map((x) => x.key), ["k2"], "all(): the folder's own records");
});

test("the SmolLM2 profile: LoRA FT/FTICL, full FT scored in-domain, cut shot lists, the grid's base records", () => {
  const p = PROFILES.smollm2;
  const plan = profilePlan(p);
  const opts = runOptions(p);
  assert.equal(opts.engine, "native");
  assert.equal(opts.batchSize, 16);
  const full = plan.models.filter((m) => m.id.startsWith("ft-full/"));
  assert.equal(full.length, 5 * p.seeds.length, "a full-FT model per task and seed");
  for (const m of full) assert.deepEqual([...new Set(plan.evals.filter((e) => e.model === m.id).map((e) => e.scope))], ["in"]);
  // Shot lists cut to 0 and the FTICL k; FTICL at the first k of each task.
  const ks = (task: string) => [...new Set(plan.evals.filter((e) => e.task === task).map((e) => e.k))].sort();
  assert.deepEqual(ks("summary"), [0, 1]);
  assert.deepEqual(ks("inference"), [0, 3]);
  // The time cuts: one train size, no CNN, SciQA or PDFS, map 1 only zero-shot and not cross-task.
  assert.deepEqual([...new Set(plan.models.flatMap((m) => (m.trainSize ? [m.trainSize] : [])))], [2000]);
  assert.ok(!plan.evals.some((e) => ["cnn", "sciqa", "pdfs"].includes(e.dataset)));
  assert.ok(plan.evals.filter((e) => e.map === 1).every((e) => e.k === 0 && e.scope !== "cross"));
  assert.ok(plan.evals.some((e) => e.map === 1 && e.scope === "out") && plan.evals.some((e) => e.map === 0 && e.k > 0 && e.scope === "out"));
  assert.deepEqual(plan.models.filter((m) => m.method.kind === "fticl" && m.seed === 0).map((m) => m.id).sort(),
    ["fticl1/question/2000/s0", "fticl1/summary/2000/s0", "fticl2/detection/2000/s0", "fticl2/sentiment/2000/s0", "fticl3/inference/2000/s0"]);
  // The recipes: LoRA (its lr) for FT, full (its lr) for ft-full; the tuning is in the key.
  const lora = plan.models.find((m) => m.id === "ft/sentiment/2000/s1")!;
  const fullFt = plan.models.find((m) => m.id === "ft-full/sentiment/2000/s1")!;
  assert.deepEqual(jobTraining(lora, opts).tuning, LLM_FINETUNE_RECIPES.lora.tuning);
  assert.equal(jobTraining(lora, opts).train.lr, LLM_FINETUNE_RECIPES.lora.train.lr);
  assert.equal(jobTraining(fullFt, opts).train.lr, LLM_FINETUNE_RECIPES.full.train.lr);
  assert.equal(jobTraining(fullFt, opts).train.seed, 1);
  const rl = modelRecipe(lora, plan, opts.baseKey!, opts), rf = modelRecipe(fullFt, plan, opts.baseKey!, opts);
  assert.deepEqual(rl.tuning, LLM_FINETUNE_RECIPES.lora.tuning);
  assert.deepEqual(rf.tuning, { kind: "full" });
  assert.equal(rl.records, 250);
  assert.notEqual(stableJson(rl), stableJson(rf));
});

test("ftgen's profiles name no tuning: their model recipes (and keys) are the ones the committed records were stored under", () => {
  const p = PROFILES.default;
  const plan = profilePlan(p);
  const opts = runOptions(p);
  assert.equal(opts.tuning, undefined);
  const m = plan.models.find((x) => x.id === "ft/inference/2000/s0")!;
  const r = modelRecipe(m, plan, "0e23933f25a9c8bf9ace62923629db8a1948d354", opts);
  assert.equal("tuning" in r, false);
  // The committed index entry of this model (results/models) holds this very recipe.
  const committed = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "results", "models", "04fd5a3a20d71003010ce5d5.json"), "utf8")) as { recipe: unknown };
  assert.equal(stableJson(r), stableJson(committed.recipe));
});
