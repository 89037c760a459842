/**
 * The base model's training run, over as many invocations as it takes:
 *
 *   const r = await runPretrain({ config, configFile, corpusDir, runDir, outDir, startedAt });
 *
 * One invocation reads the corpus folder (shards, tokenizer), packs the documents (seeded order),
 * builds the model from the recipe's seed, resumes from the run folder's checkpoint if there is one
 * of the same run (recipe + corpus), trains until the step total or the invocation's time budget,
 * and stops after a checkpoint. When the last step is done (or with `exportOnly`, from the last
 * checkpoint) it evaluates the held-out documents and writes the model folder: config.json,
 * tokenizer files, model.safetensors, MODEL_CARD.md, model-card.json and loss-curve.json.
 *
 * The run folder holds the loop's checkpoint (latest.json, checkpoint-N/), curve.jsonl (one point
 * a step, appended; steps after the checkpoint are dropped on resume, since they are replayed) and
 * invocations.json (one record an invocation). While an invocation runs, invocation-pending.json
 * holds its record as of its last checkpoint; the next invocation finds it if this one was killed
 * and records it as "killed", so the card's wall time and invocations count every invocation.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { backendInfo, type BackendInfo } from "../../model/backend";
import { LlamaModel, parameterCount } from "../../model/llama";
import { BpeTokenizer } from "../../tokenizer/tokenizer";
import { loadCheckpoint } from "../../train/checkpoint";
import { AdamW } from "../../train/optim";
import { train, type TrainConfig, type TrainResult } from "../../train/loop";
import type { TokenizedExample } from "../../train/examples";
import { writeFileAtomic } from "../../util/atomic";
import { projectRoot } from "../../util/paths";
import { readCorpusJsonl } from "../corpus/corpus";
import { packDocuments, packedExamples } from "../corpus/packing";
import type { PretrainConfig } from "./recipe-config";
import type { Invocation, Machine } from "./model-card";
import { writeBaseModelFolder, type CorpusBuild, type CurvePoint } from "./export";
export { HELDOUT_SAMPLE_FILE, HELDOUT_SAMPLE_SOURCES, type CurvePoint } from "./export";
import { readJsonFile } from "../../util/json";
import { hexDigest } from "../../util/hash";

export interface PretrainOptions {
  config: PretrainConfig;
  /** The recipe file (its path and hash go into the card). */
  configFile: string;
  corpusDir: string;
  runDir: string;
  outDir: string;
  /** Start of this invocation (ms since the epoch): the time budget counts from it. Default now. */
  startedAt?: number;
  /** Overrides config.run.maxMinutes. */
  maxMinutes?: number;
  /** Stop after this many steps (with a checkpoint), whatever the time budget. */
  maxStepsThisRun?: number;
  /** Only write the model folder from the last checkpoint (no training). */
  exportOnly?: boolean;
  /** Discard a checkpoint of another run in runDir instead of refusing. */
  restart?: boolean;
  /** Model name in the card. */
  name?: string;
  log?: (line: string) => void;
}

export interface PretrainOutcome {
  /** Steps done in all, and the run's total. */
  steps: number;
  totalSteps: number;
  complete: boolean;
  /** The model folder, when one was written. */
  exported?: string;
  /** This invocation's training, when it trained. */
  result?: TrainResult;
  runKey: string;
}

/** A point of the loss curve. */


function readJson<T>(file: string): T {
  return readJsonFile(file) as T;
}



