/**
 * The GPU path of the recipe (`npm run pretrain:gpu`): the corpus as one token stream
 * (scripts/lib/pretrain-stream.ts) is exactly what the recipe packs; a run of the PyTorch twin is checked
 * against the recipe and imported into a model folder whose card names the trainer; mismatches fail
 * in one line. Where Python has PyTorch (Debian's python3-torch; never needed by the study), the twin
 * itself reads our weights to the same held-out loss as kernel-lib, resumes a killed run to the same
 * weights, and trains a model that imports.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fixtureCorpus, recipe } from "./helpers/pretrain-fixture";
import { writeTokenStream } from "../scripts/lib/pretrain-stream";
import { pretrainGpu } from "../scripts/pretrain-gpu";
import { BpeTokenizer } from "../kernel-lib/src/tokenizer/tokenizer";
import { LlamaModel } from "../kernel-lib/src/model/llama";
import { loadModelFolder, saveModelFolder } from "../kernel-lib/src/model/folder";
import { readCorpusJsonl } from "../kernel-lib/src/pretrain/corpus/corpus";
import { heldoutLoss } from "../kernel-lib/src/pretrain/run/heldout";
import { packDocuments } from "../kernel-lib/src/pretrain/corpus/packing";
import { readPretrainConfig } from "../kernel-lib/src/pretrain/run/recipe-config";
import type { ModelCard } from "../kernel-lib/src/pretrain/run/model-card";
import { portableArg, type TorchRun } from "../kernel-lib/src/pretrain/run/torch-import";

const ROOT = path.resolve(__dirname, "..");
const PYTHON = "/usr/bin/python3";
const hasTorch = spawnSync(PYTHON, ["-c", "import torch, numpy"], { encoding: "utf8" }).status === 0;
const sha1 = (file: string): string => crypto.createHash("sha1").update(fs.readFileSync(file)).digest("hex");
const oneLine = (re: RegExp) => (e: Error): boolean => re.test(e.message) && !e.message.includes("\n");

/** A fixture corpus and a recipe for it with a torch section (100 steps, 3 warmup steps). */
function gpuFixture(): { root: string; corpus: string; configFile: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-pretrain-gpu-"));
  const corpus = path.join(root, "corpus");
  const vocab = fixtureCorpus(corpus);
  const configFile = path.join(root, "gpu.json");
  fs.writeFileSync(configFile, JSON.stringify({ ...recipe(vocab, { train: { totalSteps: 100, warmupSteps: 3 } }), torch: { tokens: 1e6, warmupFrac: 0.03, timingSteps: 20 } }));
  return { root, corpus, configFile };
}

test("pretrain-stream: the stream is the recipe's packing, and its held-out cells score the tokens heldout.ts scores", () => {
  const { root, corpus } = gpuFixture();
  const out = path.join(root, "stream");
  const info = writeTokenStream(corpus, out, 5);
  const stream = new Uint16Array(new Uint8Array(fs.readFileSync(path.join(out, "stream.u16"))).buffer);
  assert.equal(stream.length, info.tokens);
  const tok = BpeTokenizer.load(corpus);
  const docs = readCorpusJsonl(path.join(corpus, "train-00000.jsonl")).map((d) => tok.encode(d.text));
  assert.equal(info.documents, docs.length);
  assert.equal(info.tokens, docs.reduce((n, d) => n + d.length + 2, 0));
  // every window the recipe trains on (seed 5, seqLen 32) is the stream at stride 32
  const windows = packDocuments(docs, { seqLen: 32, bosId: tok.bosId, eosId: tok.eosId, seed: 5 });
  assert.ok(windows.length > 5);
  windows.forEach((w, i) => assert.deepEqual([...stream.subarray(i * 32, i * 32 + 33)], [...w], `window ${i}`));
  assert.equal(info.tokenizer_sha1, sha1(path.join(corpus, "tokenizer.json")));
  assert.equal(info.corpus_input_hash, "fixture");
  // held-out cells: (kind, source) groups in file order; each scores its length − 1 tokens
  const cells = (JSON.parse(fs.readFileSync(path.join(out, "heldout.json"), "utf8")) as { cells: Array<{ kind: string; source: string; length: number }> }).cells;
  assert.deepEqual(cells.map((c) => `${c.kind}/${c.source}`), ["general/brown", "mt-sentiment/wink-sentiment", "paper-input/paper:amazon"]);
  const model = LlamaModel.init({ vocab_size: tok.vocabSize, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, max_position_embeddings: 32 }, 1);
  try {
    const report = heldoutLoss(model, tok, readCorpusJsonl(path.join(corpus, "heldout.jsonl")), { seqLen: 32 });
    assert.equal(cells.reduce((n, c) => n + c.length - 1, 0), report.all.tokens);
  } finally {
    model.dispose();
  }
});

