/**
 * Which engine evaluates a model: our tfjs model; the native inference runtime (C++ on OpenBLAS,
 * kernel-lib/native/llm.cc); or the same weights exported to ONNX and run by onnxruntime-node
 * through transformers.js. All give the same scores (tests: log-probs within 1e-4 on our models and
 * 1e-3 of transformers' logits on SmolLM2, greedy generations token-identical); they differ in speed.
 *
 *   "auto" picks the fastest one available here: the native runtime whenever the addon is built
 *   (bench/results.json measures all three), else onnxruntime, else tfjs.
 *
 * A model is a folder (config.json, model.safetensors, tokenizer.json) or a GGUF file, converted
 * once into a folder under .cache/models (model/gguf-import.ts).
 */
import fs from "node:fs";
import path from "node:path";
import type { CausalLM } from "./lm";
import { TfjsCausalLM } from "./tfjs-lm";
import { TransformersCausalLM } from "./transformers-lm";
import { isAdapterFolder, mergeAdapterFolder } from "../model/lora";
import { exportOnnx, ONNX_EXPORT_INFO, ONNX_FILE, ONNX_GRAPH_VERSION } from "../model/onnx-export";
import { nativeAddon } from "../model/kernels/native-blas";
import { NativeCausalLM } from "./native-causal-lm";
import { checkImportedFolder, importGguf } from "../model/gguf-import";
import { fileDigest } from "../util/hash";
import { modelsCacheDir } from "../util/paths";
import { setting } from "../util/settings";

export type EngineChoice = "tfjs" | "native" | "onnx" | "auto";

/** Can onnxruntime-node load here? */
export function onnxRuntimeAvailable(): boolean {
  try {
    require.resolve("onnxruntime-node");
    return true;
  } catch {
    return false;
  }
}

/** The engine "auto" resolves to, with the reason. */
export function resolveEngine(choice: EngineChoice = "auto"): { engine: "tfjs" | "native" | "onnx"; why: string } {
  if (choice !== "auto") return { engine: choice, why: "asked for" };
  if (nativeAddon()) return { engine: "native", why: "the native runtime is the fastest engine" };
  if (onnxRuntimeAvailable()) return { engine: "onnx", why: "no native addon; onnxruntime-node is the next fastest" };
  return { engine: "tfjs", why: "no native addon and no onnxruntime-node" };
}

/**
 * The model folder of `model`: the folder itself, or for a .gguf file the folder it converts to,
 * .cache/models/gguf-<sha256 prefix>/ (converted on first use, checked against its card after).
 */
export async function resolveModelFolder(model: string): Promise<string> {
  if (!model.toLowerCase().endsWith(".gguf")) return model;
  const dir = path.join(modelsCacheDir(), `gguf-${fileDigest(model).slice(0, 16)}`);
  if (fs.existsSync(dir) && checkImportedFolder(dir).length === 0) return dir;
  await importGguf(model, dir, { name: path.basename(model, ".gguf") });
  return dir;
}

/** onnx/model.onnx of a model folder, exported when missing, older than its weights, or of an older graph version. */
export function ensureOnnx(dir: string): string {
  const file = path.join(dir, ONNX_FILE);
  const weights = path.join(dir, "model.safetensors");
  if (fs.existsSync(file) && fs.statSync(file).mtimeMs >= fs.statSync(weights).mtimeMs && exportedGraphVersion(dir) === ONNX_GRAPH_VERSION) return file;
  return exportOnnx(dir);
}

function exportedGraphVersion(dir: string): number | undefined {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, ONNX_EXPORT_INFO), "utf8")) as { graphVersion?: number }).graphVersion;
  } catch {
    return undefined;
  }
}

/**
 * A model folder (or GGUF file) as a CausalLM on the chosen engine. `threads`: the native runtime's
 * threads (default FTGEN_BLAS_THREADS, else one per core), or onnxruntime's intra-op threads
 * (default FTGEN_ORT_THREADS, which the study's worker processes set to share the cores, else one per core).
 */
export async function loadCausalLM(model: string, choice: EngineChoice = "auto", opts: { batchSize?: number; threads?: number } = {}): Promise<CausalLM> {
  const dir = await resolveModelFolder(model);
  // A transformers.js folder with only onnx/ (no model.safetensors) runs on onnxruntime alone.
  const onnxOnly = !fs.existsSync(path.join(dir, "model.safetensors")) && fs.existsSync(path.join(dir, ONNX_FILE));
  if (onnxOnly && choice !== "auto" && choice !== "onnx") throw new Error(`${dir}: an ONNX-only model folder (no model.safetensors) runs on the "onnx" engine only, not "${choice}"`);
  const { engine } = onnxOnly ? { engine: "onnx" as const } : resolveEngine(choice);
  if (engine === "tfjs" && !isAdapterFolder(dir)) return TfjsCausalLM.load(dir, { batchSize: opts.batchSize });
  if (engine === "native") return NativeCausalLM.load(dir, { batchSize: opts.batchSize, threads: opts.threads });
  // A LoRA adapter on the other engines: merged into a whole model folder first.
  if (isAdapterFolder(dir)) return loadCausalLM(mergeAdapterFolder(dir), engine, opts);
  if (!onnxOnly) ensureOnnx(dir);
  const threads = opts.threads ?? setting("ortThreads");
  return TransformersCausalLM.fromFolder(dir, { batchSize: opts.batchSize, threads });
}
