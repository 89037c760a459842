/**
 * The tokenizer of a model folder as the Encoder that training and evaluation use:
 * - ftgen's own (the special tokens <s> </s> <pad> at ids 0-2): BpeTokenizer, ours, synchronous;
 * - any other Hugging Face tokenizer.json (SmolLM2's, a Hub model's): transformers.js's tokenizer,
 *   loaded from disk with remote models switched off. No second hand-written reader.
 *
 *   const tok = await loadTokenizer(".cache/models/smollm2-135m");
 *   tok.encode("### Input:\n…")  // ids, no special tokens added
 *   tok.addBos                   // false: SmolLM2's tokenizer adds no BOS
 *   tok.stopIds                  // [2, 0]: <|im_end|> and <|endoftext|> end a generation
 */
import fs from "node:fs";
import path from "node:path";
import type { Encoder } from "./encoder";
import { BpeTokenizer, SPECIAL_TOKENS } from "./tokenizer";

// transformers.js is an ES module: loaded on first use (a CommonJS build cannot `require` it).
export type Transformers = typeof import("@huggingface/transformers");
let transformers: Promise<Transformers> | undefined;
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- keeps tsc's CommonJS output from turning import() into require()
const importModule = new Function("m", "return import(m)") as (m: string) => Promise<Transformers>;
export function loadTransformers(): Promise<Transformers> {
  return (transformers ??= importModule("@huggingface/transformers"));
}

/**
 * transformers.js reading local folders only: `name` of a folder inside `localModelPath` (the
 * folder's parent). Returns the name to pass to from_pretrained.
 */
export async function localTransformers(dir: string): Promise<{ tf: Transformers; name: string }> {
  const tf = await loadTransformers();
  const abs = path.resolve(dir);
  tf.env.allowRemoteModels = false;
  tf.env.allowLocalModels = true;
  tf.env.localModelPath = path.dirname(abs) + path.sep;
  return { tf, name: path.basename(abs) };
}

/** The subset of a transformers.js tokenizer this adapter uses. */
interface HfTokenizer {
  encode(text: string, opts?: { add_special_tokens?: boolean }): number[];
  decode(ids: number[], opts?: { skip_special_tokens?: boolean }): string;
  readonly bos_token_id?: number | null;
  readonly eos_token_id?: number | null;
  readonly pad_token_id?: number | null;
}

/** Ids of config.json / generation_config.json ("eos_token_id" may be a list). */
interface IdConfig {
  bos_token_id?: number | null;
  eos_token_id?: number | number[] | null;
  pad_token_id?: number | null;
}

function readJson(file: string): Record<string, unknown> | undefined {
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

/** A transformers.js tokenizer as the evaluation's Encoder (no special tokens added: prompts carry their own). */
export class HfTokenizerAdapter implements Encoder {
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly addBos: boolean;
  readonly stopIds: readonly number[];

  constructor(private readonly tok: HfTokenizer, config: IdConfig, opts: { addBos?: boolean; generationEos?: number[] } = {}) {
    const eos = Array.isArray(config.eos_token_id) ? config.eos_token_id[0] : config.eos_token_id;
    this.bosId = tok.bos_token_id ?? config.bos_token_id ?? -1;
    this.eosId = tok.eos_token_id ?? eos ?? -1;
    this.padId = tok.pad_token_id ?? config.pad_token_id ?? this.eosId;
    this.addBos = opts.addBos ?? true;
    this.stopIds = [...new Set([this.eosId, ...(opts.generationEos ?? [])])].filter((id) => id >= 0);
  }

  encode(text: string): number[] {
    return this.tok.encode(text, { add_special_tokens: false });
  }

  decode(ids: ArrayLike<number>): string {
    // transformers.js refuses an empty id list; an empty generation decodes to "" as ours does.
    return ids.length === 0 ? "" : this.tok.decode(Array.from(ids), { skip_special_tokens: false });
  }
}

/** Whether a folder's tokenizer.json is ftgen's own (BpeTokenizer reads it). */
export function isFtgenTokenizer(dir: string): boolean {
  const tj = readJson(path.join(dir, "tokenizer.json"));
  const added = (tj?.added_tokens ?? []) as { id: number; content: string }[];
  return SPECIAL_TOKENS.every((t, i) => added.some((a) => a.id === i && a.content === t)) && added.length === SPECIAL_TOKENS.length;
}

/**
 * The folder's tokenizer: ftgen's BpeTokenizer for ftgen's own tokenizer.json, else transformers.js's.
 * Sequences start with BOS when the tokenizer's own post-processor adds one (ftgen's prompts always
 * do); generation stops at config.json's EOS and every id generation_config.json lists.
 */
export async function loadTokenizer(dir: string): Promise<Encoder> {
  const file = path.join(dir, "tokenizer.json");
  if (!fs.existsSync(file)) throw new Error(`${file}: missing (a model folder needs its tokenizer)`);
  if (isFtgenTokenizer(dir)) return BpeTokenizer.load(dir);
  const { tf, name } = await localTransformers(dir);
  let tok: HfTokenizer;
  try {
    tok = (await tf.AutoTokenizer.from_pretrained(name)) as unknown as HfTokenizer;
  } catch (e) {
    throw new Error(`${file}: transformers.js could not load it (${(e as Error).message.split("\n")[0]})`);
  }
  const config = (readJson(path.join(dir, "config.json")) ?? {}) as IdConfig;
  const gen = (readJson(path.join(dir, "generation_config.json")) ?? {}) as IdConfig;
  const genEos = gen.eos_token_id === undefined || gen.eos_token_id === null ? [] : Array.isArray(gen.eos_token_id) ? gen.eos_token_id : [gen.eos_token_id];
  // Does the tokenizer itself start a sequence with BOS (Llama 2's does, SmolLM2's does not)?
  const bos = tok.bos_token_id;
  const addBos = bos !== undefined && bos !== null && tok.encode("a", { add_special_tokens: true })[0] === bos && tok.encode("a", { add_special_tokens: false })[0] !== bos;
  return new HfTokenizerAdapter(tok, config, { addBos, generationEos: genEos });
}
