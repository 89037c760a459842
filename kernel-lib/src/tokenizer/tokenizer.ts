/**
 * ftgen's tokenizer: GPT-2/Llama-3 style byte-level BPE, trained by our own code
 * (tokenizer-train.ts), saved as a Hugging Face tokenizer.json that transformers.js loads and
 * encodes to the very same ids.
 *
 *   const tok = trainTokenizer(texts, { vocabSize: 8192 });
 *   tok.encode("<s> ### Input:\n…")      // [0, …]  literal "<s>" is the BOS id (see below)
 *   tok.decode(ids) === text             // exact for any well-formed string
 *   tok.save(dir); BpeTokenizer.load(dir)
 *
 * Ids: 0 "<s>" (BOS), 1 "</s>" (EOS), 2 "<pad>" (PAD), 3 + b for byte b, then merged tokens in the
 * order they were learnt (see tokenizer-base.ts).
 *
 * Special tokens in text: like Hugging Face tokenizers (Rust, Python, transformers.js) with
 * added special tokens, encode() by default turns the literal texts "<s>", "</s>" and "<pad>"
 * into their ids, and the text around them is pre-tokenized separately. So the paper's zero-shot
 * prompts, which begin with the text "<s> ", start with the BOS id followed by " ###…". Pass
 * { parseSpecial: false } to treat them as plain text instead (transformers.js has no such switch).
 * encode() never adds BOS/EOS unless asked ({ addBos, addEos }); the saved tokenizer makes
 * transformers.js add none either (ByteLevel post-processor, add_bos_token/add_eos_token false).
 *
 * Encoding: special-token split → regex pre-tokenizer → per piece, UTF-8 bytes and BPE with the
 * lowest-ranked pair merged first, leftmost first among equals (transformers.js' rule), behind a
 * piece → ids cache.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { readJsonFile } from "../util/json";
import {
  BOS_ID, BYTE_OFFSET, EOS_ID, PAD_ID, SPECIAL_TOKENS, bytesToByteLevel,
  forEachPiece, forEachSection, parseTokenizerJson, preTokenizerRegex, pushUtf8, specialTokenRegex,
  tokenizerConfigJson, tokenizerJsonText, type PreTokenizerKind,
} from "./tokenizer-base";
import { trainBpe, type BpeTrainOptions, type BpeTrainResult } from "./tokenizer-train";

export {
  BOS_ID, BOS_TOKEN, EOS_ID, EOS_TOKEN, PAD_ID, PAD_TOKEN, SPECIAL_TOKENS, BYTE_OFFSET, FIRST_MERGE_ID,
  BYTE_TO_UNICODE, LLAMA3_SPLIT_PATTERN, LLAMA3_SPLIT_PATTERN_JS, GPT2_PATTERN_JS, PRE_TOKENIZER_KINDS, type PreTokenizerKind,
} from "./tokenizer-base";
export { trainBpe, countPieces, learnMerges, type BpeTrainOptions, type BpeTrainResult } from "./tokenizer-train";

export interface EncodeOptions {
  /** Prepend BOS (id 0). Default false. */
  addBos?: boolean;
  /** Append EOS (id 1). Default false. */
  addEos?: boolean;
  /** Turn literal "<s>", "</s>", "<pad>" in the text into their ids (default true, as transformers.js). */
  parseSpecial?: boolean;
}

export interface DecodeOptions {
  /** Drop BOS/EOS/PAD ids before decoding (as transformers.js' skip_special_tokens). Default false. */
  skipSpecial?: boolean;
}

export interface TokenizerOptions {
  pretokenizer?: PreTokenizerKind;
  /** Written to tokenizer_config.json as model_max_length. Default 2048. */
  modelMaxLength?: number;
}

export interface TrainTokenizerOptions extends BpeTrainOptions, TokenizerOptions {}