test("a recipe's torch section is checked against its train section, in one line", () => {
  const { root, corpus } = gpuFixture();
  const vocab = BpeTokenizer.load(corpus).vocabSize;
  const file = path.join(root, "r.json");
  const write = (torch: unknown, train: Record<string, unknown> = { totalSteps: 100, warmupSteps: 3 }): void => fs.writeFileSync(file, JSON.stringify({ ...recipe(vocab, { train }), torch }));
  write({ tokens: 1e6, warmupFrac: 0.03, timingSteps: 20 });
  assert.deepEqual(readPretrainConfig(file).torch, { tokens: 1e6, warmupFrac: 0.03, timingSteps: 20 });
  write({ tokens: 1e6, warmupFrac: 0.05, timingSteps: 20 });
  assert.throws(() => readPretrainConfig(file), oneLine(/r\.json: train\.warmupSteps must be floor\(torch\.warmupFrac × train\.totalSteps\) = 5 \(got 3\)$/));
  write({ tokens: 1e6, warmupFrac: 0.03, timingSteps: 100 });
  assert.throws(() => readPretrainConfig(file), oneLine(/r\.json: torch\.timingSteps must lie between 10 and train\.totalSteps \(got 100\)$/));
  write({ tokens: 1e6, warmupFrac: 0.03, timingSteps: 20, batch: 64 });
  assert.throws(() => readPretrainConfig(file), oneLine(/r\.json: unknown field torch\.batch/));
  write({ tokens: "many", warmupFrac: 0.03, timingSteps: 20 });
  assert.throws(() => readPretrainConfig(file), oneLine(/r\.json: torch\.tokens must be a number/));
});

/** A folder as bench/torch_pretrain.py leaves it, for a model made here. */
function fakeTorchRun(runDir: string, corpus: string, configFile: string, over: Partial<TorchRun> = {}): LlamaModel {
  const config = readPretrainConfig(configFile);
  const model = LlamaModel.init(config.model, 7);
  saveModelFolder(runDir, model, { dtype: "float16" });
  for (const f of ["tokenizer.json", "tokenizer_config.json"]) fs.copyFileSync(path.join(corpus, f), path.join(runDir, f));
  const t = config.train;
  const run: TorchRun = {
    argv: ["--stream", "s", "--recipe", "gpu.json", "--steps", "100"], startedAt: "2026-11-26T06:00:00Z",
    machine: { cpus: 16, cpuModel: "test CPU", memGiB: 128, platform: "linux x86_64", node: "Python 3.12", gpu: "test GPU" },
    cfg: { ...config.model }, seed: t.seed, lr: t.lr, batch: t.batchSize, seqLen: t.seqLen,
    stream: { corpus_input_hash: "fixture", tokenizer_sha1: sha1(path.join(corpus, "tokenizer.json")), tokens: 5000 },
    torch: "2.11.0+test", device: "test GPU",
    train: { weightDecay: t.weightDecay, maxGradNorm: t.maxGradNorm, beta1: t.beta1, beta2: t.beta2, eps: t.eps, minLrRatio: t.minLrRatio },
    steps: 100, totalSteps: 100, warmup: 3, tokens: 100 * t.batchSize * t.seqLen, trainSeconds: 12.5, wallSeconds: 20, tokensPerSecond: 1024, complete: true,
    ...over,
  };
  fs.writeFileSync(path.join(runDir, "run.json"), JSON.stringify(run));
  fs.writeFileSync(path.join(runDir, "curve.jsonl"), [25, 50, 75, 100].map((s, i) => JSON.stringify({ step: s, loss: 5 - i, lr: 0.01, tokens: s * 128, elapsed: s / 8 })).join("\n") + "\n");
  return model;
}

