/** The study's score plots carry each test set's baseline and an axis named after the metric (fixture data). */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { fetchedFixture } from "./fixtures";
import { scoreBars, scoreVsKPanels, trainSizeChart, scoreAxisTitle } from "../src/study/charts";
import { bestBaseline, majorityBaseline } from "../src/study/baselines";
import type { StudyRecord } from "../src/study/runner";

before(async () => { await fetchedFixture(); });

const rec = (model: string, task: string, dataset: string, value: number, extra: Partial<StudyRecord> = {}): StudyRecord => ({
  key: `${model}${dataset}`, modelKey: model, model, method: model === "base" ? "base" : "ft", scope: model === "base" ? "base" : "in", cached: true,
  metric: task === "summary" ? "rougeL" : "accuracy", value, ci: { low: value - 0.1, mid: value, high: value + 0.1 }, n: 5, excluded: 0, truncatedPrompts: 0, seconds: 0,
  engine: "test", extra: {}, modelId: model, spec: { task, dataset, k: 0, map: 0, limit: 250, fieldTokenCap: 32 }, trainTask: model === "base" ? undefined : task, ...extra,
} as unknown as StudyRecord);

test("scoreBars: a baseline tick per category (the majority label / the best trivial output), the axis named after the metric", () => {
  const records = [rec("base", "sentiment", "amazon", 0.6), rec("ft", "sentiment", "amazon", 0.8), rec("base", "summary", "xsum", 0.1), rec("ft", "summary", "xsum", 0.2)];
  const fig = scoreBars(records, { title: "t", category: (r) => r.spec.dataset, series: (r) => r.model });
  const base = fig.data.find((d) => String(d.name).startsWith("baseline")) as { x: string[]; y: number[]; text: string[] };
  assert.deepEqual(base.x, ["amazon", "xsum"]);
  // amazon's 4 scored items (one empty text is kept out): 3 positive → 0.75.
  assert.equal(majorityBaseline("sentiment", "amazon", 250).accuracy, 0.75);
  assert.deepEqual(base.y, [0.75, bestBaseline("summary", "xsum", 250).value]);
  assert.equal(base.text[0], "majority label (positive)");
  assert.equal((fig.layout!.yaxis as { title: { text: string } }).title.text, "accuracy (classification) / ROUGE-L (generation)");
  assert.equal(scoreAxisTitle(records.slice(0, 2)), "accuracy");
  assert.equal(scoreAxisTitle(records.slice(2)), "ROUGE-L (F)");
});

test("scoreVsKPanels and trainSizeChart draw each set's baseline", () => {
  const ks = [0, 2].flatMap((k) => [rec("base", "sentiment", "amazon", 0.6), rec("ft/sentiment/2000/s0", "sentiment", "amazon", 0.7)].map((r) => ({ ...r, spec: { ...r.spec, k } })));
  const panels = scoreVsKPanels(ks);
  const line = panels.data.find((d) => String(d.name).startsWith("baseline")) as { x: number[]; y: number[] };
  assert.deepEqual(line, { ...line, x: [0, 2], y: [0.75, 0.75] });
  const sizes = [2000, 4000].map((s) => rec(`ft/sentiment/${s}/s0`, "sentiment", "amazon", 0.7, { trainSize: s }));
  const chart = trainSizeChart(sizes);
  const b = chart.data.find((d) => String(d.name).includes("majority label")) as { x: number[]; y: number[]; legendgroup: string };
  assert.deepEqual([b.x, b.y, b.legendgroup], [[2000, 4000], [0.75, 0.75], "sentiment → amazon"]);
});
