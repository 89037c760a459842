/**
 * Extending the study without touching kernel-lib (README, "Extending the study"): a declarations
 * folder of our own (test/fixtures/topic: a three-label task, its in-domain and out-of-domain datasets
 * as JSONL and JSON files with their sha256, and a claim on an existing contrast) is added through
 * the public API, fine-tuned, evaluated and judged. Bad declarations each stop with one line naming
 * the file and the entry, and add nothing.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import * as ftgen from "../kernel-lib/src/index";
import { tinyModelWorkspace } from "../kernel-lib/test/fixtures";

const FIXTURE = path.join(__dirname, "fixtures", "topic");
let work = "";
let base = "";

before(async () => {
  ({ work, base } = await tinyModelWorkspace("ftgen-extend-", { ctx: 256, seed: 5 }));
});

/** A copy of the topic fixture with `edit` applied to its files (path → new content, or null to delete). */
function variant(name: string, edit: Record<string, ((text: string) => string) | null>): string {
  const dir = path.join(work, name);
  fs.cpSync(FIXTURE, dir, { recursive: true });
  for (const [rel, fn] of Object.entries(edit)) {
    const file = path.join(dir, rel);
    if (fn === null) fs.rmSync(file);
    else fs.writeFileSync(file, fn(fs.existsSync(file) ? fs.readFileSync(file, "utf8") : ""));
  }
  return dir;
}

const oneLine = (re: RegExp) => (e: Error): boolean => !e.message.includes("\n") && re.test(e.message);

