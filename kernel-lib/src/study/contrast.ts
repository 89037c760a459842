/**
 * The statistics behind the claims: a contrast of models scored on the same test items, with a
 * hierarchical, paired, cell-stratified bootstrap CI.
 *
 * A cell (one test set at one k and map, say) holds terms: a model with a weight (FT +1, base −1).
 * A fine-tuned model is several seeds, one record each; the base model is one record. A term's value
 * is the mean over its seeds of a metric of its items; a cell's value is the weighted sum of its
 * terms' values; the effect is the mean over cells. Metrics:
 * - "primary": ROUGE-L (mean per item) for generation, balanced accuracy (mean recall per gold
 *   label) for classification: a constant answer gets 1/labels of it, whatever the label prior;
 * - "accuracy": the plain mean of per-item scores;
 * - "prior-corrected": classification only: accuracy after subtracting from each label's
 *   log-probability its mean over the record's items (no gold label used), so a model that merely
 *   prefers one label answers by what moves between items, not by its prior.
 * Each resample redraws, per cell, the items with replacement (kept paired across the cell's terms)
 * and, per model family (`group`), its seeds with replacement (kept paired across the family's
 * terms: FT k-shot and FT 0-shot of one seed are one model). Model-to-model variance is thus in
 * every CI.
 */
import { TASKS, type TaskName } from "../data/tasks";
import { percentileSorted } from "../metrics/bootstrap";
import { makeRng } from "../util/random";
import type { StoredResult } from "./store";

/** What a contrast reads of an item (a store items file's row). */
export interface ItemLike {
  position: number;
  score: number;
  gold?: string;
  output?: string;
  labelLogProbs?: number[];
}
export type ItemsOf = (r: StoredResult) => readonly ItemLike[];

export interface Term {
  weight: number;
  /** One record per seed of the model (a single record for the base model), scored on the same items. */
  records: readonly StoredResult[];
  /** The model family: terms of one group draw the same seeds. */
  group: string;
}

export interface Cell {
  label: string;
  /** The test set's task (decides the metric). */
  task: TaskName;
  /** The fine-tuned model's task, where the cell has one (for per-task breakdowns). */
  trainTask?: string;
  terms: Term[];
}

export type ContrastMetric = "primary" | "accuracy" | "prior-corrected";

export interface Effect {
  /** Mean over cells of each cell's contrast. */
  effect: number;
  low: number;
  high: number;
  /** One-sided bootstrap p-value against `direction` (the share of resamples at or past zero the other way). */
  p: number;
  cells: { label: string; effect: number; n: number; seeds: number }[];
}

/** A record's items on a cell's common positions, as arrays. */
interface Prepared {
  score: Float64Array;
  /** Gold label index (classification), −1 when none. */
  gold: Int32Array;
  /** Correct after prior correction (classification). */
  corrected: Float64Array;
  labels: number;
}

function prepare(items: readonly ItemLike[], positions: readonly number[], task: TaskName, file: string): Prepared {
  const byPos = new Map(items.map((it) => [it.position, it]));
  const labels = TASKS[task].labels ?? [];
  const rows = positions.map((p) => byPos.get(p) as ItemLike);
  const score = Float64Array.from(rows, (r) => r.score);
  const gold = Int32Array.from(rows, (r) => (r.gold === undefined ? -1 : labels.indexOf(r.gold)));
  const corrected = new Float64Array(rows.length);
  if (labels.length > 0) {
    // The record's mean log-probability of each label over all its items: its prior.
    const withLp = items.filter((it) => it.labelLogProbs?.length === labels.length);
    if (withLp.length !== items.length) throw new Error(`${file}: ${items.length - withLp.length} items lack label log-probabilities (a prior-corrected accuracy needs them)`);
    const prior = labels.map((_, j) => withLp.reduce((a, it) => a + (it.labelLogProbs as number[])[j], 0) / withLp.length);
    rows.forEach((r, i) => {
      const lp = r.labelLogProbs as number[];
      let best = 0;
      for (let j = 1; j < labels.length; j++) if (lp[j] - prior[j] > lp[best] - prior[best]) best = j;
      corrected[i] = best === gold[i] ? 1 : 0;
    });
  }
  return { score, gold, corrected, labels: labels.length };
}

/** The metric of one record on items `idx` (indices into the prepared arrays). */
function metricOn(p: Prepared, idx: Int32Array, metric: ContrastMetric, classification: boolean): number {
  if (!classification || metric === "accuracy") {
    let s = 0;
    for (let i = 0; i < idx.length; i++) s += p.score[idx[i]];
    return s / idx.length;
  }
  if (metric === "prior-corrected") {
    let s = 0;
    for (let i = 0; i < idx.length; i++) s += p.corrected[idx[i]];
    return s / idx.length;
  }
  // Balanced accuracy: the mean over the gold labels present of each label's recall.
  const hit = new Float64Array(p.labels), count = new Float64Array(p.labels);
  for (let i = 0; i < idx.length; i++) {
    const g = p.gold[idx[i]];
    if (g < 0) continue;
    count[g]++;
    hit[g] += p.score[idx[i]];
  }
  let sum = 0, present = 0;
  for (let j = 0; j < p.labels; j++) if (count[j] > 0) { sum += hit[j] / count[j]; present++; }
  return present ? sum / present : 0;
}

