/**
 * `npm run bench`: training and decoding speed of our tfjs model against a PyTorch reference of the
 * same architecture (bench/torch_ref.py), on two fixed configs, in one invocation:
 *   (a) vocab 4096, d 128, 4 layers, 4 heads, context 256, batch 16
 *   (b) vocab 8192, d 256, 6 layers, 8 heads, context 256, batch 8
 * Training tokens/s (one process, and two worker processes in aggregate), decode tokens/s (60 new
 * tokens after a 200-token prompt, with and without the KV cache), peak RSS, and the ratios
 * tfjs / PyTorch-at-2-threads. Then the evaluation stage (scripts/lib/bench-eval.ts): the base
 * model's scoring on every test set at the paper's shot lists, timed on each engine (tfjs with the
 * native addon, onnxruntime-node via transformers.js, and plain tfjs-wasm on the in-domain sets).
 * Then the pretrained-LLM stage (SmolLM2 inference on every engine, bench-llm.ts) and the fine-tuning
 * stage (LoRA and full fine-tuning steps of SmolLM2 against PyTorch + PEFT, bench-finetune.ts).
 * Writes bench/results.json; `--eval-only`, `--llm-only` and `--finetune-only` rerun one stage and keep the rest.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../kernel-lib/src/model/backend";
import { LlamaModel } from "../kernel-lib/src/model/llama";
import { train, FINETUNE_DEFAULTS } from "../kernel-lib/src/train/loop";
import type { TokenizedExample } from "../kernel-lib/src/train/examples";
import { makeRng } from "../kernel-lib/src/util/random";
import { ensureAptPackages, ensureData } from "./lib/setup";
import { ensureNativeAddon } from "./lib/native";
import { projectRelative, projectRoot } from "../kernel-lib/src/util/paths";
import { benchDecode } from "./lib/bench-decode";
import { evalSpecs, storedEvaluationTimes, timeEngine } from "./lib/bench-eval";
import { ResultStore } from "../kernel-lib/src/study/store";
import { baseModelDir } from "../kernel-lib/src/util/paths";
import { TfjsCausalLM } from "../kernel-lib/src/evaluate/tfjs-lm";
import { TransformersCausalLM } from "../kernel-lib/src/evaluate/transformers-lm";
import { ensureOnnx } from "../kernel-lib/src/evaluate/engines";
import { useNativeBlas } from "../kernel-lib/src/model/kernels/native-blas";
import { benchLlm } from "./lib/bench-llm";
import { benchFinetune } from "./lib/bench-finetune";
import { parseCli } from "./lib/cli";

export interface BenchConfig {
  name: string;
  vocab: number;
  d: number;
  layers: number;
  heads: number;
  ctx: number;
  batch: number;
  /** Examples per forward/backward (memory: the wasm heap is 32-bit). */
  micro: number;
}

const CONFIGS: Record<string, BenchConfig> = {
  a: { name: "a", vocab: 4096, d: 128, layers: 4, heads: 4, ctx: 256, batch: 16, micro: 16 },
  b: { name: "b", vocab: 8192, d: 256, layers: 6, heads: 8, ctx: 256, batch: 8, micro: 4 },
};

export function modelFor(c: BenchConfig): LlamaModel {
  return LlamaModel.init({
    vocab_size: c.vocab, hidden_size: c.d, intermediate_size: 4 * c.d, num_hidden_layers: c.layers,
    num_attention_heads: c.heads, num_key_value_heads: c.heads, max_position_embeddings: 512, tie_word_embeddings: true,
  }, 0);
}

/** Training tokens/s over `steps` timed steps after `warmup` untimed ones, with the real training loop. */
async function benchTrain(c: BenchConfig, warmup: number, steps: number): Promise<{ tokensPerSecond: number; stepSeconds: number; finalLoss: number }> {
  const rng = makeRng(1);
  const examples: TokenizedExample[] = Array.from({ length: c.batch * (warmup + steps) }, () => ({
    ids: Array.from({ length: c.ctx + 1 }, () => 3 + rng.int(c.vocab - 3)), targetStart: 1, droppedPromptTokens: 0,
  }));
  const model = modelFor(c);
  const marks: number[] = [];
  const res = await train(model, examples, { ...FINETUNE_DEFAULTS, epochs: 1, batchSize: c.batch, microBatchSize: c.micro, lr: 3e-4, weightDecay: 0.1 }, {
    onProgress: () => marks.push(performance.now()),
  });
  model.dispose();
  const secs = (marks[marks.length - 1] - marks[warmup - 1]) / 1000;
  return { tokensPerSecond: (c.batch * c.ctx * steps) / secs, stepSeconds: secs / steps, finalLoss: res.losses[res.losses.length - 1] };
}

