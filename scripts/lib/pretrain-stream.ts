/**
 * A pretraining corpus as one binary token stream, for training the same recipe outside tfjs
 * (bench/torch_pretrain.py on a GPU machine, where neither Node nor the corpus texts travel).
 *
 *   tsx scripts/lib/pretrain-stream.ts --corpus DIR --out DIR [--seed S]
 *
 * The stream is what `npm run pretrain` packs: every training document as BOS + ids + EOS, in the
 * seeded document order of packing.ts (seed: the shipped recipe's train.seed unless --seed is given).
 * It writes
 *   OUT/stream.u16     little-endian uint16 token ids (vocabularies up to 65,536 entries)
 *   OUT/stream.json    vocab size, token and document counts, seed, BOS/EOS ids, the corpus
 *                      input hash and the tokenizer's SHA-1, so a model trained on it can be traced back
 *   OUT/heldout.u16    the held-out documents, one stream per (kind, source) cell in file order,
 *                      as pretrain/run/heldout.ts packs them (no shuffling)
 *   OUT/heldout.json   each cell's kind, source, characters, and its [start, start + length) in heldout.u16
 *   OUT/tokenizer.json, OUT/tokenizer_config.json  the corpus tokenizer, for the model folder the trainer writes
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { BpeTokenizer } from "../../kernel-lib/src/tokenizer/tokenizer";
import { readCorpusJsonl } from "../../kernel-lib/src/pretrain/corpus/corpus";
import { heldoutCells } from "../../kernel-lib/src/pretrain/run/heldout";
import { documentStream, packingOrder } from "../../kernel-lib/src/pretrain/corpus/packing";
import { readPretrainConfig } from "../../kernel-lib/src/pretrain/run/recipe-config";
import { hexDigest } from "../../kernel-lib/src/util/hash";
import { projectRoot } from "../../kernel-lib/src/util/paths";

export interface StreamInfo {
  format: "ftgen-token-stream/1";
  dtype: "uint16";
  vocab_size: number;
  tokens: number;
  documents: number;
  seed: number | string;
  bos_token_id: number;
  eos_token_id: number;
  corpus_input_hash: string;
  tokenizer_sha1: string;
}

/** Writes OUT/stream.u16, OUT/stream.json and OUT/tokenizer.json for the corpus in `corpusDir`. */
export function writeTokenStream(corpusDir: string, outDir: string, seed: number | string): StreamInfo {
  const buildFile = path.join(corpusDir, "build.json");
  if (!fs.existsSync(buildFile)) throw new Error(`${buildFile}: missing (not a corpus folder; run npm run pretrain first)`);
  const build = JSON.parse(fs.readFileSync(buildFile, "utf8")) as { shards?: unknown; inputHash?: unknown };
  if (!Array.isArray(build.shards) || typeof build.inputHash !== "string") throw new Error(`${buildFile}: expected inputHash and shards`);
  const tok = BpeTokenizer.load(corpusDir);
  if (tok.vocabSize > 65536) throw new Error(`${path.join(corpusDir, "tokenizer.json")}: ${tok.vocabSize} entries do not fit uint16`);
  const docs: number[][] = [];
  for (const s of build.shards as string[]) for (const d of readCorpusJsonl(path.join(corpusDir, s))) docs.push(tok.encode(d.text));
  const stream = documentStream(packingOrder(docs, seed), tok.bosId, tok.eosId);
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, "stream.u16"), Buffer.from(Uint16Array.from(stream).buffer));
  writeHeldoutCells(corpusDir, tok, outDir);
  const tokenizerBytes = fs.readFileSync(path.join(corpusDir, "tokenizer.json"));
  fs.writeFileSync(path.join(outDir, "tokenizer.json"), tokenizerBytes);
  fs.copyFileSync(path.join(corpusDir, "tokenizer_config.json"), path.join(outDir, "tokenizer_config.json"));
  const info: StreamInfo = {
    format: "ftgen-token-stream/1", dtype: "uint16", vocab_size: tok.vocabSize, tokens: stream.length, documents: docs.length, seed,
    bos_token_id: tok.bosId, eos_token_id: tok.eosId, corpus_input_hash: build.inputHash,
    tokenizer_sha1: hexDigest("sha1", tokenizerBytes),
  };
  fs.writeFileSync(path.join(outDir, "stream.json"), JSON.stringify(info, null, 1) + "\n");
  return info;
}

/** The held-out cells (heldout.ts groups documents by kind and source, in file order) as one uint16 file. */
function writeHeldoutCells(corpusDir: string, tok: BpeTokenizer, outDir: string): void {
  const cells = heldoutCells(tok, readCorpusJsonl(path.join(corpusDir, "heldout.jsonl")));
  const streams = cells.map((c) => ({ ...c, stream: documentStream(c.ids, tok.bosId, tok.eosId) }));
  const all = new Uint16Array(streams.reduce((n, c) => n + c.stream.length, 0));
  let start = 0;
  const index = streams.map((c) => {
    all.set(c.stream, start);
    const cell = { kind: c.kind, source: c.source, documents: c.ids.length, chars: c.chars, start, length: c.stream.length };
    start += c.stream.length;
    return cell;
  });
  fs.writeFileSync(path.join(outDir, "heldout.u16"), Buffer.from(all.buffer));
  fs.writeFileSync(path.join(outDir, "heldout.json"), JSON.stringify({ cells: index }, null, 1) + "\n");
}

function main(): void {
  const { values } = parseArgs({ options: { corpus: { type: "string" }, out: { type: "string" }, seed: { type: "string" } } });
  if (!values.corpus || !values.out) throw new Error("usage: tsx scripts/lib/pretrain-stream.ts --corpus DIR --out DIR [--seed S]");
  const seed = values.seed ?? readPretrainConfig(path.join(projectRoot(), "data", "base-model.config.json")).train.seed;
  const t = Date.now();
  const info = writeTokenStream(path.resolve(values.corpus), path.resolve(values.out), seed);
  console.log(`${info.tokens.toLocaleString("en-US")} tokens of ${info.documents.toLocaleString("en-US")} documents (seed ${seed}) → ${values.out} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
}

if (require.main === module) {
  try { main(); } catch (e) { console.error(`pretrain-stream: ${(e as Error).message}`); process.exit(1); }
}
