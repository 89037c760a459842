/**
 * Building the pretraining corpus: general text, the paper's train inputs and multitask documents,
 * split into training shards and a held-out set, checked for contamination against every test and
 * few-shot file of the paper, with a BPE tokenizer trained on the training shards and statistics.
 *
 * The output folder holds: train-NNNNN.jsonl (one {source, kind, text} a line, shuffled),
 * heldout.jsonl, stats.json, contamination.json, tokenizer.json, tokenizer_config.json and
 * build.json (the config, the source versions and `inputHash`). It is written to a temporary
 * sibling and renamed into place, and a build whose inputHash matches the folder's is skipped.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { makeRng, shuffled, type Rng } from "../../util/random";
import { loadManifest } from "../../data/manifest";
import { loadDataset, loadFewShot } from "../../data/load";
import type { TaskName } from "../../data/tasks";
import { trainTokenizerWithStats, type PreTokenizerKind } from "../../tokenizer/tokenizer";
import { answerBoundaryMismatches, boundaryCase } from "../../prompts/boundary";
import { SOURCES, installedVersion, sourceSpec, type SourceId } from "../sources/sources";
import { loadSources, type LoadedSources } from "../sources/load-sources";
import { generalDocs } from "./general";
import { paperTrainInputs } from "./paper-inputs";
import { MT_KINDS, type MtKind } from "./formats";
import {
  buildNliItems, buildParaphraseItems, buildQuestionItems, buildSentimentItems, buildSummaryItems, candidateSentences,
  makeMultitaskDocs, type SourcedItem,
} from "./multitask";
import { assertClean, checkContamination, formatContamination, type CheckedFile, type ContaminationReport } from "./contamination";
import { ngramHashes } from "./ngrams";
import { corpusStats, formatStats, type CorpusStats } from "./stats";
import type { CorpusDoc } from "./types";

/** Bump when the corpus code changes what it writes, so that old folders are rebuilt. */
export const CORPUS_FORMAT_VERSION = 1;

export interface CorpusConfig {
  seed: number;
  /** Outside sources to use (ids of SOURCES). */
  sources: SourceId[];
  /** Include the paper's train inputs. */
  paperInputs: boolean;
  /** Longest general-text document, in characters. */
  maxDocChars: number;
  /** Character cap per source (a seeded subset of its documents). */
  maxChars: Partial<Record<SourceId, number>>;
  /** Share of general and multitask documents held out. */
  heldoutFraction: number;
  /** Train records per paper dataset held out. */
  heldoutPerDataset: number;
  /** Multitask documents per kind. */
  multitaskDocs: Record<MtKind, number>;
  minDemos: number;
  maxDemos: number;
  /** Longest multitask document, in characters of its items. */
  maxMultitaskChars: number;
  /** Share of classification multitask documents that use the paper's label words (absent: no preference). */
  paperLabelShare?: number;
  /** Documents per training shard. */
  shardDocs: number;
  /** Tokenizer vocabulary size. */
  vocabSize: number;
  /**
   * The tokenizer's pre-tokenizer (absent: "llama3"). "llama3" joins one punctuation mark to the
   * word after it, so the paper's answers ("Sentiment:positive") become ":positive" inside a
   * demonstration while a prompt ends in a lone ":"; "gpt2" keeps punctuation apart, so a prompt's
   * tokens are a prefix of prompt + answer's (see prompts/boundary.ts).
   */
  pretokenizer?: PreTokenizerKind;
  contamination: { n: number; maxOverlap: number; maxPaperTrainOverlap: number };
}

export const DEFAULT_CORPUS_CONFIG: CorpusConfig = {
  seed: 1234,
  sources: SOURCES.map((s) => s.id),
  paperInputs: true,
  maxDocChars: 6000,
  maxChars: { gcide: 8_000_000 },
  heldoutFraction: 0.01,
  heldoutPerDataset: 200,
  multitaskDocs: { sentiment: 5000, paraphrase: 5000, nli: 5000, summary: 4000, question: 5000 },
  minDemos: 3,
  maxDemos: 8,
  maxMultitaskChars: 3000,
  shardDocs: 20000,
  vocabSize: 8192,
  contamination: { n: 13, maxOverlap: 0.01, maxPaperTrainOverlap: 0.01 },
};

