/**
 * Choosing the tfjs backend.
 *
 *   const info = await initBackend();   // logs e.g. "[ftgen] tfjs backend: wasm (SIMD, 1 thread)"
 *
 * Order, unless FTGEN_BACKEND (or `opts.backend`) names one:
 *   1. "tensorflow" (native libtensorflow) when @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node can
 *      be required at run time and really registers that backend (this project's package.json aliases
 *      @tensorflow/tfjs-node to plain tfjs, which registers nothing: that counts as absent);
 *   2. "wasm" (XNNPACK, SIMD): the default here, several times faster than "cpu" for our model;
 *      its matMuls go to the system's OpenBLAS when kernel-lib/native is built (native-blas.ts);
 *   3. "cpu" (plain JS), with a warning.
 *
 * Threads: tfjs-backend-wasm 4.22 turns multithreading off under Node (its WASM_HAS_MULTITHREAD_SUPPORT
 * flag is false when IS_NODE, tfjs issue #3830). Forcing the flag on fails at start-up: the pthread
 * worker is handed to worker_threads as a blob: URL, which Node refuses (ERR_WORKER_PATH), and with
 * that patched over, the worker's copy of the module factory references a bundler variable
 * (require$$0) that does not exist there. So wasm runs on one thread in Node; `threads` in the
 * result says what it got.
 *
 * The optional native packages are loaded with a guarded run-time require of a computed name, so
 * neither the type-checker nor a bundler needs them, and their absence is not an error.
 */
import * as tf from "@tensorflow/tfjs";
import { createRequire } from "node:module";
import { installNativeMatMul, type NativeBlasInfo } from "./kernels/native-blas";
import { installCopyFreeIdentity } from "./wasm-kernels";
import { setting } from "../util/settings";

type WasmModule = typeof import("@tensorflow/tfjs-backend-wasm");
let wasmModule: WasmModule | undefined;

/**
 * Loads (and so registers) the wasm backend on first use only: registered at import time it would
 * outrank "cpu" and break any synchronous tfjs call made before an awaited initBackend()/tf.ready().
 */
async function loadWasm(): Promise<WasmModule | undefined> {
  if (!wasmModule) {
    try {
      wasmModule = await import("@tensorflow/tfjs-backend-wasm");
    } catch {
      return undefined;
    }
  }
  return wasmModule;
}

/** The backend names FTGEN_BACKEND accepts ("native" and "node" are aliases of "tensorflow"). */
export type BackendChoice = "wasm" | "cpu" | "tensorflow" | "webgl";

export interface BackendInfo {
  /** The active tfjs backend, as tf.getBackend() names it. */
  name: string;
  /** What was asked for: FTGEN_BACKEND / opts.backend, or "auto". */
  requested: string;
  /** wasm only: whether the SIMD binary is in use. */
  simd?: boolean;
  /** wasm only: threads in use. */
  threads?: number;
  /** The npm package that provided a native backend, when one did. */
  nativePackage?: string;
  /** wasm only: the native OpenBLAS that runs its matMuls (native-blas.ts), when built. */
  blas?: NativeBlasInfo;
  /** wasm only: why matMuls stay in wasm, when they do. */
  blasMissing?: string;
}

export interface InitBackendOptions {
  /** Overrides FTGEN_BACKEND. */
  backend?: string;
  /** Don't log the chosen backend (warnings are still printed). */
  quiet?: boolean;
  /** Where log lines go (default console.log; warnings go to console.warn). */
  log?: (line: string) => void;
}

const NATIVE_PACKAGES = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"];

let current: BackendInfo | undefined;

/** The backend chosen by the last initBackend(), if any. */
export function backendInfo(): BackendInfo | undefined {
  return current;
}

/**
 * Requires `name` if it is installed; undefined otherwise. The name is a parameter, so no static
 * analysis sees a dependency on it.
 */