/**
 * Debian's PyTorch runs its ops on OpenMP threads; with the pthread build of OpenBLAS (what
 * libopenblas-dev selects, and what our addon links) the two thread pools fight over the two cores
 * and PyTorch trains ~2x slower. Its fair setting is the OpenMP build, which Debian installs beside
 * it (libopenblas0-openmp): it is put first on the library path of the PyTorch command alone.
 */
const OPENMP_BLAS_DIRS = ["/usr/lib/x86_64-linux-gnu/openblas-openmp", "/usr/lib/aarch64-linux-gnu/openblas-openmp"];

function torchReference(c: BenchConfig, steps: number): Record<string, unknown> {
  const env = { ...process.env };
  const openmp = OPENMP_BLAS_DIRS.find((d) => fs.existsSync(path.join(d, "libblas.so.3")));
  if (openmp) env.LD_LIBRARY_PATH = [openmp, env.LD_LIBRARY_PATH].filter(Boolean).join(":");
  const cfg = JSON.stringify({ vocab: c.vocab, d: c.d, layers: c.layers, heads: c.heads, ctx: c.ctx, batch: c.batch });
  const r = spawnSync("/usr/bin/python3", [path.join(projectRoot(), "bench", "torch_ref.py"), "--config", cfg, "--threads", "2", "--steps", String(steps)], { encoding: "utf8", env });
  if (r.status !== 0) throw new Error(`bench/torch_ref.py failed: ${r.stderr.trim().split("\n").pop()}`);
  const res = JSON.parse(r.stdout.trim().split("\n").pop() as string) as Record<string, unknown>;
  res.blasBuild = openmp ? `OpenMP build (${openmp})` : "system default";
  return res;
}

/** Run this script as `count` worker processes at once; their training tokens/s, summed. */
async function workersAggregate(c: BenchConfig, count: number, warmup: number, steps: number): Promise<number> {
  const runs = Array.from({ length: count }, () => new Promise<number>((resolve, reject) => {
    // One BLAS thread per worker: two workers on two cores, no oversubscription.
    const env = { ...process.env, FTGEN_BLAS_THREADS: "1" };
    const child = spawn(process.execPath, [...process.execArgv, __filename, "--worker", c.name, "--warmup", String(warmup), "--steps", String(steps)], { stdio: ["ignore", "pipe", "inherit"], env });
    let out = "";
    child.stdout.on("data", (b: Buffer) => { out += b.toString(); });
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out.trim().split("\n").pop() as string).tokensPerSecond as number) : reject(new Error(`worker exited ${code}`))));
  }));
  return (await Promise.all(runs)).reduce((a, b) => a + b, 0);
}

/**
 * This machine's environment may force OPENBLAS_CORETYPE (and OPENBLAS_L2_SIZE), for old OpenBLAS
 * builds elsewhere; that would hide the AVX-512 kernels from PyTorch's OpenBLAS and from ours. The
 * benchmark alone runs without both: it re-executes itself once with them unset, so both sides use
 * the same library with the same kernels. Tests and the study leave the environment alone.
 */
function reexecWithoutForcedBlasCore(): boolean {
  if (process.env.OPENBLAS_CORETYPE === undefined && process.env.OPENBLAS_L2_SIZE === undefined) return false;
  const env = { ...process.env };
  // Kept for the LLM stage, which runs every engine as the study runs it (bench-llm.ts).
  env.FTGEN_STUDY_BLAS_ENV = JSON.stringify({ OPENBLAS_CORETYPE: env.OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE: env.OPENBLAS_L2_SIZE });
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const r = spawnSync(process.execPath, [...process.execArgv, __filename, ...process.argv.slice(2)], { stdio: "inherit", env });
  process.exit(r.status ?? 1);
}

/** Writes bench/results.json with paths inside the project made relative to it (the file is committed). */
function writeResults(file: string, results: unknown): void {
  const root = projectRoot() + path.sep;
  fs.writeFileSync(file, JSON.stringify(results, (_k, v: unknown) => (typeof v === "string" && v.startsWith(root) ? projectRelative(v) : v), 1) + "\n");
}

