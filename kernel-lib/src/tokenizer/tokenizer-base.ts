/**
 * Shared pieces of ftgen's byte-level BPE tokenizer: the fixed id layout, the GPT-2 byte↔unicode
 * table, UTF-8 encoding, special-token splitting, the pre-tokenizer regexes, and the
 * Hugging Face `tokenizer.json` / `tokenizer_config.json` writers and reader.
 *
 * Id layout (fixed, documented, checked on load):
 *   0 "<s>" (BOS), 1 "</s>" (EOS), 2 "<pad>" (PAD)  — added tokens with special: true
 *   3 + b                                             — the single byte b (0..255), in byte order
 *   259, 260, …                                       — merged tokens, in the order they were learnt
 *
 * The reference implementation we must agree with id for id is transformers.js (package
 * @huggingface/transformers, which bundles @huggingface/tokenizers); every rule below is the
 * rule it applies to the tokenizer.json we write.
 */

/** Beginning-of-sequence token text and id. */
export const BOS_TOKEN = "<s>";
export const BOS_ID = 0;
/** End-of-sequence token text and id. */
export const EOS_TOKEN = "</s>";
export const EOS_ID = 1;
/** Padding token text and id. */
export const PAD_TOKEN = "<pad>";
export const PAD_ID = 2;
/** Special tokens by id. */
export const SPECIAL_TOKENS: readonly string[] = [BOS_TOKEN, EOS_TOKEN, PAD_TOKEN];
/** Byte b has token id b + BYTE_OFFSET. */
export const BYTE_OFFSET = SPECIAL_TOKENS.length;
/** Id of the first merged token (= number of special tokens + 256 bytes). */
export const FIRST_MERGE_ID = BYTE_OFFSET + 256;

// ---------------------------------------------------------------------------------------------
// GPT-2 bytes_to_unicode

/**
 * GPT-2's bytes_to_unicode table: printable bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') map to
 * themselves, the other 68 bytes to U+0100.. in byte order (so ' ' → 'Ġ', '\n' → 'Ċ').
 */
export const BYTE_TO_UNICODE: readonly string[] = (() => {
  const keep = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table: string[] = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCharCode(keep(b) ? b : 256 + n++);
  return table;
})();

/** Inverse of BYTE_TO_UNICODE, indexed by char code (−1 where the char is not a byte char). */
const UNICODE_TO_BYTE: Int16Array = (() => {
  const inv = new Int16Array(0x200).fill(-1);
  BYTE_TO_UNICODE.forEach((c, b) => { inv[c.charCodeAt(0)] = b; });
  return inv;
})();

/** Byte-level string (as in vocab/merges) → bytes; throws on a char outside the table. */
export function byteLevelToBytes(token: string): Uint8Array {
  const out = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    const b = c < UNICODE_TO_BYTE.length ? UNICODE_TO_BYTE[c] : -1;
    if (b < 0) throw new Error(`tokenizer: ${JSON.stringify(token)} is not a byte-level token`);
    out[i] = b;
  }
  return out;
}

/** Bytes → byte-level string. */
export function bytesToByteLevel(bytes: ArrayLike<number>): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += BYTE_TO_UNICODE[bytes[i]];
  return s;
}

// ---------------------------------------------------------------------------------------------
// UTF-8

/**
 * UTF-8 bytes of `s`, each plus `offset` (pass BYTE_OFFSET to get byte token ids), appended to
 * `out`. Lone surrogates become U+FFFD (EF BF BD), exactly as TextEncoder (and so
 * transformers.js) encodes them.
 */
export function pushUtf8(s: string, out: number[], offset = 0): number[] {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) { out.push(c + offset); continue; }
    if (c < 0x800) { out.push((0xc0 | (c >> 6)) + offset, (0x80 | (c & 63)) + offset); continue; }
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        out.push((0xf0 | (cp >> 18)) + offset, (0x80 | ((cp >> 12) & 63)) + offset,
          (0x80 | ((cp >> 6) & 63)) + offset, (0x80 | (cp & 63)) + offset);
        continue;
      }
      c = 0xfffd;
    }
    out.push((0xe0 | (c >> 12)) + offset, (0x80 | ((c >> 6) & 63)) + offset, (0x80 | (c & 63)) + offset);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Special tokens in text

/**
 * A regex that finds special-token texts leftmost-first, longest-first at a position — the rule
 * of transformers.js' DictionarySplitter. With splitting on, the literal text "<s>" anywhere in
 * the input becomes the BOS id (as Hugging Face tokenizers do for added special tokens).
 */
