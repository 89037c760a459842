/**
 * runStudy end to end on the fixture data and a tiny base model: it fine-tunes and evaluates, a
 * rerun reuses every model and record, and a changed setting recomputes only what it touches.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { tinyModelWorkspace } from "./fixtures";
import { planStudy, type StudySpec } from "../src/study/plan";
import { runStudy, recordRows, trainRecordsFor, modelRecipe, modelKeyOf, TRAIN_CODE_VERSION, type RunEvent, type RunOptions } from "../src/study/runner";
import { recomputeStudy } from "../src/study/recompute";
import { ResultStore, folderHash } from "../src/study/store";
import { findEntry } from "../src/data/manifest";
import { FINETUNE_DEFAULTS } from "../src/train/loop";

let base = "";
let work = "";

before(async () => {
  ({ work, base } = await tinyModelWorkspace("ftgen-study-", { ctx: 256, seed: 3 }));
});

const spec: StudySpec = {
  name: "tiny", trainTasks: ["sentiment"], trainSizes: [2000], methods: [{ kind: "base" }, { kind: "ft" }],
  scopes: ["in", "cross"], shots: [0], maps: [0], seeds: [0], testItems: 250, fieldTokenCap: 32,
};

/** The plan, keeping the cross-task sets the fixture data has (xsum, multinli). */
function tinyPlan(s: StudySpec) {
  const plan = planStudy(s);
  plan.evals = plan.evals.filter((e) => ["amazon", "xsum", "multinli"].includes(e.dataset));
  return plan;
}

test("fine-tunes and scores; a rerun reuses everything; a changed setting recomputes only its records", async () => {
  const opts = (events: RunEvent[]): RunOptions => ({
    base, modelsDir: path.join(work, "models"), store: new ResultStore(path.join(work, "results")), trainLimit: 4,
    train: { epochs: 1, batchSize: 2, microBatchSize: 2 }, onProgress: (e) => events.push(e),
  });
  const first: RunEvent[] = [];
  const recs = await runStudy(tinyPlan(spec), opts(first));
  // base: amazon (in), plus FT: amazon (in), xsum and multinli (cross-task).
  assert.deepEqual(recs.map((r) => `${r.model}:${r.scope}:${r.spec.task}/${r.spec.dataset}`), [
    "base:base:sentiment/amazon", "ft/sentiment/2000/s0:in:sentiment/amazon", "ft/sentiment/2000/s0:cross:summary/xsum", "ft/sentiment/2000/s0:cross:inference/multinli",
  ]);
  assert.ok(first.some((e) => e.kind === "train"), "the FT model was trained");
  assert.ok(recs.every((r) => !r.cached));
  // Cross-task rule: the xsum record is a generation score (ROUGE-L), prompted as summarization.
  assert.equal(recs[2].metric, "rougeL");
  assert.equal(recs[3].metric, "accuracy");
  assert.notEqual(recs[0].modelKey, recs[1].modelKey);

  const second: RunEvent[] = [];
  const again = await runStudy(tinyPlan(spec), opts(second));
  assert.ok(!second.some((e) => e.kind === "train"), "no training on a rerun");
  assert.ok(again.every((r) => r.cached));
  assert.deepEqual(again.map((r) => r.value), recs.map((r) => r.value));

  // Fewer test items: every record is new, the model is reused.
  const third: RunEvent[] = [];
  const fewer = await runStudy(tinyPlan({ ...spec, testItems: 2 }), opts(third));
  assert.ok(!third.some((e) => e.kind === "train"));
  assert.ok(fewer.every((r) => !r.cached && r.n <= 2));
  // recordRows flattens for tables.
  const rows = recordRows(fewer, new ResultStore(path.join(work, "results")));
  assert.deepEqual(Object.keys(rows[0]), ["model", "method", "trainTask", "scope", "testTask", "dataset", "kind", "k", "map", "metric", "score", "low", "high", "n", "balanced acc.", "top label", "baseline", "baseline is", "truncated"]);
  assert.ok(rows.every((r) => r.truncated === "" || /^\d+ of \d+$/.test(String(r.truncated))), "truncated prompts as 'n of N', or blank");
  assert.match(String(rows[0]["baseline is"]), /^majority label \((positive|negative)\)$/);
  assert.match(String(rows[0]["top label"]), /^(positive|negative) \d+%/);
  assert.match(String(rows[2]["baseline is"]), /^(first \d+ words|best fixed output)$/, "xsum: a generation baseline");
});

