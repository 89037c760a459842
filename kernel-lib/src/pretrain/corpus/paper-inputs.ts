/**
 * The input texts of the paper's training splits, as corpus documents: one document a record, its
 * input fields joined by a line break (summary: the article; question: the context — the answer
 * field is left out, it is an answer option of the original QA data; sentiment: the review;
 * paraphrase and NLI: the two sentences). Never an output or a label, never a test or few-shot file.
 * Per dataset, `heldout` records (seeded) are kept apart for perplexity measurement.
 *
 * Decontamination: the paper's few-shot demonstrations are taken from its train files (e.g. 7 of
 * the 8 Amazon demonstrations, most PAWS and Social IQa ones), and PAWS train and test pairs are
 * built from the same sentences. A record for which `exclude` is true (the corpus build passes
 * "shares a 13-gram with a test or few-shot file") is left out of both splits and counted.
 */
import { loadDataset, isAvailable } from "../../data/load";
import { TASKS, paperTasks, type TaskName } from "../../data/tasks";
import type { AnyRecord } from "../../data/records";
import { shuffled, type Rng } from "../../util/random";
import type { CorpusDoc } from "./types";

/** The fields of a task used as corpus text. */
export const PAPER_INPUT_FIELDS: Readonly<Record<TaskName, readonly string[]>> = {
  summary: ["input"], question: ["input"], sentiment: ["input"], detection: ["input_1", "input_2"], inference: ["input_1", "input_2"],
};

export function paperInputText(task: TaskName, record: AnyRecord): string {
  const r = record as unknown as Record<string, unknown>;
  return PAPER_INPUT_FIELDS[task].map((f) => {
    const v = r[f];
    if (typeof v !== "string") throw new Error(`${task} record ${record.position}: field "${f}" is not text`);
    return v.trim();
  }).join("\n");
}

export interface PaperInputs {
  train: CorpusDoc[];
  heldout: CorpusDoc[];
  /** The train file used per dataset (the largest available). */
  files: string[];
  /** Records left out by `exclude`, per dataset. */
  excluded: Record<string, number>;
}

/** Train inputs of every task's in-domain dataset, from its largest available train file. */
export function paperTrainInputs(heldoutPerDataset: number, rng: Rng, exclude: (text: string) => boolean = () => false): PaperInputs {
  const out: PaperInputs = { train: [], heldout: [], files: [], excluded: {} };
  for (const task of paperTasks()) {
    const spec = TASKS[task];
    const size = [...spec.trainSizes].sort((a, b) => b - a).find((s) => isAvailable(task, spec.inDomain, "train", s));
    if (size === undefined) throw new Error(`no train file of ${task}/${spec.inDomain} is available: run "npm run data" first`);
    const ds = loadDataset(task, spec.inDomain, "train", { size });
    out.files.push(ds.file);
    const source = `paper:${spec.inDomain}`;
    const all = ds.records.map((r) => ({ source, kind: "paper-input" as const, text: paperInputText(task, r) })).filter((d) => d.text.trim().length > 0);
    const docs = all.filter((d) => !exclude(d.text));
    out.excluded[spec.inDomain] = all.length - docs.length;
    const order = shuffled(docs.map((_, i) => i), rng.fork());
    const held = new Set(order.slice(0, Math.min(heldoutPerDataset, docs.length)));
    docs.forEach((d, i) => (held.has(i) ? out.heldout : out.train).push(d));
  }
  return out;
}