export interface BuildOptions {
  outDir: string;
  config?: CorpusConfig;
  log?: (s: string) => void;
  /** Rebuild even when the folder matches its inputs. */
  force?: boolean;
  /** Override source loading (tests): returns the loaded sources. */
  load?: (ids: readonly SourceId[]) => LoadedSources;
  /** Override the installed-version lookup (tests). */
  versions?: Record<string, string>;
}

export interface BuildResult {
  outDir: string;
  skipped: boolean;
  inputHash: string;
  stats: CorpusStats;
  contamination: ContaminationReport;
  seconds: number;
}

/** Every test and few-shot file of the paper's manifest, as records of text fields. */
export function paperCheckFiles(): CheckedFile[] {
  const out: CheckedFile[] = [];
  for (const e of loadManifest().files) {
    if ((e.role !== "test" && e.role !== "few_shot") || !e.task || !e.dataset) continue;
    const task = e.task as TaskName;
    const records = e.role === "test" ? loadDataset(task, e.dataset, "test").records : loadFewShot(task, e.dataset);
    out.push({
      file: e.path, role: e.role,
      records: records.map((r) => Object.entries(r).filter(([k, v]) => k !== "position" && k !== "idx" && typeof v === "string").map(([, v]) => v as string)),
    });
  }
  return out;
}

/** Blob ids of the paper files the corpus reads (train inputs) or checks against (test, few-shot). */
function paperBlobs(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of loadManifest().files) if (e.role !== "prompt_map") out[e.path] = e.blob;
  return out;
}

export function inputHash(config: CorpusConfig, versions: Record<string, string>, blobs: Record<string, string>): string {
  const h = crypto.createHash("sha256");
  h.update(JSON.stringify({ format: CORPUS_FORMAT_VERSION, config, versions, blobs }));
  return h.digest("hex");
}

function readBuildJson(dir: string): { inputHash?: string } | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, "build.json"), "utf8")) as { inputHash?: string };
  } catch {
    return null;
  }
}

/** Multitask item pools from the loaded sources. */
export function multitaskPools(src: LoadedSources, rng: Rng): Record<MtKind, SourcedItem[]> {
  const sentencesOf = (texts: Array<{ text: string; source: string }>): Array<{ text: string; source: string }> =>
    texts.flatMap((t) => candidateSentences([t.text]).map((s) => ({ text: s, source: t.source })));
  const prose: Array<{ text: string; source: string }> = [
    ...(src.brown ?? []).map((b) => ({ text: b.text, source: "brown" })),
    ...(src.sotu ?? []).map((a) => ({ text: a.text, source: "sotu" })),
    ...(src.mobyDick ?? []).map((c) => ({ text: c.text, source: "moby-dick" })),
  ];
  const proseSentences = sentencesOf(prose);
  const pools: Record<MtKind, SourcedItem[]> = { sentiment: [], paraphrase: [], nli: [], summary: [], question: [] };
  if (src.lexicon) pools.sentiment = buildSentimentItems(src.labelled ?? [], proseSentences, src.lexicon, rng.fork());
  const synsetList = src.wordnet ? [...src.wordnet.synsets.values()] : [];
  if (src.kjv && src.web) pools.paraphrase = buildParaphraseItems(src.kjv, src.web, synsetList, rng.fork());
  else if (synsetList.length) pools.paraphrase = buildParaphraseItems([], [], synsetList, rng.fork());
  if (src.wordnet) {
    pools.nli = buildNliItems(src.wordnet, proseSentences, rng.fork());
    pools.question = buildQuestionItems(src.wordnet.synsets, rng.fork());
  }
  pools.summary = buildSummaryItems(src.emails ?? [], prose, rng.fork());
  return pools;
}