test("two worker processes give the in-process records, in plan order", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-study-workers-"));
  const mk = (sub: string, workers: number): RunOptions => ({
    base, modelsDir: path.join(dir, sub, "models"), store: new ResultStore(path.join(dir, sub, "results")), trainLimit: 4,
    train: { epochs: 1, batchSize: 2, microBatchSize: 2 }, workers,
  });
  const plan = tinyPlan({ ...spec, testItems: 3 });
  const events: RunEvent[] = [];
  const parallel = await runStudy(plan, { ...mk("w2", 2), onProgress: (e) => events.push(e) });
  const serial = await runStudy(plan, mk("w1", 1));
  assert.deepEqual(parallel.map((r) => `${r.model}:${r.spec.dataset}`), serial.map((r) => `${r.model}:${r.spec.dataset}`));
  assert.deepEqual(parallel.map((r) => r.value), serial.map((r) => r.value));
  const evalEvents = events.filter((e) => e.kind === "eval") as Extract<RunEvent, { kind: "eval" }>[];
  assert.deepEqual(evalEvents.map((e) => e.done), [1, 2, 3, 4]);
  assert.ok(evalEvents.every((e) => e.total === 4));
});

test("cached-only (npm run figures): records come back without the model folders; a missing one is a one-line error", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-study-cached-"));
  const opts: RunOptions = {
    base, modelsDir: path.join(dir, "models"), store: new ResultStore(path.join(dir, "results")), trainFraction: 0.002,
    train: { epochs: 1, batchSize: 2, microBatchSize: 2 },
  };
  const plan = tinyPlan({ ...spec, testItems: 3 });
  const recs = await runStudy(plan, opts);
  // trainFraction: round(2000 × 0.002) = 4 records asked for (the fixture's file has 1); the store's
  // model index records what was trained, with the weights' hash.
  const index = fs.readdirSync(path.join(dir, "results", "models"));
  assert.equal(index.length, 1);
  const entry = JSON.parse(fs.readFileSync(path.join(dir, "results", "models", index[0]), "utf8"));
  assert.equal(entry.id, "ft/sentiment/2000/s0");
  assert.equal(entry.examples, 1);
  assert.ok(entry.steps >= 1 && Number.isFinite(entry.finalLoss));
  assert.equal(entry.modelKey, recs[1].modelKey);
  assert.equal(entry.weightsHash, folderHash(path.join(dir, "models", index[0].slice(0, -5))), "the weights' hash is recorded as a check");
  assert.notEqual(entry.weightsHash, entry.modelKey, "and is not the key");
  // A fresh clone: results and index, no fine-tuned folders.
  fs.rmSync(path.join(dir, "models"), { recursive: true });
  process.env.FTGEN_CACHED_ONLY = "1";
  try {
    const again = await runStudy(plan, opts);
    assert.ok(again.every((r) => r.cached));
    assert.deepEqual(again.map((r) => r.value), recs.map((r) => r.value));
    await assert.rejects(runStudy(tinyPlan({ ...spec, methods: [{ kind: "base" }], testItems: 2 }), opts), (e: Error) =>
      /results\/[0-9a-f]{24}\.json: no stored result for amazon k=0 map 0 \(model [0-9a-f]{12}\); run npm run study first$/.test(e.message) && !e.message.includes("\n"));
    // (Models are scored as they are reached, the base model first: a plan of the FT model alone meets its missing folder.)
    await assert.rejects(runStudy(tinyPlan({ ...spec, methods: [{ kind: "ft" }], testItems: 2 }), opts), (e: Error) =>
      /^ft\/sentiment\/2000\/s0: not trained yet \(no .*\) and 3 of its records are missing from .*; run npm run study first$/.test(e.message) && !e.message.includes("\n"));
    await assert.rejects(runStudy(tinyPlan({ ...spec, methods: [{ kind: "ft" }], testItems: 3, fieldTokenCap: 16 }), opts), /ft\/sentiment\/2000\/s0: not trained yet .*; run npm run study first$/);
  } finally {
    delete process.env.FTGEN_CACHED_ONLY;
  }
});

