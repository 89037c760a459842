/**
 * The model's configuration, as a Hugging Face LlamaConfig (config.json), so that a saved ftgen
 * model folder loads in transformers with LlamaForCausalLM.from_pretrained(dir).
 *
 *   const cfg = llamaConfig({ vocab_size: 8192, num_hidden_layers: 6 });  // defaults + overrides
 *   writeConfig(dir, cfg); const same = readConfig(dir);
 *
 * Validation errors are one line naming the source (file) and the field:
 *   "model/config.json: hidden_size must be divisible by num_attention_heads (100 / 3)".
 */
import * as path from "node:path";
import { writeFileAtomic } from "../util/atomic";
import { readJsonFile } from "../util/json";

export type TorchDtype = "float32" | "float16" | "bfloat16";

export interface LlamaConfig {
  model_type: "llama";
  architectures: string[];
  vocab_size: number;
  /** Model width C. */
  hidden_size: number;
  /** Width of the SwiGLU MLP. */
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  /** Key/value heads (grouped-query attention when fewer than num_attention_heads). */
  num_key_value_heads: number;
  /** Longest sequence the model is meant for (RoPE itself has no hard limit). */
  max_position_embeddings: number;
  rms_norm_eps: number;
  rope_theta: number;
  tie_word_embeddings: boolean;
  bos_token_id: number;
  eos_token_id: number;
  pad_token_id: number;
  hidden_act: "silu";
  /** Std of the normal init of every matrix (HF's initializer_range). */
  initializer_range: number;
  attention_bias: false;
  mlp_bias: false;
  /** Must be 0: ftgen applies dropout as a training option (LlamaModel.loss), not from the config. */
  attention_dropout: number;
  rope_scaling: null;
  use_cache: boolean;
  /** Storage dtype of model.safetensors. */
  torch_dtype: TorchDtype;
}

/**
 * ftgen's small default (config "a" of the speed probe): 4 layers, width 128, 4 heads, MLP 4x,
 * tied embeddings; ids 0/1/2 for BOS/EOS/PAD as ftgen's tokenizer.
 */
export const LLAMA_DEFAULTS: Readonly<LlamaConfig> = Object.freeze({
  model_type: "llama",
  architectures: ["LlamaForCausalLM"],
  vocab_size: 4096,
  hidden_size: 128,
  intermediate_size: 512,
  num_hidden_layers: 4,
  num_attention_heads: 4,
  num_key_value_heads: 4,
  max_position_embeddings: 512,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  tie_word_embeddings: true,
  bos_token_id: 0,
  eos_token_id: 1,
  pad_token_id: 2,
  hidden_act: "silu",
  initializer_range: 0.02,
  attention_bias: false,
  mlp_bias: false,
  attention_dropout: 0,
  rope_scaling: null,
  use_cache: true,
  torch_dtype: "float32",
}) as Readonly<LlamaConfig>;

/**
 * Defaults plus overrides, validated. num_key_value_heads follows num_attention_heads unless given
 * (as in transformers).
 */
export function llamaConfig(overrides: Partial<LlamaConfig> = {}, source = "llamaConfig"): LlamaConfig {
  const cfg: LlamaConfig = { ...LLAMA_DEFAULTS, architectures: [...LLAMA_DEFAULTS.architectures], ...overrides };
  if (overrides.num_key_value_heads === undefined) cfg.num_key_value_heads = cfg.num_attention_heads;
  validateConfig(cfg, source);
  return cfg;
}

/** Per-head width: hidden_size / num_attention_heads. */
export function headDim(cfg: LlamaConfig): number {
  return cfg.hidden_size / cfg.num_attention_heads;
}

function fail(source: string, msg: string): never {
  throw new Error(`${source}: ${msg}`);
}

function posInt(cfg: LlamaConfig, source: string, field: keyof LlamaConfig): void {
  const v = cfg[field];
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) fail(source, `${field} must be a positive integer (got ${JSON.stringify(v)})`);
}

function tokenId(cfg: LlamaConfig, source: string, field: "bos_token_id" | "eos_token_id" | "pad_token_id"): void {
  const v = cfg[field];
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v >= cfg.vocab_size) {
    fail(source, `${field} must be an integer in [0, vocab_size=${cfg.vocab_size}) (got ${JSON.stringify(v)})`);
  }
}

