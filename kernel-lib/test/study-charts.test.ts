/** The study's score plots carry each test set's baseline and an axis named after the metric (fixture data). */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { fetchedFixture } from "./fixtures";
import { scoreBars, scoreVsKPanels, trainSizeChart, scoreAxisTitle } from "../src/plot/study-charts";
import { bestBaseline, majorityBaseline } from "../src/study/baselines";
import type { StudyRecord } from "../src/study/runner";

before(async () => { await fetchedFixture(); });

const rec = (model: string, task: string, dataset: string, value: number, extra: Partial<StudyRecord> = {}): StudyRecord => ({
  key: `${model}${dataset}`, modelKey: model, model, method: model === "base" ? "base" : "ft", scope: model === "base" ? "base" : "in", cached: true,
  metric: task === "summary" ? "rougeL" : "accuracy", value, ci: { low: value - 0.1, mid: value, high: value + 0.1 }, n: 5, excluded: 0, truncatedPrompts: 0, seconds: 0,
  engine: "test", extra: {}, modelId: model, spec: { task, dataset, k: 0, map: 0, limit: 250, fieldTokenCap: 32 }, trainTask: model === "base" ? undefined : task, ...extra,
} as unknown as StudyRecord);

test("scoreBars: a baseline line per category (the majority label / the best trivial output), a panel per metric named after it", () => {
  const records = [rec("base", "sentiment", "amazon", 0.6), rec("ft", "sentiment", "amazon", 0.8), rec("base", "summary", "xsum", 0.1), rec("ft", "summary", "xsum", 0.2)];
  const fig = scoreBars(records, { title: "t", category: (r) => r.spec.dataset, series: (r) => r.model });
  const hover = fig.data.filter((d) => d.name === "baseline") as { x: string[]; y: number[]; text: string[]; xaxis: string }[];
  assert.deepEqual(hover.map((b) => [b.xaxis, b.x, b.y]), [["x", ["amazon"], [0.75]], ["x2", ["xsum"], [bestBaseline("summary", "xsum", 250).value]]]);
  // amazon's 4 scored items (one empty text is kept out): 3 positive → 0.75.
  assert.equal(majorityBaseline("sentiment", "amazon", 250).accuracy, 0.75);
  assert.equal(hover[0].text[0], "majority label (positive)");
  const lines = ((fig.layout!.shapes ?? []) as { type: string; y0: number; xref: string }[]).filter((s) => s.type === "line");
  assert.deepEqual(lines.map((l) => [l.xref, l.y0]), [["x", 0.75], ["x2", bestBaseline("summary", "xsum", 250).value]]);
  assert.ok(fig.data.some((d) => d.name === "baseline: majority label / best trivial output"), "the baseline in the legend");
  const layout = fig.layout as Record<string, { title: { text: string } }>;
  assert.deepEqual([layout.yaxis.title.text, layout.yaxis2.title.text], ["accuracy", "ROUGE-L"]);
  assert.equal(scoreAxisTitle(records.slice(0, 2)), "accuracy");
  assert.equal(scoreAxisTitle(records.slice(2)), "ROUGE-L");
});

test("scoreVsKPanels and trainSizeChart draw each set's baseline", () => {
  const ks = [0, 2].flatMap((k) => [rec("base", "sentiment", "amazon", 0.6), rec("ft/sentiment/2000/s0", "sentiment", "amazon", 0.7)].map((r) => ({ ...r, spec: { ...r.spec, k } })));
  const panels = scoreVsKPanels(ks);
  const line = panels.data.find((d) => String(d.name).startsWith("baseline") && d.showlegend === false) as { x: number[]; y: number[] };
  assert.deepEqual(line, { ...line, x: [0, 6], y: [0.75, 0.75] }); // across the task's shot list
  const sizes = [2000, 4000].map((s) => rec(`ft/sentiment/${s}/s0`, "sentiment", "amazon", 0.7, { trainSize: s }));
  const chart = trainSizeChart(sizes);
  const b = chart.data.find((d) => String(d.name).includes("majority label")) as { x: string[]; y: number[]; legendgroup: string };
  assert.deepEqual([b.x, b.y, b.legendgroup], [["2,000", "4,000"], [0.75, 0.75], "|sentiment|amazon"]);
});
