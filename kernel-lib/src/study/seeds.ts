/**
 * Records of several fine-tuning seeds read as one model: for plots and tables, a fine-tuned model is
 * the mean over its seeds, with a CI from the same hierarchical bootstrap the claims use (seeds and
 * items resampled), so a bar's whisker shows how much another seed could move it.
 */
import { ResultStore } from "./store";
import type { StudyRecord } from "./runner";
import { groupBy } from "../util/group";
import { contrastEffect, type ItemsOf } from "./contrast";
import { familyOf, jobKey } from "./record-keys";

/** A record standing for a model's seeds on one job. */
export type PooledRecord = StudyRecord & {
  /** How many seeds it pools (1: the record itself). */
  seeds: number;
  /** The pooled records' keys, in seed order (the first is `key`). */
  seedKeys: string[];
};

/**
 * One record per (model family, job): the seeds' mean score and its hierarchical 95% CI, in the
 * records' own metric (accuracy or ROUGE-L); `model` becomes the family ("ft/sentiment/2000"), `key`
 * the first seed's. Single records pass through unchanged. Order: first appearance.
 */
export function poolSeeds(records: readonly StudyRecord[], itemsOf: ItemsOf = defaultItems()): PooledRecord[] {
  return [...groupBy(records, (r) => `${familyOf(r)}|${jobKey(r)}`).values()].map((rs) => {
    const sorted = [...rs].sort((a, b) => (a.seed ?? 0) - (b.seed ?? 0));
    if (sorted.length === 1) return { ...sorted[0], seeds: 1, seedKeys: [sorted[0].key] };
    const e = contrastEffect([{ label: familyOf(sorted[0]), task: sorted[0].spec.task, terms: [{ weight: 1, records: sorted, group: "model" }] }], itemsOf, { metric: "accuracy", seed: sorted[0].key });
    return {
      ...sorted[0], model: familyOf(sorted[0]), seed: undefined, value: e.effect, ci: { low: e.low, mid: e.effect, high: e.high },
      seeds: sorted.length, seedKeys: sorted.map((r) => r.key), seconds: sorted.reduce((a, r) => a + r.seconds, 0),
    };
  });
}

function defaultItems(): ItemsOf {
  const store = new ResultStore();
  return (r) => store.items(r.key);
}