test("trainRecordsFor: trainLimit wins, else round(size × trainFraction), else the whole file", () => {
  const job = { id: "ft/sentiment/4000/s0", method: { kind: "ft" as const }, task: "sentiment" as const, trainSize: 4000, seed: 0 };
  assert.equal(trainRecordsFor(job, { trainLimit: 7, trainFraction: 0.5 }), 7);
  assert.equal(trainRecordsFor(job, { trainFraction: 0.25 }), 1000);
  assert.equal(trainRecordsFor(job, { trainFraction: 1 }), undefined);
  assert.equal(trainRecordsFor(job, {}), undefined);
});

test("the ONNX engine (transformers.js) gives the tfjs records' scores, and each record names its engine", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-study-engines-"));
  const mk = (sub: string, engine: "tfjs" | "onnx"): RunOptions => ({
    base, modelsDir: path.join(dir, "models"), store: new ResultStore(path.join(dir, sub)), trainLimit: 4,
    train: { epochs: 1, batchSize: 2, microBatchSize: 2 }, engine,
  });
  const plan = tinyPlan({ ...spec, testItems: 4 });
  const viaTfjs = await runStudy(plan, mk("tfjs", "tfjs"));
  const viaOnnx = await runStudy(plan, mk("onnx", "onnx"));
  assert.deepEqual(viaOnnx.map((r) => r.value), viaTfjs.map((r) => r.value));
  assert.ok(viaTfjs.every((r) => r.engine.startsWith("tfjs-")));
  assert.ok(viaOnnx.every((r) => r.engine === "onnxruntime-node (transformers.js)"));
  assert.ok(fs.existsSync(path.join(base, "onnx", "model.onnx")), "exported beside the weights on first use");
});

test("a model's key is its recipe: base weights, method, task, sizes, seed, cap, the full training configuration, data blob ids, code version", () => {
  const plan = tinyPlan(spec);
  const job = plan.models[1];
  const opts: RunOptions = { trainFraction: 0.25, train: { epochs: 2, lr: 1e-3 } };
  const recipe = modelRecipe(job, plan, "b".repeat(40), opts);
  assert.deepEqual(recipe, {
    base: "b".repeat(40), method: "ft", task: "sentiment", trainSize: 2000, records: 500, seed: 0, fieldTokenCap: 32,
    train: { ...FINETUNE_DEFAULTS, epochs: 2, lr: 1e-3, seed: 0 },
    data: { train: findEntry("sentiment", "amazon", "train", 2000).blob, fewShot: null }, code: TRAIN_CODE_VERSION,
  });
  const key = modelKeyOf(job, plan, "b".repeat(40), opts);
  assert.match(key, /^[0-9a-f]{40}$/);
  // Each part moves the key; FTICL also hashes the few-shot file its demonstrations come from.
  const others = [
    modelKeyOf(job, plan, "c".repeat(40), opts), modelKeyOf({ ...job, seed: 1 }, plan, "b".repeat(40), opts),
    modelKeyOf(job, plan, "b".repeat(40), { ...opts, trainFraction: 0.5 }), modelKeyOf(job, plan, "b".repeat(40), { ...opts, train: { epochs: 2, lr: 3e-4 } }),
    modelKeyOf(job, { ...plan, spec: { ...plan.spec, fieldTokenCap: 64 } }, "b".repeat(40), opts),
    modelKeyOf({ ...job, method: { kind: "fticl", k: 2 } }, plan, "b".repeat(40), opts),
  ];
  assert.equal(new Set([key, ...others]).size, 7);
  assert.equal((modelRecipe({ ...job, method: { kind: "fticl", k: 2 } }, plan, "b", opts).data as { fewShot: string }).fewShot, findEntry("sentiment", "amazon", "few_shot").blob);
});

test("a fresh clone (records and model index, no model folders) trains nothing, cached-only or not", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-study-clone-"));
  const opts = (events: RunEvent[]): RunOptions => ({
    base, modelsDir: path.join(dir, "models"), store: new ResultStore(path.join(dir, "results")), trainLimit: 2,
    train: { epochs: 1, batchSize: 2, microBatchSize: 2 }, onProgress: (e) => events.push(e),
  });
  const plan = tinyPlan({ ...spec, testItems: 3 });
  const recs = await runStudy(plan, opts([]));
  fs.rmSync(path.join(dir, "models"), { recursive: true });
  const events: RunEvent[] = [];
  const again = await runStudy(plan, opts(events));
  assert.ok(!events.some((e) => e.kind === "train"), "nothing trained");
  assert.ok(!fs.existsSync(path.join(dir, "models")), "no model folder made");
  assert.ok(again.every((r) => r.cached));
  assert.deepEqual(again.map((r) => r.value), recs.map((r) => r.value));
  assert.ok(events.some((e) => e.kind === "model" && e.model === "ft/sentiment/2000/s0" && e.cached));
});

