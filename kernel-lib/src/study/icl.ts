/**
 * In-context learning of one model: its score on each task's in-domain test set at every k of the
 * paper's shot list, in both prompt maps, with bootstrap CIs; plus the majority baseline and the
 * checks that say whether a base model can learn from demonstrations at all.
 */
import { TASKS, TASK_NAMES, type TaskName } from "../data/tasks";
import { loadDataset } from "../data/load";
import type { CausalLM } from "../evaluate/lm";
import type { PromptMapId } from "../prompts/maps";
import type { Figure } from "../plot/figure";
import { ResultStore, evaluateCached, type StoredResult } from "./store";
import { groupBy } from "../util/group";
import { bestBaseline, majorityBaseline } from "./baselines";
import { panelFigure, type Panel } from "../plot/panels";
import { REFERENCE_COLOR, fittedRange, scoreTickFormat, seriesColor, type PrintWidth } from "../plot/style";
import { TRUNCATED_LEGEND, legendOnly } from "./charts";

export { majorityBaseline };

/** Which test sets a grid covers: each task's in-domain set, its out-of-domain sets, or both. */
export type IclScope = "in-domain" | "out-of-domain" | "all";

/** The test sets of a task in a scope, in-domain first. */
export function scopeDatasets(task: TaskName, scope: IclScope): string[] {
  const t = TASKS[task];
  return scope === "in-domain" ? [t.inDomain] : scope === "out-of-domain" ? [...t.outOfDomain] : [t.inDomain, ...t.outOfDomain];
}

export interface IclGridOptions {
  tasks?: readonly TaskName[];
  /** Test sets (default "in-domain"). */
  scope?: IclScope;
  maps?: readonly PromptMapId[];
  /** Test items per set (the profile's testItems). */
  limit: number;
  /** Cap on each input field, in tokens (prompts/fit). */
  fieldTokenCap: number;
  store?: ResultStore;
  batchSize?: number;
  /** Start no evaluation after this time (ms since epoch): only stored records are returned then. */
  deadline?: number;
  /** Called after each evaluation: done, total, and the record. */
  onProgress?: (done: number, total: number, r: StoredResult & { cached: boolean }) => void;
}

/**
 * Every (task, test set, map, k) of the scope (default: each task's in-domain set), through the
 * result store. `lm` may be a function that loads the model, called only when a record is missing.
 */
export async function iclGrid(lm: CausalLM | (() => Promise<CausalLM>), modelKey: string, opts: IclGridOptions): Promise<StoredResult[]> {
  const jobs: { task: TaskName; dataset: string; map: PromptMapId; k: number }[] = [];
  for (const task of opts.tasks ?? TASK_NAMES) {
    for (const dataset of scopeDatasets(task, opts.scope ?? "in-domain")) {
      for (const map of opts.maps ?? [0, 1]) for (const k of TASKS[task].shots) jobs.push({ task, dataset, map: map as PromptMapId, k });
    }
  }
  let loaded: Promise<CausalLM> | undefined;
  const model = typeof lm === "function" ? () => (loaded ??= lm()) : lm;
  const out: StoredResult[] = [];
  const store = opts.store ?? new ResultStore();
  store.removeStaleTemps(); // left by a run killed mid-write
  for (const j of jobs) {
    const spec = { task: j.task, dataset: j.dataset, k: j.k, map: j.map, limit: opts.limit, fieldTokenCap: opts.fieldTokenCap, batchSize: opts.batchSize };
    // Past the deadline, stored records are still read; nothing new is started.
    if (opts.deadline !== undefined && Date.now() > opts.deadline && !store.lookup(store.key(modelKey, spec)).record) continue;
    const r = await evaluateCached(model, modelKey, spec, store);
    out.push(r);
    opts.onProgress?.(out.length, jobs.length, r);
  }
  return out;
}

/** A classification record against the majority baseline of its items: above it when its CI lies wholly above. */
export function majorityCheck(r: StoredResult): { label: string; accuracy: number; above: boolean } {
  const m = majorityBaseline(r.spec.task, r.spec.dataset, r.spec.limit);
  return { ...m, above: r.ci.low > m.accuracy };
}

