/**
 * scripts/ft-ceiling.ts (experiment 8): fine-tune a base folder on a task's train file, score it 0-shot
 * on the in-domain test set against the majority baseline; a second call reuses the fine-tuned folder
 * and the stored score; bad arguments are one-line errors.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { tinyModelWorkspace } from "../kernel-lib/test/fixtures";

const root = path.resolve(__dirname, "..");
const tsx = path.join(root, "node_modules", ".bin", "tsx");
let base = "", work = "";

before(async () => {
  ({ work, base } = await tinyModelWorkspace("ftgen-ceiling-", { ctx: 128, seed: 1 }));
});

// tinyModelWorkspace points FTGEN_MANIFEST / FTGEN_DATA_DIR at the fixture; the child inherits them.
const ceiling = (args: string[]) => spawnSync(tsx, [path.join(root, "scripts", "ft-ceiling.ts"), ...args], { cwd: root, encoding: "utf8", env: process.env, timeout: 300_000 });

test("ft-ceiling fine-tunes, scores 0-shot against the majority baseline, and reuses both on a rerun", () => {
  const out = path.join(work, "ceiling");
  const args = [base, "--tasks", "sentiment", "--items", "5", "--epochs", "1", "--lr", "0.01", "--out", out];
  const first = ceiling(args);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /sentiment: fine-tuned on 1 examples, 1 steps/);
  // The fixture's amazon test file: 4 scored rows (one blank input is excluded), 3 positive.
  const line = first.stdout.split("\n").find((l) => l.startsWith("sentiment (amazon) after FT"));
  assert.ok(line, first.stdout);
  const m = /0-shot map 0, (\d+) items: accuracy ([\d.]+) \[([\d.]+), ([\d.]+)\]; majority \("positive"\) 0\.750: (above it|not above it)$/.exec(line);
  assert.ok(m, line);
  assert.equal(Number(m[1]), 4);
  const acc = Number(m[2]);
  assert.ok([0, 0.25, 0.5, 0.75, 1].includes(acc), `accuracy of 4 items: ${acc}`);
  assert.equal(m[5], Number(m[3]) > 0.75 ? "above it" : "not above it");
  const dir = path.join(out, "sentiment-lr0.01-e1");
  const rec = JSON.parse(fs.readFileSync(path.join(dir, "training.json"), "utf8"));
  assert.equal(rec.recipe, "ft");
  assert.equal(rec.trainFile, "sentiment/amazon_train_2000.json");
  assert.equal(rec.train.lr, 0.01);

  const again = ceiling(args);
  assert.equal(again.status, 0, again.stderr);
  assert.doesNotMatch(again.stdout, /fine-tuned on/);
  assert.ok(again.stdout.includes(line), again.stdout);
});

test("ft-ceiling refuses an unknown task, a bad number and a bad --train in one line", () => {
  const badTask = ceiling([base, "--tasks", "sentiment,poetry"]);
  assert.equal(badTask.status, 1);
  assert.equal(badTask.stderr.trim(), `--tasks: unknown task "poetry" (one of summary, question, sentiment, detection, inference)`);
  const badLr = ceiling([base, "--lr", "fast"]);
  assert.equal(badLr.status, 1);
  assert.equal(badLr.stderr.trim(), `--lr must be a positive number, got "fast"`);
  const badTrain = ceiling([base, "--train", "web"]);
  assert.equal(badTrain.status, 1);
  assert.equal(badTrain.stderr.trim(), `--train must be paper or multitask, got "web"`);
  const generation = ceiling([base, "--train", "multitask", "--tasks", "summary"]);
  assert.equal(generation.status, 1);
  assert.equal(generation.stderr.trim(), "--train multitask: no multitask kind stands in for summary (one of sentiment, detection, inference)");
});
