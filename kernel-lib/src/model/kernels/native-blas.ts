/**
 * Native BLAS under the tfjs wasm backend: the wasm "BatchMatMul" kernel is replaced by one that
 * calls the system's OpenBLAS (kernel-lib/native/ftgen_blas.cc, built by `npm run setup`) on views
 * of the wasm heap, in place, with no copies. Everything else stays in tfjs-wasm.
 *
 * Why: XNNPACK in wasm reaches ~30 GFLOP/s on one thread (Node gets no wasm threads), while
 * OpenBLAS reaches ~170 GFLOP/s on this machine's two cores; matMuls are most of a training step.
 *
 * The addon is optional. Without it (not built, FTGEN_NATIVE_BLAS=0, or another backend) nothing
 * changes. Gradients need nothing here: matMul's gradient is itself made of matMuls, which come
 * back through this kernel.
 */
import * as tf from "@tensorflow/tfjs";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { setting } from "../../util/settings";

/** The addon's interface (see ftgen_blas.cc). */
export interface BlasAddon {
  /** For i < batch: C_i (M, N) = alpha·op(A_i)·op(B_i) + beta·C_i, row-major, X_i = X + i·strideX. */
  sgemm(transA: boolean, transB: boolean, M: number, N: number, K: number, A: Float32Array, B: Float32Array, C: Float32Array,
    batch: number, strideA: number, strideB: number, strideC: number, alpha: number, beta: number): void;
  /** Causal attention (attention.cc): dims [B, T, H, KV, d, biasRows, threads]; writes out and P. */
  attentionForward(dims: number[], q: Float32Array, k: Float32Array, v: Float32Array, bias: Float32Array, out: Float32Array, P: Float32Array): void;
  /** Its backward: writes dQ, dK, dV. */
  attentionBackward(dims: number[], dO: Float32Array, q: Float32Array, k: Float32Array, v: Float32Array, P: Float32Array,
    dQ: Float32Array, dK: Float32Array, dV: Float32Array): void;
  /** Fused LM-head cross-entropy (lm_head.cc): dims [R, C, V, tied, chunk]; mean NLL; gradients into dH, dW when given. */
  lmHeadLoss(dims: number[], h: Float32Array, w: Float32Array, labels: Int32Array, dH: Float32Array | null, dW: Float32Array | null): number;
  /** Inference runtime (llm.cc): a model from weights; dims [V, C, F, L, H, KV, d, tied, threads]. */
  llmCreate(dims: number[], eps: number, weights: Float32Array[]): object;
  /** A batch of rows with their own KV caches after an optional shared prefix. */
  llmSession(model: object, batch: number, capacity: number, prefix: object | null, prefixLength: number): object;
  /** T new tokens per row; writes the logits after each row's last one; false when the cache is full. */
  llmStep(session: object, T: number, ids: Int32Array, mask: Int32Array, qCos: Float32Array, qSin: Float32Array, kCos: Float32Array, kSin: Float32Array, logits: Float32Array): boolean;
  /** Releases a model, session or prefix at once (the handle cannot be used after). */
  llmFree(handle: object): void;
  /** Keeps only these rows of a session (increasing indices). */
  llmKeepRows(session: object, rows: Int32Array): void;
  /** Row 0's keys and values as a prefix other sessions attend to. */
  llmTakePrefix(session: object): object;
  /** Fine-tuning (trainer.cc): full (the model must be this trainer's own) or LoRA [rank, targets bits], [alpha, dropout]. */
  trainerCreate(model: object, full: boolean, lora: [number, number], loraF: [number, number], seed: number): object;
  /** Forward and backward of a micro-batch; rope tables (T, d). Returns [summed loss, labels]. */
  trainerAccumulate(trainer: object, B: number, T: number, ids: Int32Array, labels: Int32Array, qCos: Float32Array, qSin: Float32Array,
    kCos: Float32Array, kSin: Float32Array, dropoutSeed: number): [number, number];
  /** The summed loss only: [summed loss, labels]. */
  trainerLoss(trainer: object, B: number, T: number, ids: Int32Array, labels: Int32Array, qCos: Float32Array, qSin: Float32Array,
    kCos: Float32Array, kSin: Float32Array): [number, number];
  /** AdamW over the accumulated gradients / count: [lr, beta1, beta2, eps, weightDecay, maxGradNorm]; returns the norm before clipping. */
  trainerStep(trainer: object, count: number, adam: number[]): number;
  trainerParams(trainer: object): { name: string; shape: number[] }[];
  /** which: 0 weights, 1 gradient, 2 first moment, 3 second moment. */
  trainerRead(trainer: object, index: number, which: number, out: Float32Array): void;
  trainerWrite(trainer: object, index: number, which: number, data: Float32Array): void;
  /** Optimizer steps taken (set first when given). */
  trainerSteps(trainer: object, steps?: number): number;
  /** Drops the accumulated gradients without a step. */
  trainerZeroGrad(trainer: object): void;
  /** A model handle for inference: full fine-tuning's own, or the base with the LoRA pairs merged in. */
  trainerModel(trainer: object): object;
  /** Seconds per phase (linear forward, attention backward, AdamW, …) since the trainer was made. */
  trainerProfile(trainer: object): Record<string, number>;
  setThreads(n: number): void;
  info(): { threads: number; config: string; core: string };
}

/** What nativeBlasInfo() reports. */
export interface NativeBlasInfo {
  /** The OpenBLAS build (e.g. "OpenBLAS 0.3.21 … Haswell …"). */
  config: string;
  /** The CPU kernel OpenBLAS picked (OPENBLAS_CORETYPE forces one). */
  core: string;
  threads: number;
  /** The addon file. */
  file: string;
}

