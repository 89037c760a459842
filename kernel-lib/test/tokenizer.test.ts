/**
 * ftgen's byte-level BPE tokenizer against the reference, transformers.js: train on a fixture
 * corpus, save, load the saved folder with AutoTokenizer (no network) and require the same ids
 * on hundreds of texts (and on the paper's data when it is on disk), exact decode round trips,
 * the fixed special-token ids, and a hand-checked tiny training run.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { AutoTokenizer, env, type PreTrainedTokenizer } from "@huggingface/transformers";
import {
  BpeTokenizer, trainTokenizer, BOS_ID, EOS_ID, PAD_ID, BYTE_OFFSET, FIRST_MERGE_ID, LLAMA3_SPLIT_PATTERN_JS,
  type PreTokenizerKind,
} from "../src/tokenizer/tokenizer";
import { learnMerges } from "../src/tokenizer/tokenizer-train";
import { makeRng, type Rng } from "../src/util/random";
import { paperDataDir } from "../src/util/paths";

env.allowRemoteModels = false;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-tokenizer-"));

// ------------------------------------------------------------------------------------------------
// Fixture corpus

const SENTENCES = [
  "The quick brown fox jumps over the lazy dog.",
  "It's 3:45 p.m. on 2024-06-17, and the temperature is -12.5°C (9.5°F).",
  "She said, \"I can't believe it's not butter!\" — and we'd all laughed.",
  "They're here; we've got 1,234,567 reasons to stay... or don't we?",
  "Prices rose 12% to $1,999.99 (about €1.850,00) in Q3.",
  "Email me at someone@example.com or visit https://example.org/path?q=1&r=2#frag.",
  "   Leading spaces, trailing spaces   ",
  "Tabs\tand\tnew\nlines\r\nand\r\rcarriage returns\n\n\nparagraphs",
  "Naïve café owners in São Paulo serve crème brûlée.",
  "Ελληνικά, русский язык, עברית, العربية, हिन्दी.",
  "中文分词很难，日本語の文章も。한국어 문장도 있습니다.",
  "Emoji: 😀👍🏽👨‍👩‍👧‍👦🇺🇸 and ❤️ ✨",
  "Numbers: 0 7 42 123 4567 89012 3141592653589793 ٣٤٥ ⅷ ½",
  "CAPITALS SHOUT: I'LL, YOU'RE, WE'VE, HE'D, SHE'S, IT'S",
  "Mixed\u00a0no-break\u2003em\u3000ideographic\u2028line\u0085nel\ufeffbom spaces",
  "Code: for (let i = 0; i < n; i++) { sum += a[i] * b[i]; } // done",
  "A sentence with    many     spaces between    words.",
  "Question: Where is the Eiffel Tower? Answer: Paris, France.",
  "The movie was not good, but the acting was great!!!???",
  "Summary: The Navy is switching to lowercase messages after 150 years.",
];

const PROMPTS = [
  "<s> ### Input:\nOne of the most important forms of animated filmmaking.\n### Sentiment:positive\n\n",
  "<s> ### Input:\nA terrible movie that some people will find moving.\n### Sentiment:negative\n\n### Input:\nGreat!\n### Sentiment:",
  "### Input:\nSentence 1: The cat sat.\nSentence 2: A cat was sitting.\n### Paraphrase:yes\n\n",
  "### Input:\nPremise: A man plays guitar. Hypothesis: Someone makes music.\n### Relation:entailment</s>",
  "<s>### Article:\nLondon (CNN) -- Officials said on Tuesday that...\n### Summary:\n",
  "<pad><pad></s><s>text<s >< s></s ><<s>>",
];

function corpus(rng: Rng, n: number): string[] {
  const words = SENTENCES.flatMap((s) => s.split(/\s+/)).filter((w) => w.length > 0);
  const out: string[] = [...SENTENCES, ...PROMPTS];
  const seps = [" ", " ", " ", "  ", "\n", "\n\n", "\t", ", ", ". "];
  while (out.length < n) {
    const k = 3 + rng.int(25);
    let s = rng.next() < 0.2 ? "<s> " : "";
    for (let i = 0; i < k; i++) {
      s += words[rng.int(words.length)];
      if (rng.next() < 0.1) s += String(rng.int(100000));
      s += seps[rng.int(seps.length)];
    }
    if (rng.next() < 0.3) s = `### Input:\n${s}\n### Sentiment:${rng.next() < 0.5 ? "positive" : "negative"}\n\n`;
    out.push(s);
  }
  return out;
}

/** Random strings from a pool of awkward characters (including lone surrogates and specials). */
function awkward(rng: Rng, n: number): string[] {
  const pool = [
    "a", "b", "Z", "é", "ß", "ſ", "K", "İ", "ı", "0", "9", "٣", "½", "Ⅻ", " ", " ", "  ", "\n", "\r", "\r\n", "\t",
    "\u000b", "\u000c", "\u0085", "\u00a0", "\u1680", "\u2000", "\u2028", "\u2029", "\u202f", "\u3000", "\ufeff",
    "'", "'s", "'S", "'ll", "'LL", "'re", "'Ve", "'d", "'m", "'t", "\"", "-", "—", ".", "!!", "?", "#", "###", ":",
    "<s>", "</s>", "<pad>", "<", ">", "/", "s", "<s", "pad>", "😀", "👍🏽", "👨‍👩‍👧", "🇺🇸", "中", "文", "한", "ה",
    "ع", "\u0301", "e\u0301", "\ud800", "\udfff", "\udbff\udfff", "\u0000", "\u007f", "\u0080", "\uffff", "\ud83d",
    "aaaaaaaa", "0123456789", "    ", "\n\n\n",
  ];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = 1 + rng.int(40);
    let s = "";
    for (let j = 0; j < k; j++) s += pool[rng.int(pool.length)];
    out.push(s);
  }
  return out;
}

