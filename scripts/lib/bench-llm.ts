/**
 * `npm run bench`'s pretrained-LLM stage: SmolLM2-135M on each ftgen engine (native runtime,
 * onnxruntime-node, tfjs), beside PyTorch 2.13 CPU (transformers) and llama.cpp on the GGUF
 * (llama-cpp-python), all on 2 threads, the same weights and the same prompts, one process each so
 * that each peak RSS is its own. See bench/llm_speed.py and bench-llm-child.ts for what is timed.
 *
 * Every engine runs in the environment the study runs in (OPENBLAS_CORETYPE as set here).
 * Also measured: the memory bandwidth a batch-1 decoding step is bound by (an OpenBLAS GEMV over
 * 538 MB of float32, the bytes SmolLM2's weights take, read once per token).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { registryDownloads, registryEntry, registryModelDir } from "../../kernel-lib/src/model/registry";
import { nativeAddon } from "../../kernel-lib/src/model/kernels/native-blas";
import { makeRng } from "../../kernel-lib/src/util/random";
import { projectRoot } from "../../kernel-lib/src/util/paths";
import { ensureRegistryModel } from "./get-model";
import { ensureVenv } from "./venv";

export interface LlmSpeed {
  engine: string;
  config: unknown;
  prefill: { tokens: number; seconds: number; tokens_per_s: number };
  generation: { prompts: number; new_tokens: number; seconds: number; tokens_per_s: number; mode: string } | null;
  decode_b1: { tokens: number; seconds: number; tokens_per_s: number } | null;
  peak_rss_mb: number;
}

/** 8 prompts of 500 token ids, drawn with a fixed seed from ordinary (non-special) ids. */
export function benchPrompts(count = 8, length = 500): number[][] {
  const rng = makeRng("bench-llm");
  return Array.from({ length: count }, () => Array.from({ length }, () => 100 + rng.int(39_900)));
}

/** GB/s of an OpenBLAS GEMV over `bytes` of float32 weights on 2 threads: what batch-1 decoding reads per token. */
export function gemvBandwidth(bytes = 538e6): number | undefined {
  const blas = nativeAddon();
  if (!blas) return undefined;
  const cols = 1536, rows = Math.floor(bytes / 4 / cols);
  const W = new Float32Array(rows * cols).fill(0.5), x = new Float32Array(rows).fill(1), y = new Float32Array(cols);
  blas.setThreads(2);
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    blas.sgemm(false, false, 1, cols, rows, x, W, y, 1, 0, 0, 0, 1, 0); // y (1, cols) = x (1, rows) · W (rows, cols)
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  return (rows * cols * 4) / best / 1e9;
}

/**
 * The environment the study runs in: npm run bench unsets OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for
 * its training comparison and keeps their values in FTGEN_STUDY_BLAS_ENV; this stage puts them back.
 */
function studyEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, FTGEN_BLAS_THREADS: "2" };
  if (env.FTGEN_STUDY_BLAS_ENV) {
    for (const [k, v] of Object.entries(JSON.parse(env.FTGEN_STUDY_BLAS_ENV) as Record<string, string | undefined>)) if (v !== undefined) env[k] = v;
    delete env.FTGEN_STUDY_BLAS_ENV;
  }
  return env;
}

/** The study's environment without a forced OpenBLAS kernel: OpenBLAS picks one for this CPU. */
function ownKernelEnv(): NodeJS.ProcessEnv {
  const env = studyEnv();
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

function runJson(cmd: string, args: string[], what: string, env = studyEnv()): LlmSpeed {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, cwd: projectRoot(), env });
  if (r.status !== 0) throw new Error(`bench: ${what} failed: ${(r.stderr || r.error?.message || "").trim().split("\n").slice(-3).join(" | ")}`);
  return JSON.parse(r.stdout.trim().split("\n").pop() as string) as LlmSpeed;
}

