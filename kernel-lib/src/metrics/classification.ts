/**
 * Classification metrics for the label tasks (sentiment, paraphrase detection, NLI).
 *
 * Why results are objects, not bare numbers: some gold rows carry no usable label (MNLI/SNLI
 * rows labelled "-"). Such rows are dropped from every metric here — a model cannot be right or
 * wrong about them — and each result says how many were `scored` and how many `excluded`, so a
 * table can never silently mix denominators.
 *
 * Rule used throughout: an item is excluded iff its GOLD label is not in `labels`. A PREDICTION
 * outside `labels` (a generation such as "maybe") is kept and is simply wrong.
 */
import { checkPaired } from "./shared";

/** What every classification result reports about its denominator. */
export interface Coverage {
  /** Items whose gold label is in the label set: the denominator actually used. */
  scored: number;
  /** Items left out because their gold label is not in the label set (e.g. MNLI "-"). */
  excluded: number;
}

export interface AccuracyResult extends Coverage {
  /** correct / scored; NaN when nothing could be scored. */
  value: number;
  correct: number;
}

export interface LabelScores {
  label: string;
  /** tp / (#predicted as label), 0 when nothing was predicted as the label. */
  precision: number;
  /** tp / (#gold of label), 0 when the label never occurs in gold. */
  recall: number;
  /** 2·tp / (#predicted + #gold), 0 when both are 0 (sklearn zero_division=0). */
  f1: number;
  /** Gold occurrences of the label among scored items. */
  support: number;
  /** Predictions of the label among scored items. */
  predicted: number;
}

export interface MacroF1Result extends Coverage {
  /** Unweighted mean of per-label F1 over the given label set. */
  value: number;
  perLabel: LabelScores[];
}

export interface ConfusionMatrix extends Coverage {
  labels: string[];
  /** counts[g][p]: scored items with gold labels[g] predicted as labels[p] (rows = gold, columns = predicted). */
  counts: number[][];
  /** offLabel[g]: scored items with gold labels[g] whose prediction is outside the label set. */
  offLabel: number[];
}

/** Indices of the items that can be scored (gold in `labels`) and of those that are excluded. */
export interface ScorableSplit {
  scored: number[];
  excluded: number[];
}

function labelIndex(fn: string, labels: readonly string[]): Map<string, number> {
  if (labels.length === 0) throw new Error(`${fn}: the label set is empty`);
  const index = new Map<string, number>();
  labels.forEach((l, i) => {
    if (index.has(l)) throw new Error(`${fn}: label "${l}" appears twice in the label set`);
    index.set(l, i);
  });
  return index;
}

/**
 * Splits item positions into scorable (gold label in `labels`) and excluded ones. Useful to
 * bootstrap over scorable items only, so every resample has the same denominator.
 */
export function splitScorable(gold: readonly string[], labels: readonly string[]): ScorableSplit {
  const index = labelIndex("splitScorable", labels);
  const scored: number[] = [];
  const excluded: number[] = [];
  gold.forEach((g, i) => (index.has(g) ? scored : excluded).push(i));
  return { scored, excluded };
}

/**
 * Exact-match accuracy. With `labels`, items whose gold is not in `labels` are excluded;
 * without it every item is scored.
 */
export function accuracy(pred: readonly string[], gold: readonly string[], labels?: readonly string[]): AccuracyResult {
  checkPaired("accuracy", "pred", pred, "gold", gold);
  const index = labels === undefined ? undefined : labelIndex("accuracy", labels);
  let correct = 0, scored = 0;
  for (let i = 0; i < gold.length; i++) {
    if (index !== undefined && !index.has(gold[i])) continue;
    scored++;
    if (pred[i] === gold[i]) correct++;
  }
  return { value: correct / scored, correct, scored, excluded: gold.length - scored };
}

/**
 * Macro-averaged F1 over exactly the given label set, matching scikit-learn's
 * `f1_score(gold, pred, labels=labels, average="macro", zero_division=0)` after dropping
 * excluded rows. Per label: F1 = 2·tp / (#predicted + #gold). A label that is neither
 * predicted nor present in gold gets F1 = 0 and STILL counts in the mean (as in sklearn with an
 * explicit label list), so on a sample missing a class the macro score is pulled down rather
 * than re-weighted over fewer labels. A prediction outside the set is a false negative for the
 * gold label and a false positive for no label.
 */
export function macroF1(pred: readonly string[], gold: readonly string[], labels: readonly string[]): MacroF1Result {
  const cm = confusionMatrixImpl("macroF1", pred, gold, labels);
  const k = labels.length;
  const perLabel: LabelScores[] = [];
  let sum = 0;
  for (let c = 0; c < k; c++) {
    const tp = cm.counts[c][c];
    let support = cm.offLabel[c], predicted = 0;
    for (let j = 0; j < k; j++) {
      support += cm.counts[c][j];
      predicted += cm.counts[j][c];
    }
    const precision = predicted === 0 ? 0 : tp / predicted;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = predicted + support === 0 ? 0 : (2 * tp) / (predicted + support);
    perLabel.push({ label: labels[c], precision, recall, f1, support, predicted });
    sum += f1;
  }
  return { value: sum / k, perLabel, scored: cm.scored, excluded: cm.excluded };
}

/**
 * Confusion matrix with rows = gold and columns = predicted, in the order of `labels`.
 * Predictions outside the set are counted per gold row in `offLabel` instead of being lost.
 */
export function confusionMatrix(pred: readonly string[], gold: readonly string[], labels: readonly string[]): ConfusionMatrix {
  return confusionMatrixImpl("confusionMatrix", pred, gold, labels);
}

function confusionMatrixImpl(fn: string, pred: readonly string[], gold: readonly string[], labels: readonly string[]): ConfusionMatrix {
  checkPaired(fn, "pred", pred, "gold", gold);
  const index = labelIndex(fn, labels);
  const k = labels.length;
  const counts = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const offLabel = new Array<number>(k).fill(0);
  let scored = 0;
  for (let i = 0; i < gold.length; i++) {
    const g = index.get(gold[i]);
    if (g === undefined) continue;
    scored++;
    const p = index.get(pred[i]);
    if (p === undefined) offLabel[g]++;
    else counts[g][p]++;
  }
  return { labels: labels.slice(), counts, offLabel, scored, excluded: gold.length - scored };
}
