/**
 * Which engine evaluates a model folder: our tfjs model, or the same weights exported to ONNX and run
 * by onnxruntime-node through transformers.js. Both give the same scores (tests: log-probs within
 * 1e-6, greedy generations token-identical); they differ in speed.
 *
 *   "auto" picks the faster one available here. Measured on the 2-core machine (bench/results.json,
 *   the base model's 72 evaluations of 100 items): tfjs with its native OpenBLAS addon 168 s,
 *   onnxruntime 352 s; on the in-domain sets, plain tfjs-wasm 90 s against onnxruntime 91 s. So: tfjs
 *   when the addon is active; otherwise onnxruntime, as fast here and multi-threaded where there are
 *   more cores (plain wasm has one thread).
 */
import fs from "node:fs";
import path from "node:path";
import type { CausalLM } from "./lm";
import { TfjsCausalLM } from "./tfjs-lm";
import { TransformersCausalLM } from "./transformers-lm";
import { exportOnnx, ONNX_FILE } from "../model/onnx-export";
import { nativeBlasInfo } from "../model/native-blas";

export type EngineChoice = "tfjs" | "onnx" | "auto";

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
export function resolveEngine(choice: EngineChoice = "auto"): { engine: "tfjs" | "onnx"; why: string } {
  if (choice !== "auto") return { engine: choice, why: "asked for" };
  if (nativeBlasInfo()) return { engine: "tfjs", why: "tfjs with the native OpenBLAS addon" };
  if (onnxRuntimeAvailable()) return { engine: "onnx", why: "no native addon: onnxruntime-node is the faster" };
  return { engine: "tfjs", why: "no native addon and no onnxruntime-node" };
}

/** onnx/model.onnx of a model folder, exported when missing or older than its weights. */
export function ensureOnnx(dir: string): string {
  const file = path.join(dir, ONNX_FILE);
  const weights = path.join(dir, "model.safetensors");
  if (fs.existsSync(file) && fs.statSync(file).mtimeMs >= fs.statSync(weights).mtimeMs) return file;
  return exportOnnx(dir);
}

/** A model folder as a CausalLM on the chosen engine. */
export async function loadCausalLM(dir: string, choice: EngineChoice = "auto", opts: { batchSize?: number } = {}): Promise<CausalLM> {
  const { engine } = resolveEngine(choice);
  if (engine === "tfjs") return TfjsCausalLM.fromFolder(dir);
  ensureOnnx(dir);
  return TransformersCausalLM.fromFolder(dir, { batchSize: opts.batchSize });
}
