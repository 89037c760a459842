/**
 * The multitask pools (multitask.ts) as records of the paper's classification tasks: an item's fields
 * become the task's input fields and its label index the task's label word (the pools number labels in
 * the paper's order: positive/negative, same/different, entailment/neutral/contradiction). Fine-tuning
 * on them in the paper's own format says how much of a paper task our multitask data can teach at the
 * most (scripts/ft-ceiling.ts --train multitask; experiments/pretrain/README.md, experiment 8).
 */
import { TASKS, type TaskName } from "../../data/tasks";
import type { AnyRecord } from "../../data/records";
import { shuffled, type Rng } from "../../util/random";
import type { MtKind } from "./formats";
import type { SourcedItem } from "./multitask";

/** The multitask kind that stands in for each classification task. */
export const MULTITASK_KIND_OF: Partial<Record<TaskName, MtKind>> = { sentiment: "sentiment", detection: "paraphrase", inference: "nli" };

/**
 * `n` records of `task` from `pool`, the same number of each label (n / labels, rounded down), in a
 * seeded order. Throws when the task has no multitask kind or a label has too few items.
 */
export function multitaskRecords(task: TaskName, pool: readonly SourcedItem[], n: number, rng: Rng): AnyRecord[] {
  const spec = TASKS[task];
  const labels = spec.labels;
  if (!MULTITASK_KIND_OF[task] || !labels) throw new Error(`multitask records: no multitask kind stands in for ${task} (one of ${Object.keys(MULTITASK_KIND_OF).join(", ")})`);
  const per = Math.floor(n / labels.length);
  const chosen: SourcedItem[] = [];
  labels.forEach((word, label) => {
    const items = pool.filter((it) => it.label === label && it.fields.length === spec.inputFields.length);
    if (items.length < per) throw new Error(`multitask records: ${task} needs ${per} items labelled "${word}", the pool has ${items.length}`);
    chosen.push(...shuffled(items, rng).slice(0, per));
  });
  return shuffled(chosen, rng).map((it, position) => {
    const fields = Object.fromEntries(spec.inputFields.map((f, i) => [f, it.fields[i]]));
    return { position, ...fields, output: labels[it.label as number] } as unknown as AnyRecord;
  });
}
