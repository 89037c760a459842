/**
 * Any transformers.js causal LM folder (config.json, tokenizer.json, onnx/model.onnx) behind the
 * evaluation's CausalLM interface: our models after exportOnnx, or a model from the Hub that a user
 * has on disk. Runs on onnxruntime-node. Nothing is downloaded: remote models are switched off.
 *
 *   const lm = await TransformersCausalLM.fromFolder("data/base-model");   // after exportOnnx
 *
 * Prompts are left-padded into batches; position ids come from the attention mask (transformers.js
 * computes them as Hugging Face does), so a padded row scores as it would alone.
 */
import fs from "node:fs";
import path from "node:path";
import type { CausalLM } from "./lm";
import type { Encoder } from "../train/examples";
import { leftPad } from "../model/inference";

// transformers.js is an ES module: loaded on first use (a CommonJS build cannot `require` it).
type Transformers = typeof import("@huggingface/transformers");
let transformers: Promise<Transformers> | undefined;
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- keeps tsc's CommonJS output from turning import() into require()
const importModule = new Function("m", "return import(m)") as (m: string) => Promise<Transformers>;
function loadTransformers(): Promise<Transformers> {
  return (transformers ??= importModule("@huggingface/transformers"));
}

/** The subset of a transformers.js tokenizer this adapter uses. */
interface HfTokenizer {
  encode(text: string, opts?: { add_special_tokens?: boolean }): number[];
  decode(ids: number[], opts?: { skip_special_tokens?: boolean }): string;
  readonly bos_token_id?: number | null;
  readonly eos_token_id?: number | null;
  readonly pad_token_id?: number | null;
}

interface LogitsTensor { dims: number[]; data: Float32Array }
interface HfCausalModel {
  (inputs: Record<string, unknown>): Promise<{ logits: LogitsTensor }>;
  generate(inputs: Record<string, unknown>): Promise<{ tolist(): bigint[][] }>;
  dispose(): Promise<unknown>;
}

/** A transformers.js tokenizer as the evaluation's Encoder (no special tokens added: prompts carry their own). */
class TokenizerAdapter implements Encoder {
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  constructor(private readonly tok: HfTokenizer, config: { bos_token_id?: number; eos_token_id?: number | number[]; pad_token_id?: number }) {
    const eos = Array.isArray(config.eos_token_id) ? config.eos_token_id[0] : config.eos_token_id;
    this.bosId = tok.bos_token_id ?? config.bos_token_id ?? -1;
    this.eosId = tok.eos_token_id ?? eos ?? -1;
    this.padId = tok.pad_token_id ?? config.pad_token_id ?? this.eosId;
  }
  encode(text: string): number[] {
    return this.tok.encode(text, { add_special_tokens: false });
  }
  decode(ids: ArrayLike<number>): string {
    return this.tok.decode(Array.from(ids), { skip_special_tokens: false });
  }
}

function logSoftmaxAt(row: Float32Array, ids: readonly number[]): number[] {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  const lse = max + Math.log(sum);
  return ids.map((id) => row[id] - lse);
}

export class TransformersCausalLM implements CausalLM {
  readonly engine = "onnxruntime-node (transformers.js)";

  private constructor(
    private readonly model: HfCausalModel,
    private readonly tf: Transformers,
    readonly tokenizer: Encoder,
    readonly id: string,
    readonly contextLength: number,
    private readonly batchSize: number,
  ) {}

