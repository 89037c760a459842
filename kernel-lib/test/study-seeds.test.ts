/** poolSeeds: a fine-tuned model's seeds read as one record, mean and hierarchical CI (hand-checked). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { poolSeeds } from "../src/study/seeds";
import type { ItemLike } from "../src/study/contrast";
import type { StudyRecord } from "../src/study/runner";

const rec = (model: string, seed: number | undefined, scores: number[]): StudyRecord => ({
  key: `${model}#${seed}`, modelKey: model, model, method: model === "base" ? "base" : "ft", scope: "in", cached: true, metric: "rougeL",
  value: scores.reduce((a, b) => a + b, 0) / scores.length, ci: { low: 0, mid: 0, high: 1 }, n: scores.length, excluded: 0, truncatedPrompts: 0, seconds: 2,
  engine: "t", extra: {}, modelId: model, trainTask: "summary", seed, spec: { task: "summary", dataset: "xsum", k: 0, map: 0, limit: scores.length, fieldTokenCap: 32 },
  items: scores.map((score, position) => ({ position, score })),
} as unknown as StudyRecord);
const itemsOf = (r: unknown): ItemLike[] => (r as { items: ItemLike[] }).items;

test("seeds pool into one record: the mean of the seeds, a CI spanning them, the family as its model", () => {
  const s = [rec("ft/summary/2000/s2", 2, Array(20).fill(0.3)), rec("ft/summary/2000/s0", 0, Array(20).fill(0.1)), rec("ft/summary/2000/s1", 1, Array(20).fill(0.2))];
  const base = rec("base", undefined, [0.5, 0.4]);
  const out = poolSeeds([base, ...s], itemsOf);
  assert.equal(out.length, 2);
  assert.deepEqual({ ...out[0] }, { ...base, seeds: 1, seedKeys: ["base#undefined"] }, "a single record passes through");
  const p = out[1];
  assert.equal(p.model, "ft/summary/2000");
  assert.ok(Math.abs(p.value - 0.2) < 1e-12);
  assert.deepEqual(p.seedKeys, ["ft/summary/2000/s0#0", "ft/summary/2000/s1#1", "ft/summary/2000/s2#2"]);
  assert.equal(p.key, "ft/summary/2000/s0#0");
  assert.equal(p.seconds, 6);
  // Items are constant within a seed: the CI is the spread of seed means, inside [0.1, 0.3], around 0.2.
  assert.ok(p.ci.low >= 0.1 - 1e-12 && p.ci.high <= 0.3 + 1e-12 && p.ci.low < 0.2 && p.ci.high > 0.2, `[${p.ci.low}, ${p.ci.high}]`);
});