export function specialTokenRegex(specials: readonly string[] = SPECIAL_TOKENS): RegExp {
  const alts = [...specials].sort((a, b) => b.length - a.length)
    .map((s) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"));
  return new RegExp(alts.join("|"), "g");
}

// ---------------------------------------------------------------------------------------------
// Pre-tokenizers

/**
 * "llama3": Llama-3's split regex, with its case-insensitive group `(?i:'s|'t|…)` written out as
 * explicit ASCII case classes (so Oniguruma in the Rust `tokenizers` and JS agree; transformers.js
 * would ASCII-fold `(?i:` the same way). Stored in tokenizer.json as a `Split` (Isolated, invert
 * false) followed by `ByteLevel` (use_regex false). Words: letters with at most one leading
 * non-letter/non-digit (usually the space), digits in groups of 1–3, punctuation runs with an
 * optional leading space and trailing newlines, newline runs, other whitespace.
 * "gpt2": the GPT-2 regex built into the `ByteLevel` pre-tokenizer (use_regex true); digits are not
 * grouped. Default "llama3".
 */
export const PRE_TOKENIZER_KINDS = ["llama3", "gpt2"] as const;
export type PreTokenizerKind = (typeof PRE_TOKENIZER_KINDS)[number];

/** The "llama3" pattern as written into tokenizer.json (Oniguruma syntax). */
export const LLAMA3_SPLIT_PATTERN =
  "'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}" +
  "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/**
 * The same pattern as transformers.js compiles it (its Oniguruma→JS rewrite turns `\s` into
 * `\p{White_Space}`, which differs from JS `\s` on U+FEFF and U+0085). The test checks that the
 * source transformers.js builds from LLAMA3_SPLIT_PATTERN is exactly this string.
 */
export const LLAMA3_SPLIT_PATTERN_JS =
  "'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}" +
  "| ?[^\\p{White_Space}\\p{L}\\p{N}]+[\\r\\n]*|\\p{White_Space}*[\\r\\n]+" +
  "|\\p{White_Space}+(?!\\P{White_Space})|\\p{White_Space}+";

/** GPT-2's pattern exactly as transformers.js' ByteLevel pre-tokenizer hard-codes it (JS `\s`). */
export const GPT2_PATTERN_JS = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/** A fresh global regex for the pre-tokenizer. */
export function preTokenizerRegex(kind: PreTokenizerKind): RegExp {
  return new RegExp(kind === "llama3" ? LLAMA3_SPLIT_PATTERN_JS : GPT2_PATTERN_JS, "gu");
}

/**
 * Pre-tokenizer as a callback over the pieces of one text section (a stretch with no special
 * token). "llama3" follows `Split` with behavior Isolated: matches and the gaps between them
 * (the pattern covers every character, so there are none in practice); "gpt2" follows ByteLevel
 * with use_regex: only the matches.
 */
export function forEachPiece(section: string, re: RegExp, keepGaps: boolean, fn: (piece: string) => void): void {
  re.lastIndex = 0;
  let prev = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(section)) !== null) {
    const s = m[0];
    if (s.length === 0) { re.lastIndex++; continue; } // cannot happen with our patterns
    if (keepGaps && m.index > prev) fn(section.slice(prev, m.index));
    fn(s);
    prev = m.index + s.length;
  }
  if (keepGaps && prev < section.length) fn(section.slice(prev));
}

/**
 * Splits `text` into sections on special tokens and calls `onSpecial(id)` / `onSection(text)` in
 * order (empty sections skipped). With `specials` null the whole text is one section.
 */
export function forEachSection(text: string, specials: RegExp | null, specialIds: ReadonlyMap<string, number>,
  onSection: (section: string) => void, onSpecial: (id: number) => void): void {
  if (specials === null) { if (text.length > 0) onSection(text); return; }
  specials.lastIndex = 0;
  let prev = 0;
  let m: RegExpExecArray | null;
  while ((m = specials.exec(text)) !== null) {
    if (m.index > prev) onSection(text.slice(prev, m.index));
    onSpecial(specialIds.get(m[0]) as number);
    prev = m.index + m[0].length;
  }
  if (prev < text.length) onSection(prev === 0 ? text : text.slice(prev));
}

// ---------------------------------------------------------------------------------------------
// tokenizer.json / tokenizer_config.json