test("pretrain:gpu --import: the twin's run becomes a model folder whose card names the trainer; a run that is not the recipe's fails in one line", async () => {
  const { root, corpus, configFile } = gpuFixture();
  const runDir = path.join(root, "run");
  const made = fakeTorchRun(runDir, corpus, configFile);
  made.dispose();
  const out = path.join(root, "model");
  const lines: string[] = [];
  const args = (...more: string[]): string[] => ["--import", "--config", configFile, "--corpus", corpus, "--run", runDir, "--out", out, ...more];
  await pretrainGpu(args(), (l) => lines.push(l));
  assert.ok(lines.some((l) => /importing .*run: 100 steps, 12,800 tokens on test GPU/.test(l)), lines.join("\n"));

  const card = JSON.parse(fs.readFileSync(path.join(out, "model-card.json"), "utf8")) as ModelCard;
  assert.equal(card.trainer?.engine, "torch");
  assert.deepEqual(card.trainer?.argv, ["--stream", "s", "--recipe", "gpu.json", "--steps", "100"]);
  // An absolute path of the training machine keeps only its last part in the committed card.
  assert.equal(portableArg("/root/out/a"), "<…/a>");
  assert.equal(portableArg(".gpu/stream"), ".gpu/stream");
  assert.equal(card.machine.gpu, "test GPU");
  assert.equal(card.status, "complete");
  assert.equal(card.training.tokensSeen, 12800);
  assert.equal(card.training.finalLoss, 2);
  assert.equal(card.training.finalLossMean100, (5 + 4 + 3 + 2) / 4); // the curve's points in the last 100 steps (every 25th step)
  assert.equal(card.training.invocations.length, 1);
  assert.match(card.trainer!.sampling, /random offsets of the packed stream \(2\.6 passes over it\)/);
  // the card's held-out loss is kernel-lib's, on the imported weights
  const { model, tokenizer } = loadModelFolder(out, { loadTokenizer: (d) => BpeTokenizer.load(d) });
  try {
    const again = heldoutLoss(model, tokenizer!, readCorpusJsonl(path.join(corpus, "heldout.jsonl")), { seqLen: 32, batchSize: 3 });
    assert.ok(Math.abs(again.all.loss - card.heldout.all.loss) < 1e-6, `${again.all.loss} vs ${card.heldout.all.loss}`);
  } finally {
    model.dispose();
  }
  // experiments/pretrain/heldout-loss.ts (how experiment rows are measured) gives the card's number for the folder
  const json = path.join(root, "heldout.json");
  const cli = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "experiments", "pretrain", "heldout-loss.ts"), out, "--corpus", corpus, "--seq", "32", "--json", json], { encoding: "utf8", cwd: ROOT });
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /^all \d+\.\d{3} nats\/token, \d+\.\d{3} nats\/char/);
  assert.ok(Math.abs((JSON.parse(fs.readFileSync(json, "utf8")) as { all: { loss: number } }).all.loss - card.heldout.all.loss) < 1e-6);
  const md = fs.readFileSync(path.join(out, "MODEL_CARD.md"), "utf8");
  assert.match(md, /on a GPU \(`npm run pretrain:gpu`/);
  assert.match(md, /\| trainer \| `bench\/torch_pretrain\.py --stream s --recipe gpu\.json --steps 100` \(PyTorch 2\.11\.0\+test, test GPU, 1,024 tokens\/s\)/);
  assert.doesNotMatch(md, /micro-batch/);

  const runFile = path.join(runDir, "run.json");
  const bad = async (over: Partial<TorchRun>, re: RegExp): Promise<void> => {
    fakeTorchRun(runDir, corpus, configFile, over).dispose();
    await assert.rejects(pretrainGpu(args(), () => {}), oneLine(re));
  };
  const esc = runFile.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  await bad({ batch: 8 }, new RegExp(`^${esc}: batch is 8, the recipe says 4$`));
  await bad({ complete: false, steps: 40 }, new RegExp(`^${esc}: the run did not finish \\(step 40 of 100\\)$`));
  await bad({ warmup: 4 }, new RegExp(`^${esc}: warmup is 4, the recipe says 3$`));
  await bad({ stream: { corpus_input_hash: "other", tokenizer_sha1: "x", tokens: 1 } }, new RegExp(`^${esc}: trained on corpus other, the corpus folder holds fixture$`));
  fakeTorchRun(runDir, corpus, configFile, { cfg: { ...readPretrainConfig(configFile).model, hidden_size: 64 } }).dispose();
  await assert.rejects(pretrainGpu(args(), () => {}), oneLine(/run\.json: model hidden_size is 64, the recipe says 32$/));

  // a recipe without a torch section, and a Python without PyTorch, are refused in one line
  const plain = path.join(root, "plain.json");
  fs.writeFileSync(plain, JSON.stringify(recipe(BpeTokenizer.load(corpus).vocabSize)));
  await assert.rejects(pretrainGpu(["--config", plain, "--corpus", corpus, "--run", runDir], () => {}), oneLine(/plain\.json: no torch section/));
  await assert.rejects(pretrainGpu(["--config", configFile, "--corpus", corpus, "--run", runDir, "--python", path.join(root, "no-python")], () => {}),
    oneLine(/no-python: PyTorch with a CUDA device is needed to train on a GPU .*pass --import/));
});

