/**
 * One interface for every causal language model the evaluation runs: our tfjs model, our model
 * exported to ONNX, or any transformers.js causal LM. Prompts go in as token ids (the caller
 * tokenizes with the model's own tokenizer), so every implementation scores the same inputs.
 */
import type { Encoder } from "../tokenizer/encoder";

export interface GenerateCallOptions {
  /** Ids that end a row (default the tokenizer's stop ids; [] generates maxNewTokens every time). */
  stopIds?: readonly number[];
}

export interface CausalLM {
  /** Where the model comes from, e.g. "tfjs:/path/to/model". */
  readonly id: string;
  /** The engine that runs it, e.g. "tfjs-wasm", "onnxruntime-node". Recorded with every result. */
  readonly engine: string;
  readonly tokenizer: Encoder;
  /** Longest sequence (prompt + generated tokens) the model takes. */
  readonly contextLength: number;
  /**
   * Log-probabilities (softmax over the full vocabulary) of the `candidates` as the next token after
   * each prompt: (prompts, candidates).
   */
  nextTokenLogProbs(prompts: readonly number[][], candidates: readonly number[]): Promise<number[][]>;
  /** Σ log p(continuation | prompt) for each pair. */
  logLikelihood(prompts: readonly number[][], continuations: readonly number[][]): Promise<number[]>;
  /**
   * Greedy continuation of each prompt: at most `maxNewTokens` new ids, stopping a row at an
   * end-of-generation id (not returned; `stopIds`, default the tokenizer's) or where
   * `stop(newIds)` is true.
   */
  generate(prompts: readonly number[][], maxNewTokens: number, stop?: (newIds: readonly number[]) => boolean, opts?: GenerateCallOptions): Promise<number[][]>;
  /** Free what the model holds (tensors, sessions). */
  dispose(): void;
}