  /** Loads a folder with config.json, tokenizer.json and onnx/model.onnx, from disk only. */
  static async fromFolder(dir: string, opts: { batchSize?: number; dtype?: "fp32" | "fp16" | "q8" | "q4" } = {}): Promise<TransformersCausalLM> {
    const abs = path.resolve(dir);
    for (const f of ["config.json", "tokenizer.json"]) if (!fs.existsSync(path.join(abs, f))) throw new Error(`${path.join(abs, f)}: missing (a transformers.js model folder needs config.json, tokenizer.json and onnx/)`);
    if (!fs.existsSync(path.join(abs, "onnx"))) throw new Error(`${path.join(abs, "onnx")}: missing (export ours with exportOnnx(dir); a Hub model needs its onnx/ folder)`);
    const tf = await loadTransformers();
    tf.env.allowRemoteModels = false;
    tf.env.allowLocalModels = true;
    tf.env.localModelPath = path.dirname(abs) + path.sep;
    const name = path.basename(abs);
    const tok = (await tf.AutoTokenizer.from_pretrained(name)) as unknown as HfTokenizer;
    const model = (await tf.AutoModelForCausalLM.from_pretrained(name, { dtype: opts.dtype ?? "fp32" })) as unknown as HfCausalModel;
    const config = JSON.parse(fs.readFileSync(path.join(abs, "config.json"), "utf8")) as { max_position_embeddings?: number; bos_token_id?: number; eos_token_id?: number | number[]; pad_token_id?: number };
    return new TransformersCausalLM(model, tf, new TokenizerAdapter(tok, config), `transformers.js:${abs}`, config.max_position_embeddings ?? 2048, opts.batchSize ?? 16);
  }

  /** Left-padded (B, S) int64 ids and mask. */
  private batch(rows: readonly (readonly number[])[]): { input_ids: unknown; attention_mask: unknown; S: number } {
    const { ids, mask, width: S } = leftPad(rows, this.tokenizer.padId);
    const int64 = (m: number[][]) => new this.tf.Tensor("int64", BigInt64Array.from(m.flat(), BigInt), [rows.length, S]);
    return { input_ids: int64(ids), attention_mask: int64(mask), S };
  }

  /** Logits of the last `last` positions of each row: rows × last × V. */
  private async tailLogits(rows: readonly (readonly number[])[], last: number[]): Promise<Float32Array[][]> {
    const { input_ids, attention_mask, S } = this.batch(rows);
    const { logits } = await this.model({ input_ids, attention_mask });
    const V = logits.dims[2];
    return rows.map((_, b) => Array.from({ length: last[b] }, (_, j) => {
      const t = S - last[b] + j;
      return logits.data.subarray((b * S + t) * V, (b * S + t + 1) * V);
    }));
  }

  async nextTokenLogProbs(prompts: readonly number[][], candidates: readonly number[]): Promise<number[][]> {
    const out: number[][] = [];
    for (let i = 0; i < prompts.length; i += this.batchSize) {
      const chunk = prompts.slice(i, i + this.batchSize);
      const rows = await this.tailLogits(chunk, chunk.map(() => 1));
      for (const r of rows) out.push(logSoftmaxAt(r[0], candidates));
    }
    return out;
  }

  async logLikelihood(prompts: readonly number[][], continuations: readonly number[][]): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < prompts.length; i++) {
      const c = continuations[i];
      // Positions len(prompt) − 1 … end − 2 predict the continuation's tokens.
      const [rows] = await this.tailLogits([[...prompts[i], ...c]], [c.length + 1]);
      out.push(c.reduce((a, id, j) => a + logSoftmaxAt(rows[j], [id])[0], 0));
    }
    return out;
  }

  async generate(prompts: readonly number[][], maxNewTokens: number, stop?: (newIds: readonly number[]) => boolean): Promise<number[][]> {
    const out: number[][] = [];
    for (let i = 0; i < prompts.length; i += this.batchSize) {
      const chunk = prompts.slice(i, i + this.batchSize);
      const { input_ids, attention_mask, S } = this.batch(chunk);
      const seqs = (await this.model.generate({
        input_ids, attention_mask, max_new_tokens: maxNewTokens, do_sample: false,
        eos_token_id: this.tokenizer.eosId, pad_token_id: this.tokenizer.padId,
      })).tolist();
      for (const seq of seqs) {
        // The new ids, up to EOS (not returned) and then up to where `stop` first holds, as tfjs's greedy loop does.
        const fresh: number[] = [];
        for (const id of seq.slice(S).map(Number)) {
          if (id === this.tokenizer.eosId) break;
          fresh.push(id);
          if (stop?.(fresh)) break;
        }
        out.push(fresh);
      }
    }
    return out;
  }

  dispose(): void {
    void this.model.dispose();
  }
}