export function machineInfo(): Machine {
  const cpus = os.cpus();
  return {
    cpus: cpus.length, cpuModel: cpus[0]?.model.trim() ?? "unknown", memGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`, node: process.version,
  };
}

export function backendLabel(info: BackendInfo | undefined): string {
  if (!info) return "unknown";
  if (info.name !== "wasm") return info.nativePackage ? `${info.name} (${info.nativePackage})` : info.name;
  const wasm = `wasm (${info.simd ? "SIMD" : "no SIMD"}, ${info.threads ?? 1} thread${info.threads === 1 ? "" : "s"})`;
  return info.blas ? `${wasm}, matMul and attention on native OpenBLAS (${info.blas.core}, ${info.blas.threads} threads)` : `${wasm}, matMul in wasm`;
}

/** The loss curve kept in the run folder, up to `step` (later points are dropped: they get replayed). */
export function readCurve(file: string, upTo: number): CurvePoint[] {
  if (!fs.existsSync(file)) return [];
  const byStep = new Map<number, CurvePoint>();
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    let p: CurvePoint;
    try { p = JSON.parse(line) as CurvePoint; } catch { continue; } // a line cut by a kill
    if (Number.isInteger(p.step) && p.step <= upTo) byStep.set(p.step, p);
  }
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

/** The model card of an exported folder, when there is a readable one. */
function exportedCard(outDir: string): { runKey?: string; status?: string } | null {
  try {
    const card = JSON.parse(fs.readFileSync(path.join(outDir, "model-card.json"), "utf8")) as { runKey?: string; status?: string };
    return card.status === "complete" ? card : null;
  } catch {
    return null;
  }
}

function latestStep(runDir: string): { step: number; runKey: string } | null {
  const file = path.join(runDir, "latest.json");
  return fs.existsSync(file) ? readJson<{ step: number; runKey: string }>(file) : null;
}

/**
 * The finished run that `continueFrom` names, checked against this recipe: same model, corpus and
 * packing (seqLen, batchSize, seed decide the data order), and fewer steps than this recipe's total.
 */
function finishedRun(from: string, configFile: string, config: PretrainConfig, corpusHash: string): { runKey: string; step: number } {
  const runFile = path.join(from, "run.json");
  if (!fs.existsSync(runFile)) throw new Error(`${configFile}: continueFrom names ${from}, which holds no run.json (not a pretraining run folder)`);
  const earlier = readJson<{ runKey: string; config: PretrainConfig; corpusInputHash: string }>(runFile);
  const latest = latestStep(from);
  if (!latest || latest.runKey !== earlier.runKey) throw new Error(`${configFile}: continueFrom: ${from} holds no checkpoint of its run`);
  if (latest.step !== earlier.config.train.totalSteps) throw new Error(`${configFile}: continueFrom: the run in ${from} is at step ${latest.step} of ${earlier.config.train.totalSteps}; finish it first`);
  if (JSON.stringify(earlier.config.model) !== JSON.stringify(config.model)) throw new Error(`${configFile}: continueFrom: model differs from that of the run in ${from}`);
  if (earlier.corpusInputHash !== corpusHash) throw new Error(`${configFile}: continueFrom: the run in ${from} trained on another corpus`);
  for (const f of ["seqLen", "batchSize", "seed"] as const) {
    if (earlier.config.train[f] !== config.train[f]) throw new Error(`${configFile}: continueFrom: train.${f} is ${config.train[f]}, the run in ${from} used ${earlier.config.train[f]}`);
  }
  if (config.train.totalSteps <= latest.step) throw new Error(`${configFile}: train.totalSteps (${config.train.totalSteps}) must exceed the ${latest.step} steps of the run in ${from}`);
  return { runKey: earlier.runKey, step: latest.step };
}

/** Copies the finished checkpoint, loss curve and invocation records of `from` into an empty run folder, as this run's. */
function startFromRun(from: string, runDir: string, runKey: string, step: number): void {
  const name = `checkpoint-${String(step).padStart(7, "0")}`;
  const dst = path.join(runDir, name);
  fs.cpSync(path.join(from, name), dst, { recursive: true });
  const state = readJson<Record<string, unknown>>(path.join(dst, "state.json"));
  writeFileAtomic(path.join(dst, "state.json"), JSON.stringify({ ...state, runKey }));
  const curve = readCurve(path.join(from, "curve.jsonl"), step);
  writeFileAtomic(path.join(runDir, "curve.jsonl"), curve.map((p) => JSON.stringify(p)).join("\n") + (curve.length ? "\n" : ""));
  const inv = path.join(from, "invocations.json");
  if (fs.existsSync(inv)) fs.copyFileSync(inv, path.join(runDir, "invocations.json"));
  // Last: latest.json makes the folder a run at `step`.
  writeFileAtomic(path.join(runDir, "latest.json"), JSON.stringify({ checkpoint: name, step, runKey }, null, 1) + "\n");
}

/** Runs (or resumes, or completes) the base model's training; see the module comment. */
export async function runPretrain(opts: PretrainOptions): Promise<PretrainOutcome> {
  const startedAt = opts.startedAt ?? Date.now();
  const log = opts.log ?? ((): void => {});
  const { config } = opts;
  const tc = config.train;
  const corpusDir = path.resolve(opts.corpusDir);
  const runDir = path.resolve(opts.runDir);

  const build = readJson<CorpusBuild>(path.join(corpusDir, "build.json"));
  if (!Array.isArray(build.shards) || typeof build.inputHash !== "string") throw new Error(`${path.join(corpusDir, "build.json")}: expected inputHash and shards`);
  const tokFile = path.join(corpusDir, "tokenizer.json");
  if (!fs.existsSync(tokFile)) throw new Error(`${tokFile}: missing (the corpus folder has no tokenizer)`);
  const tok = BpeTokenizer.load(corpusDir);
  if (tok.vocabSize !== config.model.vocab_size) {
    throw new Error(`${opts.configFile}: model.vocab_size is ${config.model.vocab_size}, the corpus tokenizer (${tokFile}) has ${tok.vocabSize}`);
  }
  // What decides the weights: the model, the training (checkpoint spacing aside), the corpus and its tokenizer.
  const { checkpointEvery: _spacing, ...trainKey } = tc;
  const from = config.continueFrom ? path.resolve(projectRoot(), config.continueFrom) : undefined;
  const fromRun = from ? finishedRun(from, opts.configFile, config, build.inputHash) : undefined;
  const runKey = hexDigest("sha256", JSON.stringify({
    model: config.model, train: trainKey, corpus: build.inputHash, tokenizer: hexDigest("sha1", fs.readFileSync(tokFile)),
    ...(fromRun ? { continues: fromRun.runKey } : {}),
  }));

  fs.mkdirSync(runDir, { recursive: true });
  let latest = latestStep(runDir);
  if (from && fromRun && !latest) {
    startFromRun(from, runDir, runKey, fromRun.step);
    log(`starting from the finished run in ${from} (step ${fromRun.step}): its weights, optimizer moments and data position carry over`);
    latest = latestStep(runDir);
  }
  if (latest && latest.runKey !== runKey) {
    if (!opts.restart) {
      throw new Error(`${path.join(runDir, "latest.json")}: the checkpoint there (step ${latest.step}) belongs to another run (the recipe or the corpus changed); pass --restart to discard it`);
    }
    log(`discarding the checkpoint of another run in ${runDir}`);
    fs.rmSync(runDir, { recursive: true, force: true });
    fs.mkdirSync(runDir, { recursive: true });
  }
  writeFileAtomic(path.join(runDir, "run.json"), JSON.stringify({ runKey, configFile: opts.configFile, config, corpusDir, corpusInputHash: build.inputHash }, null, 1) + "\n");

  const invocationsFile = path.join(runDir, "invocations.json");
  const invocations: Invocation[] = fs.existsSync(invocationsFile) ? readJson<Invocation[]>(invocationsFile) : [];
  // An invocation keeps its record as of its last checkpoint here until it ends; one found here was killed.
  const pendingFile = path.join(runDir, "invocation-pending.json");
  if (fs.existsSync(pendingFile)) {
    const killed: Invocation = { ...readJson<Invocation>(pendingFile), index: invocations.length + 1, ended: "killed" };
    invocations.push(killed);
    writeFileAtomic(invocationsFile, JSON.stringify(invocations, null, 1) + "\n");
    fs.rmSync(pendingFile);
    log(`the invocation started ${killed.startedAt} did not finish; recorded as killed at its last checkpoint (step ${killed.toStep}, ${(killed.wallSeconds / 60).toFixed(1)} min)`);
  }
  const curveFile = path.join(runDir, "curve.jsonl");
  const machine = machineInfo();
  const backend = backendLabel(backendInfo());
  const model = LlamaModel.init(config.model, tc.seed);
  try {
    const done = latestStep(runDir)?.step ?? 0;
    let result: TrainResult | undefined;
    let steps = done;
    const invocation = (ended: Invocation["ended"], fromStep: number, toStep: number, tokens: number, trainSeconds: number): Invocation => ({
      index: invocations.length + 1, startedAt: new Date(startedAt).toISOString(), endedAt: new Date().toISOString(),
      fromStep, toStep, trainSeconds, wallSeconds: (Date.now() - startedAt) / 1000, tokens, ended, machine, backend,
    });
    const record = (ended: Invocation["ended"], fromStep: number, toStep: number, tokens: number, trainSeconds: number): Invocation => {
      const inv = invocation(ended, fromStep, toStep, tokens, trainSeconds);
      invocations.push(inv);
      writeFileAtomic(invocationsFile, JSON.stringify(invocations, null, 1) + "\n");
      fs.rmSync(pendingFile, { force: true });
      return inv;
    };

    if (!opts.exportOnly && done >= tc.totalSteps && exportedCard(opts.outDir)?.runKey === runKey) {
      log(`the run is complete (${done} steps) and ${opts.outDir} holds its export; nothing to do (--export writes it again)`);
      return { steps: done, totalSteps: tc.totalSteps, complete: true, runKey };
    }
    if (opts.exportOnly || done >= tc.totalSteps) {
      if (done === 0) throw new Error(`${runDir}: no checkpoint to export (run npm run pretrain first)`);
      const opt = new AdamW(model.variables);
      const state = await loadCheckpoint(runDir, runKey, model.variables, opt);
      opt.dispose();
      if (!state) throw new Error(`${path.join(runDir, "latest.json")}: no checkpoint of this run`);
      log(`exporting the checkpoint at step ${state.step} of ${tc.totalSteps}`);
      const inv = record("export", done, done, 0, 0);
      const exported = exportModel(opts, model, tok, build, runKey, invocations, inv, readCurve(curveFile, state.step), state.step, state.tokens, state.seconds, state.losses, log);
      return { steps: state.step, totalSteps: tc.totalSteps, complete: state.step >= tc.totalSteps, exported, runKey };
    }

    const examples = packedCorpus(corpusDir, build, tok, tc.seqLen, tc.seed, log);
    if (examples.length < tc.batchSize) throw new Error(`${corpusDir}: ${examples.length} packed sequences, fewer than one batch (${tc.batchSize})`);
    const perEpoch = Math.ceil(examples.length / tc.batchSize);
    const loopCfg: TrainConfig = {
      epochs: Math.ceil(tc.totalSteps / perEpoch), maxSteps: tc.totalSteps, batchSize: tc.batchSize, microBatchSize: tc.microBatchSize,
      lr: tc.lr, warmupSteps: tc.warmupSteps, schedule: "cosine", minLrRatio: tc.minLrRatio, weightDecay: tc.weightDecay,
      maxGradNorm: tc.maxGradNorm, beta1: tc.beta1, beta2: tc.beta2, eps: tc.eps, seed: tc.seed, checkpointEvery: tc.checkpointEvery,
    };

    // The curve up to the checkpoint; the steps after it are replayed and appended again.
    const curve = readCurve(curveFile, done);
    writeFileAtomic(curveFile, curve.map((p) => JSON.stringify(p)).join("\n") + (curve.length ? "\n" : ""));
    const maxMinutes = opts.maxMinutes ?? config.run.maxMinutes;
    const maxSeconds = maxMinutes * 60 - config.run.reserveMinutes * 60 - (Date.now() - startedAt) / 1000;
    if (maxSeconds <= 0 && opts.maxStepsThisRun === undefined) {
      // Name where the budget came from: the command line's --max-minutes, or the recipe's run.maxMinutes.
      const from = opts.maxMinutes !== undefined ? `--max-minutes ${maxMinutes} (command line)` : `${opts.configFile}: run.maxMinutes (${maxMinutes})`;
      throw new Error(`${from} leaves no time to train after the recipe's run.reserveMinutes (${config.run.reserveMinutes}) and the preparation`);
    }
    log(`training ${done > 0 ? `from the checkpoint at step ${done}` : "from scratch"} to step ${tc.totalSteps}` +
      ` (${(parameterCount(config.model) / 1e6).toFixed(2)}M parameters, ${backend}); this invocation stops after ${(Math.max(0, maxSeconds) / 60).toFixed(1)} min of training` +
      (opts.maxStepsThisRun !== undefined ? ` or ${opts.maxStepsThisRun} steps` : ""));
    let lastLog = 0, lastPending = Date.now();
    const t = Date.now();
    const tokensBefore = curve.length ? curve[curve.length - 1].tokens : 0;
    // The pending record: written before the first step (a kill before the first checkpoint is still
    // recorded), at each checkpoint, and each minute for its wall time; its steps are the last checkpoint's.
    let atCheckpoint = { step: done, tokens: 0, trainSeconds: 0 };
    const writePending = (): void => {
      writeFileAtomic(pendingFile, JSON.stringify(invocation("killed", done, atCheckpoint.step, atCheckpoint.tokens, atCheckpoint.trainSeconds), null, 1) + "\n");
      lastPending = Date.now();
    };
    writePending();
    result = await train(model, examples, loopCfg, {
      checkpointDir: runDir, runKey, maxSeconds: Math.max(0, maxSeconds), maxStepsThisRun: opts.maxStepsThisRun,
      onCheckpoint: (state) => {
        atCheckpoint = { step: state.step, tokens: state.tokens - tokensBefore, trainSeconds: (Date.now() - t) / 1000 };
        writePending();
      },
      onProgress: (p) => {
        if (Date.now() - lastPending >= 60_000) writePending();
        const point: CurvePoint = { step: p.step, loss: +p.loss.toFixed(5), lr: +p.lr.toPrecision(5), tokens: p.tokens, elapsed: +p.elapsedSeconds.toFixed(2) };
        fs.appendFileSync(curveFile, JSON.stringify(point) + "\n");
        if (Date.now() - lastLog >= 60_000 || p.step === p.totalSteps || p.step === done + 1) {
          lastLog = Date.now();
          log(`step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)} lr ${p.lr.toExponential(2)} grad-norm ${p.gradNorm.toFixed(2)} ` +
            `${Math.round(p.tokensPerSecond)} tok/s, ${p.tokens.toLocaleString("en-US")} tokens, ${(p.elapsedSeconds / 60).toFixed(1)} min trained, eta ${(p.etaSeconds / 60).toFixed(0)} min`);
        }
      },
    });
    const trainSeconds = (Date.now() - t) / 1000;
    steps = result.steps;
    if (result.stoppedBy) {
      record(result.stoppedBy, done, steps, result.tokens - tokensBefore, trainSeconds);
      log(`stopped at step ${steps} of ${tc.totalSteps} (${result.stoppedBy === "maxSeconds" ? "time budget" : "step budget"}), checkpoint in ${runDir}; run npm run pretrain again to go on`);
      return { steps, totalSteps: tc.totalSteps, complete: false, result, runKey };
    }
    const inv = record("complete", done, steps, result.tokens - tokensBefore, trainSeconds);
    log(`training complete: ${steps} steps, ${result.tokens.toLocaleString("en-US")} tokens`);
    const exported = exportModel(opts, model, tok, build, runKey, invocations, inv, readCurve(curveFile, steps), steps, result.tokens, result.seconds, result.losses, log);
    return { steps, totalSteps: tc.totalSteps, complete: true, exported, result, runKey };
  } finally {
    model.dispose();
  }
}

