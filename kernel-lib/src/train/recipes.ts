/**
 * The paper's two fine-tuning recipes as one call each, from a base model folder to a new one:
 * - FT: train on template(x) + y + EOS in map-0 format, loss on y (and EOS) only;
 * - FTICL: the same, each example prefixed with the first k demonstrations of the in-domain
 *   dataset's few-shot file (map 0); the loss stays on y.
 * Seeded, resumable (checkpoints under <out>/.checkpoints), and the full configuration is written
 * next to the weights as training.json.
 *
 * How the weights train (`tuning`): every weight ("full", the paper's way), or LoRA pairs (PEFT's
 * adapter format out, the base untouched). Where (`engine`): tfjs for full fine-tuning of models
 * the wasm heap holds (ftgen's own), the native trainer (native-trainer.ts) for LoRA and for full
 * fine-tuning of larger models (SmolLM2-135M's weights, gradients and AdamW moments are 2.2 GB).
 */
import fs from "node:fs";
import path from "node:path";
import { createHash } from "node:crypto";
import { resolveTask, type TaskName } from "../data/tasks";
import type { AnyRecord } from "../data/records";
import { loadDataset } from "../data/load";
import { validateRecords } from "../data/validate";
import { paperDemos, trainingText } from "../prompts/build";
import { capFields } from "../prompts/fit";
import { loadModelFolder, readModelTensors, saveModelFolder, WEIGHTS_FILE, type SavableTokenizer } from "../model/folder";
import { readConfig, writeConfig, type LlamaConfig } from "../model/config";
import { loadTokenizer } from "../tokenizer/hf-tokenizer";
import { backendInfo } from "../model/backend";
import { nativeAddon } from "../model/kernels/native-blas";
import { NativeLlm, nativeThreads } from "../model/native-lm";
import { carryFiles, checkLora, LORA_DEFAULTS, saveAdapter, type LoraConfig } from "../model/lora";
import { saveSafetensors } from "../model/safetensors";
import { FINETUNE_DEFAULTS, train, type Progress, type TrainConfig, type TrainResult } from "./loop";
import { NativeTrainer } from "./native-trainer";
import { tokenizeTraining } from "./examples";
import { writeFileAtomic } from "../util/atomic";
import { fileDigest } from "../util/hash";

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
  /** Every weight trains (default), or LoRA pairs (overrides of LORA_DEFAULTS). */
  tuning?: Tuning;
  /** Where it trains (default "auto": see finetuneEngine). */
  engine?: "tfjs" | "native" | "auto";
  onProgress?: (p: Progress) => void;
}

export interface FinetuneResult {
  dir: string;
  result: TrainResult;
  examples: number;
}

export type Tuning = { kind: "full" } | { kind: "lora"; lora?: Partial<LoraConfig> };

/**
 * SmolLM2-135M's fine-tuning, as `npm run finetune-sweep` picked it (results/sweeps/smollm2-135m.json:
 * 0-shot in-domain, map 0, 250 items, against the base model's grid record). On XSum
 * every setting beat the base with CIs apart (ROUGE-L 0.113 → 0.169–0.182), LoRA at lr 1e-3 highest;
 * on Amazon the base is already at 0.932: every LoRA setting landed within its CI (0.916–0.956), and
 * full fine-tuning on 2000 records × 2 epochs came closest (0.976 [0.956, 0.992], paired p 0.019).
 * LoRA: rank 16, α 32, dropout 0.05 on all seven projections, lr 1e-3. Full fine-tuning: lr 5e-5.
 * Both: AdamW, linear decay, no warmup, batch 16 (FINETUNE_DEFAULTS otherwise).
 */
export const LLM_FINETUNE_RECIPES = {
  lora: {
    tuning: { kind: "lora", lora: { rank: 16, alpha: 32, dropout: 0.05, targetModules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] } },
    train: { lr: 1e-3 },
  },
  full: { tuning: { kind: "full" }, train: { lr: 5e-5 } },
} as const satisfies Record<string, { tuning: Tuning; train: Partial<TrainConfig> }>;

/** Parameters above which full fine-tuning leaves tfjs-wasm for the native trainer (weights, gradients and two moments must fit 4 GiB with the activations). */
export const TFJS_FULL_FT_MAX_PARAMS = 60e6;

function parameterCount(c: LlamaConfig): number {
  const d = c.hidden_size / c.num_attention_heads, kv = c.num_key_value_heads * d;
  const layer = 2 * c.hidden_size + c.hidden_size * (2 * c.hidden_size + 2 * kv) + 3 * c.hidden_size * c.intermediate_size;
  return c.vocab_size * c.hidden_size * (c.tie_word_embeddings ? 1 : 2) + c.num_hidden_layers * layer + c.hidden_size;
}

/**
 * The engine a fine-tuning runs on: the one asked for, else native for LoRA (tfjs has no LoRA) and
 * for full fine-tuning above TFJS_FULL_FT_MAX_PARAMS, else tfjs. One line when the native trainer is needed and missing.
 */
export function finetuneEngine(tuning: Tuning, config: LlamaConfig, asked: "tfjs" | "native" | "auto" = "auto"): "tfjs" | "native" {
  if (tuning.kind === "lora" && asked === "tfjs") throw new Error("finetune: LoRA runs on the native trainer only (engine \"native\" or \"auto\")");
  const engine = asked !== "auto" ? asked : tuning.kind === "lora" || parameterCount(config) > TFJS_FULL_FT_MAX_PARAMS ? "native" : "tfjs";
  if (engine === "native" && !nativeAddon()) throw new Error("finetune: the native trainer is needed (LoRA, or a model too big for tfjs-wasm) and the addon is not built; run npm run setup");
  return engine;
}

