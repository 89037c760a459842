/**
 * LoRA adapters in PEFT's format (what `PeftModel.save_pretrained` writes and
 * `PeftModel.from_pretrained` reads), for Llama models:
 *
 *   dir/adapter_config.json        peft_type "LORA", r, lora_alpha, lora_dropout, target_modules,
 *                                  base_model_name_or_path, task_type "CAUSAL_LM", …
 *   dir/adapter_model.safetensors  base_model.model.model.layers.{l}.{self_attn|mlp}.{module}.lora_A.weight (r, in)
 *                                  and ….lora_B.weight (out, r), float32
 *
 * A pair adds (α / r)·B·A·x to its module's output: merged, W (out, in) + (α / r)·B·A.
 */
import fs from "node:fs";
import path from "node:path";
import { loadSafetensors, saveSafetensors, type StoredTensor, type TensorData } from "./safetensors";
import { readModelTensors, WEIGHTS_FILE } from "./folder";
import { writeConfig } from "./config";
import { writeFileAtomic } from "../util/atomic";

export const ADAPTER_CONFIG = "adapter_config.json";
export const ADAPTER_WEIGHTS = "adapter_model.safetensors";

/** The linear modules LoRA can target (their HF names inside a layer), in the native trainer's order. */
export const LORA_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] as const;
export type LoraModule = (typeof LORA_MODULES)[number];

export interface LoraConfig {
  /** Rank r of each pair. */
  rank: number;
  /** Scale α: the pair adds (α / r)·B·A·x. */
  alpha: number;
  /** Dropout on the pair's input (training only). */
  dropout: number;
  targetModules: readonly LoraModule[];
}

/** PEFT's defaults for Llama (r 8, α 8, dropout 0, q_proj and v_proj); the study's recipe states its own. */
export const LORA_DEFAULTS: LoraConfig = { rank: 8, alpha: 8, dropout: 0, targetModules: ["q_proj", "v_proj"] };

/** Checks a LoRA configuration; one line naming the field. */
export function checkLora(l: LoraConfig, source = "lora"): LoraConfig {
  if (!Number.isInteger(l.rank) || l.rank < 1) throw new Error(`${source}: rank must be an integer ≥ 1, got ${l.rank}`);
  if (!(l.alpha > 0)) throw new Error(`${source}: alpha must be > 0, got ${l.alpha}`);
  if (!(l.dropout >= 0 && l.dropout < 1)) throw new Error(`${source}: dropout must be in [0, 1), got ${l.dropout}`);
  if (!Array.isArray(l.targetModules) || l.targetModules.length === 0) throw new Error(`${source}: targetModules is empty`);
  for (const m of l.targetModules) if (!LORA_MODULES.includes(m)) throw new Error(`${source}: unknown target module "${m}" (one of ${LORA_MODULES.join(", ")})`);
  return l;
}

/** PEFT's saved name of layer l's pair on `module`, A or B. */
export function peftTensorName(layer: number, module: LoraModule, ab: "A" | "B"): string {
  const block = module === "q_proj" || module === "k_proj" || module === "v_proj" || module === "o_proj" ? "self_attn" : "mlp";
  return `base_model.model.model.layers.${layer}.${block}.${module}.lora_${ab}.weight`;
}

/** The HF weight a PEFT tensor adapts ("…layers.3.self_attn.q_proj.lora_A.weight" → "model.layers.3.self_attn.q_proj.weight"). */
export function adaptedWeight(peftName: string): string {
  return peftName.replace(/^base_model\.model\./, "").replace(/\.lora_[AB]\.weight$/, ".weight");
}

export function isAdapterFolder(dir: string): boolean {
  return fs.existsSync(path.join(dir, ADAPTER_CONFIG));
}

/**
 * Writes an adapter folder. `base` is written as base_model_name_or_path: the base model folder,
 * relative to the adapter folder when it lies in the same tree (so a moved project still finds it).
 */
export function saveAdapter(dir: string, lora: LoraConfig, tensors: ReadonlyMap<string, TensorData>, base: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const rel = path.relative(path.resolve(dir), path.resolve(base));
  const config = {
    alpha_pattern: {}, auto_mapping: null, base_model_name_or_path: rel.startsWith("..") || !path.isAbsolute(base) ? rel : path.resolve(base),
    bias: "none", fan_in_fan_out: false, inference_mode: true, init_lora_weights: true, layers_pattern: null, layers_to_transform: null,
    lora_alpha: lora.alpha, lora_dropout: lora.dropout, modules_to_save: null, peft_type: "LORA", r: lora.rank, rank_pattern: {},
    revision: null, target_modules: [...lora.targetModules], task_type: "CAUSAL_LM", use_dora: false, use_rslora: false,
  };
  saveSafetensors(path.join(dir, ADAPTER_WEIGHTS), tensors, { metadata: { format: "pt" } });
  writeFileAtomic(path.join(dir, ADAPTER_CONFIG), JSON.stringify(config, null, 2) + "\n");
}

export interface LoadedAdapter {
  lora: LoraConfig;
  tensors: Map<string, StoredTensor>;
  /** The base model folder, resolved against the adapter folder. */
  base: string;
}

