/**
 * Any transformers.js causal LM folder (config.json, tokenizer.json, onnx/model.onnx) behind the
 * evaluation's CausalLM interface: our models after exportOnnx, or a model from the Hub that a user
 * has on disk. Runs on onnxruntime-node. Nothing is downloaded: remote models are switched off.
 *
 *   const lm = await TransformersCausalLM.fromFolder("data/base-model");   // after exportOnnx
 *
 * Prompts are left-padded into batches; position ids count each row's real tokens (from the attention
 * mask), so a padded row scores as it would alone.
 */
import fs from "node:fs";
import path from "node:path";
import type { CausalLM, GenerateCallOptions } from "./lm";
import { stopIdsOf, type Encoder } from "../tokenizer/encoder";
import { loadTokenizer, localTransformers, type Transformers } from "../tokenizer/hf-tokenizer";
import { argmaxRow, leftPad, sharedPrefixLength } from "../model/decoding";
import { positionsFromMask } from "../model/kernels/rope";
import { projectRelative } from "../util/paths";

export { sharedPrefixLength };

/** A transformers.js Tensor, as far as this adapter reads it. */
interface HfTensor { dims: number[]; type: string; data: Float32Array | Uint16Array | BigInt64Array }
interface HfCausalModel {
  (inputs: Record<string, unknown>): Promise<Record<string, HfTensor>>;
  readonly sessions: Record<string, { inputNames: string[] } | undefined>;
  dispose(): Promise<unknown>;
}

/** A KV cache as the graph's `past_key_values.*` inputs. */
type Cache = Record<string, HfTensor>;

/**
 * Shortest shared prefix worth computing once: below it, the extra forward pass costs more than
 * the positions it saves.
 */
const MIN_SHARED_PREFIX = 16;

function logSoftmaxAt(row: Float32Array, ids: readonly number[]): number[] {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  const lse = max + Math.log(sum);
  return ids.map((id) => row[id] - lse);
}

/**
 * What it speeds up: the graph's `num_logits_to_keep` input (ours has it; so do recent Hub exports)
 * makes it project only the positions read onto the vocabulary, instead of every position; and the
 * prompts of one call share their k demonstrations, so their common token prefix runs once and its
 * KV cache serves every row (rows keep their own tokens after it, left-padded between prefix and
 * row: the attention mask hides the padding, and position ids count each row's real tokens); and
 * rows that finish generating leave the batch, since every step copies the whole cache.
 */
export class TransformersCausalLM implements CausalLM {
  readonly engine = "onnxruntime-node (transformers.js)";
  private readonly inputNames: Set<string>;

  private constructor(
    private readonly model: HfCausalModel,
    private readonly tf: Transformers,
    readonly tokenizer: Encoder,
    readonly id: string,
    readonly contextLength: number,
    private readonly batchSize: number,
  ) {
    const session = model.sessions.model ?? model.sessions.decoder_model_merged;
    this.inputNames = new Set(session?.inputNames ?? []);
  }

  /**
   * Loads a folder with config.json, tokenizer.json and onnx/model.onnx, from disk only. `threads`:
   * onnxruntime's intra-op threads (default: its own choice, one per core); give 1 when several
   * evaluations run side by side.
   */
  static async fromFolder(dir: string, opts: { batchSize?: number; dtype?: "fp32" | "fp16" | "q8" | "q4"; threads?: number } = {}): Promise<TransformersCausalLM> {
    const abs = path.resolve(dir);
    for (const f of ["config.json", "tokenizer.json"]) if (!fs.existsSync(path.join(abs, f))) throw new Error(`${path.join(abs, f)}: missing (a transformers.js model folder needs config.json, tokenizer.json and onnx/)`);
    if (!fs.existsSync(path.join(abs, "onnx"))) throw new Error(`${path.join(abs, "onnx")}: missing (export ours with exportOnnx(dir); a Hub model needs its onnx/ folder)`);
    const tokenizer = await loadTokenizer(abs);
    const { tf, name } = await localTransformers(abs);
    const session_options = opts.threads ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : undefined;
    const model = (await tf.AutoModelForCausalLM.from_pretrained(name, { dtype: opts.dtype ?? "fp32", session_options })) as unknown as HfCausalModel;
    const config = JSON.parse(fs.readFileSync(path.join(abs, "config.json"), "utf8")) as { max_position_embeddings?: number };
    return new TransformersCausalLM(model, tf, tokenizer, `transformers.js:${projectRelative(abs)}`, config.max_position_embeddings ?? 2048, opts.batchSize ?? 16);
  }