export interface IclCheckRow {
  task: TaskName;
  dataset: string;
  map: PromptMapId;
  zeroShot: StoredResult;
  /** The k-shot record with the highest score. */
  bestK: StoredResult;
  /** bestK's CI lies wholly above 0-shot's. */
  kShotBeatsZeroShot: boolean;
  /** Classification only. */
  majority?: number;
  /** 0-shot's CI lies wholly above the majority baseline (classification only). */
  zeroShotAboveMajority?: boolean;
}

/** Per (task, test set, map): best k-shot vs 0-shot, and 0-shot vs the majority baseline, on CIs. */
export function iclChecks(results: readonly StoredResult[]): IclCheckRow[] {
  const rows: IclCheckRow[] = [];
  for (const rs of groupBy(results, (r) => `${r.spec.task}|${r.spec.dataset}|${r.spec.map}`).values()) {
    const zero = rs.find((r) => r.spec.k === 0);
    const shots = rs.filter((r) => r.spec.k > 0);
    if (!zero || shots.length === 0) continue;
    const best = shots.reduce((a, b) => (b.value > a.value ? b : a));
    const task = zero.spec.task;
    const row: IclCheckRow = { task, dataset: zero.spec.dataset, map: zero.spec.map, zeroShot: zero, bestK: best, kShotBeatsZeroShot: best.ci.low > zero.ci.high };
    if (TASKS[task].kind === "classification") {
      const m = majorityCheck(zero);
      row.majority = m.accuracy;
      row.zeroShotAboveMajority = m.above;
    }
    rows.push(row);
  }
  return rows;
}

/** Issue 4's bar for a base model, on map 0 (the paper's main prompt format). */
export interface IclBar {
  /** Tasks whose best k-shot CI lies wholly above 0-shot's, of `tasks`. */
  kShotWins: number;
  tasks: number;
  /** Classification tasks whose 0-shot CI lies wholly above the majority baseline, of `classificationTasks`. */
  aboveMajority: number;
  classificationTasks: number;
  /** At least 3 k-shot wins; at least 2 tasks above majority. */
  kShotMet: boolean;
  majorityMet: boolean;
}

export const ICL_BAR = { kShotWins: 3, aboveMajority: 2 } as const;

/** The bar from iclChecks' rows (in-domain test sets, map 0 only). */
export function iclBar(checks: readonly IclCheckRow[]): IclBar {
  const m0 = checks.filter((c) => c.map === 0 && c.dataset === TASKS[c.task].inDomain);
  const cls = m0.filter((c) => c.majority !== undefined);
  const kShotWins = m0.filter((c) => c.kShotBeatsZeroShot).length;
  const aboveMajority = cls.filter((c) => c.zeroShotAboveMajority).length;
  return {
    kShotWins, tasks: m0.length, aboveMajority, classificationTasks: cls.length,
    kShotMet: kShotWins >= ICL_BAR.kShotWins, majorityMet: aboveMajority >= ICL_BAR.aboveMajority,
  };
}

/** A horizontal reference line on a chart (a majority or trivial baseline). */
export interface BaselineLine {
  name: string;
  y: number;
  /** The test set it belongs to ("task/dataset"): drawn in that set's colour. */
  set?: string;
}

/**
 * Score vs k at print size: one line per test set (one colour each) with CI whiskers, one panel per
 * prompt map (and per metric, where generation and classification sets mix), the y axis named after
 * the metric and fitted to the data; each set's strongest baseline (majority label, or the better of
 * first-N-words and the best fixed output) dotted in its colour, unless `baselines` gives others or
 * `false`; × where prompts were truncated.
 */
