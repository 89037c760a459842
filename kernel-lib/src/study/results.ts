/**
 * Reading a study's records: Δ vs the base model at the same (test set, k, map), pivots such as
 * train task × test set, and the heatmap of a pivot. Tables go through toDataFrame/showTable.
 */
import type { StudyRecord } from "./runner";
import { groupBy } from "../util/group";
import { TASKS, type TaskKind, type TaskName } from "../data/tasks";
import { contrastEffect, type ItemsOf } from "./contrast";
import { ResultStore } from "./store";
import { familyOf, jobKey } from "./record-keys";

/** A record with its base-model counterpart (same test set, k, map, test items). */
export interface DeltaRow {
  record: StudyRecord;
  base?: StudyRecord;
  /** record − base, when the base model was scored on the same job. */
  delta?: number;
}

/** Each fine-tuned record with its Δ vs the base model at the same (test set, k, map). */
export function deltasVsBase(records: readonly StudyRecord[]): DeltaRow[] {
  const base = new Map(records.filter((r) => r.method === "base").map((r) => [jobKey(r), r]));
  return records.filter((r) => r.method !== "base").map((r) => {
    const b = base.get(jobKey(r));
    return { record: r, base: b, delta: b ? r.value - b.value : undefined };
  });
}

/** `seen` keys in the wanted order: the listed ones first, the rest as met. */
function ordered(seen: readonly string[], want?: readonly string[]): string[] {
  return want ? [...want.filter((k) => seen.includes(k)), ...seen.filter((k) => !want.includes(k))] : [...seen];
}

export interface Pivot {
  rows: string[];
  cols: string[];
  /** values[i][j]: the mean over the records in that cell, or null when it has none. */
  values: (number | null)[][];
  title: string;
  /** What the values are: a difference of scores ("delta") or scores. */
  value?: "delta" | "score";
  /** Each cell's metric: the kind of its test set's task (accuracy for classification, ROUGE-L for generation). */
  kinds?: (TaskKind | null)[][];
  /** The 95% CI of each difference (a paired bootstrap over test items and fine-tuning seeds), where the items are stored. */
  ci?: ({ low: number; high: number } | null)[][];
  /** Cells whose records had prompts cut to fit the context. */
  truncated?: boolean[][];
  /** What a blank cell means (shown under a heatmap). */
  blank?: string;
}

/** One record per seed of a (pooled) record: a PooledRecord's seeds, else the record itself. */
export function seedRecords(r: StudyRecord): StudyRecord[] {
  const keys = (r as StudyRecord & { seedKeys?: string[] }).seedKeys;
  return keys && keys.length > 1 ? keys.map((key) => ({ ...r, key })) : [r];
}

const family = (r: StudyRecord): string => (r.method === "base" ? "base" : r.model.replace(/\/s\d+$/, ""));

/**
 * The items of stored records (default store), or null when a record's items are not stored (records
 * built by hand): their differences then get no CI.
 */
export function storedItems(store = new ResultStore()): { itemsOf: ItemsOf; has: (r: StudyRecord) => boolean } {
  return { itemsOf: (r) => store.items(r.key), has: (r) => seedRecords(r).every((x) => store.lookup(x.key).record !== undefined) };
}

/**
 * The 95% CI of Σ weight × score over terms of records on the same items (a hierarchical paired bootstrap,
 * contrast.ts; the score is the records' own metric: accuracy or ROUGE-L); null when an item file is missing.
 */
export function differenceCI(task: TaskName, terms: readonly { weight: number; records: readonly StudyRecord[] }[], opts: { items?: ReturnType<typeof storedItems>; seed?: string } = {}): { effect: number; low: number; high: number } | null {
  const items = opts.items ?? storedItems();
  if (!terms.every((t) => t.records.every(items.has))) return null;
  const e = contrastEffect([{
    label: "difference", task,
    terms: terms.flatMap((t) => [...groupBy(t.records, family)].map(([g, rs]) => ({ weight: t.weight / new Set(t.records.map(family)).size, records: rs.flatMap(seedRecords), group: g }))),
  }], items.itemsOf, { metric: "accuracy", seed: opts.seed ?? terms.flatMap((t) => t.records.map((r) => r.key)).join("|") });
  return { effect: e.effect, low: e.low, high: e.high };
}

