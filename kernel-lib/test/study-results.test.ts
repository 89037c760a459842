/** Δ vs base and pivots on hand-made records, checked against hand-computed values. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { deltasVsBase, pivot, pivotRows, mapDeltaPivot, iclGains } from "../src/study/results";
import { deltaHeatmap } from "../src/plot/study-charts";
import type { StudyRecord } from "../src/study/runner";
import type { TaskName } from "../src/data/tasks";

function rec(model: string, method: string, trainTask: string | undefined, task: TaskName, dataset: string, k: number, value: number): StudyRecord {
  return { spec: { task, dataset, k, map: 0, limit: 10, fieldTokenCap: 32 }, modelId: model, engine: "e", metric: "accuracy", value, ci: { low: value, mid: value, high: value },
    n: 10, excluded: 0, truncatedPrompts: 0, extra: {}, seconds: 0, key: `${model}${dataset}${k}`, modelKey: model, cached: false, model, method,
    scope: method === "base" ? "base" : "in", trainTask, trainSize: 2000, seed: 0 };
}

const records = [
  rec("base", "base", undefined, "sentiment", "amazon", 0, 0.5), rec("base", "base", undefined, "sentiment", "sst2", 0, 0.6),
  rec("base", "base", undefined, "sentiment", "amazon", 2, 0.7),
  rec("ft/s/0", "ft", "sentiment", "sentiment", "amazon", 0, 0.9), rec("ft/s/1", "ft", "sentiment", "sentiment", "amazon", 0, 0.8),
  rec("ft/s/0", "ft", "sentiment", "sentiment", "sst2", 0, 0.55), rec("ft/s/0", "ft", "sentiment", "sentiment", "amazon", 2, 0.75),
  rec("ft/d/0", "ft", "detection", "sentiment", "yelp", 0, 0.5),
];

test("Δ vs base pairs each record with the base at the same test set, k and map", () => {
  const d = deltasVsBase(records);
  assert.equal(d.length, 5);
  assert.deepEqual(d.map((x) => (x.delta === undefined ? null : +x.delta.toFixed(6))), [0.4, 0.3, -0.05, 0.05, null]); // yelp has no base record
});

test("pivot: train task × test set at k = 0, averaging seeds; raw scores too", () => {
  const p = pivot(records, { rows: (r) => r.trainTask ?? "", cols: (r) => r.spec.dataset, filter: (r) => r.spec.k === 0 });
  assert.deepEqual(p.rows, ["sentiment"]);
  assert.deepEqual(p.cols, ["amazon", "sst2"]);
  assert.deepEqual(p.values.map((r) => r.map((v) => (v === null ? null : +v.toFixed(6)))), [[0.35, -0.05]]); // (0.4 + 0.3) / 2
  const s = pivot(records, { rows: (r) => r.trainTask ?? "", cols: (r) => r.spec.dataset, filter: (r) => r.spec.k === 0, value: "score" });
  assert.deepEqual(s.rows, ["sentiment", "detection"]);
  assert.deepEqual(s.values.map((r) => r.map((v) => (v === null ? null : +v.toFixed(6)))), [[0.85, 0.55, null], [null, null, 0.5]]);
  assert.deepEqual(pivotRows(s)[1], { "train task": "detection", amazon: "", sst2: "", yelp: 0.5 });
  // Records built by hand have no stored items: no CI, and the cell's metric is its test set's.
  assert.deepEqual(p.ci, [[null, null]]);
  assert.deepEqual(p.kinds, [["classification", "classification"]]);
  const fig = deltaHeatmap(p);
  // Test sets down the side, models across; whole points.
  const h = fig.data[0] as { x: string[]; y: string[]; z: unknown; zmin: number; zmax: number; text: string[][] };
  assert.deepEqual([h.x, h.y], [["sentiment"], ["amazon", "sst2"]]);
  assert.deepEqual(h.text, [["35"], ["−5"]]);
  assert.ok(Math.abs(h.zmax - 35) < 1e-9 && h.zmin === -h.zmax, "a symmetric colour range around 0, as wide as the largest |Δ|");
  // A loss is red, a gain blue, no change white.
  const scale = (fig.data[0] as { colorscale: [number, string][] }).colorscale;
  assert.deepEqual([scale[0], scale[Math.floor(scale.length / 2)], scale[scale.length - 1]], [[0, "#b2182b"], [0.5, "#f7f7f7"], [1, "#2166ac"]]);

  // Explicit order: listed keys first, the rest as met.
  const o = pivot(records, { rows: (r) => r.trainTask ?? "", cols: (r) => r.spec.dataset, filter: (r) => r.spec.k === 0, value: "score", order: { rows: ["detection"], cols: ["yelp", "amazon"] } });
  assert.deepEqual([o.rows, o.cols], [["detection", "sentiment"], ["yelp", "amazon", "sst2"]]);
});

test("mapDeltaPivot: map 1 − map 0 per model and set; iclGains: mean over k > 0 minus 0-shot", () => {
  const mk = (model: string, method: string, dataset: string, k: number, map: 0 | 1, value: number) => ({
    model, method, trainTask: method === "base" ? undefined : "sentiment", scope: method === "base" ? "base" : "in", value, truncatedPrompts: 0, key: `${model}${dataset}${k}${map}`,
    spec: { task: "sentiment", dataset, k, map, limit: 10, fieldTokenCap: 32 },
  }) as unknown as StudyRecord;
  const rs = [mk("base", "base", "amazon", 0, 0, 0.5), mk("base", "base", "amazon", 0, 1, 0.6), mk("ft", "ft", "amazon", 0, 0, 0.9), mk("ft", "ft", "amazon", 0, 1, 0.7),
    mk("base", "base", "amazon", 2, 0, 0.8), mk("base", "base", "amazon", 4, 0, 0.6)];
  const m = mapDeltaPivot(rs, { ci: false });
  assert.deepEqual(m.rows, ["base", "FT sentiment"]);
  assert.deepEqual(m.values.map((r) => r.map((v) => +(v as number).toFixed(6))), [[0.1], [-0.2]]);
  const g = iclGains(rs);
  assert.deepEqual(g.map((x) => [x.model, x.map, +x.gain.toFixed(6)]), [["base", 0, 0.2]]); // (0.8 + 0.6) / 2 − 0.5
});
