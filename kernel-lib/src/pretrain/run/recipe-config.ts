/**
 * The base model's recipe as a committed JSON file (data/base-model.config.json): the model (a
 * Hugging Face LlamaConfig, partial: ftgen's defaults fill the rest), the training (packing length,
 * batch, AdamW, warmup + cosine schedule, total steps, seed, checkpoints), the time budget of one
 * invocation and the export. Errors are one line naming the file and the field.
 */
import path from "node:path";
import { llamaConfig, type LlamaConfig, type TorchDtype } from "../../model/config";
import { readJsonFile } from "../../util/json";
import type { TrainConfig } from "../../train/loop";
import { DEFAULT_CORPUS_CONFIG, type CorpusConfig } from "../corpus/corpus";
import { PRE_TOKENIZER_KINDS } from "../../tokenizer/tokenizer";

/**
 * The training loop's settings (train/loop.ts, same meanings), plus packing and the run's length.
 * The schedule is always warmup + cosine; the seed also orders the documents before packing.
 */
export interface PretrainTrainConfig extends Pick<TrainConfig, "batchSize" | "microBatchSize" | "lr" | "warmupSteps" | "minLrRatio" | "weightDecay" | "maxGradNorm" | "beta1" | "beta2" | "eps" | "seed" | "checkpointEvery"> {
  /** Inputs per packed sequence (a window holds seqLen + 1 tokens). */
  seqLen: number;
  /** Optimizer steps of the whole run (over all invocations). */
  totalSteps: number;
}

export interface PretrainRunConfig {
  /** Wall-clock budget of one invocation, from its start (corpus check and export included). */
  maxMinutes: number;
  /** Minutes of the budget kept back from training for the held-out evaluation and export. */
  reserveMinutes: number;
}

export interface PretrainExportConfig {
  /**
   * Model folder written when the run completes (relative to the project root). Absent: the run's
   * own folder (<run>/model), so that a recipe never overwrites the shipped data/base-model unless it
   * names it.
   */
  out?: string;
  /** Storage dtype of model.safetensors. */
  dtype: TorchDtype;
  /** Sequences per forward pass of the held-out evaluation. */
  evalBatchSize: number;
}

/**
 * A recipe trained by the PyTorch twin (bench/torch_pretrain.py, `npm run pretrain:gpu`) instead of
 * the tfjs loop. The model, corpus, seqLen, batch, optimizer, schedule and seed are the recipe's
 * (train.warmupSteps and train.totalSteps are what the run used); these are the twin's own settings.
 */
export interface PretrainTorchConfig {
  /** Token budget the twin reckons its provisional warmup from until step timingSteps (see the script). */
  tokens: number;
  /** Warmup as a fraction of the step count (train.warmupSteps = floor(warmupFrac × totalSteps)). */
  warmupFrac: number;
  /** The step at which the step count is fixed (to train.totalSteps). */
  timingSteps: number;
}

export interface PretrainConfig {
  /** Present: the recipe is trained by the PyTorch twin on a GPU (`npm run pretrain:gpu`), not by `npm run pretrain`. */
  torch?: PretrainTorchConfig;
  /**
   * A run folder (relative to the project root) whose finished checkpoint this run starts from:
   * weights, optimizer moments, step count and data position carry over, and training goes on to
   * this recipe's totalSteps (larger) with this recipe's schedule. The model, corpus, seqLen,
   * batchSize and seed must be those of that run. Absent: training starts from the seed's init.
   */
  continueFrom?: string;
  /** Overrides of the corpus stage's defaults (corpus.ts DEFAULT_CORPUS_CONFIG); absent: the defaults. */
  corpus?: Partial<CorpusConfig>;
  model: LlamaConfig;
  train: PretrainTrainConfig;
  run: PretrainRunConfig;
  export: PretrainExportConfig;
}

export const RUN_DEFAULTS: PretrainRunConfig = { maxMinutes: 55, reserveMinutes: 4 };
export const EXPORT_DEFAULTS: Required<Omit<PretrainExportConfig, "out">> = { dtype: "float16", evalBatchSize: 16 };

function isObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}

