/**
 * In-context learning of one model: its score on each task's in-domain test set at every k of the
 * paper's shot list, in both prompt maps, with bootstrap CIs; plus the majority baseline and the
 * checks that say whether a base model can learn from demonstrations at all.
 */
import { TASKS, TASK_NAMES, type TaskName } from "../data/tasks";
import { loadDataset } from "../data/load";
import type { CausalLM } from "../evaluate/lm";
import type { PromptMapId } from "../prompts/maps";
import { ResultStore, evaluateCached, type StoredResult } from "./store";
import { groupBy } from "../util/group";
import { bestBaseline, majorityBaseline } from "./baselines";

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