/**
 * The training shards, tokenized and packed in the seeded document order. In a function of its own
 * so that the texts and per-document ids are garbage once it returns: only the packed buffer stays.
 */
function packedCorpus(corpusDir: string, build: CorpusBuild, tok: BpeTokenizer, seqLen: number, seed: number, log: (l: string) => void): TokenizedExample[] {
  const t = Date.now();
  const ids: number[][] = [];
  for (const s of build.shards) for (const d of readCorpusJsonl(path.join(corpusDir, s))) ids.push(tok.encode(d.text));
  const examples = packedExamples(packDocuments(ids, { seqLen, bosId: tok.bosId, eosId: tok.eosId, seed }));
  log(`packed ${ids.length.toLocaleString("en-US")} documents into ${examples.length.toLocaleString("en-US")} sequences of ${seqLen} + 1 tokens in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return examples;
}


/**
 * Held-out evaluation, then the model folder (export.ts). The invocation's record is completed with
 * the export's time and rewritten before the card counts it.
 */
function exportModel(
  opts: PretrainOptions, model: LlamaModel, tok: BpeTokenizer, build: CorpusBuild, runKey: string, invocations: Invocation[],
  inv: Invocation, curve: CurvePoint[], steps: number, tokens: number, trainSeconds: number, losses: readonly number[], log: (l: string) => void,
): string {
  return writeBaseModelFolder({
    outDir: opts.outDir, name: opts.name, model, tok, corpusDir: opts.corpusDir, build, configFile: opts.configFile, config: opts.config,
    runKey, steps, tokens, trainSeconds, losses, curve, invocations, backend: inv.backend, machine: inv.machine, log,
    beforeCard: () => {
      inv.wallSeconds = (Date.now() - (opts.startedAt ?? Date.now())) / 1000;
      inv.endedAt = new Date().toISOString();
      writeFileAtomic(path.join(path.resolve(opts.runDir), "invocations.json"), JSON.stringify(invocations, null, 1) + "\n");
    },
  });
}
