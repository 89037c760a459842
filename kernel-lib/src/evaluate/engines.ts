/**
 * Which engine evaluates a model folder: our tfjs model, or the same weights exported to ONNX and run
 * by onnxruntime-node through transformers.js. Both give the same scores (tests: log-probs within
 * 1e-6, greedy generations token-identical); they differ in speed.
 *
 *   "auto" picks the faster one available here. Measured on the 2-core machine (bench/results.json,
 *   the base model's 72 evaluations of 100 items): onnxruntime 107 s against tfjs with its native
 *   OpenBLAS addon 191 s; on the in-domain sets, onnxruntime 23 s against plain tfjs-wasm 102 s. So:
 *   onnxruntime whenever onnxruntime-node loads, else tfjs.
 */
import fs from "node:fs";
import path from "node:path";
import type { CausalLM } from "./lm";
import { TfjsCausalLM } from "./tfjs-lm";
import { TransformersCausalLM } from "./transformers-lm";
import { exportOnnx, ONNX_EXPORT_INFO, ONNX_FILE, ONNX_GRAPH_VERSION } from "../model/onnx-export";
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
  if (onnxRuntimeAvailable()) return { engine: "onnx", why: "onnxruntime-node is the faster engine" };
  return { engine: "tfjs", why: nativeBlasInfo() ? "no onnxruntime-node (tfjs with the native OpenBLAS addon)" : "no onnxruntime-node" };
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
 * A model folder as a CausalLM on the chosen engine. `threads`: onnxruntime's intra-op threads
 * (default FTGEN_ORT_THREADS, which the study's worker processes set to share the cores, else one per core).
 */
export async function loadCausalLM(dir: string, choice: EngineChoice = "auto", opts: { batchSize?: number; threads?: number } = {}): Promise<CausalLM> {
  const { engine } = resolveEngine(choice);
  if (engine === "tfjs") return TfjsCausalLM.fromFolder(dir);
  ensureOnnx(dir);
  const threads = opts.threads ?? (Number(process.env.FTGEN_ORT_THREADS) || undefined);
  return TransformersCausalLM.fromFolder(dir, { batchSize: opts.batchSize, threads });
}