function writeJsonl(file: string, docs: readonly CorpusDoc[]): void {
  const fd = fs.openSync(file, "w");
  try {
    let buf = "";
    for (const d of docs) {
      buf += `${JSON.stringify({ source: d.source, kind: d.kind, text: d.text })}\n`;
      if (buf.length > 1 << 22) { fs.writeSync(fd, buf); buf = ""; }
    }
    if (buf) fs.writeSync(fd, buf);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads a corpus JSONL file; a bad line is an error naming the file and line. */
export function readCorpusJsonl(file: string): CorpusDoc[] {
  const out: CorpusDoc[] = [];
  fs.readFileSync(file, "utf8").split("\n").forEach((line, i) => {
    if (!line) return;
    let d: CorpusDoc;
    try { d = JSON.parse(line) as CorpusDoc; } catch (e) { throw new Error(`${file}:${i + 1}: not valid JSON (${(e as Error).message})`); }
    if (typeof d.text !== "string" || typeof d.source !== "string" || typeof d.kind !== "string") throw new Error(`${file}:${i + 1}: expected {source, kind, text}`);
    out.push(d);
  });
  return out;
}

/** Builds (or finds up to date) the corpus folder. */
export function buildCorpus(opts: BuildOptions): BuildResult {
  const t0 = Date.now();
  const config = opts.config ?? DEFAULT_CORPUS_CONFIG;
  const log = opts.log ?? ((): void => {});
  const outDir = path.resolve(opts.outDir);
  for (const id of config.sources) sourceSpec(id);
  const versions: Record<string, string> = opts.versions ?? Object.fromEntries(config.sources.map((id) => [id, installedVersion(sourceSpec(id))]));
  for (const id of config.sources) {
    const want = sourceSpec(id).version, got = versions[id];
    if (got !== want) log(`ftgen: warning: ${id} is ${sourceSpec(id).package} ${got || "(not installed)"}, the table says ${want}`);
  }
  const hash = inputHash(config, versions, paperBlobs());
  const prev = readBuildJson(outDir);
  if (!opts.force && prev?.inputHash === hash && fs.existsSync(path.join(outDir, "stats.json"))) {
    log(`corpus at ${outDir} is up to date (input hash ${hash.slice(0, 12)})`);
    return {
      outDir, skipped: true, inputHash: hash, seconds: (Date.now() - t0) / 1000,
      stats: JSON.parse(fs.readFileSync(path.join(outDir, "stats.json"), "utf8")) as CorpusStats,
      contamination: JSON.parse(fs.readFileSync(path.join(outDir, "contamination.json"), "utf8")) as ContaminationReport,
    };
  }

  const rng = makeRng(config.seed);
  const timings: Record<string, number> = {};
  const lap = (name: string, since: number): void => { timings[name] = (Date.now() - since) / 1000; };

  let t = Date.now();
  log("reading sources");
  const src = (opts.load ?? ((ids) => loadSources(ids, log)))(config.sources);
  lap("read", t);

  t = Date.now();
  const general = generalDocs(src, config.maxDocChars, config.maxChars, rng.fork());
  const checkFiles = paperCheckFiles();
  const evalNgrams = new Set<number>();
  for (const f of checkFiles) for (const r of f.records) for (const field of r) for (const h of ngramHashes(field, config.contamination.n)) evalNgrams.add(h);
  const paper = config.paperInputs
    ? paperTrainInputs(config.heldoutPerDataset, rng.fork(), (text) => ngramHashes(text, config.contamination.n).some((h) => evalNgrams.has(h)))
    : { train: [], heldout: [], files: [], excluded: {} };
  if (config.paperInputs) log(`paper train records left out for sharing a ${config.contamination.n}-gram with a test or few-shot file: ${Object.entries(paper.excluded).map(([d, n]) => `${d} ${n}`).join(", ")}`);
  const pools = multitaskPools(src, rng.fork());
  const multitask: CorpusDoc[] = [];
  for (const k of MT_KINDS) {
    multitask.push(...makeMultitaskDocs(k, pools[k], {
      docs: config.multitaskDocs[k], minDemos: config.minDemos, maxDemos: config.maxDemos, maxChars: config.maxMultitaskChars, paperLabelShare: config.paperLabelShare,
    }, rng.fork()));
  }
  lap("documents", t);

  // held-out split: a seeded share of general and multitask documents, plus the paper's held-out records
  const splitRng = rng.fork();
  const train: CorpusDoc[] = [...paper.train];
  const heldout: CorpusDoc[] = [...paper.heldout];
  for (const d of [...general, ...multitask]) (splitRng.next() < config.heldoutFraction ? heldout : train).push(d);
  const trainDocs = shuffled(train, rng.fork());

  t = Date.now();
  log("checking contamination");
  const contamination = checkContamination(checkFiles, trainDocs, config.contamination);
  lap("contamination", t);

  const tmp = `${outDir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  fs.writeFileSync(path.join(tmp, "contamination.json"), JSON.stringify(contamination, null, 1) + "\n");
  log(formatContamination(contamination));
  try {
    assertClean(contamination);
  } catch (e) {
    const keep = `${outDir}.contamination-failed.json`;
    fs.copyFileSync(path.join(tmp, "contamination.json"), keep);
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`${(e as Error).message}; report: ${keep}`);
  }

  t = Date.now();
  log(`writing ${trainDocs.length} training documents and ${heldout.length} held-out documents`);
  const shards: string[] = [];
  for (let i = 0; i * config.shardDocs < trainDocs.length || i === 0; i++) {
    const name = `train-${String(i).padStart(5, "0")}.jsonl`;
    writeJsonl(path.join(tmp, name), trainDocs.slice(i * config.shardDocs, (i + 1) * config.shardDocs));
    shards.push(name);
  }
  writeJsonl(path.join(tmp, "heldout.jsonl"), heldout);
  lap("write", t);

  t = Date.now();
  log(`training a ${config.vocabSize}-token BPE tokenizer (${config.pretokenizer ?? "llama3"} pre-tokenizer) on the training documents`);
  const { tokenizer, stats: tokStats } = trainTokenizerWithStats(trainDocs.map((d) => d.text), { vocabSize: config.vocabSize, pretokenizer: config.pretokenizer });
  tokenizer.save(tmp);
  lap("tokenizer", t);
  // A model cannot follow a demonstration across a boundary that tokenizes differently at scoring time.
  const boundary = answerBoundaryMismatches(tokenizer);
  log(`answer boundary: ${boundary.length} of the paper's (map, task, answer) cases tokenize differently apart and together` +
    (boundary.length ? ` (${boundary.map(boundaryCase).join(", ")})` : ""));

  t = Date.now();
  log("counting tokens");
  const stats = corpusStats(trainDocs, heldout, (text) => tokenizer.encode(text).length);
  fs.writeFileSync(path.join(tmp, "stats.json"), JSON.stringify(stats, null, 1) + "\n");
  lap("tokens", t);
  log(formatStats(stats));

  const seconds = (Date.now() - t0) / 1000;
  const build = {
    inputHash: hash, formatVersion: CORPUS_FORMAT_VERSION, config,
    sources: config.sources.map((id) => ({ ...sourceSpec(id), installed: versions[id] })),
    paperTrainFiles: paper.files, paperTrainExcluded: paper.excluded, shards, heldout: "heldout.jsonl",
    tokenizer: { vocabSize: tokenizer.vocabSize, pretokenizer: tokenizer.pretokenizer, ...tokStats, answerBoundaryMismatches: boundary },
    timings, seconds, node: process.version, created: new Date().toISOString(),
  };
  fs.writeFileSync(path.join(tmp, "build.json"), JSON.stringify(build, null, 1) + "\n");

  // swap into place: old folder aside, new one in, old one removed
  const old = `${outDir}.old-${process.pid}`;
  if (fs.existsSync(outDir)) fs.renameSync(outDir, old);
  fs.renameSync(tmp, outDir);
  fs.rmSync(old, { recursive: true, force: true });
  log(`corpus written to ${outDir} in ${seconds.toFixed(0)} s`);
  return { outDir, skipped: false, inputHash: hash, stats, contamination, seconds };
}