/** Long single pieces, which take the heap-based merge path. */
const LONG = [
  "a".repeat(1000),
  "ab".repeat(300),
  "the".repeat(200) + " " + "x".repeat(70),
  " ".repeat(500) + "end",
  "\n".repeat(300),
  "!?".repeat(150),
  "Supercalifragilisticexpialidocious".repeat(8),
  "数".repeat(120),
  "1234567890".repeat(40),
];

const rng = makeRng("tokenizer-fixture");
const TRAIN = corpus(rng, 400);
const EXTRA = [...corpus(makeRng("tokenizer-eval"), 300), ...awkward(makeRng("tokenizer-awkward"), 300), ...LONG, ""];

/** String.prototype.toWellFormed (ES2024): lone surrogates → U+FFFD. */
function toWellFormed(s: string): string {
  return s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd");
}

const hfCache = new Map<string, PreTrainedTokenizer>();
async function hfLoad(dir: string): Promise<PreTrainedTokenizer> {
  let tok = hfCache.get(dir);
  if (tok === undefined) {
    tok = await AutoTokenizer.from_pretrained(path.resolve(dir));
    hfCache.set(dir, tok);
  }
  return tok;
}

const trained = new Map<PreTokenizerKind, { tok: BpeTokenizer; dir: string }>();
before(() => {
  for (const kind of ["llama3", "gpt2"] as const) {
    const tok = trainTokenizer(TRAIN, { vocabSize: 700, pretokenizer: kind, minFrequency: 2 });
    const dir = path.join(tmp, `fixture-${kind}`);
    tok.save(dir);
    trained.set(kind, { tok, dir });
  }
});

function get(kind: PreTokenizerKind): { tok: BpeTokenizer; dir: string } {
  return trained.get(kind) as { tok: BpeTokenizer; dir: string };
}

// ------------------------------------------------------------------------------------------------
// Hand-checked tiny example