/** Throws a one-line error naming `source` and the first bad field. */
export function validateConfig(cfg: LlamaConfig, source = "config"): void {
  if (cfg === null || typeof cfg !== "object") fail(source, "config must be a JSON object");
  if (cfg.model_type !== "llama") fail(source, `model_type must be "llama" (got ${JSON.stringify(cfg.model_type)})`);
  if (!Array.isArray(cfg.architectures) || !cfg.architectures.includes("LlamaForCausalLM")) {
    fail(source, `architectures must include "LlamaForCausalLM" (got ${JSON.stringify(cfg.architectures)})`);
  }
  for (const f of ["vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "max_position_embeddings"] as const) {
    posInt(cfg, source, f);
  }
  if (cfg.hidden_size % cfg.num_attention_heads !== 0) {
    fail(source, `hidden_size must be divisible by num_attention_heads (${cfg.hidden_size} / ${cfg.num_attention_heads})`);
  }
  if (headDim(cfg) % 2 !== 0) fail(source, `hidden_size / num_attention_heads must be even for rotary embeddings (got ${headDim(cfg)})`);
  if (cfg.num_attention_heads % cfg.num_key_value_heads !== 0) {
    fail(source, `num_attention_heads must be a multiple of num_key_value_heads (${cfg.num_attention_heads} / ${cfg.num_key_value_heads})`);
  }
  for (const f of ["rms_norm_eps", "rope_theta", "initializer_range"] as const) {
    const v = cfg[f];
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) fail(source, `${f} must be a positive number (got ${JSON.stringify(v)})`);
  }
  if (cfg.attention_dropout !== 0) {
    fail(source, `attention_dropout must be 0 (got ${JSON.stringify(cfg.attention_dropout)}; ftgen's dropout is a training option of LlamaModel.loss)`);
  }
  if (typeof cfg.tie_word_embeddings !== "boolean") fail(source, `tie_word_embeddings must be true or false (got ${JSON.stringify(cfg.tie_word_embeddings)})`);
  if (typeof cfg.use_cache !== "boolean") fail(source, `use_cache must be true or false (got ${JSON.stringify(cfg.use_cache)})`);
  tokenId(cfg, source, "bos_token_id");
  tokenId(cfg, source, "eos_token_id");
  tokenId(cfg, source, "pad_token_id");
  if (cfg.hidden_act !== "silu") fail(source, `hidden_act must be "silu" (got ${JSON.stringify(cfg.hidden_act)})`);
  if (cfg.attention_bias !== false) fail(source, "attention_bias must be false (biases are not supported)");
  if (cfg.mlp_bias !== false) fail(source, "mlp_bias must be false (biases are not supported)");
  if (cfg.rope_scaling !== null) fail(source, `rope_scaling must be null (got ${JSON.stringify(cfg.rope_scaling)})`);
  if (!["float32", "float16", "bfloat16"].includes(cfg.torch_dtype)) {
    fail(source, `torch_dtype must be "float32", "float16" or "bfloat16" (got ${JSON.stringify(cfg.torch_dtype)})`);
  }
}

/** The fields in the order config.json lists them. */
const FIELD_ORDER: (keyof LlamaConfig)[] = [
  "architectures", "model_type", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
  "num_attention_heads", "num_key_value_heads", "max_position_embeddings", "rms_norm_eps", "rope_theta",
  "rope_scaling", "hidden_act", "initializer_range", "attention_bias", "attention_dropout", "mlp_bias",
  "tie_word_embeddings", "bos_token_id", "eos_token_id", "pad_token_id", "use_cache", "torch_dtype",
];

/** config.json text (2-space indent, HF field order, trailing newline). */
export function configJson(cfg: LlamaConfig): string {
  validateConfig(cfg);
  const out: Record<string, unknown> = {};
  for (const k of FIELD_ORDER) out[k] = cfg[k];
  return JSON.stringify(out, null, 2) + "\n";
}

/** Path of config.json given a model folder or the file itself. */
function configPath(dirOrFile: string): string {
  return dirOrFile.endsWith(".json") ? dirOrFile : path.join(dirOrFile, "config.json");
}

/** Writes `dir/config.json` atomically; returns its path. */
export function writeConfig(dir: string, cfg: LlamaConfig): string {
  const file = path.join(dir, "config.json");
  writeFileAtomic(file, configJson(cfg));
  return file;
}

/**
 * Reads a config.json (a folder or the file). Fields it does not know are ignored; missing ones
 * take the HF LlamaConfig defaults that transformers would use (not ftgen's defaults), except that
 * the size fields must be present.
 */
export function readConfig(dirOrFile: string): LlamaConfig {
  const file = configPath(dirOrFile);
  return configFromJson(readJsonFile(file), file);
}

/** A LlamaConfig from parsed config.json content; errors name `source`. */
export function configFromJson(raw: unknown, source = "config.json"): LlamaConfig {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) fail(source, "config must be a JSON object");
  const r = raw as Record<string, unknown>;
  for (const f of ["vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads"]) {
    if (!(f in r)) fail(source, `${f} is missing`);
  }
  // transformers' LlamaConfig defaults for the optional fields.
  const hf: Record<string, unknown> = {
    architectures: ["LlamaForCausalLM"], max_position_embeddings: 2048, rms_norm_eps: 1e-6, rope_theta: 10000,
    tie_word_embeddings: false, hidden_act: "silu", initializer_range: 0.02, attention_bias: false, mlp_bias: false,
    attention_dropout: 0, rope_scaling: null, use_cache: true, torch_dtype: "float32", bos_token_id: 1, eos_token_id: 2,
  };
  const merged = { ...hf, ...r } as Record<string, unknown>;
  if (merged.num_key_value_heads === undefined || merged.num_key_value_heads === null) merged.num_key_value_heads = merged.num_attention_heads;
  if (merged.pad_token_id === undefined || merged.pad_token_id === null) merged.pad_token_id = merged.eos_token_id;
  if (Array.isArray(merged.eos_token_id)) fail(source, "eos_token_id must be a single id (lists of EOS ids are not supported)");
  const cfg = {} as Record<string, unknown>;
  for (const k of FIELD_ORDER) cfg[k] = merged[k];
  validateConfig(cfg as unknown as LlamaConfig, source);
  return cfg as unknown as LlamaConfig;
}