test("same machine, same thread count: the same recipe gives bit-identical weights and records; --recompute reports no difference", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-study-recompute-"));
  const opts: RunOptions = { base, modelsDir: path.join(dir, "models"), store: new ResultStore(path.join(dir, "results")), trainLimit: 3, train: { epochs: 1, batchSize: 2, microBatchSize: 2 } };
  const plan = tinyPlan({ ...spec, testItems: 4 });
  const recs = await runStudy(plan, opts);
  const before = fs.readdirSync(path.join(dir, "results")).sort();
  const report = await recomputeStudy([plan], path.join(dir, "scratch"), opts);
  assert.deepEqual(fs.readdirSync(path.join(dir, "results")).sort(), before, "nothing stored changes");
  assert.equal(report.records.length, recs.length);
  assert.ok(report.records.every((r) => r.stored !== undefined && r.delta === 0 && r.itemsChanged === 0));
  assert.equal(report.identicalRecords, recs.length);
  assert.equal(report.maxAbsDelta, 0);
  assert.deepEqual(report.models.map((m) => [m.model, m.identical]), [["ft/sentiment/2000/s0", true]]);
  assert.match(report.models[0].found, /^[0-9a-f]{40}$/);
});

test("weights that differ from the recorded ones are reported; the recorded hash and the stored records stay", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-study-differ-"));
  const store = new ResultStore(path.join(dir, "results"));
  const events: RunEvent[] = [];
  const opts: RunOptions = { base, modelsDir: path.join(dir, "models"), store, trainLimit: 2, train: { epochs: 1, batchSize: 2, microBatchSize: 2 }, onProgress: (e) => events.push(e) };
  const plan = tinyPlan({ ...spec, testItems: 3 });
  await runStudy(plan, opts);
  // As if the stored records came from another machine's weights.
  const [folder] = store.modelKeys();
  const recorded = "0".repeat(40);
  store.putModel(folder, { ...store.model(folder)!, weightsHash: recorded });
  fs.rmSync(path.join(dir, "models"), { recursive: true });
  events.length = 0;
  const more = await runStudy(tinyPlan({ ...spec, testItems: 2 }), opts); // new records: the model is trained again
  assert.ok(events.some((e) => e.kind === "train"));
  const differ = events.filter((e) => e.kind === "weights-differ") as Extract<RunEvent, { kind: "weights-differ" }>[];
  assert.deepEqual(differ.map((e) => [e.model, e.recorded, e.found]), [["ft/sentiment/2000/s0", recorded, folderHash(path.join(dir, "models", folder))]]);
  assert.equal(store.model(folder)!.weightsHash, recorded, "the recorded check is not overwritten");
  assert.ok(more.every((r) => !r.cached));
  // A finished folder is checked too, each run.
  events.length = 0;
  await runStudy(plan, opts);
  assert.equal(events.filter((e) => e.kind === "weights-differ").length, 1);
});

test("a deadline starts nothing new: past it, the runner trains and evaluates nothing and returns what is stored", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-deadline-"));
  const opts: RunOptions = {
    base, modelsDir: path.join(dir, "models"), store: new ResultStore(path.join(dir, "results")), trainLimit: 4,
    train: { epochs: 1, batchSize: 2, microBatchSize: 2 },
  };
  const plan = tinyPlan(spec);
  // Only the base model's record is stored first.
  const baseOnly = { ...plan, models: plan.models.filter((m) => m.id === "base"), evals: plan.evals.filter((e) => e.model === "base") };
  assert.equal((await runStudy(baseOnly, opts)).length, 1);
  const events: RunEvent[] = [];
  const got = await runStudy(plan, { ...opts, deadline: 0, onProgress: (e) => events.push(e) });
  assert.deepEqual(got.map((r) => r.model), ["base"], "the stored record, and nothing computed");
  assert.ok(got[0].cached);
  assert.ok(!events.some((e) => e.kind === "train"));
  assert.equal(fs.existsSync(path.join(dir, "models")), false, "no model folder started");
  // Without the deadline the same call goes on where it stopped.
  const all = await runStudy(plan, opts);
  assert.equal(all.length, plan.evals.length);
  assert.deepEqual(all.filter((r) => !r.cached).map((r) => r.model), plan.evals.slice(1).map((e) => e.model));
});