test("tiny corpus 'aaab aaab': exact merges, ids and tie-break", async () => {
  // pieces "aaab" and " aaab"; ids: 'a' = 3 + 97 = 100, 'b' = 101, ' ' = 35
  // pair counts: (a,a) 4, (a,b) 2, (Ġ,a) 1 → merge 1: a a → 259 "aa"
  // then (aa,a) 2, (a,b) 2, (Ġ,aa) 1 → tie at 2, smaller (left, right) wins: (100, 101) → 260 "ab"
  const tok = trainTokenizer(["aaab aaab"], { vocabSize: 261 });
  assert.equal(tok.vocabSize, 261);
  assert.deepEqual(tok.merges, [[100, 100], [100, 101]]);
  assert.equal(tok.idToToken(259), "aa");
  assert.equal(tok.idToToken(260), "ab");
  assert.deepEqual(tok.encode("aaab aaab"), [259, 260, 35, 259, 260]);
  assert.deepEqual(tok.encode("aaaa"), [259, 259]);
  assert.deepEqual(tok.encode("aab"), [259, 101]); // rank 0 (a a) beats rank 1 (a b)
  assert.deepEqual(tok.encode("<s> ab</s>", { addBos: true, addEos: true }), [0, 0, 35, 260, 1, 1]);

  const dir = path.join(tmp, "tiny");
  tok.save(dir);
  const json = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8"));
  assert.deepEqual(json.model.merges, ["a a", "a b"]);
  assert.equal(json.model.vocab.aa, 259);
  assert.equal(json.model.vocab["Ġ"], 35);
  assert.equal(json.model.vocab["<s>"], 0);
  const hf = await hfLoad(dir);
  for (const t of ["aaab aaab", "aaaa", "aab", "<s> ab</s>", "ba ab  aaaab"]) assert.deepEqual(hf.encode(t), tok.encode(t), t);

  // with room for more merges, minFrequency (default 2) stops before the singleton (Ġ, aaab)
  const more = trainTokenizer(["aaab aaab"], { vocabSize: 1000 });
  assert.deepEqual(more.merges, [[100, 100], [100, 101], [259, 260]]);
  assert.equal(more.idToToken(261), "aaab");
  const all = trainTokenizer(["aaab aaab"], { vocabSize: 1000, minFrequency: 1 });
  assert.deepEqual(all.merges, [[100, 100], [100, 101], [259, 260], [35, 261]]);
  assert.deepEqual(all.encode(" aaab"), [262]);
});

test("overlapping pairs merge left to right, counts stay exact", () => {
  // "aaa": (a,a) occurs twice but merges once ("aa a"); then (aa, a) has count 3 × 1
  const { merges, tokenBytes } = learnMerges(new Map([["aaa", 3], ["abab", 2]]), { vocabSize: 300, minFrequency: 1 });
  // counts: (a,a) 6, (a,b) 4, (b,a) 2 → (a,a); then (a,b) 4, (aa,a) 3, (b,a) 2 → (a,b); then (aa,a) 3, (ab,ab) 2
  assert.deepEqual(merges, [[100, 100], [100, 101], [259, 100], [260, 260]]);
  assert.deepEqual(Array.from(tokenBytes[261 - BYTE_OFFSET]), [97, 97, 97]);
  assert.deepEqual(Array.from(tokenBytes[262 - BYTE_OFFSET]), [97, 98, 97, 98]);
});

test("vocabSize below 259 is refused; 259 gives a byte-only tokenizer", () => {
  assert.throws(() => trainTokenizer(["abc"], { vocabSize: 258 }), /vocabSize/);
  const bytesOnly = trainTokenizer(["hello hello"], { vocabSize: FIRST_MERGE_ID });
  assert.equal(bytesOnly.merges.length, 0);
  assert.deepEqual(bytesOnly.encode("hé"), [3 + 0x68, 3 + 0xc3, 3 + 0xa9]);
  assert.equal(bytesOnly.decode(bytesOnly.encode("hé 😀")), "hé 😀");
});

// ------------------------------------------------------------------------------------------------
// Agreement with transformers.js

for (const kind of ["llama3", "gpt2"] as const) {
  test(`${kind}: same ids as transformers.js on ${TRAIN.length + EXTRA.length} texts, exact round trips`, async () => {
    const { tok, dir } = get(kind);
    const hf = await hfLoad(dir);
    assert.ok(tok.merges.length > 300, `only ${tok.merges.length} merges learnt`);
    let checked = 0;
    for (const text of [...TRAIN, ...EXTRA]) {
      const ids = tok.encode(text);
      assert.deepEqual(hf.encode(text), ids, JSON.stringify(text));
      assert.deepEqual(hf(text, { return_tensor: false }).input_ids, ids); // __call__ adds nothing either
      const expected = toWellFormed(text); // lone surrogates are U+FFFD in UTF-8
      assert.equal(tok.decode(ids), expected, JSON.stringify(text));
      if (ids.length > 0) {
        assert.equal(hf.decode(ids), expected);
        assert.equal(tok.decode(ids, { skipSpecial: true }), hf.decode(ids, { skip_special_tokens: true }));
      }
      checked++;
    }
    assert.ok(checked >= 200);
  });

  test(`${kind}: decode of arbitrary id sequences (split UTF-8, specials) equals transformers.js`, async () => {
    const { tok, dir } = get(kind);
    const hf = await hfLoad(dir);
    const r = makeRng(`decode-${kind}`);
    for (let n = 0; n < 300; n++) {
      const ids = Array.from({ length: 1 + r.int(12) }, () => (r.next() < 0.1 ? r.int(3) : r.int(tok.vocabSize)));
      assert.equal(tok.decode(ids), hf.decode(ids), JSON.stringify(ids));
      assert.equal(tok.decode(ids, { skipSpecial: true }), hf.decode(ids, { skip_special_tokens: true }));
      assert.equal(new TextDecoder("utf-8", { ignoreBOM: true }).decode(tok.decodeBytes(ids)), tok.decode(ids));
    }
    // a character split across tokens comes back whole only when decoded together
    const ids = tok.encode("😀");
    assert.equal(ids.length > 1, true);
    assert.equal(tok.decode(ids), "😀");
    assert.equal(tok.decode(ids.slice(0, 1)), "\ufffd");
  });
}

