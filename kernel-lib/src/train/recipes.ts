/**
 * The paper's two fine-tuning recipes as one call each, from a base model folder to a new one:
 * - FT: train on template(x) + y + EOS in map-0 format, loss on y (and EOS) only;
 * - FTICL: the same, each example prefixed with the first k demonstrations of the in-domain
 *   dataset's few-shot file (map 0); the loss stays on y.
 * Seeded, resumable (checkpoints under <out>/.checkpoints), and the full configuration is written
 * next to the weights as training.json.
 */
import fs from "node:fs";
import path from "node:path";
import { createHash } from "node:crypto";
import { TASKS, type TaskName } from "../data/tasks";
import type { AnyRecord } from "../data/records";
import { loadDataset } from "../data/load";
import { validateRecords } from "../data/validate";
import { paperDemos, trainingText } from "../prompts/build";
import { capFields } from "../prompts/fit";
import { loadModelFolder, saveModelFolder } from "../model/folder";
import { BpeTokenizer } from "../model/tokenizer";
import { backendInfo } from "../model/backend";
import { FINETUNE_DEFAULTS, train, type Progress, type TrainConfig, type TrainResult } from "./loop";
import { tokenizeTraining } from "./examples";
import { writeFileAtomic } from "../util/atomic";

export interface FinetuneSpec {
  /** Base model folder (config.json, tokenizer.json, model.safetensors). */
  base: string;
  task: TaskName;
  method: "ft" | "fticl";
  /** FTICL's number of demonstrations (the paper: 1/2 generation, 2/4 sentiment and paraphrase, 3/5 NLI). */
  k?: number;
  /** Train file by its size (2000/4000/6000); default the smallest. */
  trainSize?: number;
  /** Use only the first n usable records of the train file. */
  limit?: number;
  /**
   * Train on these records instead of the paper's train file (data of your own in the task's record
   * format); `name` stands for the file in training.json.
   */
  records?: { name: string; records: readonly AnyRecord[] };
  /** Cap on each input field, in tokens. */
  fieldTokenCap: number;
  /** Output model folder. */
  out: string;
  /** Overrides of the training configuration (seed included). */
  train?: Partial<TrainConfig>;
  onProgress?: (p: Progress) => void;
}

export interface FinetuneResult {
  dir: string;
  result: TrainResult;
  examples: number;
}

export async function finetune(spec: FinetuneSpec): Promise<FinetuneResult> {
  const task = TASKS[spec.task];
  const k = spec.method === "fticl" ? spec.k ?? task.fticlShots[0] : 0;
  if (spec.method === "fticl" && k <= 0) throw new Error(`finetune: FTICL needs k > 0, got ${k}`);
  const loaded = loadModelFolder(spec.base, { loadTokenizer: (d: string) => BpeTokenizer.load(d) });
  const tok = loaded.tokenizer;
  if (!tok) throw new Error(`${spec.base}: no tokenizer.json`);
  const cfg: TrainConfig = { ...FINETUNE_DEFAULTS, ...spec.train };
  try {
    // Records of your own are checked at the door: one line naming the item and the field.
    const data = spec.records
      ? { file: spec.records.name, records: validateRecords(`finetune records "${spec.records.name}"`, spec.task, spec.records.records, { userData: true }).records }
      : loadDataset(spec.task, task.inDomain, "train", { size: spec.trainSize });
    const records: readonly AnyRecord[] = data.records.slice(0, spec.limit ?? data.records.length);
    const demos = paperDemos(spec.task, task.inDomain, k).map((d) => capFields(spec.task, d, tok, spec.fieldTokenCap));
    const maxLen = loaded.config.max_position_embeddings;
    const examples = records.map((r) => tokenizeTraining(tok, trainingText(spec.task, capFields(spec.task, r, tok, spec.fieldTokenCap), demos), maxLen));
    const baseBytes = fs.readFileSync(path.join(spec.base, "model.safetensors"));
    const record = {
      recipe: spec.method, task: spec.task, dataset: task.inDomain, k, trainFile: data.file, trainSize: spec.trainSize ?? null,
      examples: examples.length, droppedPromptTokens: examples.reduce((s, e) => s + e.droppedPromptTokens, 0),
      fieldTokenCap: spec.fieldTokenCap, maxLen, base: path.resolve(spec.base),
      baseWeightsSha1: createHash("sha1").update(baseBytes).digest("hex"), train: cfg,
    };
    const runKey = createHash("sha1").update(JSON.stringify(record)).digest("hex");
    const ckptDir = path.join(spec.out, ".checkpoints");
    const result = await train(loaded.model, examples, cfg, { checkpointDir: cfg.checkpointEvery > 0 ? ckptDir : undefined, runKey, onProgress: spec.onProgress });
    saveModelFolder(spec.out, loaded.model, { tokenizer: tok });
    writeFileAtomic(path.join(spec.out, "training.json"), JSON.stringify({
      ...record, runKey, backend: backendInfo()?.name ?? "unknown", steps: result.steps, resumedFrom: result.resumedFrom,
      seconds: result.seconds, tokens: result.tokens, losses: result.losses, finishedAt: new Date().toISOString(),
    }, null, 1) + "\n");
    fs.rmSync(ckptDir, { recursive: true, force: true });
    return { dir: spec.out, result, examples: examples.length };
  } finally {
    loaded.model.dispose();
  }
}