function preTokenizerJson(kind: PreTokenizerKind): object {
  if (kind === "gpt2") return { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    type: "Sequence",
    pretokenizers: [
      { type: "Split", pattern: { Regex: LLAMA3_SPLIT_PATTERN }, behavior: "Isolated", invert: false },
      { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
    ],
  };
}

function addedTokensJson(): object[] {
  return SPECIAL_TOKENS.map((content, id) => ({
    id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  }));
}

/**
 * tokenizer.json text. `tokens[id]` is each token's vocab string (special texts for ids 0..2,
 * byte-level strings after); `merges` are pairs of vocab strings in rank order. The vocab is
 * written in id order. The post-processor is ByteLevel, which adds nothing, so transformers.js'
 * encode() (add_special_tokens defaults to true) returns exactly our encode(text).
 */
export function tokenizerJsonText(tokens: readonly string[], merges: ReadonlyArray<readonly [string, string]>,
  kind: PreTokenizerKind): string {
  const VOCAB = "\u0000ftgen-vocab\u0000";
  const doc = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: addedTokensJson(),
    normalizer: null,
    pre_tokenizer: preTokenizerJson(kind),
    post_processor: { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false },
    decoder: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: VOCAB,
      // byte-level strings never contain ' ' (it is 'Ġ'), so the classic "a b" form is unambiguous
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
  // The vocab is spliced in by hand: a JS object would reorder integer-like keys ("0", "12") and
  // treat "__proto__" specially; this keeps id order and any token text.
  const vocab = "{\n" + tokens.map((t, id) => `      ${JSON.stringify(t)}: ${id}`).join(",\n") + "\n    }";
  return JSON.stringify(doc, null, 2).replace(JSON.stringify(VOCAB), () => vocab) + "\n";
}

/** tokenizer_config.json contents: no BOS/EOS added by default, no clean-up of spaces on decode. */
export function tokenizerConfigJson(modelMaxLength: number): object {
  const decoder: Record<string, object> = {};
  for (const t of addedTokensJson() as Array<Record<string, unknown>>) {
    const { id, ...rest } = t;
    decoder[String(id)] = rest;
  }
  return {
    tokenizer_class: "PreTrainedTokenizerFast",
    bos_token: BOS_TOKEN,
    eos_token: EOS_TOKEN,
    pad_token: PAD_TOKEN,
    unk_token: null,
    add_bos_token: false,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
    model_max_length: modelMaxLength,
    added_tokens_decoder: decoder,
  };
}

/** What load() needs from a tokenizer.json. */
export interface ParsedTokenizerJson {
  /** Token bytes for ids ≥ BYTE_OFFSET (index id − BYTE_OFFSET). */
  tokenBytes: Uint8Array[];
  /** Merges as id pairs, in rank order. */
  merges: Array<[number, number]>;
  kind: PreTokenizerKind;
}

function sameJson(a: unknown, b: unknown): boolean {
  const norm = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(norm);
    if (x !== null && typeof x === "object") {
      const o = x as Record<string, unknown>;
      return Object.fromEntries(Object.keys(o).sort().map((k) => [k, norm(o[k])]));
    }
    return x;
  };
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}

/**
 * Reads a tokenizer.json written by tokenizerJsonText (checks the id layout, the pre-tokenizer
 * and that every merge makes a vocab token).
 */
export function parseTokenizerJson(text: string): ParsedTokenizerJson {
  const doc = JSON.parse(text) as Record<string, any>;
  const model = doc.model as Record<string, any>;
  const fail = (why: string): never => { throw new Error(`tokenizer.json: ${why}`); };
  if (!model || model.type !== "BPE") fail("model.type must be BPE");
  if (model.byte_fallback) fail("byte_fallback must be false");
  if (model.continuing_subword_prefix || model.end_of_word_suffix) fail("subword prefixes/suffixes are not supported");
  if (model.ignore_merges) fail("ignore_merges must be false");
  if (doc.normalizer != null) fail("a normalizer is not supported");

  let kind: PreTokenizerKind | null = null;
  for (const k of PRE_TOKENIZER_KINDS) if (sameJson(doc.pre_tokenizer, preTokenizerJson(k))) kind = k;
  if (kind === null) fail("unsupported pre_tokenizer (expected ftgen's llama3 Split+ByteLevel or GPT-2 ByteLevel)");

  const added = (doc.added_tokens ?? []) as Array<{ id: number; content: string; special?: boolean }>;
  if (added.length !== SPECIAL_TOKENS.length || added.some((t, i) => t.id !== i || t.content !== SPECIAL_TOKENS[i] || !t.special)) {
    fail(`added_tokens must be exactly ${SPECIAL_TOKENS.map((t, i) => `${t}=${i}`).join(", ")} (special)`);
  }

  const vocab = model.vocab as Record<string, number>;
  const byId: string[] = [];
  for (const [tok, id] of Object.entries(vocab)) {
    if (!Number.isInteger(id) || id < 0) fail(`bad id for ${JSON.stringify(tok)}`);
    if (byId[id] !== undefined) fail(`id ${id} used twice`);
    byId[id] = tok;
  }
  for (let id = 0; id < byId.length; id++) if (byId[id] === undefined) fail(`id ${id} missing from vocab`);
  SPECIAL_TOKENS.forEach((t, id) => { if (byId[id] !== t) fail(`vocab id ${id} must be ${t}`); });
  for (let b = 0; b < 256; b++) if (byId[BYTE_OFFSET + b] !== BYTE_TO_UNICODE[b]) fail(`vocab id ${BYTE_OFFSET + b} must be byte ${b}`);

  const tokenBytes = byId.slice(BYTE_OFFSET).map(byteLevelToBytes);
  const rawMerges = (model.merges ?? []) as Array<string | [string, string]>;
  const merges: Array<[number, number]> = rawMerges.map((m) => {
    const [a, b] = typeof m === "string" ? (m.split(" ") as [string, string]) : m;
    const ia = vocab[a], ib = vocab[b], iab = vocab[a + b];
    if (!Object.hasOwn(vocab, a) || !Object.hasOwn(vocab, b) || ia < BYTE_OFFSET || ib < BYTE_OFFSET) fail(`merge ${JSON.stringify(m)}: unknown part`);
    if (!Object.hasOwn(vocab, a + b) || iab < BYTE_OFFSET) fail(`merge ${JSON.stringify(m)} makes no vocab token`);
    return [ia, ib];
  });
  return { tokenBytes, merges, kind: kind as PreTokenizerKind };
}