test("bad declarations: one line naming the file and the entry, and nothing added", () => {
  const state = () => ({ tasks: [...ftgen.TASK_NAMES], datasets: Object.keys(ftgen.USER_DATASETS), claims: [...ftgen.CLAIM_IDS], profiles: Object.keys(ftgen.PROFILES), studies: Object.keys(ftgen.STUDIES) });
  const before = state();
  const retitle = (t: string): string => t.replace(/"topic"/g, '"topic2"').replace(/"news"/g, '"news2"').replace(/"blogs"/g, '"blogs2"').replace(/"topic-tiny"/g, '"topic-tiny2"').replace(/"topic-transfer"/g, '"topic-transfer2"');
  const cases: [string, Record<string, ((t: string) => string) | null>, RegExp][] = [
    ["unknown template field", { "tasks/topic.json": (t) => t.replace("{input}\\n### Topic:", "{input}\\n{headline}\\n### Topic:") },
      /^.*tasks\/topic\.json: field "templates\.0": \{headline\} is not a field of the task \(fields: input\)$/],
    ["label word missing", { "tasks/topic.json": (t) => t.replace(', "politics": "politics"', "").replace(',\n      "politics": "politics"', "") },
      /tasks\/topic\.json: field "output\.words": label "politics" has no word$/],
    ["duplicate dataset name", { "datasets/blogs.json": (t) => t.replace('"name": "blogs"', '"name": "news"') },
      /datasets\/news\.json: dataset "news2" is already declared in .*datasets\/blogs\.json$/],
    ["a paper dataset's name", { "datasets/blogs.json": (t) => t.replace('"name": "blogs"', '"name": "amazon"'), "tasks/topic.json": (t) => t.replace('"blogs"', '"amazon"') },
      /dataset "amazon" is (one of the paper's|already declared by task "sentiment")/],
    ["file hash mismatch", { "data/blogs-test.json": (t) => `${t} ` },
      /datasets\/blogs\.json: field "files\.test": \.\.\/data\/blogs-test\.json has sha256 [0-9a-f]{64}, not the declared [0-9a-f]{64}$/],
    ["unknown field", { "tasks/topic.json": (t) => t.replace('"metric"', '"metrics": 1, "metric"') },
      /tasks\/topic\.json: field "metrics": unknown field \(known: /],
    ["a profile's bad share", { "profiles/topic-tiny.json": (t) => t.replace('"trainFraction": 1', '"trainFraction": 1.5') },
      /profiles\/topic-tiny\.json: field "trainFraction": expected a number above 0 and ≤ 1, got 1\.5$/],
    ["a study's unknown method", { "studies/topic-transfer.json": (t) => t.replace('"ft"]', '"fine-tune"]') },
      /studies\/topic-transfer\.json: field "methods": "fine-tune" is not one of base, ft, fticl, ft-full-in-domain$/],
    ["a claim on an unknown task", { "claims/T1.json": (t) => t.replace(/"testTasks": \[\s*"topic"/, '"testTasks": ["topics"') },
      /claims\/T1\.json: field "cells\.testTasks": unknown task "topics"/],
  ];
  const declarations = ["tasks/topic.json", "datasets/news.json", "datasets/blogs.json", "claims/T1.json", "profiles/topic-tiny.json", "studies/topic-transfer.json"];
  for (const [what, edit, re] of cases) {
    // Every variant renames the fixture's task and datasets (the test below adds the fixture itself), after its own edit.
    const edits: Record<string, ((t: string) => string) | null> = Object.fromEntries(declarations.map((f) => [f, retitle]));
    for (const [f, fn] of Object.entries(edit)) edits[f] = fn && (declarations.includes(f) ? (t: string) => retitle(fn(t)) : fn);
    const dir = variant(`bad-${what.replace(/\W+/g, "-")}`, edits);
    assert.throws(() => ftgen.addDeclarations(dir), oneLine(re), what);
    assert.deepEqual(state(), before, `${what}: nothing added`);
  }
});

test("a three-label task of our own: declared, fine-tuned, evaluated and judged, with no change to kernel-lib", async () => {
  const added = ftgen.addDeclarations(FIXTURE);
  assert.deepEqual(added, { tasks: ["topic"], datasets: ["blogs", "news"], claims: ["T1"], profiles: ["topic-tiny"], studies: ["topic-transfer"] });
  const task = ftgen.taskSpec("topic");
  assert.equal(task.kind, "classification");
  assert.deepEqual(task.outOfDomain, ["blogs"]);
  assert.equal(ftgen.TASK_NAMES.at(-1), "topic", "after the paper's five");
  // JSONL and JSON both load, verified by sha256; the prompt writes labels as their words.
  const news = ftgen.loadDataset("topic", "news", "train");
  assert.equal(news.records.length, 24);
  assert.equal(ftgen.loadDataset("topic", "blogs", "test").records.length, 9);
  const demo = ftgen.loadFewShot("topic", "news")[0];
  assert.equal(ftgen.demonstration("topic", demo, 0), `### Input:\n${demo.input}\n### Topic:${ftgen.labelWord(task, demo.output)}\n\n`);
  assert.equal(ftgen.dataFile("topic", "blogs", "test").id.slice(0, 7), "sha256:");

  // The fixture's own profile and study (declarations too), run on a tiny base model.
  const profile = ftgen.profileNamed("topic-tiny");
  const plan = ftgen.planStudy(ftgen.notebookStudy("topic-transfer", profile));
  const store = new ftgen.ResultStore(path.join(work, "results"));
  const records = await ftgen.runStudy(plan, ftgen.runOptions(profile, { base, store, modelsDir: path.join(work, "models"), workers: 1 }));
  assert.deepEqual(records.map((r) => `${r.model}:${r.spec.dataset}`), [
    "base:news", "base:blogs", "ft/topic/24/s0:news", "ft/topic/24/s0:blogs", "ft/topic/24/s1:news", "ft/topic/24/s1:blogs",
  ]);
  for (const r of records) {
    assert.equal(r.metric, "accuracy");
    const items = store.items(r.key);
    assert.equal(items.length, 9);
    assert.ok(items.every((it) => task.labels!.includes(it.output)), "predictions are labels (scored by their words' first tokens)");
  }
  // A verdict on our own claim (ft-vs-base, out of domain, the topic task), and on the paper's C1.
  const verdicts = ftgen.claimVerdicts(records, (r) => store.items(r.key), ["T1", "C1"]);
  assert.deepEqual(verdicts.map((v) => v.claim), ["T1", "C1"]);
  for (const v of verdicts) {
    assert.ok(["reproduced", "not reproduced", "inconclusive at this scale"].includes(v.verdict), v.verdict);
    assert.equal(v.cells.length, 1);
    assert.equal(v.seeds, 2);
    assert.equal(v.metric, "balanced accuracy");
  }
  assert.match(verdicts[0].text, /topic FT transfers to blog posts/);
  assert.equal(verdicts[0].cells[0].label, "topic → blogs");
  // Every notebook's study now takes the task: at its own train size, scored in- and out-of-domain and cross-task.
  const nb = ftgen.notebookPlan("generalization", ftgen.PROFILES.quick);
  assert.ok(nb.models.some((m) => m.id === "ft/topic/24/s0"));
  assert.ok(nb.evals.some((e) => e.model === "ft/sentiment/2000/s0" && e.dataset === "news" && e.scope === "cross"));
  assert.ok(nb.evals.some((e) => e.model === "base" && e.dataset === "blogs"));
  // The README's notebook example plots them.
  const fig = ftgen.scoreBars(records, { title: "Topic: base vs FT", category: (r) => r.spec.dataset, series: (r) => r.method });
  assert.deepEqual(fig.data.map((t) => t.name).filter((n, i, a) => a.indexOf(n) === i).slice(0, 2), ["base", "ft"]);
  // Added once: a second call adds nothing.
  assert.deepEqual(ftgen.addDeclarations(FIXTURE), { tasks: [], datasets: [], claims: [], profiles: [], studies: [] });
});

test("an out-of-domain set of our own for the paper's sentiment task joins it: loaded by sha256, planned with the FT models already trained", () => {
  const ftBefore = ftgen.notebookPlan("generalization", ftgen.PROFILES.default).models.map((m) => m.id);
  assert.deepEqual(ftgen.addDeclarations(path.join(__dirname, "fixtures", "imdb")), { tasks: [], datasets: ["imdb"], claims: [], profiles: [], studies: [] });
  assert.deepEqual(ftgen.TASKS.sentiment.outOfDomain, ["amazonfood", "sst2", "yelp", "imdb"]);
  const test = ftgen.loadDataset("sentiment", "imdb", "test");
  assert.deepEqual(test.records.map((r) => r.output), ["positive", "negative", "negative", "positive", "negative", "positive"]);
  const plan = ftgen.notebookPlan("generalization", ftgen.PROFILES.default);
  assert.deepEqual(plan.models.map((m) => m.id), ftBefore, "no new model: the FT models trained on amazon are reused");
  assert.ok(plan.evals.some((e) => e.model === "ft/sentiment/2000/s0" && e.dataset === "imdb" && e.scope === "out"));
  assert.ok(plan.evals.some((e) => e.model === "base" && e.dataset === "imdb"));
});

test("FTGEN_DECLARATIONS adds a folder when kernel-lib loads", () => {
  const { spawnSync } = require("node:child_process") as typeof import("node:child_process");
  const r = spawnSync(process.execPath, ["--import", "tsx", "-e", 'const f = require("./kernel-lib/src/index"); console.log(JSON.stringify([f.TASK_NAMES, f.CLAIM_IDS.slice(-1), Object.keys(f.USER_DATASETS)]));'], {
    cwd: path.join(__dirname, ".."), encoding: "utf8", env: { ...process.env, FTGEN_DECLARATIONS: FIXTURE, FTGEN_MANIFEST: "" },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim().split("\n").pop()!), [["summary", "question", "sentiment", "detection", "inference", "topic"], ["T1"], ["blogs", "news"]]);
});