const TRAIN_FIELDS: Record<keyof PretrainTrainConfig, "posInt" | "nonNegInt" | "pos" | "nonNeg" | "unit"> = {
  seqLen: "posInt", batchSize: "posInt", microBatchSize: "posInt", lr: "pos", warmupSteps: "nonNegInt", minLrRatio: "unit",
  weightDecay: "nonNeg", maxGradNorm: "nonNeg", beta1: "unit", beta2: "unit", eps: "pos", totalSteps: "posInt", seed: "nonNegInt",
  checkpointEvery: "posInt",
};

function checkNumber(source: string, field: string, v: unknown, rule: "posInt" | "nonNegInt" | "pos" | "nonNeg" | "unit"): number {
  const fail = (what: string): never => { throw new Error(`${source}: ${field} must be ${what} (got ${JSON.stringify(v)})`); };
  if (typeof v !== "number" || !Number.isFinite(v)) return fail("a number");
  if (rule === "posInt" && !(Number.isInteger(v) && v > 0)) fail("a positive integer");
  if (rule === "nonNegInt" && !(Number.isInteger(v) && v >= 0)) fail("an integer ≥ 0");
  if (rule === "pos" && !(v > 0)) fail("a positive number");
  if (rule === "nonNeg" && !(v >= 0)) fail("a number ≥ 0");
  if (rule === "unit" && !(v >= 0 && v < 1)) fail("a number in [0, 1)");
  return v;
}

function only(source: string, section: string, obj: Record<string, unknown>, known: readonly string[]): void {
  for (const k of Object.keys(obj)) if (!known.includes(k)) throw new Error(`${source}: unknown field ${section}.${k} (known: ${known.join(", ")})`);
}

/** A recipe from parsed JSON; errors name `source` and the field. */
export function parsePretrainConfig(raw: unknown, source = "pretrain config"): PretrainConfig {
  if (!isObject(raw)) throw new Error(`${source}: the config must be a JSON object`);
  only(source, "", raw, ["$comment", "continueFrom", "corpus", "model", "train", "run", "export", "torch"]);
  if (raw.continueFrom !== undefined && (typeof raw.continueFrom !== "string" || !raw.continueFrom)) {
    throw new Error(`${source}: continueFrom must be a run folder path (got ${JSON.stringify(raw.continueFrom)})`);
  }
  if (raw.corpus !== undefined) {
    if (!isObject(raw.corpus)) throw new Error(`${source}: corpus must be an object (overrides of the corpus defaults)`);
    only(source, "corpus", raw.corpus, [...Object.keys(DEFAULT_CORPUS_CONFIG), "paperLabelShare", "pretokenizer"]);
    const share = raw.corpus.paperLabelShare;
    if (share !== undefined) checkNumber(source, "corpus.paperLabelShare", share, "unit");
    const pre = raw.corpus.pretokenizer;
    if (pre !== undefined && !(PRE_TOKENIZER_KINDS as readonly unknown[]).includes(pre)) {
      throw new Error(`${source}: corpus.pretokenizer must be ${PRE_TOKENIZER_KINDS.map((k) => JSON.stringify(k)).join(" or ")} (got ${JSON.stringify(pre)})`);
    }
  }
  if (!isObject(raw.model)) throw new Error(`${source}: model must be an object (a Hugging Face LlamaConfig)`);
  if (!isObject(raw.train)) throw new Error(`${source}: train must be an object`);
  const model = llamaConfig(raw.model as Partial<LlamaConfig>, `${source}: model`);
  const t = raw.train;
  only(source, "train", t, Object.keys(TRAIN_FIELDS));
  const train = {} as Record<string, number>;
  for (const [f, rule] of Object.entries(TRAIN_FIELDS)) {
    if (!(f in t)) throw new Error(`${source}: train.${f} is missing`);
    train[f] = checkNumber(source, `train.${f}`, t[f], rule);
  }
  const tc = train as unknown as PretrainTrainConfig;
  if (tc.batchSize % tc.microBatchSize !== 0) throw new Error(`${source}: train.batchSize (${tc.batchSize}) must be a multiple of train.microBatchSize (${tc.microBatchSize})`);
  if (tc.seqLen > model.max_position_embeddings) throw new Error(`${source}: train.seqLen (${tc.seqLen}) exceeds model.max_position_embeddings (${model.max_position_embeddings})`);
  if (tc.warmupSteps >= tc.totalSteps) throw new Error(`${source}: train.warmupSteps (${tc.warmupSteps}) must be below train.totalSteps (${tc.totalSteps})`);

  const r = raw.run ?? {};
  if (!isObject(r)) throw new Error(`${source}: run must be an object`);
  only(source, "run", r, Object.keys(RUN_DEFAULTS));
  const run: PretrainRunConfig = {
    maxMinutes: checkNumber(source, "run.maxMinutes", r.maxMinutes ?? RUN_DEFAULTS.maxMinutes, "pos"),
    reserveMinutes: checkNumber(source, "run.reserveMinutes", r.reserveMinutes ?? RUN_DEFAULTS.reserveMinutes, "nonNeg"),
  };
  const e = raw.export ?? {};
  if (!isObject(e)) throw new Error(`${source}: export must be an object`);
  only(source, "export", e, ["out", ...Object.keys(EXPORT_DEFAULTS)]);
  const out = e.out as string | undefined;
  if (out !== undefined && (typeof out !== "string" || !out)) throw new Error(`${source}: export.out must be a folder path (got ${JSON.stringify(out)})`);
  const dtype = e.dtype ?? EXPORT_DEFAULTS.dtype;
  if (dtype !== "float32" && dtype !== "float16" && dtype !== "bfloat16") throw new Error(`${source}: export.dtype must be "float32", "float16" or "bfloat16" (got ${JSON.stringify(dtype)})`);
  const evalBatchSize = checkNumber(source, "export.evalBatchSize", e.evalBatchSize ?? EXPORT_DEFAULTS.evalBatchSize, "posInt");
  const corpus = raw.corpus === undefined ? {} : { corpus: raw.corpus as Partial<CorpusConfig> };
  const cont = raw.continueFrom === undefined ? {} : { continueFrom: raw.continueFrom as string };
  const torch = raw.torch === undefined ? {} : { torch: torchSection(source, raw.torch, tc) };
  return { ...torch, ...cont, ...corpus, model, train: tc, run, export: { ...(out === undefined ? {} : { out }), dtype, evalBatchSize } };
}

