/**
 * `npm run pretrain` end to end on a tiny fixture corpus (documents written here, a tokenizer
 * trained here) and a tiny model: an invocation stopped by its step budget checkpoints, the next
 * resumes and completes, and the model folder it exports loads, with its card and loss curve. The
 * resumed run's weights equal an uninterrupted run's, byte for byte. Bad input fails in one line.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pretrain } from "../scripts/pretrain";
import { fixtureCorpus, recipe } from "./helpers/pretrain-fixture";
import { BpeTokenizer } from "../kernel-lib/src/tokenizer/tokenizer";
import { loadModelFolder } from "../kernel-lib/src/model/folder";
import { SOURCES } from "../kernel-lib/src/pretrain/sources/sources";
import { exportDir, parsePretrainConfig, readPretrainConfig } from "../kernel-lib/src/pretrain/run/recipe-config";
import { DEFAULT_CORPUS_CONFIG } from "../kernel-lib/src/pretrain/corpus/corpus";
import type { ModelCard } from "../kernel-lib/src/pretrain/run/model-card";
import { answerBoundaryMismatches, boundaryCase } from "../kernel-lib/src/prompts/boundary";

test("pretrain: stopped by its step budget, resumed, completed and exported; the same as an uninterrupted run", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-pretrain-"));
  const corpus = path.join(root, "corpus");
  const vocab = fixtureCorpus(corpus);
  const config = path.join(root, "recipe.json");
  fs.writeFileSync(config, JSON.stringify(recipe(vocab)));
  const lines: string[] = [];
  const log = (l: string): void => { lines.push(l); };
  const args = (run: string, out: string, ...more: string[]): string[] => ["--config", config, "--corpus", corpus, "--run", path.join(root, run), "--out", path.join(root, out), ...more];

  const first = await pretrain(args("run", "model", "--max-steps-this-run", "5"), log);
  assert.equal(first.steps, 5);
  assert.equal(first.complete, false);
  assert.equal(first.exported, undefined);
  assert.equal(fs.existsSync(path.join(root, "model")), false);
  assert.equal(JSON.parse(fs.readFileSync(path.join(root, "run", "latest.json"), "utf8")).step, 5); // off the every-3 schedule
  assert.ok(lines.some((l) => /stopped at step 5 of 8 \(step budget\)/.test(l)), lines.join("\n"));

  // --export at any time: a partial model folder from the last checkpoint
  const partial = await pretrain(args("run", "partial", "--export"), log);
  assert.equal(partial.steps, 5);
  const partialCard = JSON.parse(fs.readFileSync(path.join(root, "partial", "model-card.json"), "utf8")) as ModelCard;
  assert.equal(partialCard.status, "partial");
  assert.equal(partialCard.training.steps, 5);

  const second = await pretrain(args("run", "model"), log);
  assert.equal(second.steps, 8);
  assert.equal(second.complete, true);
  assert.ok(lines.some((l) => /training from the checkpoint at step 5 to step 8/.test(l)), lines.join("\n"));

  // the folder loads, with its tokenizer; weights stored as float16
  const dir = path.join(root, "model");
  for (const f of ["config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors", "MODEL_CARD.md", "model-card.json", "loss-curve.json"]) {
    assert.ok(fs.existsSync(path.join(dir, f)), f);
  }
  const loaded = loadModelFolder(dir, { loadTokenizer: (d: string) => BpeTokenizer.load(d) });
  assert.equal(loaded.storedDtype, "F16");
  assert.equal(loaded.config.hidden_size, 32);
  assert.equal(loaded.tokenizer?.vocabSize, vocab);
  loaded.model.dispose();

  const card = JSON.parse(fs.readFileSync(path.join(dir, "model-card.json"), "utf8")) as ModelCard;
  assert.equal(card.status, "complete");
  assert.equal(card.training.steps, 8);
  // 32 inputs a sequence, 4 sequences a step (fewer in an epoch's last batch)
  assert.ok(card.training.tokensSeen % 32 === 0 && card.training.tokensSeen <= 8 * 4 * 32 && card.training.tokensSeen > 7 * 4 * 32 - 4 * 32);
  assert.equal(card.seed, 5);
  assert.ok(card.training.finalLoss > 0 && card.training.finalLoss < Math.log(vocab), `final loss ${card.training.finalLoss}`);
  // three invocations: 0 → 5 (step budget), the export at 5, 5 → 8 (complete)
  assert.deepEqual(card.training.invocations.map((i) => [i.fromStep, i.toStep, i.ended]), [[0, 5, "maxStepsThisRun"], [5, 5, "export"], [5, 8, "complete"]]);
  assert.ok(card.training.invocations.every((i) => i.wallSeconds > 0 && i.machine.cpus > 0 && i.backend.length > 0));
  assert.deepEqual(Object.keys(card.heldout.byKind), ["general", "mt-sentiment", "paper-input"]);
  assert.ok(card.heldout.all.loss > 0 && Number.isFinite(card.heldout.all.perplexity));
  assert.equal(card.corpus.sources.find((s) => s.id === "brown")?.licence, SOURCES.find((s) => s.id === "brown")?.licence);
  assert.ok(card.corpus.sources.some((s) => s.id === "paper:amazon"));
  assert.equal(card.files.dtype, "float16");
  assert.equal(card.files.bytes, fs.statSync(path.join(dir, "model.safetensors")).size);
  const md = fs.readFileSync(path.join(dir, "MODEL_CARD.md"), "utf8");
  assert.match(md, /## Held-out loss/);
  // the tokenizer's pre-tokenizer and its answer boundaries, as prompts/boundary.ts computes them
  const exportedTok = BpeTokenizer.load(dir);
  assert.equal(card.corpus.tokenizerPretokenizer, "llama3");
  assert.deepEqual(card.corpus.answerBoundaryMismatches, answerBoundaryMismatches(exportedTok).map(boundaryCase));
  assert.match(md, /llama3 pre-tokenizer/);
  assert.match(md, /\| steps \| 8 of 8 \|/);

  // the loss curve: one point a step, the steps replayed after the stop not doubled
  const curve = JSON.parse(fs.readFileSync(path.join(dir, "loss-curve.json"), "utf8")) as Record<string, number[]>;
  assert.deepEqual(curve.step, [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(curve.tokens[7], card.training.tokensSeen);
  assert.ok(curve.tokens.every((t, i) => i === 0 || t > curve.tokens[i - 1]));
  assert.equal(curve.loss.length, 8);
  assert.ok(curve.lr[0] < curve.lr[1] && curve.lr[7] < curve.lr[2], `lr ${curve.lr}`); // warmup, then cosine decay

  // an uninterrupted run gives the same weights, byte for byte, and the same curve
  const whole = await pretrain(args("run-whole", "model-whole"), log);
  assert.equal(whole.steps, 8);
  assert.ok(fs.readFileSync(path.join(root, "model-whole", "model.safetensors")).equals(fs.readFileSync(path.join(dir, "model.safetensors"))));
  const wholeCurve = JSON.parse(fs.readFileSync(path.join(root, "model-whole", "loss-curve.json"), "utf8")) as Record<string, number[]>;
  assert.deepEqual(wholeCurve.loss, curve.loss);

  // a finished run whose export is in place does nothing; --export writes the folder again
  const cardBytes = fs.readFileSync(path.join(dir, "model-card.json"));
  const again = await pretrain(args("run", "model"), log);
  assert.equal(again.steps, 8);
  assert.equal(again.complete, true);
  assert.equal(again.result, undefined);
  assert.equal(again.exported, undefined);
  assert.ok(fs.readFileSync(path.join(dir, "model-card.json")).equals(cardBytes));
  const reexport = await pretrain(args("run", "model", "--export"), log);
  assert.equal(reexport.exported, dir);
  assert.ok(fs.readFileSync(path.join(root, "model-whole", "model.safetensors")).equals(fs.readFileSync(path.join(dir, "model.safetensors"))));
});

test("pretrain: continueFrom goes on from another recipe's finished run (weights, moments, data position) to a larger step total", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-pretrain-continue-"));
  const corpus = path.join(root, "corpus");
  const vocab = fixtureCorpus(corpus);
  const first = path.join(root, "first.json"), cont = path.join(root, "continued.json");
  fs.writeFileSync(first, JSON.stringify(recipe(vocab)));
  fs.writeFileSync(cont, JSON.stringify({ ...recipe(vocab, { train: { totalSteps: 12 } }), continueFrom: path.join(root, "run-first") }));
  const lines: string[] = [];
  const log = (l: string): void => { lines.push(l); };
  const args = (config: string, run: string, out: string, ...more: string[]): string[] => ["--config", config, "--corpus", corpus, "--run", path.join(root, run), "--out", path.join(root, out), ...more];

  // an unfinished run cannot be continued
  await pretrain(args(first, "run-first", "model-first", "--max-steps-this-run", "5"), log);
  await assert.rejects(pretrain(args(cont, "run-cont", "model-cont"), log), (e: Error) => /continued\.json: continueFrom: the run in .*run-first is at step 5 of 8; finish it first$/.test(e.message) && !e.message.includes("\n"));
  await pretrain(args(first, "run-first", "model-first"), log);

  const r = await pretrain(args(cont, "run-cont", "model-cont"), log);
  assert.equal(r.steps, 12);
  assert.equal(r.complete, true);
  assert.ok(lines.some((l) => /starting from the finished run in .*run-first \(step 8\)/.test(l)), lines.join("\n"));
  assert.ok(lines.some((l) => /training from the checkpoint at step 8 to step 12/.test(l)), lines.join("\n"));
  const a = JSON.parse(fs.readFileSync(path.join(root, "model-first", "loss-curve.json"), "utf8")) as Record<string, number[]>;
  const b = JSON.parse(fs.readFileSync(path.join(root, "model-cont", "loss-curve.json"), "utf8")) as Record<string, number[]>;
  assert.deepEqual(b.step, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.deepEqual(b.loss.slice(0, 8), a.loss, "the first run's curve is the start of this one");
  // tokens go on from the first run's count; the learning rate at step 9 is the 12-step schedule's (above the 8-step run's end)
  assert.ok(b.tokens[8] > a.tokens[7]);
  assert.ok(b.lr[8] > a.lr[7], `lr ${a.lr[7]} → ${b.lr[8]}`);
  const card = JSON.parse(fs.readFileSync(path.join(root, "model-cont", "model-card.json"), "utf8")) as ModelCard;
  assert.deepEqual(card.training.invocations.map((i) => [i.fromStep, i.toStep, i.ended]), [[0, 5, "maxStepsThisRun"], [5, 8, "complete"], [8, 12, "complete"]]);
  assert.notEqual(card.runKey, JSON.parse(fs.readFileSync(path.join(root, "run-first", "latest.json"), "utf8")).runKey);

  // another model cannot continue it
  const wide = { ...recipe(vocab, { train: { totalSteps: 12 } }), continueFrom: path.join(root, "run-first") } as unknown as { model: Record<string, number> };
  wide.model.intermediate_size = 96;
  fs.writeFileSync(cont, JSON.stringify(wide));
  await assert.rejects(pretrain(args(cont, "run-wide", "model-wide"), log), /continued\.json: continueFrom: model differs from that of the run in .*run-first$/);
});

test("pretrain: bad input fails with one line naming the file and the item", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-pretrain-bad-"));
  const corpus = path.join(root, "corpus");
  const vocab = fixtureCorpus(corpus);
  const config = path.join(root, "recipe.json");
  const quiet = (): void => {};
  const run = (...more: string[]): Promise<unknown> => pretrain(["--config", config, "--corpus", corpus, "--run", path.join(root, "run"), "--out", path.join(root, "out"), ...more], quiet);
  const oneLine = (re: RegExp) => (e: Error): boolean => re.test(e.message) && !e.message.includes("\n");

  fs.writeFileSync(config, JSON.stringify(recipe(vocab, { train: { batchSize: 5 } })));
  await assert.rejects(run(), oneLine(/recipe\.json: train\.batchSize \(5\) must be a multiple of train\.microBatchSize \(2\)/));
  fs.writeFileSync(config, JSON.stringify(recipe(vocab, { train: { lr: "fast" } })));
  await assert.rejects(run(), oneLine(/recipe\.json: train\.lr must be a number \(got "fast"\)/));
  fs.writeFileSync(config, JSON.stringify({ ...recipe(vocab), extra: 1 }));
  await assert.rejects(run(), oneLine(/recipe\.json: unknown field \.extra/));
  fs.writeFileSync(config, JSON.stringify({ ...recipe(vocab), corpus: { pretokenizer: "bert" } }));
  await assert.rejects(run(), oneLine(/recipe\.json: corpus\.pretokenizer must be "llama3" or "gpt2" \(got "bert"\)/));
  fs.writeFileSync(config, "{");
  await assert.rejects(run(), oneLine(/recipe\.json: not valid JSON/));
  fs.writeFileSync(config, JSON.stringify(recipe(vocab + 1)));
  await assert.rejects(run(), oneLine(/recipe\.json: model\.vocab_size is \d+, the corpus tokenizer \(.*tokenizer\.json\) has \d+/));

  fs.writeFileSync(config, JSON.stringify(recipe(vocab)));
  await assert.rejects(run("--export"), oneLine(/no checkpoint to export/));
  await run("--max-steps-this-run", "1");
  // another recipe meets the first one's checkpoint: refused, unless --restart
  fs.writeFileSync(config, JSON.stringify(recipe(vocab, { train: { seed: 6 } })));
  await assert.rejects(run("--max-steps-this-run", "1"), oneLine(/latest\.json: the checkpoint there \(step 1\) belongs to another run .*--restart/));
  const restarted = (await run("--max-steps-this-run", "1", "--restart")) as { steps: number };
  assert.equal(restarted.steps, 1);
  await assert.rejects(run("--max-steps-this-run", "x"), oneLine(/--max-steps-this-run must be a non-negative integer, got "x"/));
  // A command-line budget too short for the recipe's reserve is blamed on the command line, not the recipe.
  await assert.rejects(run("--max-minutes", "0"), oneLine(/^--max-minutes 0 \(command line\) leaves no time to train after the recipe's run\.reserveMinutes \(0\)/));
  await assert.rejects(run("--bogus"), oneLine(/^ftgen: npm run pretrain: Unknown option '--bogus' \(its options: --config VALUE/));

  const lines = fs.readFileSync(path.join(corpus, "train-00000.jsonl"), "utf8").split("\n");
  lines[3] = "{not json";
  fs.writeFileSync(path.join(corpus, "train-00000.jsonl"), lines.join("\n"));
  await assert.rejects(run("--max-steps-this-run", "1"), oneLine(/train-00000\.jsonl:4: not valid JSON/));
});

test("every committed recipe parses, its model's vocabulary matches its tokenizer's, and only the shipped one exports to data/base-model", () => {
  const root = path.resolve(__dirname, "..");
  const dir = path.join(root, "experiments", "pretrain");
  const files = [path.join(root, "data", "base-model.config.json"), ...fs.readdirSync(dir).filter((f) => f.endsWith(".config.json")).map((f) => path.join(dir, f))];
  assert.ok(files.length >= 5, files.join(", "));
  for (const file of files) {
    const config = readPretrainConfig(file);
    const vocab = config.corpus?.vocabSize ?? DEFAULT_CORPUS_CONFIG.vocabSize;
    assert.equal(config.model.vocab_size, vocab, `${path.basename(file)}: model.vocab_size against the corpus tokenizer's`);
    const shipped = path.basename(file) === "base-model.config.json";
    assert.equal(config.export.out === "data/base-model", shipped, `${path.basename(file)}: export.out ${config.export.out}`);
  }
  // A recipe without an export section exports into its run's own folder, never over data/base-model.
  const bare = JSON.parse(fs.readFileSync(files[1], "utf8"));
  delete bare.export;
  const parsed = parsePretrainConfig(bare, "bare recipe");
  assert.equal(parsed.export.out, undefined);
  assert.equal(exportDir(parsed, "/runs/r1", root), "/runs/r1/model");
  assert.equal(exportDir(readPretrainConfig(files[0]), "/runs/r1", root), path.join(root, "data", "base-model"), "the shipped recipe names it");
  assert.equal(exportDir(parsed, "/runs/r1", root, "/elsewhere"), "/elsewhere", "--out wins");
});

test("pretrain: an invocation killed before its first checkpoint is recorded too", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-pretrain-early-"));
  const corpus = path.join(root, "corpus");
  const vocab = fixtureCorpus(corpus);
  const config = path.join(root, "recipe.json");
  fs.writeFileSync(config, JSON.stringify(recipe(vocab, { train: { totalSteps: 600, checkpointEvery: 500 } })));
  const runDir = path.join(root, "run");
  const args = ["--config", config, "--corpus", corpus, "--run", runDir, "--out", path.join(root, "model")];
  const pending = path.join(runDir, "invocation-pending.json");
  const tsx = path.join(__dirname, "..", "node_modules", ".bin", "tsx");
  const child = spawn(tsx, [path.join(__dirname, "..", "scripts", "pretrain.ts"), ...args], { stdio: "ignore", detached: true });
  await new Promise<void>((resolve, reject) => {
    const poll = setInterval(() => {
      if (!fs.existsSync(pending)) return;
      clearInterval(poll);
      process.kill(-child.pid!, "SIGKILL");
      resolve();
    }, 20);
    child.on("exit", () => { clearInterval(poll); reject(new Error("the run ended before it could be killed")); });
  });
  await new Promise((r) => child.on("exit", r));
  assert.ok(!fs.existsSync(path.join(runDir, "latest.json")), "killed before its first checkpoint");
  const lines: string[] = [];
  await pretrain([...args, "--max-steps-this-run", "1"], (l) => lines.push(l));
  const inv = JSON.parse(fs.readFileSync(path.join(runDir, "invocations.json"), "utf8")) as { ended: string; fromStep: number; toStep: number; wallSeconds: number }[];
  assert.equal(inv.length, 2);
  assert.deepEqual([inv[0].ended, inv[0].fromStep, inv[0].toStep], ["killed", 0, 0]);
  assert.deepEqual([inv[1].fromStep, inv[1].toStep], [0, 1]);
  assert.ok(inv[0].wallSeconds > 0);
  assert.ok(lines.some((l) => /did not finish; recorded as killed at its last checkpoint \(step 0/.test(l)), lines.join("\n"));
});

test("pretrain: an invocation killed mid-run is recorded as killed at its last checkpoint, and the card counts its wall time", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-pretrain-kill-"));
  const corpus = path.join(root, "corpus");
  const vocab = fixtureCorpus(corpus);
  const config = path.join(root, "recipe.json");
  fs.writeFileSync(config, JSON.stringify(recipe(vocab, { train: { totalSteps: 600 } })));
  const runDir = path.join(root, "run");
  const args = ["--config", config, "--corpus", corpus, "--run", runDir, "--out", path.join(root, "model")];
  const pending = path.join(runDir, "invocation-pending.json");

  // A real kill: SIGKILL as soon as the first checkpoint's pending record is on disk.
  const tsx = path.join(__dirname, "..", "node_modules", ".bin", "tsx");
  const child = spawn(tsx, [path.join(__dirname, "..", "scripts", "pretrain.ts"), ...args], { stdio: "ignore", detached: true });
  const killedAt = await new Promise<number>((resolve, reject) => {
    const poll = setInterval(() => {
      if (!fs.existsSync(pending)) return;
      const toStep = JSON.parse(fs.readFileSync(pending, "utf8")).toStep as number;
      if (toStep < 3) return; // the record written before the first step: wait for a checkpoint's
      clearInterval(poll);
      process.kill(-child.pid!, "SIGKILL");
      resolve(toStep);
    }, 20);
    child.on("exit", () => { clearInterval(poll); reject(new Error("the run ended before it could be killed")); });
  });
  await new Promise((r) => child.on("exit", r));
  const checkpoint = JSON.parse(fs.readFileSync(path.join(runDir, "latest.json"), "utf8")).step as number;
  assert.ok(killedAt >= 3 && killedAt % 3 === 0 && checkpoint >= killedAt, `pending at ${killedAt}, checkpoint at ${checkpoint}`);

  const lines: string[] = [];
  const done = await pretrain(args, (l) => lines.push(l));
  assert.equal(done.complete, true);
  assert.ok(lines.some((l) => /did not finish; recorded as killed at its last checkpoint/.test(l)), lines.join("\n"));
  assert.equal(fs.existsSync(pending), false);
  const card = JSON.parse(fs.readFileSync(path.join(root, "model", "model-card.json"), "utf8")) as ModelCard;
  const inv = card.training.invocations;
  assert.equal(inv.length, 2);
  assert.equal(inv[0].ended, "killed");
  assert.equal(inv[0].fromStep, 0);
  assert.ok(inv[0].toStep >= killedAt && inv[0].toStep <= checkpoint, `killed record to step ${inv[0].toStep}`);
  assert.ok(inv[0].wallSeconds > 0 && inv[0].trainSeconds > 0 && inv[0].tokens > 0);
  assert.deepEqual([inv[1].fromStep, inv[1].toStep, inv[1].ended, inv[1].index], [checkpoint, 600, "complete", 2]);
  assert.ok(Math.abs(card.training.wallSeconds - (inv[0].wallSeconds + inv[1].wallSeconds)) < 1e-6);
  assert.match(fs.readFileSync(path.join(root, "model", "MODEL_CARD.md"), "utf8"), /\| 1 \| .* \| 0 → \d+ \| .* \| killed \|/);
});
