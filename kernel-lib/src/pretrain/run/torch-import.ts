/**
 * A base model trained by the recipe's PyTorch twin (bench/torch_pretrain.py, `npm run pretrain:gpu`)
 * turned into the same model folder and card that `npm run pretrain` writes (export.ts), after
 * checking that the run is the recipe's: the same corpus and tokenizer (the stream's hashes), model,
 * sequence length, batch, optimizer, schedule and seed, and a finished step count. Every mismatch
 * is a one-line error naming run.json and the field.
 */
import fs from "node:fs";
import path from "node:path";
import { loadModelFolder } from "../../model/folder";
import { BpeTokenizer } from "../../tokenizer/tokenizer";
import { readJsonFile } from "../../util/json";
import { writeBaseModelFolder, projectPath, type CorpusBuild, type CurvePoint } from "./export";
import type { Invocation, Machine, Trainer } from "./model-card";
import type { PretrainConfig } from "./recipe-config";
import { hexDigest } from "../../util/hash";

/** What bench/torch_pretrain.py writes to run.json (the fields read here). */
export interface TorchRun {
  argv?: string[];
  startedAt?: string;
  machine?: Machine;
  cfg: Record<string, unknown>;
  seed: number;
  lr: number;
  batch: number;
  seqLen: number;
  stream: { corpus_input_hash: string; tokenizer_sha1: string; tokens: number };
  torch: string;
  device: string;
  train: { weightDecay: number; maxGradNorm: number; beta1: number; beta2: number; eps: number; minLrRatio: number };
  steps: number;
  totalSteps: number;
  warmup: number;
  tokens: number;
  trainSeconds: number;
  wallSeconds?: number;
  tokensPerSecond: number;
  complete: boolean;
}

export interface TorchImportOptions {
  /** The twin's output folder (run.json, curve.jsonl, config.json, model.safetensors, tokenizer). */
  runDir: string;
  corpusDir: string;
  configFile: string;
  config: PretrainConfig;
  outDir: string;
  log?: (line: string) => void;
}


