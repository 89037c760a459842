/**
 * A Hugging Face tokenizer.json (and tokenizer_config.json) from a GGUF file's tokenizer metadata,
 * for byte-level BPE vocabularies (tokenizer.ggml.model = "gpt2": GPT-2, SmolLM, Llama 3, …).
 * transformers.js and Hugging Face `tokenizers` both load the result; ftgen encodes with
 * transformers.js (tokenizer/hf-tokenizer.ts), never with a reader of its own.
 *
 * GGUF keeps the vocabulary (tokenizer.ggml.tokens, already in byte-level spelling), the merges
 * ("Ġ t"), each token's type (1 normal, 3 control, 4 user-defined, …), the special ids and the
 * name of the pre-tokenizer (tokenizer.ggml.pre). The pre-tokenizer itself is llama.cpp's code,
 * not data, so it is mapped here to its Hugging Face equivalent (llama.cpp's llama-vocab.cpp gives
 * each name its regexes):
 *   "smollm", "starcoder", …  \p{N} then the GPT-2 regex  → Digits(individual) + ByteLevel(regex)
 *   "gpt-2", "default"        the GPT-2 regex             → ByteLevel(regex)
 *   "llama-bpe"               the Llama 3 regex           → Split(Llama 3 regex) + ByteLevel(no regex)
 */
import type { GgufFile } from "./gguf";
import { ggufField, ggufOptional } from "./gguf";
import { LLAMA3_SPLIT_PATTERN } from "../tokenizer/tokenizer-base";

const TOKEN_TYPE = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

const BYTE_LEVEL = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };

/** Hugging Face pre-tokenizers for llama.cpp's pre-tokenizer names. */
const PRE_TOKENIZERS: Record<string, object> = {
  smollm: { type: "Sequence", pretokenizers: [{ type: "Digits", individual_digits: true }, BYTE_LEVEL] },
  starcoder: { type: "Sequence", pretokenizers: [{ type: "Digits", individual_digits: true }, BYTE_LEVEL] },
  "gpt-2": BYTE_LEVEL,
  default: BYTE_LEVEL,
  "llama-bpe": {
    type: "Sequence",
    pretokenizers: [
      { type: "Split", pattern: { Regex: LLAMA3_SPLIT_PATTERN }, behavior: "Isolated", invert: false },
      { ...BYTE_LEVEL, use_regex: false },
    ],
  },
};

export const GGUF_PRE_TOKENIZERS = Object.keys(PRE_TOKENIZERS);

/**
 * Control tokens llama.cpp treats as the end of a generation besides EOS (llama-vocab.cpp marks
 * tokens of these texts "end of generation"), so generation stops where llama.cpp's would.
 */
const END_OF_GENERATION = ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>", "<|eom_id|>"];

export interface GgufTokenizerFiles {
  /** tokenizer.json content. */
  tokenizer: object;
  /** tokenizer_config.json content. */
  config: Record<string, unknown>;
  bosId: number;
  eosId: number;
  padId: number;
  addBos: boolean;
  /** Ids that end a generation: EOS first, then EOT/EOM and the control tokens llama.cpp ends on. */
  endIds: number[];
}