export function scoreVsKChart(results: readonly StoredResult[], title = "Score vs number of demonstrations", opts: { baselines?: readonly BaselineLine[] | false; yTitle?: string; width?: PrintWidth } = {}): Figure {
  if (results.length === 0) throw new Error(`scoreVsKChart "${title}": no records`);
  const setOf = (r: StoredResult): string => `${r.spec.task}/${r.spec.dataset}`;
  const sets = [...new Set(results.map(setOf))];
  const tasks = new Set(results.map((r) => r.spec.task));
  const oneSetPerTask = sets.length === tasks.size;
  const label = (set: string): string => { const [t, d] = set.split("/"); return tasks.size === 1 ? d : oneSetPerTask ? `${t} (${d})` : `${t} · ${d}`; };
  const maps = [...new Set(results.map((r) => r.spec.map))].sort((a, b) => a - b);
  const kinds = (["generation", "classification"] as const).filter((k) => results.some((r) => TASKS[r.spec.task].kind === k));
  const baselines: BaselineLine[] = opts.baselines === false ? [] : opts.baselines ? [...opts.baselines] : sets.map((set) => {
    const r = results.find((x) => setOf(x) === set) as StoredResult;
    const b = bestBaseline(r.spec.task, r.spec.dataset, r.spec.limit);
    return { name: `${label(set)}: ${b.name}`, y: b.value, set };
  });
  const truncatedAny = results.some((r) => r.truncatedPrompts > 0);
  const shown = new Set<string>();
  const panels: Panel[] = [];
  for (const kind of kinds) {
    const ofKind = results.filter((r) => TASKS[r.spec.task].kind === kind);
    const kindSets = sets.filter((set) => ofKind.some((r) => setOf(r) === set));
    const kindBases = baselines.filter((b) => !b.set || kindSets.includes(b.set));
    const range = fittedRange([...ofKind.flatMap((r) => [r.ci.low, r.ci.high]), ...kindBases.map((b) => b.y)]);
    const ks = [...new Set(ofKind.map((r) => r.spec.k))].sort((a, b) => a - b);
    maps.forEach((map, mi) => {
      const traces: Record<string, unknown>[] = [];
      for (const set of kindSets) {
        const s = ofKind.filter((r) => setOf(r) === set && r.spec.map === map).sort((a, b) => a.spec.k - b.spec.k);
        if (!s.length) continue;
        const color = seriesColor(sets.indexOf(set), `scoreVsKChart "${title}"`);
        traces.push({
          type: "scatter", mode: "lines+markers", name: label(set), legendgroup: set, showlegend: !shown.has(set), x: s.map((r) => r.spec.k), y: s.map((r) => r.value),
          line: { color, width: 1.6 },
          marker: { color, size: s.map((r) => (r.truncatedPrompts > 0 ? 9 : 6)), symbol: s.map((r) => (r.truncatedPrompts > 0 ? "x" : "circle")) },
          error_y: { type: "data", symmetric: false, color, thickness: 1, width: 2, array: s.map((r) => r.ci.high - r.value), arrayminus: s.map((r) => r.value - r.ci.low) },
          customdata: s.map((r) => `${r.ci.low.toFixed(3)}–${r.ci.high.toFixed(3)}${r.truncatedPrompts > 0 ? `<br>prompts truncated: ${r.truncatedPrompts} of ${r.n}` : ""}`),
          hovertemplate: `${label(set)}, k=%{x}: %{y:.3f} [%{customdata}]<extra></extra>`,
        });
        shown.add(set);
      }
      for (const b of kindBases) {
        const color = b.set ? seriesColor(sets.indexOf(b.set)) : REFERENCE_COLOR;
        traces.push({ type: "scatter", mode: "lines", name: b.name, legendgroup: b.set ?? b.name, showlegend: false, x: [ks[0], ks[ks.length - 1]], y: [b.y, b.y], line: { dash: "dot", width: 1.3, color }, hovertemplate: `${b.name}: %{y:.3f}<extra></extra>` });
      }
      panels.push({
        title: maps.length > 1 ? `prompt map ${map}` : undefined, traces,
        xTitle: "k (demonstrations)", xaxis: { tickvals: ks, range: [ks[0] - 0.5, ks[ks.length - 1] + 0.5], showgrid: false },
        yTitle: mi === 0 ? opts.yTitle ?? (kind === "classification" ? "accuracy" : "ROUGE-L") : undefined,
        yaxis: { range, tickformat: scoreTickFormat(range[1] - range[0]), ...(mi === 0 ? {} : { showticklabels: false }) },
      });
    });
  }
  const bName = kinds.length === 2 ? "majority label / best trivial output" : kinds[0] === "classification" ? "majority label" : "best trivial output";
  if (baselines.length) panels[0].traces.push(legendOnly(`baseline: ${bName}`, { line: { dash: "dot", width: 1.3, color: REFERENCE_COLOR } }, "lines"));
  if (truncatedAny) panels[0].traces.push(legendOnly(TRUNCATED_LEGEND, { marker: { symbol: "x", size: 9, color: "#444" } }));
  return panelFigure(panels, { title, width: opts.width ?? (panels.length <= 2 ? "column" : "page"), cols: maps.length, panelHeight: 150 });
}