function torchSection(source: string, raw: unknown, tc: PretrainTrainConfig): PretrainTorchConfig {
  if (!isObject(raw)) throw new Error(`${source}: torch must be an object (the PyTorch twin's settings)`);
  only(source, "torch", raw, ["tokens", "warmupFrac", "timingSteps"]);
  const t: PretrainTorchConfig = {
    tokens: checkNumber(source, "torch.tokens", raw.tokens, "pos"),
    warmupFrac: checkNumber(source, "torch.warmupFrac", raw.warmupFrac, "unit"),
    timingSteps: checkNumber(source, "torch.timingSteps", raw.timingSteps, "posInt"),
  };
  const warmup = Math.max(1, Math.floor(t.warmupFrac * tc.totalSteps));
  if (warmup !== tc.warmupSteps) throw new Error(`${source}: train.warmupSteps must be floor(torch.warmupFrac × train.totalSteps) = ${warmup} (got ${tc.warmupSteps})`);
  if (t.timingSteps <= 10 || t.timingSteps >= tc.totalSteps) throw new Error(`${source}: torch.timingSteps must lie between 10 and train.totalSteps (got ${t.timingSteps})`);
  return t;
}

/** Reads and validates a recipe file. */
export function readPretrainConfig(file: string): PretrainConfig {
  return parsePretrainConfig(readJsonFile(file), file);
}

/**
 * Where a run's model folder goes: the command line's --out, else the recipe's export.out (from the
 * project root), else the run's own folder.
 */
export function exportDir(config: PretrainConfig, runDir: string, root: string, cliOut?: string): string {
  if (cliOut !== undefined) return cliOut;
  return config.export.out !== undefined ? path.resolve(root, config.export.out) : path.join(runDir, "model");
}