/** The tokenizer files of a GGUF file; one-line errors name the file and the key. */
export function ggufTokenizer(g: GgufFile, modelMaxLength: number): GgufTokenizerFiles {
  const model = ggufField(g, "tokenizer.ggml.model", "string");
  if (model !== "gpt2") throw new Error(`${g.file}: tokenizer.ggml.model is "${model}"; ftgen converts byte-level BPE tokenizers ("gpt2") only`);
  const pre = ggufOptional(g, "tokenizer.ggml.pre", "string") ?? "default";
  const preTokenizer = PRE_TOKENIZERS[pre];
  if (!preTokenizer) throw new Error(`${g.file}: tokenizer.ggml.pre "${pre}" is not one ftgen knows (${GGUF_PRE_TOKENIZERS.join(", ")})`);
  const tokens = ggufField(g, "tokenizer.ggml.tokens", "string[]");
  const merges = ggufField(g, "tokenizer.ggml.merges", "string[]");
  const types = g.metadata["tokenizer.ggml.token_type"] === undefined ? tokens.map(() => TOKEN_TYPE.NORMAL) : ggufField(g, "tokenizer.ggml.token_type", "number[]");
  if (types.length !== tokens.length) throw new Error(`${g.file}: tokenizer.ggml.token_type has ${types.length} entries for ${tokens.length} tokens`);
  const id = (key: string): number | undefined => {
    const v = ggufOptional(g, key, "number");
    if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v < tokens.length)) throw new Error(`${g.file}: ${key} = ${v} is not a token id (0…${tokens.length - 1})`);
    return v;
  };
  const bosId = id("tokenizer.ggml.bos_token_id");
  const eosId = id("tokenizer.ggml.eos_token_id");
  if (bosId === undefined || eosId === undefined) throw new Error(`${g.file}: tokenizer.ggml.bos_token_id and eos_token_id are required`);
  const padId = id("tokenizer.ggml.padding_token_id") ?? eosId;
  const unkId = id("tokenizer.ggml.unknown_token_id");
  const addBos = ggufOptional(g, "tokenizer.ggml.add_bos_token", "boolean") ?? false;
  const addEos = ggufOptional(g, "tokenizer.ggml.add_eos_token", "boolean") ?? false;

  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => {
    if (t in vocab) throw new Error(`${g.file}: token ${JSON.stringify(t)} appears twice (ids ${vocab[t]} and ${i})`);
    vocab[t] = i;
  });
  merges.forEach((m, i) => {
    const parts = m.split(" ");
    if (parts.length !== 2 || !(parts[0] in vocab) || !(parts[1] in vocab) || !(parts[0] + parts[1] in vocab)) {
      throw new Error(`${g.file}: tokenizer.ggml.merges[${i}] ${JSON.stringify(m)} is not a merge of two tokens into a third`);
    }
  });
  const added = tokens.flatMap((content, i) =>
    types[i] === TOKEN_TYPE.CONTROL || types[i] === TOKEN_TYPE.USER_DEFINED
      ? [{ id: i, content, single_word: false, lstrip: false, rstrip: false, normalized: types[i] !== TOKEN_TYPE.CONTROL, special: types[i] === TOKEN_TYPE.CONTROL }]
      : [],
  );
  const bos = tokens[bosId], eos = tokens[eosId];
  const postProcessor = addBos || addEos
    ? {
        type: "TemplateProcessing",
        single: [...(addBos ? [{ SpecialToken: { id: bos, type_id: 0 } }] : []), { Sequence: { id: "A", type_id: 0 } }, ...(addEos ? [{ SpecialToken: { id: eos, type_id: 0 } }] : [])],
        pair: [...(addBos ? [{ SpecialToken: { id: bos, type_id: 0 } }] : []), { Sequence: { id: "A", type_id: 0 } }, { Sequence: { id: "B", type_id: 1 } }, ...(addEos ? [{ SpecialToken: { id: eos, type_id: 0 } }] : [])],
        special_tokens: Object.fromEntries([...(addBos ? [bos] : []), ...(addEos ? [eos] : [])].map((t) => [t, { id: t, ids: [vocab[t]], tokens: [t] }])),
      }
    : { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: true };
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: preTokenizer,
    post_processor: postProcessor,
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges,
    },
  };
  const chat = ggufOptional(g, "tokenizer.chat_template", "string");
  const config: Record<string, unknown> = {
    tokenizer_class: "PreTrainedTokenizerFast",
    add_bos_token: addBos,
    add_eos_token: addEos,
    bos_token: bos,
    eos_token: eos,
    pad_token: tokens[padId],
    unk_token: unkId === undefined ? null : tokens[unkId],
    clean_up_tokenization_spaces: false,
    model_max_length: modelMaxLength,
    added_tokens_decoder: Object.fromEntries(added.map(({ id: i, ...rest }) => [String(i), rest])),
    ...(chat ? { chat_template: chat } : {}),
  };
  const endIds = [eosId, id("tokenizer.ggml.eot_token_id"), id("tokenizer.ggml.eom_token_id"),
    ...tokens.flatMap((t, i) => (types[i] === TOKEN_TYPE.CONTROL && END_OF_GENERATION.includes(t) ? [i] : []))];
  return { tokenizer, config, bosId, eosId, padId, addBos, endIds: [...new Set(endIds.filter((x): x is number => x !== undefined))] };
}