async function main(): Promise<void> {
  if (reexecWithoutForcedBlasCore()) return;
  const { values } = parseCli("npm run bench", { options: {
    worker: { type: "string" }, warmup: { type: "string", default: "2" }, steps: { type: "string", default: "8" },
    configs: { type: "string", default: "a,b" }, "no-torch": { type: "boolean" }, "eval-only": { type: "boolean" }, "no-eval": { type: "boolean" },
    "llm-only": { type: "boolean" }, "no-llm": { type: "boolean" }, "finetune-only": { type: "boolean" }, "no-finetune": { type: "boolean" },
  } });
  const warmup = Number(values.warmup), steps = Number(values.steps);
  if (!values.worker) ensureNativeAddon();
  const backend = await initBackend({ quiet: values.worker !== undefined });
  if (values.worker) {
    console.log(JSON.stringify(await benchTrain(CONFIGS[values.worker], warmup, steps)));
    return;
  }
  const out = path.join(projectRoot(), "bench", "results.json");
  if (values["llm-only"]) {
    const previous = fs.existsSync(out) ? JSON.parse(fs.readFileSync(out, "utf8")) as Record<string, unknown> : {};
    console.log("pretrained LLM stage: SmolLM2-135M on every engine, 2 threads");
    previous.llm = { date: new Date().toISOString(), ...(await benchLlm()) };
    writeResults(out, previous);
    console.log(`wrote the LLM stage into ${path.relative(process.cwd(), out)}`);
    return;
  }
  if (values["finetune-only"]) {
    const previous = fs.existsSync(out) ? JSON.parse(fs.readFileSync(out, "utf8")) as Record<string, unknown> : {};
    console.log("fine-tuning stage: SmolLM2-135M, LoRA and full fine-tuning steps, ftgen's native trainer and PyTorch, 2 threads");
    previous.finetune = { date: new Date().toISOString(), ...(await benchFinetune({ torch: !values["no-torch"] })) };
    writeResults(out, previous);
    console.log(`wrote the fine-tuning stage into ${path.relative(process.cwd(), out)}`);
    return;
  }
  if (values["eval-only"]) {
    const previous = fs.existsSync(out) ? JSON.parse(fs.readFileSync(out, "utf8")) as Record<string, unknown> : {};
    previous.evaluation = await benchEvaluation();
    writeResults(out, previous);
    console.log(`wrote the evaluation stage into ${path.relative(process.cwd(), out)}`);
    return;
  }
  if (!values["no-torch"]) ensureAptPackages({ "python3-torch": "torch", "libopenblas0-openmp": "" });
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), platform: `${os.platform()} ${os.release()}` },
    versions: { node: process.version, tfjs: tf.version.tfjs },
    backend,
    configs: {} as Record<string, unknown>,
  };
  for (const name of (values.configs as string).split(",")) {
    const c = CONFIGS[name];
    console.log(`config (${name}): vocab ${c.vocab}, d ${c.d}, ${c.layers} layers, ${c.heads} heads, ctx ${c.ctx}, batch ${c.batch}`);
    const one = await benchTrain(c, warmup, steps);
    console.log(`  tfjs training, 1 process: ${one.tokensPerSecond.toFixed(0)} tokens/s`);
    const two = await workersAggregate(c, 2, warmup, steps);
    console.log(`  tfjs training, 2 worker processes: ${two.toFixed(0)} tokens/s in aggregate`);
    const decode = await benchDecode(modelFor(c), c.vocab, 200, 60);
    console.log(`  tfjs decode: ${decode.cachedTokensPerSecond.toFixed(0)} tokens/s with KV cache, ${decode.uncachedTokensPerSecond.toFixed(0)} without`);
    const entry: Record<string, unknown> = { config: c, tfjs: { train1: one, train2Aggregate: two, decode } };
    if (!values["no-torch"]) {
      const torch = torchReference(c, steps);
      console.log(`  PyTorch (2 threads, BLAS ${(torch.blas as string[]).join(" + ")}, ${torch.blasBuild}): ${Number(torch.train_tokens_per_s).toFixed(0)} training tokens/s, ${Number(torch.decode_cached_tokens_per_s).toFixed(0)} decode tokens/s (KV cache)`);
      const best = Math.max(one.tokensPerSecond, two);
      const ratios = {
        train: best / Number(torch.train_tokens_per_s),
        decodeCached: decode.cachedTokensPerSecond / Number(torch.decode_cached_tokens_per_s),
        decodeUncached: decode.uncachedTokensPerSecond / Number(torch.decode_uncached_tokens_per_s),
      };
      console.log(`  ratios tfjs/PyTorch: training ${ratios.train.toFixed(2)}× (best of 1 and 2 processes), decode ${ratios.decodeCached.toFixed(2)}× (cached)`);
      Object.assign(entry, { torch, ratios });
    }
    (results.configs as Record<string, unknown>)[name] = entry;
  }
  if (!values["no-eval"]) results.evaluation = await benchEvaluation();
  if (!values["no-llm"]) {
    console.log("pretrained LLM stage: SmolLM2-135M on every engine, 2 threads");
    results.llm = { date: new Date().toISOString(), ...(await benchLlm()) };
  }
  if (!values["no-finetune"]) {
    console.log("fine-tuning stage: SmolLM2-135M, LoRA and full fine-tuning steps, ftgen's native trainer and PyTorch, 2 threads");
    results.finetune = { date: new Date().toISOString(), ...(await benchFinetune({ torch: !values["no-torch"] })) };
  }
  results.peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
  writeResults(out, results);
  console.log(`peak RSS ${results.peakRssMiB} MiB; wrote ${path.relative(process.cwd(), out)}`);
}

