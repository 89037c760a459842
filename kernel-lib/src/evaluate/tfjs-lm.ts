/** Our tfjs Llama model behind the evaluation's CausalLM interface. */
import type { CausalLM, GenerateCallOptions } from "./lm";
import type { LlamaModel } from "../model/llama";
import { stopIdsOf, type Encoder } from "../tokenizer/encoder";
import { generateGreedy, labelLogLikelihoods, scoreFirstToken } from "../model/inference";
import { backendInfo } from "../model/backend";
import { loadModelFolder } from "../model/folder";
import { BpeTokenizer } from "../tokenizer/tokenizer";
import { loadTokenizer } from "../tokenizer/hf-tokenizer";
import { projectRelative } from "../util/paths";

export class TfjsCausalLM implements CausalLM {
  readonly engine: string;
  readonly contextLength: number;

  constructor(readonly model: LlamaModel, readonly tokenizer: Encoder, readonly id = "tfjs:in-memory", private readonly batchSize = 16) {
    this.engine = `tfjs-${backendInfo()?.name ?? "unknown"}`;
    this.contextLength = model.config.max_position_embeddings;
  }

  /** A model folder with ftgen's own tokenizer (config.json, tokenizer.json, model.safetensors). */
  static fromFolder(dir: string): TfjsCausalLM {
    const loaded = loadModelFolder(dir, { loadTokenizer: (d: string) => BpeTokenizer.load(d) });
    if (!loaded.tokenizer) throw new Error(`${dir}: no tokenizer.json`);
    return new TfjsCausalLM(loaded.model, loaded.tokenizer, `tfjs:${projectRelative(dir)}`);
  }

  /** Any model folder: ftgen's tokenizer or a Hugging Face one (through transformers.js). */
  static async load(dir: string, opts: { batchSize?: number } = {}): Promise<TfjsCausalLM> {
    const tokenizer = await loadTokenizer(dir);
    return new TfjsCausalLM(loadModelFolder(dir).model, tokenizer, `tfjs:${projectRelative(dir)}`, opts.batchSize);
  }

  async nextTokenLogProbs(prompts: readonly number[][], candidates: readonly number[]): Promise<number[][]> {
    return scoreFirstToken(this.model, prompts, candidates, { batchSize: this.batchSize }).logProbs;
  }

  async logLikelihood(prompts: readonly number[][], continuations: readonly number[][]): Promise<number[]> {
    return prompts.map((p, i) => labelLogLikelihoods(this.model, [p], [continuations[i]])[0][0]);
  }

  async generate(prompts: readonly number[][], maxNewTokens: number, stop?: (newIds: readonly number[]) => boolean, opts: GenerateCallOptions = {}): Promise<number[][]> {
    return generateGreedy(this.model, prompts, { maxNewTokens, eosIds: opts.stopIds ?? stopIdsOf(this.tokenizer), padId: this.tokenizer.padId, batchSize: this.batchSize, stop: stop && ((ids) => stop(ids)) }).tokens;
  }

  dispose(): void {
    this.model.dispose();
  }
}