/** The name of a cell's metric (for tables). */
export function metricName(task: TaskName, metric: ContrastMetric): string {
  if (TASKS[task].kind === "generation") return "ROUGE-L";
  return metric === "primary" ? "balanced accuracy" : metric === "accuracy" ? "accuracy" : "prior-corrected accuracy";
}

/** The hierarchical paired bootstrap of a contrast (see the file comment). */
export function contrastEffect(cells: readonly Cell[], itemsOf: ItemsOf, opts: {
  metric?: ContrastMetric; samples?: number; seed?: number | string; confidence?: number; direction?: 1 | -1;
} = {}): Effect {
  if (cells.length === 0) throw new Error("contrastEffect: no cells (the records this claim needs are missing)");
  const metric = opts.metric ?? "primary";
  const prepared = cells.map((c) => {
    const all = c.terms.flatMap((t) => t.records);
    if (c.terms.some((t) => t.records.length === 0)) throw new Error(`contrastEffect: cell "${c.label}" has a term with no record`);
    const maps = all.map((r) => new Set(itemsOf(r).map((it) => it.position)));
    const positions = [...maps[0]].filter((p) => maps.every((m) => m.has(p))).sort((a, b) => a - b);
    if (positions.length === 0) throw new Error(`contrastEffect: cell "${c.label}" has no item common to its records`);
    const classification = TASKS[c.task].kind === "classification";
    const groups = [...new Set(c.terms.map((t) => t.group))];
    const seedsOf = groups.map((g) => {
      const n = new Set(c.terms.filter((t) => t.group === g).map((t) => t.records.length));
      if (n.size !== 1) throw new Error(`contrastEffect: cell "${c.label}": the terms of ${g} have different seed counts`);
      return [...n][0];
    });
    return {
      n: positions.length, classification, groupOf: c.terms.map((t) => groups.indexOf(t.group)), seedsOf,
      terms: c.terms.map((t) => ({ weight: t.weight, recs: t.records.map((r) => prepare(itemsOf(r), positions, c.task, `${r.key}.items.jsonl`)) })),
    };
  });
  const cellValue = (c: (typeof prepared)[number], idx: Int32Array, seedDraw: Int32Array[]): number =>
    c.terms.reduce((a, t, ti) => {
      const draw = seedDraw[c.groupOf[ti]];
      let m = 0;
      for (let s = 0; s < draw.length; s++) m += metricOn(t.recs[draw[s]], idx, metric, c.classification);
      return a + t.weight * (m / draw.length);
    }, 0);
  const identity = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);
  const cellEffects = prepared.map((c) => cellValue(c, identity(c.n), c.seedsOf.map(identity)));
  const effect = cellEffects.reduce((a, b) => a + b, 0) / cellEffects.length;
  const samples = opts.samples ?? 1000, rng = makeRng(opts.seed ?? 0);
  const dist = new Float64Array(samples);
  for (let s = 0; s < samples; s++) {
    let total = 0;
    for (const c of prepared) {
      const draws = c.seedsOf.map((k) => Int32Array.from({ length: k }, () => rng.int(k)));
      const idx = Int32Array.from({ length: c.n }, () => rng.int(c.n));
      total += cellValue(c, idx, draws);
    }
    dist[s] = total / prepared.length;
  }
  const direction = opts.direction ?? 1;
  let against = 0;
  for (let s = 0; s < samples; s++) if (direction * dist[s] <= 0) against++;
  dist.sort();
  const tail = (1 - (opts.confidence ?? 0.95)) / 2;
  return {
    effect, low: percentileSorted(dist, tail), high: percentileSorted(dist, 1 - tail), p: (against + 1) / (samples + 1),
    cells: cells.map((c, i) => ({ label: c.label, effect: cellEffects[i], n: prepared[i].n, seeds: Math.max(...prepared[i].seedsOf) })),
  };
}

/**
 * Holm's step-down correction: which of m hypotheses with p-values `ps` are rejected at family-wise
 * error `alpha`. Sorted ascending, p_(i) is compared with alpha / (m − i); the first that fails stops.
 */
export function holm(ps: readonly number[], alpha = 0.05): boolean[] {
  const order = ps.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const out = ps.map(() => false);
  for (let r = 0; r < order.length; r++) {
    if (order[r][0] > alpha / (order.length - r)) break;
    out[order[r][1]] = true;
  }
  return out;
}
