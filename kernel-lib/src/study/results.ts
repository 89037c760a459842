/**
 * Reading a study's records: Δ vs the base model at the same (test set, k, map), pivots such as
 * train task × test set, and the heatmap of a pivot. Tables go through toDataFrame/showTable.
 */
import type { Figure } from "../plot/figure";
import type { StudyRecord } from "./runner";
import { groupBy } from "../util/group";

/** A record with its base-model counterpart (same test set, k, map, test items). */
export interface DeltaRow {
  record: StudyRecord;
  base?: StudyRecord;
  /** record − base, when the base model was scored on the same job. */
  delta?: number;
}

/** What makes two records comparable item by item: the test set, k, map and number of items. */
export const jobKey = (r: StudyRecord): string => `${r.spec.task}|${r.spec.dataset}|${r.spec.k}|${r.spec.map}|${r.spec.limit}`;

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
}

/**
 * A rows × cols table of Δ vs base (or of raw scores with `value: "score"`), averaging over the
 * records that fall in one cell (e.g. several seeds). Keys pick a field of the record.
 */
export function pivot(records: readonly StudyRecord[], opts: {
  rows: (r: StudyRecord) => string; cols: (r: StudyRecord) => string; value?: "delta" | "score";
  filter?: (r: StudyRecord) => boolean; title?: string;
  /** Row and column order (keys not listed follow, in the order met). */
  order?: { rows?: readonly string[]; cols?: readonly string[] };
}): Pivot {
  const value = opts.value ?? "delta";
  const cells = new Map<string, number[]>();
  const rowSet: string[] = [], colSet: string[] = [];
  const rowsIn = value === "delta" ? deltasVsBase(records) : records.filter((r) => r.method !== "base").map((record) => ({ record, delta: undefined }));
  for (const d of rowsIn) {
    if (opts.filter && !opts.filter(d.record)) continue;
    const v = value === "delta" ? d.delta : d.record.value;
    if (v === undefined) continue;
    const rk = opts.rows(d.record), ck = opts.cols(d.record);
    if (!rowSet.includes(rk)) rowSet.push(rk);
    if (!colSet.includes(ck)) colSet.push(ck);
    const key = `${rk}\u0000${ck}`;
    cells.set(key, [...(cells.get(key) ?? []), v]);
  }
  rowSet.splice(0, rowSet.length, ...ordered(rowSet, opts.order?.rows));
  colSet.splice(0, colSet.length, ...ordered(colSet, opts.order?.cols));
  const values = rowSet.map((rk) => colSet.map((ck) => {
    const v = cells.get(`${rk}\u0000${ck}`);
    return v ? v.reduce((a, b) => a + b, 0) / v.length : null;
  }));
  return { rows: rowSet, cols: colSet, values, title: opts.title ?? (value === "delta" ? "Δ vs base" : "score") };
}

/** The pivot as plain rows for toDataFrame: one row per pivot row, one column per pivot column. */
export function pivotRows(p: Pivot, rowName = "train task"): Record<string, string | number>[] {
  return p.rows.map((r, i) => ({ [rowName]: r, ...Object.fromEntries(p.cols.map((c, j) => [c, p.values[i][j] ?? ""])) }));
}

/** Red for a loss, white for none, blue for a gain (plotly's named "RdBu" runs the other way). */
export const DIVERGING: [number, string][] = [[0, "#b2182b"], [0.25, "#ef8a62"], [0.5, "#f7f7f7"], [0.75, "#67a9cf"], [1, "#2166ac"]];

/** A heatmap of a Δ pivot: red below zero, blue above, each cell labelled with its value. */
export function deltaHeatmap(p: Pivot, opts: { xTitle?: string; yTitle?: string } = {}): Figure {
  const finite = p.values.flat().filter((v): v is number => v !== null);
  const span = Math.max(0.01, ...finite.map(Math.abs));
  return {
    data: [{
      type: "heatmap", x: p.cols, y: p.rows, z: p.values, zmin: -span, zmax: span, zmid: 0, colorscale: DIVERGING,
      text: p.values.map((row) => row.map((v) => (v === null ? "" : (v >= 0 ? "+" : "") + v.toFixed(3)))), texttemplate: "%{text}",
      hovertemplate: "%{y} → %{x}: %{z:.3f}<extra></extra>",
    }],
    layout: {
      title: { text: p.title }, height: 120 + 48 * p.rows.length,
      xaxis: { title: { text: opts.xTitle ?? "test set" } }, yaxis: { title: { text: opts.yTitle ?? "fine-tuned on" }, autorange: "reversed" },
      margin: { t: 60, l: 110, r: 20, b: 80 },
    },
  };
}

/**
 * Map 1 − map 0 at 0-shot, per model (rows: "base" or the train task) and test set: how much the
 * prompt's wording moves each score.
 */
export function mapDeltaPivot(records: readonly StudyRecord[], opts: { cols?: readonly string[] } = {}): Pivot {
  const zero = records.filter((r) => r.spec.k === 0);
  const rowOf = (r: StudyRecord): string => (r.method === "base" ? "base" : `${r.method} ${r.trainTask}`);
  const cells = new Map<string, { m0?: number; m1?: number }>();
  for (const r of zero) {
    const key = `${rowOf(r)}\u0000${r.spec.dataset}`;
    const c = cells.get(key) ?? {};
    if (r.spec.map === 0) c.m0 = r.value; else c.m1 = r.value;
    cells.set(key, c);
  }
  const rows: string[] = [], cols: string[] = [];
  for (const key of cells.keys()) {
    const [rk, ck] = key.split("\u0000");
    if (!rows.includes(rk)) rows.push(rk);
    if (!cols.includes(ck)) cols.push(ck);
  }
  const colOrder = ordered(cols, opts.cols);
  const values = rows.map((rk) => colOrder.map((ck) => {
    const c = cells.get(`${rk}\u0000${ck}`);
    return c?.m0 !== undefined && c.m1 !== undefined ? c.m1 - c.m0 : null;
  }));
  return { rows, cols: colOrder, values, title: "map 1 − map 0 (0-shot)" };
}

/** ICL gain per (model, test set, map): the mean score over k > 0 minus the 0-shot score. */
export function iclGains(records: readonly StudyRecord[]): { model: string; method: string; trainTask: string; dataset: string; map: number; zeroShot: number; kShotMean: number; gain: number }[] {
  const out = [];
  for (const rs of groupBy(records, (r) => `${r.model}|${r.spec.dataset}|${r.spec.map}`).values()) {
    const zero = rs.find((r) => r.spec.k === 0), ks = rs.filter((r) => r.spec.k > 0);
    if (!zero || ks.length === 0) continue;
    const kShotMean = ks.reduce((a, r) => a + r.value, 0) / ks.length;
    out.push({ model: zero.model, method: zero.method, trainTask: zero.trainTask ?? "", dataset: zero.spec.dataset, map: zero.spec.map, zeroShot: zero.value, kShotMean, gain: kShotMean - zero.value });
  }
  return out;
}