function optionalRequire(name: string): unknown {
  const req: NodeRequire = typeof require === "function" ? require : createRequire(__filename);
  try {
    return req(name);
  } catch {
    return undefined;
  }
}

/** Tries the native TensorFlow backend; returns the package that provided it, or undefined. */
async function tryNative(): Promise<string | undefined> {
  for (const pkg of NATIVE_PACKAGES) {
    if (optionalRequire(pkg) === undefined) continue;
    // The package may be a stand-in (an npm alias of plain tfjs) that registers no backend.
    if (tf.findBackendFactory("tensorflow") == null) continue;
    try {
      if (await tf.setBackend("tensorflow")) return pkg;
    } catch {
      // fall through to the next candidate
    }
  }
  return undefined;
}

async function trySet(name: string): Promise<boolean> {
  if (tf.findBackendFactory(name) == null) return false;
  try {
    const ok = await tf.setBackend(name);
    if (ok) await tf.ready();
    return ok && tf.getBackend() === name;
  } catch {
    return false;
  }
}

function normalize(choice: string): string {
  const c = choice.trim().toLowerCase();
  if (c === "native" || c === "node" || c === "tfjs-node" || c === "tensorflow") return "tensorflow";
  return c;
}

async function describe(name: string, requested: string, nativePackage?: string): Promise<BackendInfo> {
  const info: BackendInfo = { name, requested };
  if (nativePackage) info.nativePackage = nativePackage;
  if (name === "wasm") {
    info.simd = Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"));
    info.threads = wasmModule?.getThreadsCount();
    installCopyFreeIdentity();
    const blas = installNativeMatMul();
    if (blas.info) info.blas = blas.info;
    else info.blasMissing = blas.reason;
  }
  return info;
}

function label(info: BackendInfo): string {
  if (info.name === "wasm") {
    const wasm = `wasm (${info.simd ? "SIMD" : "no SIMD"}, ${info.threads ?? 1} thread${info.threads === 1 ? "" : "s"})`;
    return info.blas ? `${wasm}, matMul on OpenBLAS (${info.blas.core}, ${info.blas.threads} threads)` : `${wasm}; matMul in wasm: ${info.blasMissing}`;
  }
  if (info.nativePackage) return `${info.name} (${info.nativePackage})`;
  return info.name;
}

/**
 * Selects and initializes the tfjs backend (see the module comment for the order). Safe to call
 * again: it re-selects only when the request changes. Never throws for a missing optional package;
 * it warns and falls back instead.
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const requested = normalize(opts.backend ?? setting("backend") ?? "auto") || "auto";
  if (current && current.requested === requested && tf.getBackend() === current.name) return current;

  let info: BackendInfo | undefined;
  if (requested === "auto" || requested === "tensorflow") {
    const pkg = await tryNative();
    if (pkg) info = await describe("tensorflow", requested, pkg);
    else if (requested === "tensorflow") {
      console.warn(`[ftgen] FTGEN_BACKEND=tensorflow, but neither ${NATIVE_PACKAGES.join(" nor ")} provides it here; falling back to wasm`);
    }
  } else if (requested !== "wasm" && requested !== "cpu") {
    if (await trySet(requested)) info = await describe(requested, requested);
    else console.warn(`[ftgen] FTGEN_BACKEND=${requested}: no such tfjs backend can start here; falling back to wasm`);
  }
  if (!info && requested !== "cpu") {
    if ((await loadWasm()) && (await trySet("wasm"))) info = await describe("wasm", requested);
    else console.warn("[ftgen] the wasm backend failed to start; falling back to the (slow) cpu backend");
  }
  if (!info) {
    if (!(await trySet("cpu"))) throw new Error("initBackend: not even the tfjs cpu backend could start");
    info = await describe("cpu", requested);
  }
  current = info;
  if (!opts.quiet) log(`[ftgen] tfjs backend: ${label(info)}`);
  return info;
}
