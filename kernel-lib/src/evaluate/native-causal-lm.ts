/**
 * A model folder on the native inference runtime (model/native-lm.ts: C++, OpenBLAS, a thread
 * pool), behind the evaluation's CausalLM interface. No tfjs: the weights go from model.safetensors
 * straight to the runtime, so a 135M-parameter model needs no room in the 4 GiB wasm heap.
 *
 *   const lm = await NativeCausalLM.load(".cache/models/smollm2-135m");
 *
 * The k demonstrations that every prompt of a k-shot test set begins with are run once and shared
 * by every batch (PrefixCache); decoding reads them once per group of rows.
 */
import type { CausalLM, GenerateCallOptions } from "./lm";
import { stopIdsOf, type Encoder } from "../tokenizer/encoder";
import { readModelTensors } from "../model/folder";
import { loadTokenizer } from "../tokenizer/hf-tokenizer";
import { NativeLlm, nativeThreads } from "../model/native-lm";
import { PrefixCache, nativeGenerate, nativeNextTokenLogProbs } from "../model/native-inference";
import { nativeAddon, nativeBlasPath } from "../model/kernels/native-blas";
import { projectRelative } from "../util/paths";
import { ADAPTER_WEIGHTS, isAdapterFolder, readAdapter } from "../model/lora";
import { NativeTrainer } from "../train/native-trainer";
import fs from "node:fs";
import path from "node:path";

export class NativeCausalLM implements CausalLM {
  readonly engine: string;
  readonly contextLength: number;
  private readonly prefixes: PrefixCache;

  constructor(readonly lm: NativeLlm, readonly tokenizer: Encoder, readonly id: string, private readonly batchSize = 16, threads = nativeThreads()) {
    // OpenBLAS' kernel is named: OPENBLAS_CORETYPE (Haswell: AVX2) or its own pick (e.g. Cooperlake: AVX-512) changes the speed, and the last bits.
    const core = nativeAddon()?.info().core;
    this.engine = `native (OpenBLAS${core ? ` ${core}` : ""}, ${threads} thread${threads === 1 ? "" : "s"})`;
    this.contextLength = lm.config.max_position_embeddings;
    this.prefixes = new PrefixCache(lm);
  }

  /**
   * A model folder (config.json, model.safetensors, tokenizer.json), or a LoRA adapter folder (PEFT's
   * format: merged into its base, which stays shared); fails in one line without the addon.
   */
  static async load(dir: string, opts: { batchSize?: number; threads?: number } = {}): Promise<NativeCausalLM> {
    const threads = opts.threads ?? nativeThreads();
    if (isAdapterFolder(dir)) {
      const adapter = readAdapter(dir);
      const t = NativeTrainer.lora(NativeLlm.shared(adapter.base), adapter.lora, { seed: 0 });
      try {
        t.setLoraTensors(adapter.tensors, path.join(dir, ADAPTER_WEIGHTS));
        const lm = t.inferenceModel();
        const tokDir = fs.existsSync(path.join(dir, "tokenizer.json")) ? dir : adapter.base;
        return new NativeCausalLM(lm, await loadTokenizer(tokDir), `native:${projectRelative(dir)}`, opts.batchSize, threads);
      } finally {
        t.dispose();
      }
    }
    const { config, tensors, file } = readModelTensors(dir);
    const lm = NativeLlm.fromHF(config, tensors, threads, file);
    if (!lm) throw new Error(`${nativeBlasPath()}: the native addon is not built or is switched off (FTGEN_NATIVE_BLAS=0); run npm run setup, or use the "tfjs" or "onnx" engine`);
    tensors.clear();
    return new NativeCausalLM(lm, await loadTokenizer(dir), `native:${projectRelative(dir)}`, opts.batchSize, threads);
  }

  /** Tokens of shared prefixes computed, and reused by rows (how much the prefix cache saved). */
  prefixStats(): { computed: number; reused: number } {
    return { computed: this.prefixes.computed, reused: this.prefixes.reused };
  }

  async nextTokenLogProbs(prompts: readonly number[][], candidates: readonly number[]): Promise<number[][]> {
    return nativeNextTokenLogProbs(this.lm, prompts, candidates, { batchSize: this.batchSize, padId: this.tokenizer.padId, prefixes: this.prefixes });
  }

  async logLikelihood(prompts: readonly number[][], continuations: readonly number[][]): Promise<number[]> {
    // Σ over the continuation of log p(token | prompt, earlier tokens): the prompt, then one token per step.
    const V = this.lm.config.vocab_size;
    const logProb = (logits: Float32Array, id: number): number => {
      let max = -Infinity, sum = 0;
      for (let v = 0; v < V; v++) if (logits[v] > max) max = logits[v];
      for (let v = 0; v < V; v++) sum += Math.exp(logits[v] - max);
      return logits[id] - max - Math.log(sum);
    };
    return prompts.map((p, i) => {
      const c = continuations[i];
      if (c.length === 0) return 0;
      const s = this.lm.session(1, p.length + c.length);
      try {
        let logits = s.step(Int32Array.from(p), new Int32Array(p.length).fill(1), p.length);
        let total = 0;
        c.forEach((id, j) => {
          total += logProb(logits, id);
          if (j < c.length - 1) logits = s.step(Int32Array.of(id), Int32Array.of(1), 1);
        });
        return total;
      } finally {
        s.dispose();
      }
    });
  }

  async generate(prompts: readonly number[][], maxNewTokens: number, stop?: (newIds: readonly number[]) => boolean, opts: GenerateCallOptions = {}): Promise<number[][]> {
    return nativeGenerate(this.lm, prompts, {
      maxNewTokens, eosIds: opts.stopIds ?? stopIdsOf(this.tokenizer), batchSize: this.batchSize, padId: this.tokenizer.padId, prefixes: this.prefixes,
      stop: stop && ((ids) => stop(ids)),
    }).tokens;
  }

  /** Drops the cached shared prefix (the next call computes its own). */
  clearPrefixes(): void {
    this.prefixes.clear();
  }

  dispose(): void {
    this.prefixes.clear();
    this.lm.dispose();
  }
}
