/**
 * What a study run takes and gives back (runner.ts), and the messages between the runner and its
 * worker processes (worker.ts): here, so that neither imports the other for its types.
 */
import type { Progress, TrainConfig } from "../train/loop";
import type { EngineChoice } from "../evaluate/engines";
import type { ResultStore, StoredResult } from "./store";
import type { EvalJob, StudyPlan } from "./plan";
import type { TuningName } from "./profile";

export interface RunOptions {
  /** Base model folder (default: baseModelDir(), the shipped one). */
  base?: string;
  /** The base weights' key, the modelKey of its records (default: folderHash(base); a registry model's is registryModelKey). */
  baseKey?: string;
  /**
   * The study's fine-tuning recipe for FT and FTICL models (LLM_FINETUNE_RECIPES: its tuning and lr
   * over \`train\`); a method's own \`tuning\` wins. Absent: every weight trains with \`train\` as it is (ftgen's base).
   */
  tuning?: TuningName;
  /** Start no training or evaluation after this time (ms since epoch): the records so far are returned, and a rerun goes on. */
  deadline?: number;
  /** Where fine-tuned model folders go (default .cache/models). */
  modelsDir?: string;
  store?: ResultStore;
  /** Fine-tuning overrides (epochs, lr, batch, …) over FINETUNE_DEFAULTS; the job's seed wins. */
  train?: Partial<TrainConfig>;
  /** Use only the first n records of each train file. */
  trainLimit?: number;
  /** Use only the first round(size × fraction) records of a train file of `size` records (the profile's trainFraction); trainLimit wins. */
  trainFraction?: number;
  /** Prompts per forward pass in evaluation. */
  batchSize?: number;
  /** Evaluation engine (evaluate/engines.ts): "auto" (default) picks the faster one here; each record names the one it used. */
  engine?: EngineChoice;
  /**
   * Worker processes (default 1: in this process). With more, each worker takes whole models
   * (fine-tuning and scoring), round robin, with one BLAS thread each and the cores shared among their
   * onnxruntime sessions; records come back in plan order.
   */
  workers?: number;
  onProgress?: (e: RunEvent) => void;
}

export type RunEvent =
  | { kind: "train"; model: string; progress: Progress }
  | { kind: "model"; model: string; dir: string; cached: boolean; done: number; total: number }
  /** A finished folder's weights differ from the recorded ones (trained on another CPU or thread count). */
  | { kind: "weights-differ"; model: string; dir: string; recorded: string; found: string }
  | { kind: "eval"; record: StudyRecord; done: number; total: number };

/** A stored result with the job that produced it. */
export type StudyRecord = StoredResult & {
  cached: boolean;
  model: string;
  method: string;
  scope: EvalJob["scope"];
  trainTask?: string;
  trainSize?: number;
  seed?: number;
  /** The subject (base model) it belongs to, where a notebook sets two side by side (subjects.ts). */
  subject?: string;
};

export interface WorkerRequest {
  plan: StudyPlan;
  opts: Omit<RunOptions, "store" | "onProgress" | "workers"> & { storeDir: string; storeReadFrom: readonly string[] };
}

export type WorkerMessage = { kind: "event"; event: RunEvent } | { kind: "done"; records: StudyRecord[] } | { kind: "error"; message: string };