/**
 * A rows × cols table of Δ vs base (or of raw scores with `value: "score"`), averaging over the
 * records that fall in one cell (e.g. several seeds). Keys pick a field of the record. Each Δ cell
 * carries its 95% CI where the records' items are stored (`ci: false` skips it).
 */
export function pivot(records: readonly StudyRecord[], opts: {
  rows: (r: StudyRecord) => string; cols: (r: StudyRecord) => string; value?: "delta" | "score";
  filter?: (r: StudyRecord) => boolean; title?: string;
  /** Row and column order (keys not listed follow, in the order met). */
  order?: { rows?: readonly string[]; cols?: readonly string[] };
  /** Bootstrap CIs of the differences (default true). */
  ci?: boolean;
  /** What a blank cell means (shown under a heatmap of the pivot). */
  blank?: string;
}): Pivot {
  const value = opts.value ?? "delta";
  const cells = new Map<string, DeltaRow[]>();
  const rowSet: string[] = [], colSet: string[] = [];
  const rowsIn: DeltaRow[] = value === "delta" ? deltasVsBase(records) : records.filter((r) => r.method !== "base").map((record) => ({ record, delta: undefined }));
  for (const d of rowsIn) {
    if (opts.filter && !opts.filter(d.record)) continue;
    const v = value === "delta" ? d.delta : d.record.value;
    if (v === undefined) continue;
    const rk = opts.rows(d.record), ck = opts.cols(d.record);
    if (!rowSet.includes(rk)) rowSet.push(rk);
    if (!colSet.includes(ck)) colSet.push(ck);
    const key = `${rk}\u0000${ck}`;
    cells.set(key, [...(cells.get(key) ?? []), d]);
  }
  rowSet.splice(0, rowSet.length, ...ordered(rowSet, opts.order?.rows));
  colSet.splice(0, colSet.length, ...ordered(colSet, opts.order?.cols));
  const cellOf = (rk: string, ck: string): DeltaRow[] | undefined => cells.get(`${rk}\u0000${ck}`);
  const values = rowSet.map((rk) => colSet.map((ck) => {
    const ds = cellOf(rk, ck);
    return ds ? ds.reduce((a, d) => a + (value === "delta" ? (d.delta as number) : d.record.value), 0) / ds.length : null;
  }));
  const kinds = rowSet.map((rk) => colSet.map((ck) => {
    const ks = new Set((cellOf(rk, ck) ?? []).map((d) => TASKS[d.record.spec.task].kind));
    return ks.size === 1 ? [...ks][0] : null;
  }));
  const truncated = rowSet.map((rk) => colSet.map((ck) => (cellOf(rk, ck) ?? []).some((d) => d.record.truncatedPrompts > 0 || (d.base?.truncatedPrompts ?? 0) > 0)));
  const items = value === "delta" && opts.ci !== false ? storedItems() : undefined;
  const ci = items ? rowSet.map((rk) => colSet.map((ck) => {
    const ds = cellOf(rk, ck);
    if (!ds) return null;
    const bases = [...new Map(ds.map((d) => [(d.base as StudyRecord).key, d.base as StudyRecord])).values()];
    return differenceCI(ds[0].record.spec.task, [{ weight: 1, records: ds.map((d) => d.record) }, { weight: -1, records: bases }], { items });
  })) : undefined;
  return { rows: rowSet, cols: colSet, values, title: opts.title ?? (value === "delta" ? "Δ vs base" : "score"), value, kinds, ci, truncated, blank: opts.blank };
}

/** The pivot as plain rows for toDataFrame: one row per pivot row, one column per pivot column. */
export function pivotRows(p: Pivot, rowName = "train task"): Record<string, string | number>[] {
  return p.rows.map((r, i) => ({ [rowName]: r, ...Object.fromEntries(p.cols.map((c, j) => [c, p.values[i][j] ?? ""])) }));
}

/**
 * Map 1 − map 0 at 0-shot, per model (rows: "base", or "FT <train task>") and test set: how much the
 * prompt's wording moves each score. Records of one model in a cell (its seeds) are averaged; each
 * difference carries its paired 95% CI where the items are stored (`ci: false` skips it).
 */
