/**
 * Training checkpoints: weights, optimizer moments and the loop's state, in a folder per step.
 * Each file is written atomically, and `latest.json` is switched to the new folder only once it is
 * complete, so a run killed at any moment resumes from the last whole checkpoint.
 */
import fs from "node:fs";
import path from "node:path";
import type * as tf from "@tensorflow/tfjs";
import { loadSafetensors, saveSafetensors, type TensorData } from "../model/safetensors";
import { writeFileAtomic } from "../util/atomic";
import type { AdamW } from "./optim";
import { tfjsEngine, type EngineSnapshot, type StepEngine } from "./engine";

export interface TrainerState {
  /** Optimizer steps done. */
  step: number;
  /** Loss of every step done. */
  losses: number[];
  /** Input tokens trained on. */
  tokens: number;
  /** Training seconds so far (across resumed runs). */
  seconds: number;
  /** Identity of the run: a checkpoint of another run is never resumed. */
  runKey: string;
}

interface Latest {
  checkpoint: string;
  step: number;
  runKey: string;
}

/** Writes a checkpoint of an engine's snapshot and the loop's state. */
export async function writeCheckpoint(dir: string, state: TrainerState, engine: StepEngine): Promise<void> {
  const name = `checkpoint-${String(state.step).padStart(7, "0")}`;
  const ckpt = path.join(dir, name);
  fs.mkdirSync(ckpt, { recursive: true });
  const snap = await engine.snapshot();
  saveSafetensors(path.join(ckpt, "weights.safetensors"), snap.weights);
  const moments = new Map<string, TensorData>();
  for (const [n, s] of snap.moments) {
    moments.set(`m/${n}`, { shape: s.shape, data: s.m });
    moments.set(`v/${n}`, { shape: s.shape, data: s.v });
  }
  saveSafetensors(path.join(ckpt, "optimizer.safetensors"), moments, { metadata: { step: String(snap.optimizerStep) } });
  writeFileAtomic(path.join(ckpt, "state.json"), JSON.stringify(state));
  const latest: Latest = { checkpoint: name, step: state.step, runKey: state.runKey };
  writeFileAtomic(path.join(dir, "latest.json"), JSON.stringify(latest, null, 1) + "\n");
  // Older and unfinished checkpoint folders go once the new one is in place.
  for (const e of fs.readdirSync(dir)) {
    if (e.startsWith("checkpoint-") && e !== name) fs.rmSync(path.join(dir, e), { recursive: true, force: true });
  }
}

/**
 * Restores the latest checkpoint in `dir` into an engine when it belongs to the same run
 * (`runKey`). Returns the loop state, or null when there is nothing to resume.
 */
export async function readCheckpoint(dir: string, runKey: string, engine: StepEngine): Promise<TrainerState | null> {
  const latestFile = path.join(dir, "latest.json");
  if (!fs.existsSync(latestFile)) return null;
  const latest = JSON.parse(fs.readFileSync(latestFile, "utf8")) as Latest;
  if (latest.runKey !== runKey) return null;
  const ckpt = path.join(dir, latest.checkpoint);
  const weights = loadSafetensors(path.join(ckpt, "weights.safetensors")).tensors;
  const opts = loadSafetensors(path.join(ckpt, "optimizer.safetensors"));
  const moments: EngineSnapshot["moments"] = new Map();
  for (const [key, t] of opts.tensors) {
    const [kind, ...rest] = key.split("/");
    const n = rest.join("/");
    const entry = moments.get(n) ?? { m: new Float32Array(0), v: new Float32Array(0), shape: t.shape };
    if (kind === "m") entry.m = t.data;
    else entry.v = t.data;
    moments.set(n, entry);
  }
  engine.restore({ weights, moments, optimizerStep: Number(opts.metadata.step) }, `${ckpt}/weights.safetensors`);
  return JSON.parse(fs.readFileSync(path.join(ckpt, "state.json"), "utf8")) as TrainerState;
}

/** A tfjs model's variables and its AdamW as an engine (for callers that hold both). */
function tfjsView(variables: ReadonlyMap<string, tf.Variable>, opt: AdamW): StepEngine {
  return tfjsEngine({ variables, batchLoss: () => { throw new Error("checkpoint: a view of weights has no loss"); } }, opt);
}

export async function saveCheckpoint(dir: string, state: TrainerState, variables: ReadonlyMap<string, tf.Variable>, opt: AdamW): Promise<void> {
  await writeCheckpoint(dir, state, tfjsView(variables, opt));
}

/** Restore the latest checkpoint in `dir` into `variables` and `opt` (see readCheckpoint). */
export async function loadCheckpoint(dir: string, runKey: string, variables: ReadonlyMap<string, tf.Variable>, opt: AdamW): Promise<TrainerState | null> {
  return readCheckpoint(dir, runKey, tfjsView(variables, opt));
}
