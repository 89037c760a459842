/**
 * The native inference runtime (kernel-lib/native/llm.cc): KV-cached forward passes of a Llama
 * model on OpenBLAS and a thread pool, outside tfjs and its 4 GiB wasm heap. It takes a copy of
 * the weights (from a LlamaModel's variables, or straight from Hugging Face tensors), so a model
 * trained afterwards needs a new one.
 *
 *   const lm = NativeLlm.fromHF(config, tensors);             // or NativeLlm.fromModel(model)
 *   const prefix = lm.prefix(demoIds);                         // shared demonstrations, once
 *   const s = lm.session(8, 600, { prefix, length: prefix.length });
 *   const logits = s.step(ids, mask, T);                       // (8, V) after each row's last token
 *
 * Positions and rotary tables come from llama.ts (positionsFromMask, ropeTables), so the numbers are
 * the model's own; a row after a prefix of P tokens starts at position P.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { headDim, type LlamaConfig } from "./config";
import { isLinearWeight, transpose2d, type LlamaModel } from "./llama";
import { continuedPositions, positionsFromMask, recordNextPositions, ropeInvFreq, ropeTables } from "./kernels/rope";
import { nativeAddon, nativeBlasPath, nativeKernels, type BlasAddon } from "./kernels/native-blas";
import { readModelTensors, WEIGHTS_FILE } from "./folder";
import { setting } from "../util/settings";

/** The per-layer weights in the order llmCreate takes them. */
const LAYER_WEIGHTS = ["input_layernorm", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
  "post_attention_layernorm", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"];

/** Worker threads of the runtime: FTGEN_BLAS_THREADS, else one per core. */
export function nativeThreads(): number {
  return setting("blasThreads") ?? os.availableParallelism();
}

/** Keys and values of a run of tokens (positions 0 … length − 1) that sessions can attend to first. */
export interface NativePrefix {
  readonly handle: object;
  /** The tokens it holds. */
  readonly ids: readonly number[];
  readonly length: number;
}

const sharedRuntimes = new Map<string, { stamp: string; lm: NativeLlm }>();

export class NativeLlm {
  private readonly invFreq: Float32Array;

  private constructor(private readonly addon: BlasAddon, readonly handle: object, readonly config: LlamaConfig) {
    this.invFreq = ropeInvFreq(headDim(config), config.rope_theta);
  }

  private static create(addon: BlasAddon, cfg: LlamaConfig, get: (name: string) => Float32Array, threads: number): NativeLlm {
    const weights = [get("model.embed_tokens.weight")];
    for (let l = 0; l < cfg.num_hidden_layers; l++) for (const n of LAYER_WEIGHTS) weights.push(get(`model.layers.${l}.${n}.weight`));
    weights.push(get("model.norm.weight"));
    if (!cfg.tie_word_embeddings) weights.push(get("lm_head.weight"));
    const dims = [cfg.vocab_size, cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers, cfg.num_attention_heads,
      cfg.num_key_value_heads, headDim(cfg), cfg.tie_word_embeddings ? 1 : 0, threads];
    return new NativeLlm(addon, addon.llmCreate(dims, cfg.rms_norm_eps, weights), cfg);
  }

  /**
   * The runtime for a tfjs model's current weights, or undefined when the native kernels are not in
   * use (not built, FTGEN_NATIVE_BLAS=0, or switched off with useNativeBlas(false)).
   */
  static fromModel(model: LlamaModel, threads = nativeThreads()): NativeLlm | undefined {
    const addon = nativeKernels();
    if (!addon) return undefined;
    return NativeLlm.create(addon, model.config, (name) => {
      const v = model.variables.get(name);
      if (!v) throw new Error(`NativeLlm: the model has no parameter ${name}`);
      return v.dataSync() as Float32Array; // llama.ts' layout: linear weights [in, out]
    }, threads);
  }

  /**
   * The runtime for Hugging Face tensors (HF names and layout, linear weights [out, in]), with no
   * tfjs involved; undefined when the addon is not built or FTGEN_NATIVE_BLAS=0.
   */
  static fromHF(config: LlamaConfig, tensors: ReadonlyMap<string, { shape: number[]; data: Float32Array }>, threads = nativeThreads(), source = "weights"): NativeLlm | undefined {
    const addon = nativeAddon();
    if (!addon) return undefined;
    return NativeLlm.create(addon, config, (name) => {
      const t = tensors.get(name);
      if (!t) throw new Error(`${source}: missing tensor ${name}`);
      return isLinearWeight(name) ? transpose2d(t.data, t.shape[0], t.shape[1]) : t.data;
    }, threads);
  }

  /**
   * One runtime per model folder for the whole process, loaded on first use (again when its
   * weights file changes): the frozen base that every LoRA run and adapter evaluation shares, never
   * copied per model. Not to be disposed by its users.
   */
  static shared(dir: string): NativeLlm {
    const file = path.join(dir, WEIGHTS_FILE);
    const st = fs.statSync(file);
    const key = path.resolve(dir), stamp = `${st.size}:${st.mtimeMs}`;
    const hit = sharedRuntimes.get(key);
    if (hit && hit.stamp === stamp) return hit.lm;
    hit?.lm.dispose();
    const { config, tensors } = readModelTensors(dir);
    const lm = NativeLlm.fromHF(config, tensors, nativeThreads(), file);
    if (!lm) throw new Error(`${nativeBlasPath()}: the native addon is not built or is switched off (FTGEN_NATIVE_BLAS=0); run npm run setup`);
    sharedRuntimes.set(key, { stamp, lm });
    return lm;
  }

  /** A runtime around a model handle the addon made elsewhere (a trainer's model: trainerModel). */
  static wrap(addon: BlasAddon, handle: object, config: LlamaConfig): NativeLlm {
    return new NativeLlm(addon, handle, config);
  }

  /** Runs `ids` (one row, positions 0 …) and keeps their keys and values as a prefix (free it with freePrefix). */
  prefix(ids: readonly number[]): NativePrefix {
    if (ids.length === 0) throw new Error("NativeLlm.prefix: no tokens");
    const s = this.session(1, ids.length);
    try {
      s.step(Int32Array.from(ids), new Int32Array(ids.length).fill(1), ids.length);
      return { handle: this.addon.llmTakePrefix(s.handle), ids: [...ids], length: ids.length };
    } finally {
      s.dispose();
    }
  }

  /** Releases a prefix's memory now (sessions using it keep it until they are disposed). */
  freePrefix(p: NativePrefix): void {
    this.addon.llmFree(p.handle);
  }

  /** Releases the weights now; the runtime cannot be used after. */
  dispose(): void {
    this.addon.llmFree(this.handle);
  }

  /**
   * A session of `batch` rows holding up to `capacity` tokens each (besides the prefix), after the
   * first `length` tokens of `prefix` if given.
   */
  session(batch: number, capacity: number, prefix?: { prefix: NativePrefix; length: number }): NativeSession {
    if (prefix && !(prefix.length >= 0 && prefix.length <= prefix.prefix.length)) throw new Error(`NativeLlm.session: prefix length ${prefix.length} is outside 0…${prefix.prefix.length}`);
    const handle = this.addon.llmSession(this.handle, batch, capacity, prefix?.prefix.handle ?? null, prefix?.length ?? 0);
    return new NativeSession(this.addon, handle, this.config, this.invFreq, batch, capacity, prefix?.length ?? 0);
  }
}

export class NativeSession {
  /** Position id the next token of each row gets. */
  private nextPosition: Int32Array;
  private started = false;
  /** Rows in the batch (fewer after keepRows). */
  batch: number;

  constructor(private readonly addon: BlasAddon, readonly handle: object, private readonly config: LlamaConfig, private readonly invFreq: Float32Array,
    batch: number, readonly capacity: number, readonly prefixLength: number) {
    this.batch = batch;
    this.nextPosition = new Int32Array(batch);
  }

  /**
   * Releases the caches now. Sessions hold hundreds of MB (a KV cache per row); the garbage
   * collector would free them too, but only when it runs.
   */
  dispose(): void {
    this.addon.llmFree(this.handle);
  }

  /** Keeps only these rows (increasing indices into the current batch); later steps take that many. */
  keepRows(rows: readonly number[]): void {
    this.addon.llmKeepRows(this.handle, Int32Array.from(rows));
    this.nextPosition = Int32Array.from(rows, (r) => this.nextPosition[r]);
    this.batch = rows.length;
  }

  /**
   * Runs T new tokens per row, appending them to the cache: ids and mask (B, T) row-major, mask 1
   * for real tokens and 0 for (left) padding. Returns the logits (B, V) after each row's last token.
   */
  step(ids: Int32Array, mask: Int32Array, T: number): Float32Array {
    const B = this.batch, cfg = this.config;
    if (ids.length !== B * T || mask.length !== B * T) throw new Error(`NativeSession.step: ids/mask must be ${B}×${T}`);
    const isReal = (b: number, t: number): boolean => mask[b * T + t] !== 0;
    let positions: Int32Array;
    if (this.started) positions = continuedPositions(this.nextPosition, B, T, isReal);
    else {
      positions = positionsFromMask(mask, B, T);
      if (this.prefixLength > 0) for (let i = 0; i < positions.length; i++) positions[i] += this.prefixLength;
    }
    recordNextPositions(this.nextPosition, positions, B, T, isReal);
    this.started = true;
    const q = ropeTables(positions, this.invFreq, 1 / Math.sqrt(headDim(cfg))); // queries carry the 1/√d scale
    const k = ropeTables(positions, this.invFreq);
    const logits = new Float32Array(B * cfg.vocab_size);
    if (!this.addon.llmStep(this.handle, T, ids, mask, q.cos, q.sin, k.cos, k.sin, logits)) {
      throw new Error(`NativeSession.step: the cache holds ${this.capacity} tokens per row, and this step would go past it`);
    }
    return logits;
  }
}
