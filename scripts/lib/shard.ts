/**
 * The study without notebooks, for clusters: `npm run study -- --profile P --shard i/n` computes a
 * deterministic share of the profile's jobs (kernel-lib/src/study/shards.ts) into a results folder of
 * its own, reusing every record the profile's results folder already holds; `--merge` brings shard
 * folders together (study/merge.ts). Resumable: a shard run again reuses its folder's records and
 * its unfinished models' checkpoints; `--max-minutes` stops starting jobs past a time, so a run fits
 * a scheduler's time limit or a session.
 */
import os from "node:os";
import { writeFileAtomic } from "../../kernel-lib/src/util/atomic";
import path from "node:path";
import { initBackend } from "../../kernel-lib/src/model/backend";
import { registryEntry } from "../../kernel-lib/src/model/registry";
import type { Profile } from "../../kernel-lib/src/study/profile";
import { profilePlan, shardPlan } from "../../kernel-lib/src/study/shards";
import { runOptions } from "../../kernel-lib/src/study/studies";
import { runStudy, trainRecordsFor } from "../../kernel-lib/src/study/runner";
import { ResultStore } from "../../kernel-lib/src/study/store";
import { mergeResults } from "../../kernel-lib/src/study/merge";
import { projectRoot } from "../../kernel-lib/src/util/paths";
import { ensureRegistryModel } from "./get-model";
import { setting } from "../../kernel-lib/src/util/settings";

/** Where a profile's records live: results/ for the committed profiles, else .cache/profiles/<name>/results (FTGEN_RESULTS_DIR wins). */
export function profileResultsDir(p: Profile): string {
  const dir = setting("resultsDir");
  if (dir) return dir;
  return p.name === "default" || p.name === "smollm2" ? path.join(projectRoot(), "results") : path.join(projectRoot(), ".cache", "profiles", p.name, "results");
}

/** Where a profile's shards keep their results by default (study:slurm's --shared). */
export function defaultShardRoot(p: Profile): string {
  return path.join(projectRoot(), ".cache", "shards", p.name);
}

/** Shard `index` of `count`'s own results folder under `root`: <root>/<i>-of-<n>/results (the layout study-array.sbatch writes). */
export function shardResultsDir(root: string, index: number, count: number): string {
  return path.join(root, `${index}-of-${count}`, "results");
}

/** Where a shard run reports its progress: a file beside its results folder (<out>.status.json), read by study:slurm. */
export function shardStatusFile(out: string): string {
  return `${out.replace(/[\\/]+$/, "")}.status.json`;
}

export interface ShardStatus {
  shard: string;
  profile: string;
  state: "running" | "complete" | "stopped";
  /** Evaluations of the shard, and how many have a record. */
  jobs: number;
  done: number;
  host: string;
  updated: string;
}

export interface ShardRun {
  /** Evaluations of the shard, and how many have a record now. */
  jobs: number;
  done: number;
  computed: number;
  seconds: number;
}

/**
 * Computes shard `index` of `count` of profile `p` into `out` (in this process, with the BLAS and
 * onnxruntime thread counts the environment sets; FTGEN_BLAS_THREADS=1 gives the bits of the
 * study's one-thread workers). Returns how far it got.
 */
export async function runShard(p: Profile, index: number, count: number, out: string, opts: {
  deadline?: number; log?: (line: string) => void;
  /** Fine-tuned model folders (default .cache/models; on a cluster, node-local scratch). */
  modelsDir?: string;
  /** Worker processes (default 1: this process); --shard 0/1 with the profile's workers is a one-machine run. */
  workers?: number;
} = {}): Promise<ShardRun> {
  const log = opts.log ?? ((l: string) => console.log(l));
  await initBackend({ quiet: true });
  if (p.model !== "ftgen-base") await ensureRegistryModel(registryEntry(p.model));
  const run = runOptions(p, { workers: opts.workers ?? 1, store: new ResultStore(out, [profileResultsDir(p)]), deadline: opts.deadline, ...(opts.modelsDir ? { modelsDir: opts.modelsDir } : {}) });
  const plan = profilePlan(p);
  const part = shardPlan(plan, index, count, (m) => trainRecordsFor(m, run) ?? m.trainSize ?? 0, p.epochs);
  log(`shard ${index}/${count} of profile "${p.name}": ${part.models.filter((m) => m.method.kind !== "base").length} models to fine-tune, ${part.evals.length} evaluations (${(100 * part.cost / Math.max(1, part.totalCost)).toFixed(0)}% of the plan's estimated work); results in ${path.relative(process.cwd(), out) || "."}`);
  const t0 = Date.now();
  let computed = 0, last = 0, done = 0, lastTrain = 0;
  const status = (state: ShardStatus["state"]): void => writeFileAtomic(shardStatusFile(out), JSON.stringify({
    shard: `${index}/${count}`, profile: p.name, state, jobs: part.evals.length, done, host: os.hostname(), updated: new Date().toISOString(),
  } satisfies ShardStatus) + "\n");
  status("running");
  const records = await runStudy(part, {
    ...run,
    onProgress: (e) => {
      if (e.kind === "train") {
        // A line a minute while a model trains (a SmolLM2 model takes tens of minutes).
        if (Date.now() - lastTrain > 60_000 || e.progress.step === e.progress.totalSteps) {
          lastTrain = Date.now();
          log(`  training ${e.model}: step ${e.progress.step}/${e.progress.totalSteps}, loss ${e.progress.loss.toFixed(3)}, ${e.progress.tokensPerSecond.toFixed(0)} tokens/s`);
        }
      } else if (e.kind === "model" && e.model !== "base") log(`  ${e.cached ? "reused" : "trained"} ${e.model}`);
      else if (e.kind === "weights-differ") log(`  ${e.model}: trained here with weights that differ from the recorded ones (another CPU or thread count)`);
      else if (e.kind === "eval") {
        done++;
        if (!e.record.cached) computed++;
        status("running");
        if (!e.record.cached || Date.now() - last > 30_000) {
          last = Date.now();
          log(`  [${e.done}/${part.evals.length}] ${e.record.model} on ${e.record.spec.dataset} k=${e.record.spec.k} map ${e.record.spec.map}: ${e.record.metric} ${e.record.value.toFixed(3)}${e.record.cached ? " (stored)" : ` in ${e.record.seconds.toFixed(0)} s`}`);
        }
      }
    },
  });
  done = records.length;
  status(done === part.evals.length ? "complete" : "stopped");
  return { jobs: part.evals.length, done, computed, seconds: (Date.now() - t0) / 1000 };
}

/** Merges shard folders into `dest` and prints what it did; errors are one line. */
export function runMerge(sources: readonly string[], dest: string): void {
  const r = mergeResults(sources, dest);
  console.log(`merged ${sources.length} folder(s) into ${path.relative(process.cwd(), dest) || "."}: ${r.added.records} records and ${r.added.models} model entries added, ${r.identical.records} records and ${r.identical.models} model entries already there with the same contents`);
}