const TOKENIZER_JSON = "tokenizer.json";
const TOKENIZER_CONFIG_JSON = "tokenizer_config.json";
/** Pieces up to this many UTF-16 units are cached; the cache is emptied when it gets this big. */
const CACHE_MAX_PIECE = 256;
const CACHE_MAX_ENTRIES = 1 << 20;
/** Words longer than this (in bytes) use the heap-based merge loop. */
const LINEAR_MAX = 64;

export class BpeTokenizer {
  readonly bosId = BOS_ID;
  readonly eosId = EOS_ID;
  readonly padId = PAD_ID;
  readonly pretokenizer: PreTokenizerKind;
  readonly modelMaxLength: number;
  /** Number of ids (specials + bytes + merged tokens). */
  readonly vocabSize: number;
  /** Merges as (left id, right id), in rank order. */
  readonly merges: ReadonlyArray<readonly [number, number]>;

  private readonly tokenBytes: Uint8Array[];
  private readonly pairStride: number;
  /** pair key (left * stride + right) → rank */
  private readonly ranks = new Map<number, number>();
  /** rank → id of the merged token */
  private readonly mergeTo: Int32Array;
  private readonly cache = new Map<string, number[]>();
  private readonly pieceRe: RegExp;
  private readonly keepGaps: boolean;
  private readonly specialRe: RegExp;
  private readonly specialIds: ReadonlyMap<string, number>;

  /**
   * From token bytes (index id − 3: the 256 single bytes in order, then merged tokens) and merges
   * as id pairs in rank order. Usually made by trainTokenizer() or BpeTokenizer.load().
   */
  constructor(tokenBytes: readonly Uint8Array[], merges: ReadonlyArray<readonly [number, number]>, options: TokenizerOptions = {}) {
    this.pretokenizer = options.pretokenizer ?? "llama3";
    this.modelMaxLength = options.modelMaxLength ?? 2048;
    if (tokenBytes.length < 256) throw new Error("tokenizer: the 256 byte tokens are missing");
    for (let b = 0; b < 256; b++) {
      if (tokenBytes[b].length !== 1 || tokenBytes[b][0] !== b) throw new Error(`tokenizer: id ${BYTE_OFFSET + b} must be byte ${b}`);
    }
    this.tokenBytes = tokenBytes.map((t) => Uint8Array.from(t));
    this.vocabSize = BYTE_OFFSET + this.tokenBytes.length;
    this.pairStride = this.vocabSize;

    const bySpelling = new Map<string, number>();
    this.tokenBytes.forEach((t, i) => {
      const s = bytesToByteLevel(t);
      if (bySpelling.has(s)) throw new Error(`tokenizer: token ${JSON.stringify(s)} appears twice`);
      bySpelling.set(s, BYTE_OFFSET + i);
    });
    this.mergeTo = new Int32Array(merges.length);
    this.merges = merges.map(([a, b], rank) => {
      if (!(a >= BYTE_OFFSET && a < this.vocabSize && b >= BYTE_OFFSET && b < this.vocabSize)) {
        throw new Error(`tokenizer: merge ${rank} (${a}, ${b}) is out of range`);
      }
      const z = bySpelling.get(bytesToByteLevel(this.tokenBytes[a - BYTE_OFFSET]) + bytesToByteLevel(this.tokenBytes[b - BYTE_OFFSET]));
      if (z === undefined) throw new Error(`tokenizer: merge ${rank} (${a}, ${b}) makes no token`);
      const key = a * this.pairStride + b;
      this.ranks.set(key, rank); // a repeated pair keeps its last rank, as transformers.js and Rust do
      this.mergeTo[rank] = z;
      return [a, b] as const;
    });
    this.pieceRe = preTokenizerRegex(this.pretokenizer);
    this.keepGaps = this.pretokenizer === "llama3";
    this.specialRe = specialTokenRegex();
    this.specialIds = new Map(SPECIAL_TOKENS.map((t, i) => [t, i]));
  }

