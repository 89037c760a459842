/**
 * The tokenizer contract: what prompts, training and evaluation need of a tokenizer (ftgen's BPE,
 * tokenizer.ts; a Hugging Face one through transformers.js, hf-tokenizer.ts; a GGUF file's,
 * model/gguf-tokenizer.ts).
 */

/** What training and evaluation need of a tokenizer. */
export interface Encoder {
  encode(text: string): number[];
  decode(ids: ArrayLike<number>): string;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  /** Whether a sequence starts with BOS (default true; SmolLM2's tokenizer adds none). */
  readonly addBos?: boolean;
  /** Ids that end a generation (default [eosId]). */
  readonly stopIds?: readonly number[];
}

/** The ids a sequence starts with: [BOS], or none for a tokenizer that adds no BOS. */
export function sequenceStart(enc: Encoder): number[] {
  return enc.addBos === false ? [] : [enc.bosId];
}

/** The ids that end a generation. */
export function stopIdsOf(enc: Encoder): readonly number[] {
  return enc.stopIds ?? [enc.eosId];
}