/** Where `npm run setup` builds the addon. */
export function nativeBlasPath(): string {
  return path.resolve(__dirname, "..", "..", "..", "native", "build", "ftgen_blas.node");
}

let addon: BlasAddon | undefined;
let installed: NativeBlasInfo | undefined;
/** Switched by useNativeBlas(); the kernel stays registered and defers to tfjs' own when off. */
let enabled = true;

/** Loads the addon, or returns undefined (with the reason) when it is absent or broken. */
export function loadNativeBlas(file = nativeBlasPath()): { addon?: BlasAddon; reason?: string } {
  if (addon) return { addon };
  if (!fs.existsSync(file)) return { reason: `${file} is not built (npm run setup builds it when libopenblas-dev is installed)` };
  try {
    const req: NodeRequire = typeof require === "function" ? require : createRequire(__filename);
    addon = req(file) as BlasAddon;
    return { addon };
  } catch (e) {
    return { reason: `${file} failed to load: ${(e as Error).message.split("\n")[0]}` };
  }
}

/**
 * The addon for code that needs no tfjs (the native inference runtime): loaded if built, unless
 * FTGEN_NATIVE_BLAS=0.
 */
export function nativeAddon(): BlasAddon | undefined {
  if (setting("nativeBlas") === false) return undefined;
  return loadNativeBlas().addon;
}

/** The wasm backend's internals this kernel uses (typed loosely: they are not public API). */
interface WasmBackendLike {
  dataIdMap: { get(id: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  wasm: { HEAPU8: Uint8Array };
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * The BatchMatMul kernel on OpenBLAS. a (…, M, K) or (…, K, M) when transposeA; b likewise; batch
 * dims broadcast when one side has a single batch. Other broadcasts go to tfjs' own kernel.
 */
function makeKernel(blas: BlasAddon, fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    if (!enabled || a.dtype !== "float32" || b.dtype !== "float32") return fallback(args);
    const ra = a.shape.length, rb = b.shape.length;
    const M = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const K = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const Kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    const N = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    if (K !== Kb) throw new Error(`matMul: inner sizes ${K} and ${Kb} differ (shapes [${a.shape}] and [${b.shape}], transposeA=${transposeA}, transposeB=${transposeB})`);
    const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
    const batchA = size(outerA), batchB = size(outerB);
    if (batchA !== batchB && batchA !== 1 && batchB !== 1) return fallback(args);
    const outer = batchA >= batchB ? outerA : outerB;
    if (batchA === batchB && outerA.join(",") !== outerB.join(",") && outerA.length && outerB.length) return fallback(args);
    const batch = Math.max(batchA, batchB);
    const backend = args.backend as unknown as WasmBackendLike;
    const out = backend.makeOutput([...outer, M, N], "float32");
    const heap = backend.wasm.HEAPU8.buffer; // after makeOutput: allocation may grow the heap
    const view = (t: tf.TensorInfo, n: number): Float32Array => new Float32Array(heap, (backend.dataIdMap.get(t.dataId) as { memoryOffset: number }).memoryOffset, n);
    blas.sgemm(transposeA, transposeB, M, N, K, view(a, size(a.shape)), view(b, size(b.shape)), view(out, batch * M * N),
      batch, batchA === 1 ? 0 : M * K, batchB === 1 ? 0 : K * N, M * N, 1, 0);
    return out;
  };
}

/**
 * Puts OpenBLAS under the wasm backend's matMul, once. Call after the wasm backend is registered
 * (initBackend does). Returns what it installed, or undefined with no change when the addon is
 * missing or FTGEN_NATIVE_BLAS=0. `threads` sets OpenBLAS' thread count (FTGEN_BLAS_THREADS, else
 * OpenBLAS' own default: all cores, or OPENBLAS_NUM_THREADS).
 */
export function installNativeMatMul(opts: { threads?: number; file?: string } = {}): { info?: NativeBlasInfo; reason?: string } {
  if (installed) return { info: installed };
  if (setting("nativeBlas") === false) return { reason: "FTGEN_NATIVE_BLAS=0" };
  const { addon: blas, reason } = loadNativeBlas(opts.file);
  if (!blas) return { reason };
  const original = tf.getKernel("BatchMatMul", "wasm");
  if (!original) return { reason: "the wasm backend is not registered" };
  const threads = opts.threads ?? setting("blasThreads") ?? 0;
  if (threads > 0) blas.setThreads(threads);
  tf.unregisterKernel("BatchMatMul", "wasm");
  // The original setupFunc still runs at backend start, so the fallback path keeps working.
  tf.registerKernel({ kernelName: "BatchMatMul", backendName: "wasm", setupFunc: original.setupFunc, kernelFunc: makeKernel(blas, original.kernelFunc) });
  const i = blas.info();
  installed = { config: i.config, core: i.core, threads: i.threads, file: opts.file ?? nativeBlasPath() };
  return { info: installed };
}

/** The native BLAS in use under wasm's matMul, if any. */
export function nativeBlasInfo(): NativeBlasInfo | undefined {
  return enabled ? installed : undefined;
}

/**
 * The addon's kernels, when installNativeMatMul() put it in place (the model then also runs its
 * attention there, and uses transposed matMuls, which OpenBLAS does for free).
 */
export function nativeKernels(): BlasAddon | undefined {
  return installed && enabled ? addon : undefined;
}

/**
 * Turns the native path on or off at run time (to compare the two, or to rule it out when
 * debugging); returns the previous setting. Off, everything runs as on plain tfjs-wasm.
 */
export function useNativeBlas(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}
