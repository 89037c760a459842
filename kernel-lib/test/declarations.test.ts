/**
 * The declarations (declarations/*): the paper's load in order and agree with its manifest and
 * prompt maps; each parser refuses a bad field in one line naming the file and the field.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { TASKS, TASK_NAMES, paperTasks } from "../src/data/tasks";
import { parseTaskDeclaration } from "../src/data/task-declaration";
import { parseDatasetDeclaration } from "../src/data/dataset-declaration";
import { paperDeclarationProblems } from "../src/data/files";
import { diffPromptMaps } from "../src/prompts/maps";
import { CLAIM_IDS, CLAIMS } from "../src/study/claims";
import { parseClaimDeclaration } from "../src/study/claim-declaration";
import { PROFILES } from "../src/study/profile";
import { parseProfileDeclaration } from "../src/study/profile-declaration";
import { STUDIES } from "../src/study/studies";
import { parseStudyDeclaration } from "../src/study/study-declaration";
import { paperDataDir, projectRoot } from "../src/util/paths";

const read = (rel: string): Record<string, unknown> => JSON.parse(fs.readFileSync(path.join(projectRoot(), rel), "utf8")) as Record<string, unknown>;
const oneLine = (re: RegExp) => (e: Error): boolean => !e.message.includes("\n") && re.test(e.message);

test("the paper's declarations: five tasks, nine claims, four studies and four profiles, in order", () => {
  assert.deepEqual(paperTasks(), ["summary", "question", "sentiment", "detection", "inference"]);
  assert.deepEqual(TASK_NAMES.slice(0, 5), paperTasks());
  assert.deepEqual(CLAIM_IDS.slice(0, 9), ["C1", "C2", "C3", "C4", "C5", "C6", "S1", "S2", "P1"]);
  assert.deepEqual(Object.keys(STUDIES).slice(0, 4), ["generalization", "icl", "fticl", "trainSize"]);
  assert.deepEqual(Object.keys(PROFILES).slice(0, 4), ["quick", "default", "paper", "smollm2"]);
  // By hand, from the paper: NLI's labels and shot list, summarization's generation limits.
  assert.deepEqual(TASKS.inference.labels, ["entailment", "neutral", "contradiction"]);
  assert.deepEqual(TASKS.inference.shots, [0, 3, 5, 7]);
  assert.deepEqual(TASKS.summary.generation, { maxNewTokens: 60, cut: "\n\n" });
  assert.equal(CLAIMS.S2.rule, "some-cell-holm");
  assert.equal(PROFILES.smollm2.fieldTokenCap, 1024, "the LLM grid's, by reference");
});

test("the paper's task declarations agree with its manifest, and (where fetched) its prompt_map.json", (t) => {
  assert.deepEqual(paperDeclarationProblems(), []);
  const maps = path.join(paperDataDir(), "prompt_map.json");
  if (!fs.existsSync(maps)) return t.skip("the paper's data is not fetched here (npm run data)");
  assert.deepEqual(diffPromptMaps(JSON.parse(fs.readFileSync(maps, "utf8"))), []);
});

test("a bad task declaration: one line naming the file and the field", () => {
  const base = read("declarations/tasks/sentiment.json");
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ ...base, metric: "rougeL" }, /x\.json: field "metric": rougeL does not score output type "label"/],
    [{ ...base, shots: [2, 4] }, /field "shots": the shot list starts at 0/],
    [{ ...base, shots: [0, 4, 2] }, /field "shots": expected increasing values/],
    [{ ...base, generation: { maxNewTokens: 60, cut: "\n\n" } }, /field "generation": only a text-output task generates/],
    [{ ...base, fields: ["input", "input"] }, /field "fields": "input" is listed twice/],
    [{ ...base, templates: { 0: "### Input:\n### Sentiment:", 1: (base.templates as Record<string, string>)[1] } }, /field "templates\.0": field "input" appears nowhere in the template/],
    [{ ...base, source: "paper" }, /field "source": only the project's own declarations are the paper's/],
    [{ ...base, output: { type: "label", labels: ["positive"], words: { positive: "positive" } } }, /field "output\.labels": a classification task needs at least two labels/],
  ];
  for (const [raw, re] of bad) assert.throws(() => parseTaskDeclaration("x.json", raw, "user"), oneLine(re), JSON.stringify(raw).slice(0, 80));
  assert.equal(parseTaskDeclaration("x.json", base, "paper").name, "sentiment");
});

test("bad dataset, claim, profile and study declarations: one line naming the file and the field", () => {
  const ds = { name: "mine", task: "sentiment", role: "out-of-domain", files: { test: { path: "t.jsonl", sha256: "a".repeat(64) }, few_shot: { path: "f.jsonl", sha256: "b".repeat(64) } } };
  assert.throws(() => parseDatasetDeclaration("d.json", { ...ds, files: { ...ds.files, test: { path: "t.csv", sha256: "a".repeat(64) } } }, "/tmp"), oneLine(/d\.json: field "files\.test\.path": "t\.csv": a dataset file is \.json/));
  assert.throws(() => parseDatasetDeclaration("d.json", { ...ds, files: { ...ds.files, test: { path: "t.json", sha256: "xyz" } } }, "/tmp"), oneLine(/field "files\.test\.sha256": expected 64 lower-case hex digits/));
  assert.throws(() => parseDatasetDeclaration("d.json", { ...ds, files: { ...ds.files, train: {} } }, "/tmp"), oneLine(/d\.json: field "files\.train": unknown field \(known: test, few_shot\)/));

  const claim = read("declarations/claims/C2.json");
  assert.throws(() => parseClaimDeclaration("c.json", { ...claim, rule: "gain-and-gap" }, "user"), oneLine(/c\.json: field "rule": gain-and-gap does not apply to contrast ft-vs-base/));
  assert.throws(() => parseClaimDeclaration("c.json", { ...claim, contrast: "map1-vs-map0" }, "user"), oneLine(/field "cells\.map": unknown field/));
  assert.throws(() => parseClaimDeclaration("c.json", { ...claim, direction: 2 }, "user"), oneLine(/field "direction": expected one of 1, -1/));

  const profile = read("declarations/profiles/default.json");
  assert.throws(() => parseProfileDeclaration("p.json", { ...profile, tuning: "lora" }, "user"), oneLine(/p\.json: field "tuning": ftgen's base model is fully fine-tuned/));
  assert.throws(() => parseProfileDeclaration("p.json", { ...profile, model: "gpt-5" }, "user"), oneLine(/field "model": "gpt-5" is neither "ftgen-base" nor a registry model/));
  assert.throws(() => parseProfileDeclaration("p.json", { ...profile, cut: { testSets: ["imdb"] } }, "user"), oneLine(/field "cut\.testSets": "imdb" is no task's dataset/));

  const study = read("declarations/studies/icl.json");
  assert.throws(() => parseStudyDeclaration("s.json", { ...study, shots: "all" }, "user"), oneLine(/s\.json: field "shots": expected one of paper, fticl/));
  assert.throws(() => parseStudyDeclaration("s.json", { ...study, maps: [0, 2] }, "user"), oneLine(/field "maps": map 2: the maps are 0 and 1/));
});