test("transformers.js compiles our Split regex to exactly the pattern we use", async () => {
  const hf = await hfLoad(get("llama3").dir);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const pre = (hf as any)._tokenizer.pre_tokenizer;
  assert.equal(pre.tokenizers[0].pattern.source, LLAMA3_SPLIT_PATTERN_JS);
  assert.equal(pre.tokenizers[0].pattern.flags, "gu");
});

test("special tokens: fixed ids, literal '<s>' is BOS (as in transformers.js), nothing added by default", async () => {
  const { tok, dir } = get("llama3");
  const hf = await hfLoad(dir);
  assert.deepEqual([tok.bosId, tok.eosId, tok.padId], [0, 1, 2]);
  assert.deepEqual([BOS_ID, EOS_ID, PAD_ID], [0, 1, 2]);
  assert.deepEqual([hf.bos_token_id, hf.eos_token_id, hf.pad_token_id], [0, 1, 2]);
  assert.deepEqual([hf.bos_token, hf.eos_token, hf.pad_token], ["<s>", "</s>", "<pad>"]);
  assert.deepEqual([tok.idToToken(0), tok.idToToken(1), tok.idToToken(2)], ["<s>", "</s>", "<pad>"]);
  assert.equal(tok.tokenToId("<pad>"), 2);
  assert.equal(tok.tokenToId("Ġ"), BYTE_OFFSET + 32);

  const prompt = "<s> ### Input:\nGreat film.\n### Sentiment:";
  const ids = tok.encode(prompt);
  assert.equal(ids[0], BOS_ID);
  assert.deepEqual(ids.slice(1), tok.encode(" ### Input:\nGreat film.\n### Sentiment:"));
  assert.deepEqual(hf.encode(prompt), ids);
  assert.equal(tok.decode(ids), prompt);
  assert.equal(tok.decode(ids, { skipSpecial: true }), " ### Input:\nGreat film.\n### Sentiment:");

  // opt-out: the literal text is ordinary text
  const plain = tok.encode(prompt, { parseSpecial: false });
  assert.ok(!plain.includes(BOS_ID));
  assert.equal(tok.decode(plain), prompt);

  assert.deepEqual(tok.encode("x", { addBos: true, addEos: true }), [BOS_ID, ...tok.encode("x"), EOS_ID]);
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8"));
  assert.equal(cfg.add_bos_token, false);
  assert.equal(cfg.add_eos_token, false);
  assert.equal(cfg.clean_up_tokenization_spaces, false);
  assert.equal(hf.model_max_length, 2048);
  const json = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8"));
  assert.deepEqual(json.added_tokens.map((t: { id: number; content: string; special: boolean }) => [t.id, t.content, t.special]),
    [[0, "<s>", true], [1, "</s>", true], [2, "<pad>", true]]);
  assert.equal(json.model.type, "BPE");
  assert.equal(json.model.byte_fallback, false);
  assert.equal(json.decoder.type, "ByteLevel");
  assert.equal(Object.keys(json.model.vocab).length, tok.vocabSize);
});

