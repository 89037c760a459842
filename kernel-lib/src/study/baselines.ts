/**
 * Baselines that need no model, to put beside every score: what a constant or trivial answer gets.
 *
 * - classification: the majority label's accuracy on the scored items (icl.ts majorityBaseline),
 *   and, read from a record's items, the share of its most frequent predicted label (a model that
 *   answers one label for nearly everything has "collapsed": its accuracy is the label prior);
 * - generation: the first N words of the input as the output. N is chosen where it cannot see the
 *   test set: on the task's train file when the dataset has one (in-domain), else on its few-shot
 *   file; then scored on the test items with ROUGE-L as the models are.
 */
import { TASKS, type TaskName } from "../data/tasks";
import { isAvailable, loadDataset, loadFewShot } from "../data/load";
import type { AnyRecord } from "../data/records";
import type { ItemResult } from "../evaluate/evaluate";
import { corpusRouge } from "../metrics/rouge";
import { meanCI } from "../metrics/bootstrap";

/** Word counts first-N-words tries (up to the paper's 60-token budget). */
export const FIRST_WORDS_CANDIDATES: readonly number[] = [5, 10, 15, 20, 25, 30, 40, 50, 60];
/** Train records used to choose N (enough for a stable choice, quick to score). */
const CHOOSE_ON = 500;

/** Share of one predicted label at and above which a record is flagged as collapsed. */
export const COLLAPSE_SHARE = 0.9;

/** The share of the most frequent output among a record's items, and that output. */
export function predictedLabelShare(items: readonly Pick<ItemResult, "output">[]): { label: string; share: number } {
  const counts = new Map<string, number>();
  for (const it of items) counts.set(it.output, (counts.get(it.output) ?? 0) + 1);
  let label = "", n = 0;
  for (const [k, v] of counts) if (v > n || (v === n && k < label)) { label = k; n = v; }
  return { label, share: items.length ? n / items.length : 0 };
}

/** The first `n` whitespace-separated words of a text. */
export function firstWords(text: string, n: number): string {
  return text.trim().split(/\s+/).slice(0, n).join(" ");
}

function firstWordsRouge(records: readonly AnyRecord[], n: number): number[] {
  const scores = corpusRouge(records.map((r) => firstWords(String((r as { input: string }).input), n)), records.map((r) => r.output));
  return scores.items.map((s) => s.rougeL.fmeasure);
}

export interface FirstWordsBaseline {
  /** The chosen word count. */
  n: number;
  /** Where N was chosen: "train" or "few-shot". */
  chosenOn: "train" | "few-shot";
  rougeL: number;
  ci: { low: number; high: number };
}

/**
 * First-N-words ROUGE-L on the first `limit` test items of a generation test set, N chosen on the
 * dataset's train file (its first 500 records) or, without one, its few-shot file.
 */
export function firstWordsBaseline(task: TaskName, dataset: string, limit: number): FirstWordsBaseline {
  if (TASKS[task].kind !== "generation") throw new Error(`firstWordsBaseline: ${task} is not a generation task`);
  const hasTrain = TASKS[task].inDomain === dataset && isAvailable(task, dataset, "train", Math.min(...TASKS[task].trainSizes));
  const pool: AnyRecord[] = hasTrain ? loadDataset(task, dataset, "train").records.slice(0, CHOOSE_ON) : loadFewShot(task, dataset);
  let best = FIRST_WORDS_CANDIDATES[0], bestScore = -1;
  for (const n of FIRST_WORDS_CANDIDATES) {
    const s = firstWordsRouge(pool, n);
    const m = s.reduce((a, b) => a + b, 0) / s.length;
    if (m > bestScore) { best = n; bestScore = m; }
  }
  const test = loadDataset(task, dataset, "test", { limit }).records;
  const ci = meanCI(firstWordsRouge(test, best), { seed: 0 });
  return { n: best, chosenOn: hasTrain ? "train" : "few-shot", rougeL: ci.estimate, ci: { low: ci.low, high: ci.high } };
}