  /** An int64 tensor of `dims` from numbers. */
  private int64(values: ArrayLike<number>, dims: number[]): unknown {
    const data = new BigInt64Array(values.length);
    for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i]);
    return new this.tf.Tensor("int64", data, dims);
  }

  /**
   * One forward pass. ids (B, T); mask (B, P + T) over the cache's P positions and these; `keep`:
   * logits of the last `keep` positions only (0: all), where the graph allows it.
   * Returns logits (B, T', V) with T' = keep or T, and the cache after these positions.
   */
  private async forward(ids: readonly (readonly number[])[], mask: readonly (readonly number[])[], past: Cache | null, keep: number): Promise<{ logits: HfTensor; present: Cache }> {
    const B = ids.length, T = ids[0].length, S = mask[0].length;
    const flatMask = Int32Array.from(mask.flat());
    const inputs: Record<string, unknown> = { input_ids: this.int64(ids.flat(), [B, T]), attention_mask: this.int64(flatMask, [B, S]) };
    // Position ids from the mask, ours rather than transformers.js's, which converts the whole (B, P + T) mask to BigInt every step.
    if (this.inputNames.has("position_ids")) inputs.position_ids = this.int64(positionsFromMask(flatMask, B, S, T), [B, T]);
    if (past) inputs.past_key_values = past;
    if (this.inputNames.has("num_logits_to_keep")) inputs.num_logits_to_keep = new this.tf.Tensor("int64", BigInt64Array.of(BigInt(keep)), []);
    const out = await this.model(inputs);
    const present: Cache = {};
    for (const [k, v] of Object.entries(out)) if (k.startsWith("present")) present[k.replace(/^present/, "past_key_values")] = v;
    return { logits: out.logits, present };
  }

  /** The cache of the rows' shared prefix (batch 1), with its length; none when it is short or the graph has no cache. */
  private async prefix(rows: readonly (readonly number[])[]): Promise<{ length: number; cache: Cache | null }> {
    const P = sharedPrefixLength(rows);
    if (P < MIN_SHARED_PREFIX || ![...this.inputNames].some((n) => n.startsWith("past_key_values."))) return { length: 0, cache: null };
    const { present } = await this.forward([rows[0].slice(0, P)], [new Array<number>(P).fill(1)], null, 1);
    return { length: P, cache: present };
  }

  /** Runs rows after a shared prefix: (B, L) left-padded suffixes, the mask over prefix + suffix, logits of the last position. */
  private async afterPrefix(rows: readonly (readonly number[])[], pre: { length: number; cache: Cache | null }): Promise<{ logits: HfTensor; present: Cache; mask: number[][] }> {
    const { ids, mask } = leftPad(rows.map((r) => r.slice(pre.length)), this.tokenizer.padId);
    const full = mask.map((m) => [...new Array<number>(pre.length).fill(1), ...m]);
    const r = await this.forward(ids, full, pre.cache ? this.selectRows(pre.cache, rows.map(() => 0)) : null, 1);
    return { ...r, mask: full };
  }

  /** Row b's logits at the last position returned: its index as a row of the flat (B·T', V) data. */
  private static lastRow(logits: HfTensor, b: number): number {
    const T = logits.dims[1];
    return b * T + T - 1;
  }

  async nextTokenLogProbs(prompts: readonly number[][], candidates: readonly number[]): Promise<number[][]> {
    const pre = await this.prefix(prompts);
    const out: number[][] = [];
    for (let i = 0; i < prompts.length; i += this.batchSize) {
      const chunk = prompts.slice(i, i + this.batchSize);
      const { logits } = await this.afterPrefix(chunk, pre);
      const V = logits.dims[2], data = logits.data as Float32Array;
      chunk.forEach((_, b) => {
        const r = TransformersCausalLM.lastRow(logits, b);
        out.push(logSoftmaxAt(data.subarray(r * V, (r + 1) * V), candidates));
      });
    }
    return out;
  }

  async logLikelihood(prompts: readonly number[][], continuations: readonly number[][]): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < prompts.length; i++) {
      const c = continuations[i];
      const row = [...prompts[i], ...c];
      // Positions len(prompt) − 1 … end − 2 predict the continuation's tokens: the last c + 1 positions.
      const { logits } = await this.forward([row], [row.map(() => 1)], null, c.length + 1);
      const [, T, V] = logits.dims;
      const at = (t: number) => (logits.data as Float32Array).subarray(t * V, (t + 1) * V);
      out.push(c.reduce((a, id, j) => a + logSoftmaxAt(at(T - c.length - 1 + j), [id])[0], 0));
    }
    return out;
  }

  async generate(prompts: readonly number[][], maxNewTokens: number, stop?: (newIds: readonly number[]) => boolean, opts: GenerateCallOptions = {}): Promise<number[][]> {
    const pre = await this.prefix(prompts);
    const eos = new Set(opts.stopIds ?? stopIdsOf(this.tokenizer));
    const out: number[][] = [];
    for (let i = 0; i < prompts.length; i += this.batchSize) {
      const chunk = prompts.slice(i, i + this.batchSize);
      const fresh: number[][] = chunk.map(() => []);
      // The rows still generating (indices into chunk), row r of the batch being chunk row active[r].
      let active = maxNewTokens > 0 ? chunk.map((_, b) => b) : [];
      let { logits, present, mask } = await this.afterPrefix(chunk, pre);
      // Greedy, as tfjs's loop: a row ends at EOS (not returned) or where `stop` first holds.
      while (active.length > 0) {
        const next = active.map((_, r) => argmaxRow(logits.data as Float32Array, TransformersCausalLM.lastRow(logits, r), logits.dims[2]));
        const keep: number[] = [];
        next.forEach((id, r) => {
          const row = fresh[active[r]];
          if (eos.has(id)) return;
          row.push(id);
          if (row.length < maxNewTokens && !stop?.(row)) keep.push(r);
        });
        if (keep.length === 0) break;
        // Finished rows leave the batch: every later step copies and attends over the whole cache.
        if (keep.length < active.length) {
          present = this.selectRows(present, keep);
          mask = keep.map((r) => mask[r]);
          active = keep.map((r) => active[r]);
        }
        mask = mask.map((m) => [...m, 1]);
        ({ logits, present } = await this.forward(keep.map((r) => [next[r]]), mask, present, 1));
      }
      out.push(...fresh);
    }
    return out;
  }

  /** The cache of the given batch rows, in that order (a row may repeat: the prefix's one row serves a whole batch). */
  private selectRows(cache: Cache, rows: readonly number[]): Cache {
    const out: Cache = {};
    for (const [k, t] of Object.entries(cache)) {
      const n = t.data.length / t.dims[0];
      const data = new (t.data.constructor as new (n: number) => HfTensor["data"])(n * rows.length);
      rows.forEach((b, r) => (data as Float32Array).set((t.data as Float32Array).subarray(b * n, (b + 1) * n), r * n));
      out[k] = new this.tf.Tensor(t.type as "float32", data as Float32Array, [rows.length, ...t.dims.slice(1)]) as unknown as HfTensor;
    }
    return out;
  }

  dispose(): void {
    void this.model.dispose();
  }
}