export async function finetune(spec: FinetuneSpec): Promise<FinetuneResult> {
  const task = resolveTask(spec.task); // resolved once, passed on as the object
  const k = spec.method === "fticl" ? spec.k ?? task.fticlShots[0] : 0;
  if (spec.method === "fticl" && k <= 0) throw new Error(`finetune: FTICL needs k > 0, got ${k}`);
  const tuning: Tuning = spec.tuning ?? { kind: "full" };
  const lora = tuning.kind === "lora" ? checkLora({ ...LORA_DEFAULTS, ...tuning.lora }, "finetune lora") : undefined;
  const baseConfig = readConfig(spec.base);
  const engine = finetuneEngine(tuning, baseConfig, spec.engine);
  const loaded = engine === "tfjs" ? loadModelFolder(spec.base) : undefined;
  const tok = await loadTokenizer(spec.base);
  const cfg: TrainConfig = { ...FINETUNE_DEFAULTS, ...spec.train };
  const adam = { beta1: cfg.beta1, beta2: cfg.beta2, eps: cfg.eps, weightDecay: cfg.weightDecay, maxGradNorm: cfg.maxGradNorm };
  let trainer: NativeTrainer | undefined;
  try {
    // Records of your own are checked at the door: one line naming the item and the field.
    const data = spec.records
      ? { file: spec.records.name, records: validateRecords(`finetune records "${spec.records.name}"`, spec.task, spec.records.records, { userData: true }).records }
      : loadDataset(spec.task, task.inDomain, "train", { size: spec.trainSize });
    const records: readonly AnyRecord[] = data.records.slice(0, spec.limit ?? data.records.length);
    const demos = paperDemos(task.name, task.inDomain, k).map((d) => capFields(task, d, tok, spec.fieldTokenCap));
    const maxLen = baseConfig.max_position_embeddings;
    const examples = records.map((r) => tokenizeTraining(tok, trainingText(task, capFields(task, r, tok, spec.fieldTokenCap), demos), maxLen));
    // Hashed in pieces: the weights are read again (once) by the trainer, never held twice (540 MB for SmolLM2).
    const baseWeightsSha1 = fileDigest(path.join(spec.base, "model.safetensors"), "sha1");
    const record = {
      recipe: spec.method, task: spec.task, dataset: task.inDomain, k, trainFile: data.file, trainSize: spec.trainSize ?? null,
      examples: examples.length, droppedPromptTokens: examples.reduce((s, e) => s + e.droppedPromptTokens, 0),
      fieldTokenCap: spec.fieldTokenCap, maxLen, base: path.resolve(spec.base),
      baseWeightsSha1, train: cfg,
      // Only runs off the original path name these, so the tfjs runs' identities stay as they were.
      ...(engine === "tfjs" ? {} : { tuning: lora ? { kind: "lora", lora } : { kind: "full" }, engine }),
    };
    const runKey = createHash("sha1").update(JSON.stringify(record)).digest("hex");
    const ckptDir = path.join(spec.out, ".checkpoints");
    const hooks = { checkpointDir: cfg.checkpointEvery > 0 ? ckptDir : undefined, runKey, onProgress: spec.onProgress };
    let result: TrainResult;
    let backend: string;
    if (loaded) {
      result = await train(loaded.model, examples, cfg, hooks);
      const savable = typeof (tok as Partial<SavableTokenizer>).save === "function" ? (tok as unknown as SavableTokenizer) : undefined;
      saveModelFolder(spec.out, loaded.model, { tokenizer: savable });
      if (!savable) carryFiles(spec.base, spec.out);
      backend = backendInfo()?.name ?? "unknown";
    } else {
      trainer = lora
        ? NativeTrainer.lora(NativeLlm.shared(spec.base), lora, { seed: `${cfg.seed}`, adam })
        : NativeTrainer.full(baseConfig, readModelTensors(spec.base).tensors, adam);
      result = await train(trainer, examples, cfg, hooks);
      fs.mkdirSync(spec.out, { recursive: true });
      carryFiles(spec.base, spec.out);
      if (lora) saveAdapter(spec.out, lora, trainer.loraTensors(), spec.base);
      else {
        writeConfig(spec.out, { ...baseConfig, torch_dtype: "float32" });
        saveSafetensors(path.join(spec.out, WEIGHTS_FILE), trainer.hfTensors(), { metadata: { format: "pt" } });
      }
      const core = nativeAddon()?.info().core;
      backend = `native trainer (OpenBLAS${core ? ` ${core}` : ""}, ${nativeThreads()} threads)`;
    }
    writeFileAtomic(path.join(spec.out, "training.json"), JSON.stringify({
      ...record, runKey, backend, steps: result.steps, resumedFrom: result.resumedFrom,
      seconds: result.seconds, tokens: result.tokens, losses: result.losses, finishedAt: new Date().toISOString(),
    }, null, 1) + "\n");
    fs.rmSync(ckptDir, { recursive: true, force: true });
    return { dir: spec.out, result, examples: examples.length };
  } finally {
    loaded?.model.dispose();
    trainer?.dispose();
  }
}
