/**
 * Baselines that need no model, to put beside every score: what a constant or trivial answer gets.
 *
 * - classification: the majority label's accuracy on the scored items (majorityBaseline),
 *   and, read from a record's items, the share of its most frequent predicted label (a model that
 *   answers one label for nearly everything has "collapsed": its accuracy is the label prior);
 * - generation: the first N words of the input as the output, and the best fixed output (one text
 *   answered to every item). Both are chosen where they cannot see the test set: on the task's
 *   train file when the dataset has one (in-domain), else on its few-shot file; then scored on the
 *   test items with ROUGE-L as the models are.
 *
 * Set baselines are computed once per (task, test set, items) in a process.
 */
import { TASKS, type TaskName } from "../data/tasks";
import { isAvailable, loadDataset, loadFewShot } from "../data/load";
import { labelBalance } from "../data/validate";
import { paperDataDir } from "../util/paths";
import type { AnyRecord } from "../data/records";
import type { ItemResult } from "../evaluate/evaluate";
import { corpusRouge, lcsLength, rougeTokenize } from "../metrics/rouge";
import { meanCI } from "../metrics/bootstrap";

/** Computed once per key in a process: set baselines read and score whole files. */
const memo = new Map<string, unknown>();
function once<T>(key: string, make: () => T): T {
  const k = `${paperDataDir()}|${key}`; // the data folder can change within a process (tests)
  if (!memo.has(k)) memo.set(k, make());
  return memo.get(k) as T;
}

/** Accuracy of always answering the most frequent label of the scored rows (classification). */
export function majorityBaseline(task: TaskName, dataset: string, limit: number): { label: string; accuracy: number } {
  return once(`majority|${task}|${dataset}|${limit}`, () => {
    const d = loadDataset(task, dataset, "test", { limit });
    const counts = labelBalance(task, d.records);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const [label, n] = Object.entries(counts).sort((a, b) => b[1] - a[1])[0];
    return { label, accuracy: total ? n / total : 0 };
  });
}

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

/** ROUGE-L of the first n words of each record's first input field (the lead of an article, the context of a question). */
function firstWordsRouge(task: TaskName, records: readonly AnyRecord[], n: number): number[] {
  const field = TASKS[task].inputFields[0];
  const scores = corpusRouge(records.map((r) => firstWords(String(r[field]), n)), records.map((r) => r.output));
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
  return once(`first-words|${task}|${dataset}|${limit}`, () => computeFirstWords(task, dataset, limit));
}

/** The records a generation baseline is chosen on: the train file's first 500, else the few-shot file. */
function choicePool(task: TaskName, dataset: string, who: string): { pool: AnyRecord[]; chosenOn: "train" | "few-shot" } {
  if (TASKS[task].kind !== "generation") throw new Error(`${who}: ${task} is not a generation task`);
  const hasTrain = TASKS[task].inDomain === dataset && isAvailable(task, dataset, "train", Math.min(...TASKS[task].trainSizes));
  return { pool: hasTrain ? loadDataset(task, dataset, "train").records.slice(0, CHOOSE_ON) : loadFewShot(task, dataset), chosenOn: hasTrain ? "train" : "few-shot" };
}

function computeFirstWords(task: TaskName, dataset: string, limit: number): FirstWordsBaseline {
  const { pool, chosenOn } = choicePool(task, dataset, "firstWordsBaseline");
  let best = FIRST_WORDS_CANDIDATES[0], bestScore = -1;
  for (const n of FIRST_WORDS_CANDIDATES) {
    const s = firstWordsRouge(task, pool, n);
    const m = s.reduce((a, b) => a + b, 0) / s.length;
    if (m > bestScore) { best = n; bestScore = m; }
  }
  const test = loadDataset(task, dataset, "test", { limit }).records;
  const ci = meanCI(firstWordsRouge(task, test, best), { seed: 0 });
  return { n: best, chosenOn, rougeL: ci.estimate, ci: { low: ci.low, high: ci.high } };
}

/** Candidate texts the best-fixed-output baseline tries: the first references of its pool. */
const FIXED_CANDIDATES = 100;

export interface FixedOutputBaseline {
  /** The one output given to every item. */
  text: string;
  chosenOn: "train" | "few-shot";
  rougeL: number;
  ci: { low: number; high: number };
}

/**
 * The best fixed output: of the first 100 references of the train file (or the few-shot file), the
 * one with the highest mean ROUGE-L F against the pool's other references; then that one text
 * answered to each of the first `limit` test items.
 */
export function fixedOutputBaseline(task: TaskName, dataset: string, limit: number): FixedOutputBaseline {
  return once(`fixed-output|${task}|${dataset}|${limit}`, () => {
    const { pool, chosenOn } = choicePool(task, dataset, "fixedOutputBaseline");
    const refs = pool.map((r) => rougeTokenize(r.output));
    let best = 0, bestScore = -1;
    for (let i = 0; i < Math.min(FIXED_CANDIDATES, refs.length); i++) {
      let sum = 0;
      for (let j = 0; j < refs.length; j++) {
        if (j === i || refs[i].length === 0 || refs[j].length === 0) continue;
        const l = lcsLength(refs[i], refs[j]), p = l / refs[i].length, r = l / refs[j].length;
        sum += p + r > 0 ? (2 * p * r) / (p + r) : 0;
      }
      const m = sum / Math.max(1, refs.length - 1);
      if (m > bestScore) { best = i; bestScore = m; }
    }
    const text = pool[best].output;
    const test = loadDataset(task, dataset, "test", { limit }).records;
    const ci = meanCI(corpusRouge(test.map(() => text), test.map((r) => r.output)).items.map((x) => x.rougeL.fmeasure), { seed: 0 });
    return { text, chosenOn, rougeL: ci.estimate, ci: { low: ci.low, high: ci.high } };
  });
}

/** What a constant or trivial answer gets on a test set's first `limit` items. */
export interface SetBaseline {
  /** e.g. "majority label (no)", "first 25 words", "best fixed output". */
  name: string;
  value: number;
}

/**
 * A test set's baselines: classification, the majority label's accuracy (its balanced accuracy is
 * 1/labels by definition); generation, first-N-words and the best fixed output.
 */
export function setBaselines(task: TaskName, dataset: string, limit: number): SetBaseline[] {
  if (TASKS[task].kind === "classification") {
    const m = majorityBaseline(task, dataset, limit);
    return [{ name: `majority label (${m.label})`, value: m.accuracy }];
  }
  const fw = firstWordsBaseline(task, dataset, limit), fixed = fixedOutputBaseline(task, dataset, limit);
  return [{ name: `first ${fw.n} words`, value: fw.rougeL }, { name: "best fixed output", value: fixed.rougeL }];
}

/** The strongest of a set's baselines: the bar a model must clear. */
export function bestBaseline(task: TaskName, dataset: string, limit: number): SetBaseline {
  return setBaselines(task, dataset, limit).reduce((a, b) => (b.value > a.value ? b : a));
}

/** Balanced accuracy of a record's items: the mean over the gold labels present of each label's recall. */
export function balancedAccuracy(items: readonly Pick<ItemResult, "gold" | "score">[]): number {
  const hit = new Map<string, number>(), count = new Map<string, number>();
  for (const it of items) {
    count.set(it.gold, (count.get(it.gold) ?? 0) + 1);
    hit.set(it.gold, (hit.get(it.gold) ?? 0) + it.score);
  }
  let sum = 0;
  for (const [g, n] of count) sum += (hit.get(g) as number) / n;
  return count.size ? sum / count.size : 0;
}
