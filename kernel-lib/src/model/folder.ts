/**
 * A model folder, laid out as Hugging Face's save_pretrained does for LlamaForCausalLM:
 *
 *   dir/config.json          LlamaConfig (config.ts)
 *   dir/model.safetensors    weights by HF name, HF layout ([out, in]); F32, F16 or BF16
 *   dir/tokenizer.json …     written by the tokenizer itself (its save(dir)), if one is given
 *
 *   saveModelFolder(dir, model, { dtype: "float16", tokenizer: tok });
 *   const { model } = loadModelFolder(dir, { loadTokenizer: (d) => BpeTokenizer.load(d) });
 *
 * Tied models store no lm_head.weight (as save_pretrained). Loading converts any stored dtype to
 * float32 (tfjs computes in float32); F16/BF16 storage halves the file at a small precision cost.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { readConfig, writeConfig, type LlamaConfig, type TorchDtype } from "./config";
import { LlamaModel, parameterShapes } from "./llama";
import { loadSafetensors, saveSafetensors, type SafetensorsDtype, type StoredTensor } from "./safetensors";

export const WEIGHTS_FILE = "model.safetensors";

const STORAGE: Record<TorchDtype, SafetensorsDtype> = { float32: "F32", float16: "F16", bfloat16: "BF16" };

/** What saveModelFolder needs of a tokenizer (ftgen's BpeTokenizer has it). */
export interface SavableTokenizer {
  save(dir: string): void;
}

export interface SaveModelOptions {
  /** Storage dtype of model.safetensors (default float32); written to config.json as torch_dtype. */
  dtype?: TorchDtype;
  /** Saved into the same folder with its own save(dir). */
  tokenizer?: SavableTokenizer;
  /** Extra string metadata for the safetensors header ("format": "pt" is always set). */
  metadata?: Record<string, string>;
}

/** Writes config.json, model.safetensors (and the tokenizer's files) into `dir`. */
export function saveModelFolder(dir: string, model: LlamaModel, opts: SaveModelOptions = {}): void {
  const dtype = opts.dtype ?? "float32";
  if (!(dtype in STORAGE)) throw new Error(`saveModelFolder: dtype must be float32, float16 or bfloat16 (got ${dtype})`);
  fs.mkdirSync(dir, { recursive: true });
  writeConfig(dir, { ...model.config, torch_dtype: dtype });
  saveSafetensors(path.join(dir, WEIGHTS_FILE), model.toHF(), { dtype: STORAGE[dtype], metadata: { ...opts.metadata, format: "pt" } });
  opts.tokenizer?.save(dir);
}

export interface LoadModelOptions<T> {
  /** Reads the tokenizer from the folder (e.g. (d) => BpeTokenizer.load(d)). */
  loadTokenizer?: (dir: string) => T;
}

export interface LoadedModel<T> {
  model: LlamaModel;
  config: LlamaConfig;
  /** The dtype model.safetensors stores (F32, F16, BF16; mixed files report the first tensor's). */
  storedDtype: SafetensorsDtype;
  tokenizer?: T;
}

/** Tensors older HF checkpoints carry that are recomputed rather than loaded. */
const IGNORED = /\.rotary_emb\.inv_freq$/;

/**
 * A model folder's config and weights (HF names and layout, float32), without building a model.
 * Errors are one line naming the file: a missing or invalid config.json, a corrupt
 * model.safetensors, a missing tensor, a shape that does not fit the config, or a tensor the
 * config has no place for.
 */
export function readModelTensors(dir: string): { config: LlamaConfig; tensors: Map<string, StoredTensor>; file: string } {
  if (!fs.existsSync(dir)) throw new Error(`${dir}: no such model folder`);
  const config = readConfig(dir);
  const file = path.join(dir, WEIGHTS_FILE);
  if (!fs.existsSync(file)) throw new Error(`${file}: missing (a model folder needs ${WEIGHTS_FILE})`);
  const { tensors } = loadSafetensors(file);
  const expected = parameterShapes(config);
  for (const name of tensors.keys()) {
    if (expected.has(name) || IGNORED.test(name)) continue;
    if (name === "lm_head.weight" && config.tie_word_embeddings) continue; // a tied copy: the embedding is used
    throw new Error(`${file}: tensor ${name} has no place in the model that config.json describes`);
  }
  for (const [name, shape] of expected) {
    const t = tensors.get(name);
    if (!t) throw new Error(`${file}: missing tensor ${name}`);
    if (t.shape.join(",") !== shape.join(",")) throw new Error(`${file}: tensor ${name} has shape [${t.shape}], the config needs [${shape}]`);
  }
  return { config, tensors, file };
}

/** Reads a model folder into a tfjs LlamaModel (errors as readModelTensors). */
export function loadModelFolder<T = never>(dir: string, opts: LoadModelOptions<T> = {}): LoadedModel<T> {
  const { config, tensors, file } = readModelTensors(dir);
  const model = LlamaModel.fromHF(config, tensors, file);
  const first: StoredTensor | undefined = tensors.values().next().value;
  const loaded: LoadedModel<T> = { model, config, storedDtype: first?.dtype ?? "F32" };
  if (opts.loadTokenizer) loaded.tokenizer = opts.loadTokenizer(dir);
  return loaded;
}
