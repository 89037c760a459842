/**
 * Kill and resume through `finetune`, on the tiny Llama of the fixtures: a run in a child process is
 * killed with SIGKILL after its first checkpoint and before its end, a second run resumes it, and
 * the result (losses and weights) is bit for bit that of an uninterrupted run with the same seed.
 * Both ways of training: full fine-tuning on tfjs, and LoRA on the native trainer (its adapter,
 * with dropout on, so that the dropout masks' seeds must replay too).
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fetchedFixture, makeTinyModelFolder } from "./fixtures";
import { initBackend } from "../src/model/backend";
import type { FinetuneSpec } from "../src/train/recipes";
import { loadSafetensors } from "../src/model/safetensors";

const root = path.resolve(__dirname, "..", "..");
const child = path.join(__dirname, "finetune-child.ts");

// Six train records of different lengths: batches are bucketed, shuffled per epoch, and (batch 2,
// micro-batch 1) accumulated, so a resume that replayed the wrong batch or step would show.
const TRAIN = [
  { idx: 0, input: "Fine.", output: "positive" },
  { idx: 1, input: "Awful, it broke on the first day.", output: "negative" },
  { idx: 2, input: "Great value.", output: "positive" },
  { idx: 3, input: "Junk. Do not buy it.", output: "negative" },
  { idx: 4, input: "Works well, loved it.", output: "positive" },
  { idx: 5, input: "Okay.", output: "positive" },
];
const TOTAL = 12; // 4 epochs × 3 batches
const EVERY = 3;

let tmp = "", base = "";

before(async () => {
  await initBackend({ quiet: true });
  await fetchedFixture({ "sentiment/amazon_train_2000.json": TRAIN });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-resume-"));
  base = path.join(tmp, "base");
  makeTinyModelFolder(base, { ctx: 128, seed: 1 });
});

function spec(out: string, lora = false): FinetuneSpec {
  return {
    base, task: "sentiment", method: "ft", fieldTokenCap: 32, out,
    train: { epochs: 4, batchSize: 2, microBatchSize: 1, lr: 1e-2, warmupSteps: 2, weightDecay: 0.01, seed: 5, checkpointEvery: EVERY },
    ...(lora ? { tuning: { kind: "lora" as const, lora: { rank: 4, alpha: 8, dropout: 0.1, targetModules: ["q_proj", "v_proj", "down_proj"] as const } } } : {}),
  };
}

interface Exit { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/**
 * Runs finetune-child.ts. `killWhen` is polled every 10 ms with what the child printed so far; when
 * it returns true the child gets SIGKILL.
 */
function runChild(s: FinetuneSpec, opts: { stepDelayMs?: number; killWhen?: (stdout: string) => boolean } = {}): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--import", "tsx", child, JSON.stringify({ ...s, stepDelayMs: opts.stepDelayMs ?? 0 })], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    p.stdout.on("data", (b: Buffer) => { stdout += b.toString(); });
    p.stderr.on("data", (b: Buffer) => { stderr += b.toString(); });
    const timer = opts.killWhen ? setInterval(() => { if (opts.killWhen!(stdout)) { clearInterval(timer); p.kill("SIGKILL"); } }, 10) : undefined;
    p.on("error", reject);
    p.on("close", (code, signal) => { if (timer) clearInterval(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

const readJson = (file: string): Record<string, unknown> => JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;

/** One reference run, one killed run and its resumption, checked against each other; returns the reference folder and the resumed weights. */
async function killAndResume(kind: "full" | "lora", weightsFile: string): Promise<{ ref: string; w: Buffer }> {
  // The reference: one uninterrupted run.
  const ref = path.join(tmp, `ref-${kind}`);
  const whole = await runChild(spec(ref, kind === "lora"));
  assert.equal(whole.code, 0, whole.stderr);
  const refRec = readJson(path.join(ref, "training.json"));
  assert.equal(refRec.steps, TOTAL);
  assert.equal(refRec.resumedFrom, 0);
  const refLosses = refRec.losses as number[];
  assert.equal(refLosses.length, TOTAL);
  assert.ok(refLosses.every(Number.isFinite));

  // The killed run: SIGKILL once a checkpoint exists and at least one step past it is done (and lost).
  const out = path.join(tmp, `out-${kind}`);
  const latestFile = path.join(out, ".checkpoints", "latest.json");
  let ckptStep = 0;
  const killed = await runChild(spec(out, kind === "lora"), {
    stepDelayMs: 150,
    killWhen: (stdout) => {
      if (!fs.existsSync(latestFile)) return false;
      ckptStep = (readJson(latestFile).step as number);
      const steps = [...stdout.matchAll(/^step (\d+)\//gm)].map((m) => Number(m[1]));
      return steps.length > 0 && steps[steps.length - 1] > ckptStep;
    },
  });
  assert.equal(killed.signal, "SIGKILL", `the run was not killed: exit ${killed.code}\n${killed.stdout}${killed.stderr}`);
  assert.doesNotMatch(killed.stdout, /done/);
  assert.ok(!fs.existsSync(path.join(out, "training.json")), "the killed run did not finish");
  assert.ok(!fs.existsSync(path.join(out, weightsFile)));
  const latest = readJson(latestFile);
  assert.ok((latest.step as number) >= EVERY && (latest.step as number) < TOTAL, `checkpoint at step ${latest.step}`);
  assert.ok(fs.existsSync(path.join(out, ".checkpoints", latest.checkpoint as string, "weights.safetensors")));

  // The resumed run, to the end.
  const resumed = await runChild(spec(out, kind === "lora"));
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, new RegExp(`^step ${(latest.step as number) + 1}/${TOTAL}\\n`), "the resumed run starts after the checkpoint");
  const rec = readJson(path.join(out, "training.json"));
  assert.equal(rec.resumedFrom, latest.step);
  assert.equal(rec.steps, TOTAL);
  assert.equal(rec.runKey, refRec.runKey);
  assert.deepEqual(rec.losses, refLosses, "losses of the resumed run");
  const w = fs.readFileSync(path.join(out, weightsFile));
  const refW = fs.readFileSync(path.join(ref, weightsFile));
  assert.ok(w.equals(refW), `${weightsFile} of the resumed run differs from the uninterrupted run's`);
  assert.ok(!fs.existsSync(path.join(out, ".checkpoints")), "checkpoints are removed once the model is saved");
  return { ref, w };
}

test("finetune killed (SIGKILL) after a checkpoint resumes to the uninterrupted run's losses and weights, bit for bit", async () => {
  const { w } = await killAndResume("full", "model.safetensors");
  // And the weights did train: the result is not the base model.
  assert.ok(!w.equals(fs.readFileSync(path.join(base, "model.safetensors"))));
});

test("a LoRA run killed (SIGKILL) after a checkpoint resumes to the uninterrupted run's losses and adapter, bit for bit", async () => {
  const { ref } = await killAndResume("lora", "adapter_model.safetensors");
  assert.ok(!fs.existsSync(path.join(ref, "model.safetensors")), "a LoRA run writes an adapter, not a copy of the base");
  const adapter = loadSafetensors(path.join(ref, "adapter_model.safetensors")).tensors;
  assert.equal(adapter.size, 2 * 2 * 3, "2 layers × 3 target modules × (A, B)");
  // B starts at zero: a trained adapter has moved it.
  const b = adapter.get("base_model.model.model.layers.0.mlp.down_proj.lora_B.weight");
  assert.ok(b && b.data.some((v) => v !== 0));
});