export function mapDeltaPivot(records: readonly StudyRecord[], opts: { cols?: readonly string[]; ci?: boolean; blank?: string } = {}): Pivot {
  const zero = records.filter((r) => r.spec.k === 0);
  const rowOf = (r: StudyRecord): string => (r.method === "base" ? "base" : `${r.method.toUpperCase()} ${r.trainTask}`);
  const cells = new Map<string, { m0: StudyRecord[]; m1: StudyRecord[] }>();
  for (const r of zero) {
    const key = `${rowOf(r)}\u0000${r.spec.dataset}`;
    const c = cells.get(key) ?? { m0: [], m1: [] };
    (r.spec.map === 0 ? c.m0 : c.m1).push(r);
    cells.set(key, c);
  }
  const rows: string[] = [], cols: string[] = [];
  for (const key of cells.keys()) {
    const [rk, ck] = key.split("\u0000");
    if (!rows.includes(rk)) rows.push(rk);
    if (!cols.includes(ck)) cols.push(ck);
  }
  const colOrder = ordered(cols, opts.cols);
  const both = (rk: string, ck: string): { m0: StudyRecord[]; m1: StudyRecord[] } | undefined => {
    const c = cells.get(`${rk}\u0000${ck}`);
    return c && c.m0.length && c.m1.length ? c : undefined;
  };
  const mean = (rs: readonly StudyRecord[]): number => rs.reduce((a, r) => a + r.value, 0) / rs.length;
  const values = rows.map((rk) => colOrder.map((ck) => { const c = both(rk, ck); return c ? mean(c.m1) - mean(c.m0) : null; }));
  const kinds = rows.map((rk) => colOrder.map((ck) => { const c = both(rk, ck); return c ? TASKS[c.m0[0].spec.task].kind : null; }));
  const truncated = rows.map((rk) => colOrder.map((ck) => { const c = both(rk, ck); return !!c && [...c.m0, ...c.m1].some((r) => r.truncatedPrompts > 0); }));
  const items = opts.ci !== false ? storedItems() : undefined;
  const ci = items ? rows.map((rk) => colOrder.map((ck) => {
    const c = both(rk, ck);
    return c ? differenceCI(c.m0[0].spec.task, [{ weight: 1, records: c.m1 }, { weight: -1, records: c.m0 }], { items }) : null;
  })) : undefined;
  return { rows, cols: colOrder, values, title: "map 1 − map 0 (0-shot)", value: "delta", kinds, ci, truncated, blank: opts.blank };
}

/** A model's gain from demonstrations on one test set and map. */
export interface IclGain {
  model: string;
  method: string;
  trainTask: string;
  task: TaskName;
  dataset: string;
  map: number;
  zeroShot: number;
  kShotMean: number;
  gain: number;
  /** 95% CI of the gain (paired bootstrap over items and seeds), with `ci: true` and the items stored. */
  low?: number;
  high?: number;
  /** Some of the k-shot prompts were cut to fit the context. */
  truncated: boolean;
}

/**
 * ICL gain per (model, test set, map): the mean score over k > 0 minus the 0-shot score; with
 * `ci: true`, its 95% CI from a bootstrap that resamples the test items (paired across k) and the
 * model's fine-tuning seeds.
 */
export function iclGains(records: readonly StudyRecord[], opts: { ci?: boolean } = {}): IclGain[] {
  const out: IclGain[] = [];
  const items = opts.ci ? storedItems() : undefined;
  for (const rs of groupBy(records, (r) => `${r.model}|${r.spec.dataset}|${r.spec.map}`).values()) {
    const zero = rs.find((r) => r.spec.k === 0), ks = rs.filter((r) => r.spec.k > 0);
    if (!zero || ks.length === 0) continue;
    const kShotMean = ks.reduce((a, r) => a + r.value, 0) / ks.length;
    const g: IclGain = {
      model: zero.model, method: zero.method, trainTask: zero.trainTask ?? "", task: zero.spec.task, dataset: zero.spec.dataset, map: zero.spec.map,
      zeroShot: zero.value, kShotMean, gain: kShotMean - zero.value, truncated: rs.some((r) => r.truncatedPrompts > 0),
    };
    if (items) {
      const ci = differenceCI(zero.spec.task, [...ks.map((r) => ({ weight: 1 / ks.length, records: [r] })), { weight: -1, records: [zero] }], { items });
      if (ci) { g.low = ci.low; g.high = ci.high; }
    }
    out.push(g);
  }
  return out;
}
