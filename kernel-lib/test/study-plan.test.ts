/** planStudy: hand-counted jobs, the cross-task rule, the paper's FTICL k per task, bad input. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { planStudy, testSetsFor, type StudySpec } from "../src/study/plan";
import { notebookStudy, runOptions } from "../src/study/studies";
import { PROFILES } from "../src/study/profile";

const spec: StudySpec = {
  name: "t", trainTasks: ["sentiment", "summary"], trainSizes: [2000], methods: [{ kind: "base" }, { kind: "ft" }, { kind: "fticl", k: 2 }],
  scopes: ["in", "out", "cross"], shots: [0], maps: [0], seeds: [0], testItems: 10, fieldTokenCap: 48,
};

test("jobs: one base model plus one model per (method, task, size, seed), each scored on its test sets", () => {
  const plan = planStudy(spec);
  assert.deepEqual(plan.models.map((m) => m.id), ["base", "ft/sentiment/2000/s0", "ft/summary/2000/s0", "fticl2/sentiment/2000/s0", "fticl2/summary/2000/s0"]);
  // base: the in- and out-of-domain sets of both tasks (4 + 4); each FT model: 1 in + 3 out + 4 cross.
  const per = (id: string) => plan.evals.filter((e) => e.model === id);
  assert.equal(per("base").length, 8);
  assert.equal(per("ft/sentiment/2000/s0").length, 8);
  assert.equal(plan.evals.length, 8 + 4 * 8);
  // Cross-task: a sentiment model scored on xsum is prompted as summarization (the test set's task).
  const cross = per("ft/sentiment/2000/s0").filter((e) => e.scope === "cross");
  assert.deepEqual(cross.map((e) => `${e.task}:${e.dataset}`), ["summary:xsum", "question:socialqa", "detection:paws", "inference:multinli"]);
});

test("the paper's shot lists and both maps multiply the evaluations; FTICL only at the paper's k", () => {
  const plan = planStudy({ ...spec, methods: [{ kind: "base" }, { kind: "fticl", k: 1 }], shots: "paper", maps: [0, 1] });
  // FTICL k=1 exists for generation only (summary: 1, 2), not sentiment (2, 4).
  assert.deepEqual(plan.models.map((m) => m.id), ["base", "fticl1/summary/2000/s0"]);
  // base: 4 sentiment sets × shots 0,2,4,6 × 2 maps + 4 summary sets × 0,1,2,4 × 2 maps.
  assert.equal(plan.evals.filter((e) => e.model === "base").length, 32 + 32);
  assert.deepEqual(testSetsFor("inference", "out").map((s) => s.dataset), ["multinli2", "rte", "gptnli"]);
});

test("cuts: a skipped test set is scored nowhere; map 1 only at its ks and scopes, map 0 untouched", () => {
  const full = planStudy({ ...spec, shots: "paper", maps: [0, 1] });
  const cut = planStudy({ ...spec, shots: "paper", maps: [0, 1], skipSets: ["cnn", "sst2"], map1Only: { k: [0], scopes: ["base", "in"] } });
  assert.deepEqual(cut.models, full.models, "a cut drops evaluations, never models");
  assert.ok(!cut.evals.some((e) => e.dataset === "cnn" || e.dataset === "sst2"));
  const map0 = (p: typeof full) => p.evals.filter((e) => e.map === 0 && !["cnn", "sst2"].includes(e.dataset));
  assert.deepEqual(map0(cut), map0(full));
  const map1 = cut.evals.filter((e) => e.map === 1);
  assert.deepEqual([...new Set(map1.map((e) => `${e.scope}:${e.k}`))].sort(), ["base:0", "in:0"]);
  // by hand: base 6 sets (amazon, amazonfood, yelp; xsum, xlsum, pdfs) + per FT model 1 in-domain set, 4 models
  assert.equal(map1.length, 6 + 4);
});

test("an unknown task is refused by name", () => {
  assert.throws(() => planStudy({ ...spec, trainTasks: ["sentiment", "poetry" as never] }), /study "t": unknown task "poetry"/);
});

test("FTICL shots: 'first' keeps each task's first k; shots 'fticl' scores at 0 and the task's FTICL k", () => {
  const s: StudySpec = { ...spec, trainTasks: ["summary", "sentiment", "inference"], methods: [{ kind: "ft" }, { kind: "fticl", k: 1 }, { kind: "fticl", k: 2 }, { kind: "fticl", k: 3 }], scopes: ["in"], shots: "fticl", fticlShots: "first" };
  const plan = planStudy(s);
  // summary: first k 1 (not 2); sentiment: 2; inference: 3.
  assert.deepEqual(plan.models.map((m) => m.id), ["ft/summary/2000/s0", "ft/sentiment/2000/s0", "ft/inference/2000/s0", "fticl1/summary/2000/s0", "fticl2/sentiment/2000/s0", "fticl3/inference/2000/s0"]);
  const ks = (id: string) => plan.evals.filter((e) => e.model === id).map((e) => e.k);
  assert.deepEqual(ks("ft/summary/2000/s0"), [0, 1]);
  assert.deepEqual(ks("fticl2/sentiment/2000/s0"), [0, 2]);
  assert.deepEqual(ks("ft/inference/2000/s0"), [0, 3]);
  // The paper's lists: both ks of each task.
  const both = planStudy({ ...s, fticlShots: undefined });
  assert.deepEqual(both.models.filter((m) => m.method.kind === "fticl").map((m) => m.id), ["fticl1/summary/2000/s0", "fticl2/summary/2000/s0", "fticl2/sentiment/2000/s0", "fticl3/inference/2000/s0"]);
});

test("train sizes per task: a task without a size is not trained at it", () => {
  const plan = planStudy({ ...spec, methods: [{ kind: "ft" }], scopes: ["in"], trainSizes: { summary: [2000], sentiment: [2000, 4000] } });
  assert.deepEqual(plan.models.map((m) => m.id), ["ft/sentiment/2000/s0", "ft/sentiment/4000/s0", "ft/summary/2000/s0"]);
});

test("the notebooks' studies under a profile share their FT models", () => {
  const p = PROFILES.default;
  const ids = (n: Parameters<typeof notebookStudy>[0]) => planStudy(notebookStudy(n, { ...p, trainSizes: [2000], seeds: [0] })).models.map((m) => m.id);
  const ft = ["summary", "question", "sentiment", "detection", "inference"].map((t) => `ft/${t}/2000/s0`);
  assert.deepEqual(ids("generalization"), ["base", ...ft]);
  assert.deepEqual(ids("icl"), ["base", ...ft]);
  assert.deepEqual(ids("fticl"), [...ft, "fticl1/summary/2000/s0", "fticl1/question/2000/s0", "fticl2/sentiment/2000/s0", "fticl2/detection/2000/s0", "fticl3/inference/2000/s0"]);
  // The default profile's lr is FINETUNE_DEFAULTS' (its one source); the paper profile names its own.
  assert.deepEqual(runOptions(p).train, { epochs: p.epochs });
  assert.deepEqual(runOptions(PROFILES.paper).train, { epochs: 2, lr: 3e-4 });
  assert.equal(runOptions(p).trainFraction, p.trainFraction);
  // Three seeds: each FT model three times, seed-major within a task.
  assert.deepEqual(PROFILES.paper.seeds, [0, 1, 2]);
  assert.deepEqual(planStudy(notebookStudy("generalization", { ...p, seeds: [0, 1, 2] })).models.slice(1, 4).map((m) => m.id), ["ft/summary/2000/s0", "ft/summary/2000/s1", "ft/summary/2000/s2"]);
});