test("load() reads the saved folder back: same vocab, merges, ids and bytes on re-save", () => {
  for (const kind of ["llama3", "gpt2"] as const) {
    const { tok, dir } = get(kind);
    const back = BpeTokenizer.load(dir);
    assert.equal(back.pretokenizer, kind);
    assert.equal(back.vocabSize, tok.vocabSize);
    assert.deepEqual(back.merges, tok.merges);
    for (const t of EXTRA.slice(0, 100)) assert.deepEqual(back.encode(t), tok.encode(t));
    assert.equal(back.toTokenizerJson(), fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8"));
  }
  const bad = path.join(tmp, "bad");
  fs.mkdirSync(bad, { recursive: true });
  const json = JSON.parse(fs.readFileSync(path.join(get("llama3").dir, "tokenizer.json"), "utf8"));
  json.pre_tokenizer = { type: "Whitespace" };
  fs.writeFileSync(path.join(bad, "tokenizer.json"), JSON.stringify(json));
  const file = path.join(bad, "tokenizer.json");
  const oneLine = (want: RegExp) => (e: Error) => !e.message.includes("\n") && e.message.startsWith(`${file}: `) && want.test(e.message);
  assert.throws(() => BpeTokenizer.load(bad), oneLine(/pre_tokenizer/));
  // A cut file: one line naming it, not a bare "Unterminated string in JSON at position …".
  fs.writeFileSync(file, JSON.stringify(json).slice(0, 5000));
  assert.throws(() => BpeTokenizer.load(bad), oneLine(/: not valid JSON \(/));
  fs.rmSync(file);
  assert.throws(() => BpeTokenizer.load(bad), oneLine(/ENOENT|no such file/));
});

test("long pieces: heap merge path equals the linear one and transformers.js", async () => {
  const { tok, dir } = get("llama3");
  const hf = await hfLoad(dir);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const inner = tok as any;
  const r = makeRng("long");
  const letters = "aeiouthnsrdl";
  for (let n = 0; n < 50; n++) {
    const word = Array.from({ length: 65 + r.int(400) }, () => letters[r.int(letters.length)]).join("");
    const bytes = Array.from(Buffer.from(word, "utf8"), (b) => b + BYTE_OFFSET);
    assert.deepEqual(inner.mergeHeap(bytes.slice()), inner.mergeLinear(bytes.slice()));
    assert.deepEqual(tok.encode(word), hf.encode(word));
  }
});

// ------------------------------------------------------------------------------------------------
// The paper's data as `npm run data` caches it (npm test fetches it first); never copied into the repo.

const TASKS = ["summary", "question", "sentiment", "detection", "inference"];
const FIELDS = ["input", "input_1", "input_2", "answer", "output"];

function cachedPaperData(): string | null {
  const dir = paperDataDir();
  return TASKS.every((t) => fs.existsSync(path.join(dir, t)) && fs.readdirSync(path.join(dir, t)).some((f) => f.endsWith(".json"))) ? dir : null;
}

function taskTexts(dir: string, task: string): string[] {
  const texts: string[] = [];
  const files = fs.readdirSync(path.join(dir, task)).filter((f) => f.endsWith(".json")).sort();
  for (const f of files) {
    const recs = JSON.parse(fs.readFileSync(path.join(dir, task, f), "utf8")) as Array<Record<string, unknown>>;
    if (!Array.isArray(recs)) continue;
    for (const r of recs) for (const k of FIELDS) if (typeof r[k] === "string") texts.push(r[k] as string);
  }
  return texts;
}

const dataDir = cachedPaperData();
test("paper data: 200 texts over every task folder give transformers.js' ids", { skip: dataDir === null ? 'paper data not fetched: run "npm run data"' : false }, async () => {
  const dir = dataDir as string;
  const byTask = TASKS.map((t) => taskTexts(dir, t));
  const sample: string[] = [];
  for (const texts of byTask) for (let i = 0; i < texts.length; i += 23) sample.push(texts[i]);
  const tok = trainTokenizer(sample, { vocabSize: 4096 });
  const out = path.join(tmp, "paper");
  tok.save(out);
  const hf = await hfLoad(out);
  const r = makeRng("paper-draw");
  let checked = 0;
  for (let t = 0; t < TASKS.length; t++) {
    const texts = byTask[t];
    assert.ok(texts.length > 0, TASKS[t]);
    for (let k = 0; k < 40; k++) {
      const text = texts[r.int(texts.length)];
      const prompt = k % 4 === 0 ? `<s> ### Input:\n${text}\n### Answer:` : text;
      const ids = tok.encode(prompt);
      assert.deepEqual(hf.encode(prompt), ids, `${TASKS[t]}: ${JSON.stringify(prompt.slice(0, 80))}`);
      assert.equal(tok.decode(ids), prompt);
      checked++;
    }
  }
  assert.equal(checked, 200);
});