/** Throws unless the run in `run` is the recipe `config` trained on the corpus in `corpusDir`. */
export function checkTorchRun(run: TorchRun, runFile: string, config: PretrainConfig, build: CorpusBuild, tokenizerSha1: string): void {
  const fail = (what: string): never => { throw new Error(`${runFile}: ${what}`); };
  if (run.complete !== true) fail(`the run did not finish (step ${run.steps} of ${run.totalSteps})`);
  if (run.stream?.corpus_input_hash !== build.inputHash) fail(`trained on corpus ${String(run.stream?.corpus_input_hash).slice(0, 12)}, the corpus folder holds ${build.inputHash.slice(0, 12)}`);
  if (run.stream.tokenizer_sha1 !== tokenizerSha1) fail(`trained with tokenizer ${run.stream.tokenizer_sha1.slice(0, 12)}, the corpus tokenizer is ${tokenizerSha1.slice(0, 12)}`);
  const m = config.model as unknown as Record<string, unknown>;
  for (const k of ["vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "max_position_embeddings", "rms_norm_eps", "rope_theta", "tie_word_embeddings"]) {
    if (run.cfg[k] !== m[k]) fail(`model ${k} is ${JSON.stringify(run.cfg[k])}, the recipe says ${JSON.stringify(m[k])}`);
  }
  const t = config.train;
  const pairs: Array<[string, unknown, unknown]> = [
    ["seqLen", run.seqLen, t.seqLen], ["batch", run.batch, t.batchSize], ["lr", run.lr, t.lr], ["seed", run.seed, t.seed],
    ["totalSteps", run.totalSteps, t.totalSteps], ["warmup", run.warmup, t.warmupSteps],
    ["train.weightDecay", run.train.weightDecay, t.weightDecay], ["train.maxGradNorm", run.train.maxGradNorm, t.maxGradNorm],
    ["train.beta1", run.train.beta1, t.beta1], ["train.beta2", run.train.beta2, t.beta2], ["train.eps", run.train.eps, t.eps],
    ["train.minLrRatio", run.train.minLrRatio, t.minLrRatio],
  ];
  for (const [k, got, want] of pairs) if (got !== want) fail(`${k} is ${JSON.stringify(got)}, the recipe says ${JSON.stringify(want)}`);
}

/** The twin's curve.jsonl (a point every 25 steps) as the card's curve. */
function readTorchCurve(file: string): CurvePoint[] {
  if (!fs.existsSync(file)) throw new Error(`${file}: missing (the twin writes it as it trains)`);
  return fs.readFileSync(file, "utf8").split("\n").filter((l) => l.trim()).map((l, i) => {
    let p: Record<string, unknown>;
    try { p = JSON.parse(l) as Record<string, unknown>; } catch { throw new Error(`${file}: line ${i + 1} is not JSON`); }
    for (const k of ["step", "loss", "lr", "tokens", "elapsed"]) if (typeof p[k] !== "number") throw new Error(`${file}: line ${i + 1} has no number ${k}`);
    return { step: p.step as number, loss: p.loss as number, lr: p.lr as number, tokens: p.tokens as number, elapsed: p.elapsed as number };
  });
}

/** Checks the twin's run against the recipe and writes the model folder with its card; returns the folder. */
export function importTorchRun(opts: TorchImportOptions): string {
  const log = opts.log ?? ((): void => {});
  const runFile = path.join(opts.runDir, "run.json");
  if (!fs.existsSync(runFile)) throw new Error(`${runFile}: missing (not a folder written by bench/torch_pretrain.py)`);
  const run = readJsonFile(runFile) as TorchRun;
  const build = readJsonFile(path.join(opts.corpusDir, "build.json")) as CorpusBuild;
  const tokBytes = fs.readFileSync(path.join(opts.corpusDir, "tokenizer.json"));
  const tokenizerSha1 = hexDigest("sha1", tokBytes);
  checkTorchRun(run, runFile, opts.config, build, tokenizerSha1);
  if (!fs.readFileSync(path.join(opts.runDir, "tokenizer.json")).equals(tokBytes)) throw new Error(`${path.join(opts.runDir, "tokenizer.json")}: not the corpus tokenizer`);

  const { model, tokenizer } = loadModelFolder(opts.runDir, { loadTokenizer: (d) => BpeTokenizer.load(d) });
  try {
    const curve = readTorchCurve(path.join(opts.runDir, "curve.jsonl"));
    // The curve holds every 25th step's loss: the card's "last 100 steps" mean is over the points in them.
    const losses = curve.filter((p) => p.step > run.steps - 100).map((p) => p.loss);
    const machine: Machine = run.machine ?? { cpus: 0, cpuModel: "not recorded by this run", memGiB: 0, platform: "not recorded", node: "Python (not recorded)", gpu: run.device };
    const backend = `PyTorch ${run.torch}, ${run.device}, bf16 autocast`;
    const inv: Invocation = {
      index: 1, startedAt: run.startedAt ?? "not recorded", endedAt: "not recorded", fromStep: 0, toStep: run.steps, trainSeconds: run.trainSeconds,
      wallSeconds: run.wallSeconds ?? run.trainSeconds, tokens: run.tokens, ended: "complete", machine, backend,
    };
    const trainer: Trainer = {
      engine: "torch", script: "bench/torch_pretrain.py", argv: (run.argv ?? []).map(portableArg), torch: run.torch, device: run.device,
      sampling: `windows of ${run.seqLen} + 1 tokens at seeded random offsets of the packed stream (${(run.tokens / run.stream.tokens).toFixed(1)} passes over it)`,
      tokensPerSecond: run.tokensPerSecond,
    };
    const runKey = hexDigest("sha256", JSON.stringify({ trainer: "torch", model: opts.config.model, train: opts.config.train, torch: opts.config.torch ?? null, corpus: build.inputHash, tokenizer: tokenizerSha1 }));
    log(`importing ${projectPath(opts.runDir)}: ${run.steps} steps, ${run.tokens.toLocaleString("en-US")} tokens on ${run.device}`);
    return writeBaseModelFolder({
      outDir: opts.outDir, model, tok: tokenizer!, corpusDir: opts.corpusDir, build, configFile: opts.configFile, config: opts.config, runKey,
      steps: run.steps, tokens: run.tokens, trainSeconds: run.trainSeconds, losses, curve, invocations: [inv], backend, machine, trainer, log,
    });
  } finally {
    model.dispose();
  }
}

/**
 * A command-line argument as the committed card keeps it: an absolute path of the machine that
 * trained (its run folder) would be that machine's, shown in every clone; it keeps only its last part.
 */
export function portableArg(a: string): string {
  return path.isAbsolute(a) ? `<…/${path.basename(a)}>` : a;
}