/**
 * Reads an adapter folder; one-line errors name the file and the field. Only what ftgen can apply is
 * accepted: plain LoRA (no DoRA, rsLoRA, bias, per-module ranks or fan_in_fan_out) on Llama's linear modules.
 */
export function readAdapter(dir: string): LoadedAdapter {
  const file = path.join(dir, ADAPTER_CONFIG);
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  const bad = (field: string, why: string): never => { throw new Error(`${file}: ${field} ${why}`); };
  if (c.peft_type !== "LORA") bad("peft_type", `must be "LORA", got ${JSON.stringify(c.peft_type)}`);
  for (const f of ["use_dora", "use_rslora", "fan_in_fan_out"]) if (c[f]) bad(f, "is not supported (plain LoRA only)");
  if (c.bias !== undefined && c.bias !== "none") bad("bias", `must be "none", got ${JSON.stringify(c.bias)}`);
  for (const f of ["rank_pattern", "alpha_pattern"]) if (c[f] && Object.keys(c[f] as object).length > 0) bad(f, "is not supported (one rank and alpha for all modules)");
  if (typeof c.base_model_name_or_path !== "string" || !c.base_model_name_or_path) bad("base_model_name_or_path", "must name the base model folder");
  const targets = c.target_modules;
  if (!Array.isArray(targets)) bad("target_modules", "must be a list of module names");
  const lora = checkLora({ rank: c.r as number, alpha: c.lora_alpha as number, dropout: (c.lora_dropout as number) ?? 0, targetModules: targets as LoraModule[] }, file);
  const weights = path.join(dir, ADAPTER_WEIGHTS);
  if (!fs.existsSync(weights)) throw new Error(`${weights}: missing (an adapter folder needs ${ADAPTER_WEIGHTS})`);
  const base = c.base_model_name_or_path as string;
  return { lora, tensors: loadSafetensors(weights).tensors, base: path.isAbsolute(base) ? base : path.resolve(dir, base) };
}

/**
 * Base weights (HF names and layout) with every pair merged in: W (out, in) += (α / r)·B·A. The
 * base map is not changed; adapted weights are new arrays, the rest are shared.
 */
export function mergeLora(base: ReadonlyMap<string, TensorData>, adapter: { lora: LoraConfig; tensors: ReadonlyMap<string, TensorData> }, source = "adapter"): Map<string, TensorData> {
  const out = new Map(base);
  const s = adapter.lora.alpha / adapter.lora.rank;
  for (const [name, A] of adapter.tensors) {
    if (!name.endsWith(".lora_A.weight")) continue;
    const bName = name.replace(".lora_A.weight", ".lora_B.weight");
    const B = adapter.tensors.get(bName);
    if (!B) throw new Error(`${source}: ${name} has no ${bName}`);
    const target = adaptedWeight(name);
    const W = base.get(target);
    if (!W) throw new Error(`${source}: ${name} adapts ${target}, which the base model does not have`);
    const [outN, inN] = W.shape, r = A.shape[0];
    if (A.shape[1] !== inN || B.shape[0] !== outN || B.shape[1] !== r) throw new Error(`${source}: ${name} [${A.shape}] and ${bName} [${B.shape}] do not fit ${target} [${W.shape}]`);
    const merged = Float32Array.from(W.data);
    const row = new Float32Array(inN);
    for (let o = 0; o < outN; o++) {
      row.fill(0);
      for (let k = 0; k < r; k++) {
        const b = B.data[o * r + k];
        if (b === 0) continue;
        const a = A.data.subarray(k * inN, (k + 1) * inN);
        for (let i = 0; i < inN; i++) row[i] += b * a[i];
      }
      for (let i = 0; i < inN; i++) merged[o * inN + i] += s * row[i];
    }
    out.set(target, { shape: [...W.shape], data: merged });
  }
  return out;
}

/** Files of a base model folder that a derived folder (fine-tuned, merged) carries over. */
export const CARRIED_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"];

export function carryFiles(from: string, to: string): void {
  for (const f of CARRIED_FILES) if (fs.existsSync(path.join(from, f))) fs.copyFileSync(path.join(from, f), path.join(to, f));
}

/**
 * An adapter folder merged into its base as a plain model folder (config.json, model.safetensors
 * float32, the tokenizer), for engines that take only whole models (tfjs, ONNX export,
 * transformers). Written to `out` (default <adapter>/merged), again only when the adapter is newer.
 */
export function mergeAdapterFolder(dir: string, out = path.join(dir, "merged")): string {
  const weights = path.join(out, WEIGHTS_FILE);
  if (fs.existsSync(weights) && fs.statSync(weights).mtimeMs >= fs.statSync(path.join(dir, ADAPTER_WEIGHTS)).mtimeMs) return out;
  const adapter = readAdapter(dir);
  const { config, tensors } = readModelTensors(adapter.base);
  const merged = mergeLora(tensors, adapter, path.join(dir, ADAPTER_WEIGHTS));
  fs.mkdirSync(out, { recursive: true });
  writeConfig(out, { ...config, torch_dtype: "float32" });
  carryFiles(adapter.base, out);
  const tmp = `${weights}.tmp-${process.pid}`;
  saveSafetensors(tmp, merged, { metadata: { format: "pt" } });
  fs.renameSync(tmp, weights);
  return out;
}
