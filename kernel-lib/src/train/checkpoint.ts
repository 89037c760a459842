/**
 * Training checkpoints: weights, optimizer moments and the loop's state, in a folder per step.
 * Each file is written atomically, and `latest.json` is switched to the new folder only once it is
 * complete, so a run killed at any moment resumes from the last whole checkpoint.
 */
import fs from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { loadSafetensors, saveSafetensors, type TensorData } from "../model/safetensors";
import { writeFileAtomic } from "../util/atomic";
import type { AdamW } from "./optim";

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

export async function saveCheckpoint(dir: string, state: TrainerState, variables: ReadonlyMap<string, tf.Variable>, opt: AdamW): Promise<void> {
  const name = `checkpoint-${String(state.step).padStart(7, "0")}`;
  const ckpt = path.join(dir, name);
  fs.mkdirSync(ckpt, { recursive: true });
  const weights = new Map<string, TensorData>();
  for (const [n, v] of variables) weights.set(n, { shape: [...v.shape], data: (await v.data()) as Float32Array });
  saveSafetensors(path.join(ckpt, "weights.safetensors"), weights);
  const os = await opt.state();
  const moments = new Map<string, TensorData>();
  for (const [n, s] of Object.entries(os.moments)) {
    moments.set(`m/${n}`, { shape: s.shape, data: s.m });
    moments.set(`v/${n}`, { shape: s.shape, data: s.v });
  }
  saveSafetensors(path.join(ckpt, "optimizer.safetensors"), moments, { metadata: { step: String(os.step) } });
  writeFileAtomic(path.join(ckpt, "state.json"), JSON.stringify(state));
  const latest: Latest = { checkpoint: name, step: state.step, runKey: state.runKey };
  writeFileAtomic(path.join(dir, "latest.json"), JSON.stringify(latest, null, 1) + "\n");
  // Older and unfinished checkpoint folders go once the new one is in place.
  for (const e of fs.readdirSync(dir)) {
    if (e.startsWith("checkpoint-") && e !== name) fs.rmSync(path.join(dir, e), { recursive: true, force: true });
  }
}

/**
 * Restore the latest checkpoint in `dir` into `variables` and `opt`, when it belongs to the same
 * run (`runKey`). Returns the loop state, or null when there is nothing to resume.
 */
export async function loadCheckpoint(dir: string, runKey: string, variables: ReadonlyMap<string, tf.Variable>, opt: AdamW): Promise<TrainerState | null> {
  const latestFile = path.join(dir, "latest.json");
  if (!fs.existsSync(latestFile)) return null;
  const latest = JSON.parse(fs.readFileSync(latestFile, "utf8")) as Latest;
  if (latest.runKey !== runKey) return null;
  const ckpt = path.join(dir, latest.checkpoint);
  const weights = loadSafetensors(path.join(ckpt, "weights.safetensors")).tensors;
  for (const [n, v] of variables) {
    const t = weights.get(n);
    if (!t) throw new Error(`${ckpt}/weights.safetensors: no tensor "${n}"`);
    if (t.shape.join(",") !== v.shape.join(",")) throw new Error(`${ckpt}/weights.safetensors: "${n}" has shape [${t.shape}], the model [${v.shape}]`);
    const value = tf.tensor(t.data, t.shape);
    v.assign(value);
    value.dispose();
  }
  const opts = loadSafetensors(path.join(ckpt, "optimizer.safetensors"));
  const moments: Record<string, { m: Float32Array; v: Float32Array; shape: number[] }> = {};
  for (const [key, t] of opts.tensors) {
    const [kind, ...rest] = key.split("/");
    const n = rest.join("/");
    moments[n] ??= { m: new Float32Array(0), v: new Float32Array(0), shape: t.shape };
    if (kind === "m") moments[n].m = t.data;
    else moments[n].v = t.data;
  }
  opt.load({ step: Number(opts.metadata.step), moments });
  return JSON.parse(fs.readFileSync(path.join(ckpt, "state.json"), "utf8")) as TrainerState;
}
