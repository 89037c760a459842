/**
 * The paper's five tasks, declared as data (in the spirit of lm-evaluation-harness):
 * input fields, label set, in-domain and out-of-domain datasets, shot list and train sizes.
 * Everything else (loading, prompting, scoring) reads these declarations.
 */

export type TaskName = "summary" | "question" | "sentiment" | "detection" | "inference";
export type TaskKind = "generation" | "classification";

export interface TaskSpec {
  /** Folder name in the paper's `data/` (also the key in its prompt maps). */
  readonly name: TaskName;
  /** Human-readable name. */
  readonly title: string;
  readonly kind: TaskKind;
  /** Text fields a record carries besides `output` (the target). */
  readonly inputFields: readonly string[];
  /** Allowed values of `output` for classification tasks. */
  readonly labels?: readonly string[];
  /** Gold labels that mark an unlabelled row (MNLI/SNLI "-"): counted, reported, kept out of scoring. */
  readonly unlabelled?: readonly string[];
  /** Dataset trained on and tested in-domain. */
  readonly inDomain: string;
  /** Out-of-domain test sets (same task, other dataset), in the paper's order. */
  readonly outOfDomain: readonly string[];
  /** Test sets present in the data but not used by the paper's scripts. */
  readonly unused?: readonly string[];
  /** The paper's shot list (numbers of in-context demonstrations). */
  readonly shots: readonly number[];
  /** FTICL's k values (demonstrations prefixed during fine-tuning). */
  readonly fticlShots: readonly number[];
  /** Train-set sizes the paper uses (file names say 2000/4000/6000). */
  readonly trainSizes: readonly number[];
}

export const TASKS: Readonly<Record<TaskName, TaskSpec>> = {
  summary: {
    name: "summary", title: "Summarization", kind: "generation",
    inputFields: ["input"],
    inDomain: "xsum", outOfDomain: ["xlsum", "cnn", "pdfs"],
    shots: [0, 1, 2, 4], fticlShots: [1, 2], trainSizes: [2000, 4000, 6000],
  },
  question: {
    name: "question", title: "Question generation", kind: "generation",
    inputFields: ["input", "answer"],
    inDomain: "socialqa", outOfDomain: ["tweetqa", "sciqa"],
    shots: [0, 1, 2, 4], fticlShots: [1, 2], trainSizes: [2000, 4000, 6000],
  },
  sentiment: {
    name: "sentiment", title: "Sentiment classification", kind: "classification",
    inputFields: ["input"], labels: ["positive", "negative"],
    inDomain: "amazon", outOfDomain: ["amazonfood", "sst2", "yelp"],
    shots: [0, 2, 4, 6], fticlShots: [2, 4], trainSizes: [2000, 4000, 6000],
  },
  detection: {
    name: "detection", title: "Paraphrase detection", kind: "classification",
    inputFields: ["input_1", "input_2"], labels: ["yes", "no"],
    inDomain: "paws", outOfDomain: ["qqp", "stsb"],
    shots: [0, 2, 4, 6], fticlShots: [2, 4], trainSizes: [2000, 4000, 6000],
  },
  inference: {
    name: "inference", title: "Natural language inference", kind: "classification",
    inputFields: ["input_1", "input_2"], labels: ["entailment", "neutral", "contradiction"],
    unlabelled: ["-"],
    inDomain: "multinli", outOfDomain: ["multinli2", "rte", "gptnli"], unused: ["snli"],
    shots: [0, 3, 5, 7], fticlShots: [3, 5], trainSizes: [2000, 4000, 6000],
  },
};

export const TASK_NAMES: readonly TaskName[] = ["summary", "question", "sentiment", "detection", "inference"];

/** The spec of `name`, or a clear error listing the known tasks. */
export function taskSpec(name: string): TaskSpec {
  if (!(name in TASKS)) throw new Error(`unknown task "${name}" (known: ${TASK_NAMES.join(", ")})`);
  return TASKS[name as TaskName];
}

/** Every test set of a task: in-domain first, then out-of-domain. */
export function testSets(task: TaskName): string[] {
  const spec = TASKS[task];
  return [spec.inDomain, ...spec.outOfDomain];
}

/** The task that owns `dataset` (each dataset belongs to exactly one task). */
export function taskOfDataset(dataset: string): TaskName {
  for (const t of TASK_NAMES) {
    const s = TASKS[t];
    if (s.inDomain === dataset || s.outOfDomain.includes(dataset) || (s.unused ?? []).includes(dataset)) return t;
  }
  throw new Error(`unknown dataset "${dataset}"`);
}
