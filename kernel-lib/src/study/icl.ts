/**
 * In-context learning of one model: its score on each task's in-domain test set at every k of the
 * paper's shot list, in both prompt maps, with bootstrap CIs; plus the majority baseline and the
 * checks that say whether a base model can learn from demonstrations at all.
 */
import { TASKS, TASK_NAMES, type TaskName } from "../data/tasks";
import { loadDataset } from "../data/load";
import { labelBalance } from "../data/validate";
import type { CausalLM } from "../evaluate/lm";
import type { PromptMapId } from "../prompts/maps";
import type { Figure } from "../plot/figure";
import { ResultStore, evaluateCached, type StoredResult } from "./store";
import { groupBy } from "../util/group";

export interface IclGridOptions {
  tasks?: readonly TaskName[];
  maps?: readonly PromptMapId[];
  /** Test items per set (the profile's testItems). */
  limit: number;
  /** Cap on each input field, in tokens (prompts/fit). */
  fieldTokenCap: number;
  store?: ResultStore;
  batchSize?: number;
  /** Called after each evaluation: done, total, and the record. */
  onProgress?: (done: number, total: number, r: StoredResult & { cached: boolean }) => void;
}

/** Every (task, map, k) on the task's in-domain test set, through the result store. */
export async function iclGrid(lm: CausalLM, modelKey: string, opts: IclGridOptions): Promise<StoredResult[]> {
  const jobs: { task: TaskName; map: PromptMapId; k: number }[] = [];
  for (const task of opts.tasks ?? TASK_NAMES) for (const map of opts.maps ?? [0, 1]) for (const k of TASKS[task].shots) jobs.push({ task, map: map as PromptMapId, k });
  const out: StoredResult[] = [];
  for (const j of jobs) {
    const r = await evaluateCached(lm, modelKey, { task: j.task, dataset: TASKS[j.task].inDomain, k: j.k, map: j.map, limit: opts.limit, fieldTokenCap: opts.fieldTokenCap, batchSize: opts.batchSize }, opts.store);
    out.push(r);
    opts.onProgress?.(out.length, jobs.length, r);
  }
  return out;
}

/** Accuracy of always answering the most frequent label of the scored rows (classification). */
export function majorityBaseline(task: TaskName, dataset: string, limit: number): { label: string; accuracy: number } {
  const d = loadDataset(task, dataset, "test", { limit });
  const counts = labelBalance(task, d.records);
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const [label, n] = Object.entries(counts).sort((a, b) => b[1] - a[1])[0];
  return { label, accuracy: total ? n / total : 0 };
}

/** A classification record against the majority baseline of its items: above it when its CI lies wholly above. */
export function majorityCheck(r: StoredResult): { label: string; accuracy: number; above: boolean } {
  const m = majorityBaseline(r.spec.task, r.spec.dataset, r.spec.limit);
  return { ...m, above: r.ci.low > m.accuracy };
}

export interface IclCheckRow {
  task: TaskName;
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

/** Per (task, map): best k-shot vs 0-shot, and 0-shot vs the majority baseline, on CIs. */
export function iclChecks(results: readonly StoredResult[]): IclCheckRow[] {
  const rows: IclCheckRow[] = [];
  for (const rs of groupBy(results, (r) => `${r.spec.task}|${r.spec.map}`).values()) {
    const zero = rs.find((r) => r.spec.k === 0);
    const shots = rs.filter((r) => r.spec.k > 0);
    if (!zero || shots.length === 0) continue;
    const best = shots.reduce((a, b) => (b.value > a.value ? b : a));
    const task = zero.spec.task;
    const row: IclCheckRow = { task, map: zero.spec.map, zeroShot: zero, bestK: best, kShotBeatsZeroShot: best.ci.low > zero.ci.high };
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

/** The bar from iclChecks' rows (map 0 only). */
export function iclBar(checks: readonly IclCheckRow[]): IclBar {
  const m0 = checks.filter((c) => c.map === 0);
  const cls = m0.filter((c) => c.majority !== undefined);
  const kShotWins = m0.filter((c) => c.kShotBeatsZeroShot).length;
  const aboveMajority = cls.filter((c) => c.zeroShotAboveMajority).length;
  return {
    kShotWins, tasks: m0.length, aboveMajority, classificationTasks: cls.length,
    kShotMet: kShotWins >= ICL_BAR.kShotWins, majorityMet: aboveMajority >= ICL_BAR.aboveMajority,
  };
}

/** Score vs k, one line per (task, map), CI whiskers; generation and classification share a [0, 1] axis. */
export function scoreVsKChart(results: readonly StoredResult[], title = "Score vs number of demonstrations"): Figure {
  const groups = groupBy(results, (r) => `${r.spec.task} · map ${r.spec.map}`);
  const data = [...groups].map(([name, rs]) => {
    const s = [...rs].sort((a, b) => a.spec.k - b.spec.k);
    return {
      type: "scatter", mode: "lines+markers", name,
      x: s.map((r) => r.spec.k), y: s.map((r) => r.value),
      line: { dash: s[0].spec.map === 1 ? "dot" : "solid" },
      error_y: { type: "data", symmetric: false, array: s.map((r) => r.ci.high - r.value), arrayminus: s.map((r) => r.value - r.ci.low) },
    };
  });
  return {
    data,
    layout: {
      title: { text: title }, height: 460,
      xaxis: { title: { text: "k (in-context demonstrations)" }, dtick: 1 },
      yaxis: { title: { text: "accuracy / ROUGE-L" }, range: [0, 1] },
      legend: { orientation: "h", y: -0.25 }, margin: { t: 60, l: 60, r: 20, b: 110 },
    },
  };
}
