/**
 * The in-context-learning grid of a pretrained LLM from the registry (SmolLM2-135M): every task,
 * its in-domain and out-of-domain test sets, both prompt maps, the paper's shot lists, the paper's
 * 250 test items, the paper's prompts with no chat template. Stated here once; `npm run llm-grid`
 * computes it (resumable: each evaluation is a stored record), and notebooks read it back.
 *
 * Input fields are capped at 1,024 tokens each, the paper's training length; the model's context
 * (8,192 for SmolLM2) holds a 4-shot prompt of such fields, so no prompt loses its demonstrations.
 */
import { registryEntry, registryModelDir, registryModelKey } from "../model/registry";
import { loadCausalLM } from "../evaluate/engines";
import type { CausalLM } from "../evaluate/lm";
import { iclGrid, majorityBaseline, type IclScope } from "./icl";
import { ResultStore, type StoredResult } from "./store";
import { COLLAPSE_SHARE, bestBaseline, predictedLabelShare } from "./baselines";
import { TASKS, type TaskName } from "../data/tasks";
import fs from "node:fs";
import path from "node:path";
import { projectRoot } from "../util/paths";

export const LLM_GRID = {
  /** Test items per set (the paper's first 250). */
  testItems: 250,
  /** Cap on each input field, in tokens. */
  fieldTokenCap: 1024,
  /** Prompts per batch (part of each record's key). */
  batchSize: 16,
} as const;

/**
 * Where the grid's records live: the project's committed results/, whatever the profile (the grid
 * is the same in every profile, so a quick run reads the committed records instead of making its own).
 */
export function llmStore(): ResultStore {
  return new ResultStore(path.join(projectRoot(), "results"));
}

/**
 * The grid of a registry model in a scope, through the store (default llmStore()). The model is loaded (and fetched by
 * the caller beforehand) only when a record is missing; `onProgress` after each evaluation.
 */
export async function llmIclGrid(model: string, scope: IclScope, opts: {
  store?: ResultStore;
  onProgress?: (done: number, total: number, r: StoredResult & { cached: boolean }) => void;
  /** Makes the model (default: the registry folder on the fastest engine). */
  load?: () => Promise<CausalLM>;
  /** Stop starting new evaluations after this time (ms since epoch); the records so far are kept. */
  deadline?: number;
  /** Only these tasks, in this order (default: every task). */
  tasks?: readonly TaskName[];
  /** false: read the stored records only, leaving out what is missing (default true: compute it). */
  computeMissing?: boolean;
} = {}): Promise<StoredResult[]> {
  const e = registryEntry(model);
  const load = opts.load ?? (() => {
    const dir = registryModelDir(e);
    if (!fs.existsSync(dir)) throw new Error(`${dir}: ${e.name} is not fetched, and a record of its grid is missing; run: npm run get-model -- ${e.name}`);
    return loadCausalLM(dir, "auto", { batchSize: LLM_GRID.batchSize });
  });
  return iclGrid(load, registryModelKey(e), {
    scope, tasks: opts.tasks, limit: LLM_GRID.testItems, fieldTokenCap: LLM_GRID.fieldTokenCap, batchSize: LLM_GRID.batchSize,
    store: opts.store ?? llmStore(), onProgress: opts.onProgress, deadline: opts.computeMissing === false ? 0 : opts.deadline,
  });
}

/** A record of the grid beside what a constant or trivial answer gets on the same items. */
export interface GridRow {
  task: TaskName;
  dataset: string;
  scope: "in-domain" | "out-of-domain";
  map: number;
  k: number;
  metric: string;
  score: number;
  low: number;
  high: number;
  /** Classification: the majority label's accuracy; generation: the higher of first-N-words and the best fixed output (chosen off the test set). */
  baseline: number;
  baselineName: string;
  /** Classification: macro-F1 (a constant answer gets at most 1/labels of it). */
  macroF1?: number;
  /** Classification: share of the most frequent predicted label, and that label. */
  topLabel?: string;
  topLabelShare?: number;
  /** Classification: ≥ 90% of the answers are one label. */
  collapsed?: boolean;
  /** Prompts whose oldest tokens were dropped to fit the context. */
  truncated: number;
  seconds: number;
}

/** The grid's records as rows with their baselines (the first-N-words choice is computed once per test set). */
export function gridRows(results: readonly StoredResult[], store = llmStore()): GridRow[] {
  const majority = new Map<string, number>();
  return results.map((r) => {
    const { task, dataset, map, k, limit } = r.spec;
    const set = `${task}/${dataset}`;
    const row: GridRow = {
      task, dataset, scope: dataset === TASKS[task].inDomain ? "in-domain" : "out-of-domain", map, k, metric: r.metric,
      score: r.value, low: r.ci.low, high: r.ci.high, baseline: 0, baselineName: "", truncated: r.truncatedPrompts, seconds: r.seconds,
    };
    if (TASKS[task].kind === "classification") {
      if (!majority.has(set)) majority.set(set, majorityBaseline(task, dataset, limit).accuracy);
      row.baseline = majority.get(set)!;
      row.baselineName = "majority label";
      row.macroF1 = r.extra.macroF1;
      const top = predictedLabelShare(store.items(r.key));
      row.topLabel = top.label;
      row.topLabelShare = top.share;
      row.collapsed = top.share >= COLLAPSE_SHARE;
    } else {
      const b = bestBaseline(task, dataset, limit); // first-N-words or the best fixed output, whichever is higher
      row.baseline = b.value;
      row.baselineName = b.name;
    }
    return row;
  });
}