/** The evaluation stage on each engine (the shipped base model), with the speed-ups over tfjs. */
async function benchEvaluation(): Promise<Record<string, unknown>> {
  await ensureData();
  const base = baseModelDir();
  const all = evalSpecs(), inDomain = evalSpecs({ inDomainOnly: true });
  console.log(`evaluation stage: the base model on ${all.length} evaluations (every test set × the paper's shot lists, map 0, ${all[0].limit} items)`);
  const native = TfjsCausalLM.fromFolder(base);
  const tfjsAll = await timeEngine(native, all);
  const tfjsIn = await timeEngine(native, inDomain);
  native.dispose();
  console.log(`  tfjs + native OpenBLAS: ${tfjsAll.timing.seconds.toFixed(1)} s (${tfjsAll.timing.promptsPerSecond.toFixed(1)} prompts/s)`);
  ensureOnnx(base);
  const onnxLm = await TransformersCausalLM.fromFolder(base);
  const onnxAll = await timeEngine(onnxLm, all);
  const onnxIn = await timeEngine(onnxLm, inDomain);
  onnxLm.dispose();
  console.log(`  onnxruntime-node (transformers.js): ${onnxAll.timing.seconds.toFixed(1)} s (${onnxAll.timing.promptsPerSecond.toFixed(1)} prompts/s)`);
  const was = useNativeBlas(false);
  const wasm = TfjsCausalLM.fromFolder(base);
  const wasmIn = await timeEngine(wasm, inDomain);
  wasm.dispose();
  useNativeBlas(was);
  console.log(`  plain tfjs-wasm, in-domain sets only: ${wasmIn.timing.seconds.toFixed(1)} s against ${tfjsIn.timing.seconds.toFixed(1)} s (native) and ${onnxIn.timing.seconds.toFixed(1)} s (onnx)`);
  const agree = (a: number[], b: number[]): number => Math.max(...a.map((v, i) => Math.abs(v - b[i])));
  const study = storedEvaluationTimes(new ResultStore().all());
  console.log(`  the committed study's records (results/): ${Object.entries(study).map(([e, v]) => `${e} ${v.items} items in ${v.seconds} s`).join("; ")}`);
  return {
    model: base, evaluations: all.length, items: all[0].limit,
    committedStudy: { note: "the default profile's records in results/, by engine: seconds summed over the study's worker processes", ...study },
    tfjsNative: tfjsAll.timing, onnx: onnxAll.timing,
    inDomainOnly: { tfjsNative: tfjsIn.timing, onnx: onnxIn.timing, tfjsWasm: wasmIn.timing },
    speedup: { onnxOverTfjsNative: tfjsAll.timing.seconds / onnxAll.timing.seconds, onnxOverTfjsWasm: wasmIn.timing.seconds / onnxIn.timing.seconds },
    maxScoreDifference: { onnxVsTfjsNative: agree(onnxAll.scores, tfjsAll.scores), wasmVsNative: agree(wasmIn.scores, tfjsIn.scores) },
  };
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