  /** Ids of `text`. No BOS/EOS unless asked; literal special-token texts become their ids unless parseSpecial is false. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const out: number[] = [];
    if (options.addBos) out.push(BOS_ID);
    // Written as plain loops (no per-call closures): this is the hot path.
    if (options.parseSpecial === false) this.encodeSection(text, out);
    else {
      const sp = this.specialRe;
      sp.lastIndex = 0;
      let prev = 0;
      let m: RegExpExecArray | null;
      while ((m = sp.exec(text)) !== null) {
        if (m.index > prev) this.encodeSection(text.slice(prev, m.index), out);
        out.push(this.specialIds.get(m[0]) as number);
        prev = m.index + m[0].length;
      }
      if (prev < text.length) this.encodeSection(prev === 0 ? text : text.slice(prev), out);
    }
    if (options.addEos) out.push(EOS_ID);
    return out;
  }

  /** Pre-tokenizes one section (no special tokens in it) and appends the ids of its pieces. */
  private encodeSection(section: string, out: number[]): void {
    const re = this.pieceRe;
    re.lastIndex = 0;
    let prev = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(section)) !== null) {
      const piece = m[0];
      if (piece.length === 0) { re.lastIndex++; continue; } // cannot happen with our patterns
      if (this.keepGaps && m.index > prev) this.encodePiece(section.slice(prev, m.index), out);
      this.encodePiece(piece, out);
      prev = m.index + piece.length;
    }
    if (this.keepGaps && prev < section.length) this.encodePiece(section.slice(prev), out);
  }

  /** Encodes many texts (same options for each). */
  encodeBatch(texts: readonly string[], options: EncodeOptions = {}): number[][] {
    return texts.map((t) => this.encode(t, options));
  }

  /** The pre-tokenized pieces of `text` (specials split out and dropped), for inspection. */
  preTokenize(text: string): string[] {
    const pieces: string[] = [];
    forEachSection(text, this.specialRe, this.specialIds,
      (section) => forEachPiece(section, this.pieceRe, this.keepGaps, (p) => pieces.push(p)), () => {});
    return pieces;
  }

  /**
   * Text of `ids`. Runs of ordinary tokens are joined as bytes and UTF-8 decoded (invalid
   * sequences → U+FFFD, a leading U+FEFF kept); special ids give their text. decode(encode(t))
   * === t for every well-formed string t (lone surrogates were already U+FFFD in encode).
   */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const skip = options.skipSpecial ?? false;
    let text = "";
    let run: number[] = [];
    const flush = (): void => {
      if (run.length > 0) { text += decodeUtf8(this.joinBytes(run)); run = []; }
    };
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      this.checkId(id);
      if (id < BYTE_OFFSET) {
        if (skip) continue;
        flush();
        text += SPECIAL_TOKENS[id];
      } else run.push(id);
    }
    flush();
    return text;
  }

  /**
   * Raw bytes of `ids` (special ids contribute their UTF-8 text unless skipSpecial): for
   * streaming generation, where a character may be split across tokens.
   */
  decodeBytes(ids: ArrayLike<number>, options: DecodeOptions = {}): Uint8Array {
    const parts: Uint8Array[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      this.checkId(id);
      if (id >= BYTE_OFFSET) parts.push(this.tokenBytes[id - BYTE_OFFSET]);
      else if (!options.skipSpecial) parts.push(new TextEncoder().encode(SPECIAL_TOKENS[id]));
    }
    return concatBytes(parts);
  }

  /** Vocab string of an id (specials as text, others byte-level, e.g. "Ġthe"), undefined if out of range. */
  idToToken(id: number): string | undefined {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) return undefined;
    return id < BYTE_OFFSET ? SPECIAL_TOKENS[id] : bytesToByteLevel(this.tokenBytes[id - BYTE_OFFSET]);
  }

  /** Id of a vocab string (as idToToken gives it). */
  tokenToId(token: string): number | undefined {
    const sp = this.specialIds.get(token);
    if (sp !== undefined) return sp;
    this.spellings ??= new Map(this.tokenBytes.map((t, i) => [bytesToByteLevel(t), BYTE_OFFSET + i]));
    return this.spellings.get(token);
  }
  private spellings: Map<string, number> | undefined;

  /** Bytes of a non-special token. */
  tokenBytesOf(id: number): Uint8Array {
    this.checkId(id);
    if (id < BYTE_OFFSET) throw new Error(`tokenizer: id ${id} is a special token`);
    return this.tokenBytes[id - BYTE_OFFSET].slice();
  }

  /** Empties the piece cache (it is bounded anyway). */
  clearCache(): void { this.cache.clear(); }

  /** tokenizer.json text (Hugging Face format). */
  toTokenizerJson(): string {
    const tokens = [...SPECIAL_TOKENS];
    for (const t of this.tokenBytes) tokens.push(bytesToByteLevel(t));
    const merges = this.merges.map(([a, b]) => [tokens[a], tokens[b]] as [string, string]);
    return tokenizerJsonText(tokens, merges, this.pretokenizer);
  }

  /** tokenizer_config.json contents. */
  toTokenizerConfig(): object { return tokenizerConfigJson(this.modelMaxLength); }

  /** Writes tokenizer.json and tokenizer_config.json into `dir` (created if missing). */
  save(dir: string): void {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, TOKENIZER_JSON), this.toTokenizerJson());
    fs.writeFileSync(path.join(dir, TOKENIZER_CONFIG_JSON), JSON.stringify(this.toTokenizerConfig(), null, 2) + "\n");
  }

  /** Reads a tokenizer saved by save() (tokenizer_config.json optional: model_max_length). */
  static load(dir: string): BpeTokenizer {
    const file = path.join(dir, TOKENIZER_JSON);
    let parsed: ReturnType<typeof parseTokenizerJson>;
    try {
      parsed = parseTokenizerJson(fs.readFileSync(file, "utf8"));
    } catch (e) {
      // One line naming the file, whatever failed: reading, JSON, or the tokenizer's own checks.
      const m = (e as Error).message;
      throw new Error(e instanceof SyntaxError ? `${file}: not valid JSON (${m})` : `${file}: ${m.replace(/^tokenizer\.json: /, "")}`);
    }
    let modelMaxLength: number | undefined;
    const cfgPath = path.join(dir, TOKENIZER_CONFIG_JSON);
    if (fs.existsSync(cfgPath)) {
      const cfg = readJsonFile(cfgPath) as { model_max_length?: unknown };
      if (typeof cfg.model_max_length === "number") modelMaxLength = cfg.model_max_length;
    }
    return new BpeTokenizer(parsed.tokenBytes, parsed.merges, { pretokenizer: parsed.kind, modelMaxLength });
  }

  // -------------------------------------------------------------------------------------------

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new Error(`tokenizer: id ${id} is out of range`);
  }

  private joinBytes(ids: readonly number[]): Uint8Array {
    return concatBytes(ids.map((id) => this.tokenBytes[id - BYTE_OFFSET]));
  }

  /** Appends the ids of one pre-tokenized piece. */
  private encodePiece(piece: string, out: number[]): void {
    const cacheable = piece.length <= CACHE_MAX_PIECE;
    if (cacheable) {
      const hit = this.cache.get(piece);
      if (hit !== undefined) {
        for (let i = 0; i < hit.length; i++) out.push(hit[i]);
        return;
      }
    }
    const ids = pushUtf8(piece, [], BYTE_OFFSET);
    const merged = ids.length <= LINEAR_MAX ? this.mergeLinear(ids) : this.mergeHeap(ids);
    if (cacheable) {
      if (this.cache.size >= CACHE_MAX_ENTRIES) this.cache.clear();
      this.cache.set(piece, merged);
    }
    for (let i = 0; i < merged.length; i++) out.push(merged[i]);
  }

  /** BPE on a short word: repeatedly merge the lowest-ranked pair, leftmost first. */
  private mergeLinear(s: number[]): number[] {
    let n = s.length;
    if (n < 2) return s;
    const S = this.pairStride, ranks = this.ranks;
    const NONE = 0x7fffffff;
    const r: number[] = new Array<number>(n - 1);
    for (let i = 0; i + 1 < n; i++) r[i] = ranks.get(s[i] * S + s[i + 1]) ?? NONE;
    for (;;) {
      let best = NONE, at = -1;
      for (let i = 0; i + 1 < n; i++) if (r[i] < best) { best = r[i]; at = i; }
      if (at < 0) break;
      s[at] = this.mergeTo[best];
      s.splice(at + 1, 1);
      r.splice(at, 1);
      n--;
      if (at > 0) r[at - 1] = ranks.get(s[at - 1] * S + s[at]) ?? NONE;
      if (at + 1 < n) r[at] = ranks.get(s[at] * S + s[at + 1]) ?? NONE;
    }
    return s;
  }

  /** BPE on a long word: the same rule with a linked list and a heap keyed by (rank, position). */
  private mergeHeap(s: number[]): number[] {
    const n = s.length;
    const S = this.pairStride, ranks = this.ranks;
    const tok = Int32Array.from(s);
    const next = new Int32Array(n), prev = new Int32Array(n);
    for (let i = 0; i < n; i++) { next[i] = i + 1 < n ? i + 1 : -1; prev[i] = i - 1; }
    const alive = new Uint8Array(n).fill(1);
    // heap of priorities rank * n + position (positions of left symbols never change)
    const heap: number[] = [];
    const push = (p: number): void => {
      heap.push(p);
      let i = heap.length - 1;
      while (i > 0) {
        const q = (i - 1) >> 1;
        if (heap[q] <= heap[i]) break;
        const t = heap[q]; heap[q] = heap[i]; heap[i] = t; i = q;
      }
    };
    const pop = (): number => {
      const topv = heap[0];
      const last = heap.pop() as number;
      if (heap.length > 0) {
        heap[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1, rr = l + 1;
          let m = i;
          if (l < heap.length && heap[l] < heap[m]) m = l;
          if (rr < heap.length && heap[rr] < heap[m]) m = rr;
          if (m === i) break;
          const t = heap[m]; heap[m] = heap[i]; heap[i] = t; i = m;
        }
      }
      return topv;
    };
    const consider = (i: number): void => {
      const j = next[i];
      if (i < 0 || j < 0) return;
      const rank = ranks.get(tok[i] * S + tok[j]);
      if (rank !== undefined) push(rank * n + i);
    };
    for (let i = 0; i + 1 < n; i++) consider(i);
    while (heap.length > 0) {
      const p = pop();
      const rank = Math.floor(p / n), i = p - rank * n;
      const j = next[i];
      if (!alive[i] || j < 0 || ranks.get(tok[i] * S + tok[j]) !== rank) continue; // stale
      tok[i] = this.mergeTo[rank];
      alive[j] = 0;
      next[i] = next[j];
      if (next[j] >= 0) prev[next[j]] = i;
      if (prev[i] >= 0) consider(prev[i]);
      consider(i);
    }
    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i]) out.push(tok[i]);
    return out;
  }
}

/** Trains a tokenizer on `texts` (see tokenizer-train.ts for the algorithm and tie-breaking). */
export function trainTokenizer(texts: Iterable<string>, options: TrainTokenizerOptions): BpeTokenizer {
  return trainTokenizerWithStats(texts, options).tokenizer;
}

/** As trainTokenizer, with the trainer's statistics (pieces, timings). */
export function trainTokenizerWithStats(texts: Iterable<string>, options: TrainTokenizerOptions):
  { tokenizer: BpeTokenizer; stats: BpeTrainResult["stats"] } {
  const res = trainBpe(texts, options);
  const tokenizer = new BpeTokenizer(res.tokenBytes, res.merges, options);
  return { tokenizer, stats: res.stats };
}

const utf8Decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

function decodeUtf8(bytes: Uint8Array): string { return utf8Decoder.decode(bytes); }

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