/** Every engine on SmolLM2; returns the rows and the ratios the targets are stated in. */
export async function benchLlm(opts: { engines?: string[]; log?: (s: string) => void } = {}): Promise<Record<string, unknown>> {
  const log = opts.log ?? console.log;
  const entry = registryEntry("smollm2-135m");
  await ensureRegistryModel(entry);
  const dir = registryModelDir(entry), gguf = registryDownloads(entry).gguf;
  const prompts = benchPrompts();
  const req = { prompts, max_new_tokens: 60, maxNewTokens: 60, threads: 2, repeats: 2 };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-bench-llm-"));
  const rows: Record<string, LlmSpeed> = {};
  // "native/own-kernel": the native engine again where the environment forces OpenBLAS' kernel
  // (OPENBLAS_CORETYPE), with OpenBLAS left to pick this CPU's own (AVX-512 where it has it).
  const forced = studyEnv().OPENBLAS_CORETYPE !== undefined;
  const engines = opts.engines ?? ["native", ...(forced ? ["native/own-kernel"] : []), "onnx", "tfjs", "torch", "llama.cpp"];
  const tsx = path.join(projectRoot(), "node_modules", ".bin", "tsx");
  for (const engine of engines) {
    const file = path.join(tmp, `${engine}.json`);
    let row: LlmSpeed;
    if (engine === "torch" || engine === "llama.cpp") {
      const python = ensureVenv("bench", log);
      fs.writeFileSync(file, JSON.stringify({ ...req, engine, model_dir: dir, gguf }));
      row = runJson(python, [path.join(projectRoot(), "bench", "llm_speed.py"), file], engine);
    } else {
      const own = engine === "native/own-kernel";
      fs.writeFileSync(file, JSON.stringify({ ...req, engine: own ? "native" : engine, dir }));
      row = runJson(tsx, [path.join(projectRoot(), "scripts", "lib", "bench-llm-child.ts"), file], engine, own ? ownKernelEnv() : studyEnv());
    }
    rows[engine] = row;
    const g = row.generation, d = row.decode_b1;
    log(`  ${engine.padEnd(17)} prefill ${row.prefill.tokens_per_s.toFixed(0)} tokens/s` +
      (g ? `; generation job ${g.seconds.toFixed(2)} s (${g.tokens_per_s.toFixed(1)} new tokens/s, ${g.mode})` : "") +
      (d ? `; decode at batch 1 ${d.tokens_per_s.toFixed(1)} tokens/s` : "") + `; peak RSS ${row.peak_rss_mb} MB`);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  const bandwidth = gemvBandwidth();
  const ours = ["native", "onnx"].filter((e) => rows[e]?.generation);
  const bestGen = ours.length ? ours.reduce((a, b) => (rows[a].generation!.seconds <= rows[b].generation!.seconds ? a : b)) : undefined;
  const ratios: Record<string, number> = {};
  if (rows.native && rows.torch) ratios.prefillNativeOverTorch = rows.native.prefill.tokens_per_s / rows.torch.prefill.tokens_per_s;
  if (rows["native/own-kernel"] && rows.torch) ratios.prefillNativeOwnKernelOverTorch = rows["native/own-kernel"].prefill.tokens_per_s / rows.torch.prefill.tokens_per_s;
  if (rows["native/own-kernel"]?.generation && rows["llama.cpp"]?.generation) ratios.generationNativeOwnKernelOverLlamaCpp = rows["llama.cpp"].generation.seconds / rows["native/own-kernel"].generation.seconds;
  if (bestGen && rows["llama.cpp"]?.generation) ratios.generationBestOverLlamaCpp = rows["llama.cpp"].generation.seconds / rows[bestGen].generation!.seconds;
  if (bestGen && rows.torch?.generation) ratios.generationBestOverTorch = rows.torch.generation.seconds / rows[bestGen].generation!.seconds;
  if (rows.native?.decode_b1 && rows["llama.cpp"]?.decode_b1) ratios.decodeB1NativeOverLlamaCpp = rows.native.decode_b1.tokens_per_s / rows["llama.cpp"].decode_b1.tokens_per_s;
  const weightBytes = fs.statSync(path.join(dir, "model.safetensors")).size;
  const bound = bandwidth ? (bandwidth * 1e9) / weightBytes : undefined;
  log(`  targets: prefill ${ratios.prefillNativeOverTorch?.toFixed(2)}× PyTorch (≥ 1.0); generation job ${ratios.generationBestOverLlamaCpp?.toFixed(2)}× llama.cpp (≥ 0.5, stretch 1), best engine ${bestGen}`);
  if (bandwidth) log(`  batch-1 decoding reads ${(weightBytes / 1e6).toFixed(0)} MB of float32 weights per token; a GEMV over them runs at ${bandwidth.toFixed(1)} GB/s here: at most ${bound!.toFixed(0)} tokens/s`);
  return {
    model: entry.name, prompts: `${prompts.length} × ${prompts[0].length} token ids (seed "bench-llm")`, maxNewTokens: 60, threads: 2,
    rows, ratios, bestGenerationEngine: bestGen,
    batch1Bound: { weightBytes, gemvGBps: bandwidth, tokensPerSecondBound: bound },
  };
}