test("the PyTorch twin reads kernel-lib's weights to the same held-out loss, and a model it trains imports", { skip: hasTorch ? false : `${PYTHON} has no PyTorch (Debian's python3-torch; only this check needs it)` }, async () => {
  const { root, corpus, configFile } = gpuFixture();
  const stream = path.join(root, "stream");
  writeTokenStream(corpus, stream, 5);
  // kernel-lib's model, read by torch_ref: the same held-out loss
  const config = readPretrainConfig(configFile);
  const model = LlamaModel.init(config.model, 3);
  const tok = BpeTokenizer.load(corpus);
  const folder = path.join(root, "ts-model");
  saveModelFolder(folder, model, { dtype: "float16", tokenizer: tok });
  model.dispose();
  const loaded = loadModelFolder(folder).model;
  let ours: number;
  try {
    ours = heldoutLoss(loaded, tok, readCorpusJsonl(path.join(corpus, "heldout.jsonl")), { seqLen: 32 }).all.loss;
  } finally {
    loaded.dispose();
  }
  const ev = spawnSync(PYTHON, [path.join(ROOT, "bench", "torch_pretrain.py"), "--stream", stream, "--eval", folder, "--device", "cpu"], { encoding: "utf8" });
  assert.equal(ev.status, 0, ev.stderr);
  const theirs = (JSON.parse(ev.stdout) as { all: { loss: number } }).all.loss;
  assert.ok(Math.abs(theirs - ours) < 1e-4, `torch_ref ${theirs} vs kernel-lib ${ours}`);

  // the twin trains the recipe (100 steps on a CPU) and its folder imports
  const runDir = path.join(root, "run");
  const tr = spawnSync(PYTHON, [path.join(ROOT, "bench", "torch_pretrain.py"), "--stream", stream, "--recipe", configFile, "--out", runDir, "--device", "cpu",
    "--batch", "4", "--steps", "100", "--tokens", "1e6", "--warmup-frac", "0.03", "--timing-steps", "20"], { encoding: "utf8" });
  assert.equal(tr.status, 0, tr.stderr);
  const run = JSON.parse(fs.readFileSync(path.join(runDir, "run.json"), "utf8")) as TorchRun;
  assert.equal(run.steps, 100);
  assert.equal(run.warmup, 3);
  // killed after 50 steps (--stop-after stands in for the kill) and run again: the same weights, bit for bit on a CPU
  const split = path.join(root, "run-split");
  const twin = (...more: string[]): ReturnType<typeof spawnSync> => spawnSync(PYTHON, [path.join(ROOT, "bench", "torch_pretrain.py"), "--stream", stream, "--recipe", configFile,
    "--out", split, "--device", "cpu", "--batch", "4", "--steps", "100", "--tokens", "1e6", "--warmup-frac", "0.03", "--timing-steps", "20", ...more], { encoding: "utf8" });
  const first = twin("--stop-after", "50");
  assert.equal(first.status, 0, String(first.stderr));
  assert.match(String(first.stdout), /stopped at step 50 of 100/);
  assert.ok(fs.existsSync(path.join(split, "checkpoint.pt")));
  const second = twin();
  assert.equal(second.status, 0, String(second.stderr));
  assert.match(String(second.stdout), /resuming from .*checkpoint\.pt at step 50 of 100/);
  assert.ok(fs.readFileSync(path.join(split, "model.safetensors")).equals(fs.readFileSync(path.join(runDir, "model.safetensors"))), "resumed weights differ");
  assert.equal(fs.existsSync(path.join(split, "checkpoint.pt")), false);
  const out = path.join(root, "model");
  await pretrainGpu(["--import", "--config", configFile, "--corpus", corpus, "--run", runDir, "--out", out], () => {});
  const card = JSON.parse(fs.readFileSync(path.join(out, "model-card.json"), "utf8")) as ModelCard;
  assert.ok(card.heldout.all.loss < ours - 0.5, `trained ${card.heldout.all.loss} vs untrained ${ours}`);
  assert.ok(Math.abs(card.heldout.all.loss - (run as unknown as { heldout: { all: { loss: number } } }).heldout.all.loss) < 5e-3); // twin: float32 weights in memory; import: the float16 file
});
