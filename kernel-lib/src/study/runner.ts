/**
 * Runs a study plan (plan.ts): fine-tunes the models it needs from the base model, then scores each
 * model on its evaluation jobs through the result store (store.ts). Everything is keyed by what
 * decides it, never by the bits a machine happened to produce:
 *
 *   model     <sha1(recipe)>: the base weights' hash, method, task, train size and record count,
 *             seed, field cap, the full training configuration, the train (and few-shot) files'
 *             blob ids and TRAIN_CODE_VERSION. Its folder is <modelsDir>/<first 24 hex>.
 *   result    <store>/<sha1(model key, eval spec, data blob ids, EVAL_CODE_VERSION)>
 *
 * A model is trained only when one of its records is missing, so a fresh clone with the committed
 * records trains nothing. The weights' hash is a recorded check (results/models/<key>.json): the
 * same recipe gives bit-identical weights on the same machine with the same thread count, and
 * weights that differ in the last bits where OpenBLAS picks other kernels (another CPU) or sums in
 * another order (another thread count); the runner says so when it sees it. A model folder counts as
 * finished once its training.json exists (finetune writes it last); an unfinished one resumes from
 * its checkpoints.
 */
import { fork } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { TASKS } from "../data/tasks";
import { dataFile } from "../data/files";
import { FINETUNE_DEFAULTS, type TrainConfig } from "../train/loop";
import { finetune, LLM_FINETUNE_RECIPES } from "../train/recipes";
import { loadCausalLM } from "../evaluate/engines";
import type { CausalLM } from "../evaluate/lm";
import type { EvalSpec } from "../evaluate/evaluate";
import { TestSet } from "../evaluate/test-set";
import { backendInfo } from "../model/backend";
import { nativeBlasInfo } from "../model/kernels/native-blas";
import { baseModelDir, projectRoot } from "../util/paths";
import { ResultStore, cachedOnly, evaluateCached, folderHash, sha1, stableJson } from "./store";
import { groupBy } from "../util/group";
import { COLLAPSE_SHARE, balancedAccuracy, bestBaseline, predictedLabelShare } from "./baselines";
import { methodName, type EvalJob, type ModelJob, type StudyPlan } from "./plan";
import type { RunEvent, RunOptions, StudyRecord, WorkerMessage, WorkerRequest } from "./run-contract";
import type { TuningName } from "./profile";

export type { RunOptions, RunEvent, StudyRecord } from "./run-contract";

/** Train records a job fine-tunes on: trainLimit, else its share of the train file, else all (undefined). */
export function trainRecordsFor(job: ModelJob, opts: RunOptions): number | undefined {
  if (opts.trainLimit !== undefined) return opts.trainLimit;
  if (opts.trainFraction !== undefined && job.trainSize !== undefined && opts.trainFraction < 1) return Math.max(1, Math.round(job.trainSize * opts.trainFraction));
  return undefined;
}

/**
 * Bump when fine-tuning changes what it computes (example building, the loss, the optimizer): every
 * fine-tuned model's key changes, so its records are recomputed.
 */
export const TRAIN_CODE_VERSION = 1;

/** A job's tuning and training overrides: the recipe its method or the study names, else `train` as it is. */
export function jobTraining(job: ModelJob, opts: RunOptions): { tuning?: (typeof LLM_FINETUNE_RECIPES)[TuningName]["tuning"]; train: Partial<TrainConfig> } {
  const name = (job.method.kind !== "base" ? job.method.tuning : undefined) ?? opts.tuning;
  const recipe = name ? LLM_FINETUNE_RECIPES[name] : undefined;
  return { tuning: recipe?.tuning, train: { ...opts.train, ...recipe?.train, seed: job.seed ?? 0 } };
}

/** Everything that decides a fine-tuned model's weights (its key is the hash of this). */
export function modelRecipe(job: ModelJob, plan: StudyPlan, baseKey: string, opts: RunOptions): Record<string, unknown> {
  const task = job.task as NonNullable<ModelJob["task"]>;
  const ds = TASKS[task].inDomain;
  const { tuning, train } = jobTraining(job, opts);
  return {
    base: baseKey, method: methodName(job.method), task, trainSize: job.trainSize ?? null, records: trainRecordsFor(job, opts) ?? null,
    seed: job.seed ?? 0, fieldTokenCap: plan.spec.fieldTokenCap, train: { ...FINETUNE_DEFAULTS, ...train },
    // Only where a recipe is named, so that the keys of ftgen's full fine-tuning stay as they were.
    ...(tuning ? { tuning } : {}),
    data: { train: dataFile(task, ds, "train", job.trainSize).id, fewShot: job.method.kind === "fticl" ? dataFile(task, ds, "few_shot").id : null },
    code: TRAIN_CODE_VERSION,
  };
}

/** A fine-tuned model's key (the modelKey of its records): sha1 of its recipe. */
export function modelKeyOf(job: ModelJob, plan: StudyPlan, baseKey: string, opts: RunOptions): string {
  return sha1(stableJson(modelRecipe(job, plan, baseKey, opts)));
}

/** The folder a model job trains into, named by its key. */
export function modelFolder(job: ModelJob, plan: StudyPlan, baseKey: string, opts: RunOptions): string {
  return path.join(opts.modelsDir ?? path.join(projectRoot(), ".cache", "models"), modelKeyOf(job, plan, baseKey, opts).slice(0, 24));
}

/** The eval spec of a job under a plan. */
function evalSpec(e: EvalJob, plan: StudyPlan, opts: RunOptions): EvalSpec {
  return { task: e.task, dataset: e.dataset, k: e.k, map: e.map, limit: plan.spec.testItems, fieldTokenCap: plan.spec.fieldTokenCap, batchSize: opts.batchSize };
}

/** Where and how this process trains: what makes the same recipe's weights differ in the last bits. */
export function trainingMachine(): Record<string, string | number> {
  const blas = nativeBlasInfo();
  return { cpu: os.cpus()[0]?.model ?? "unknown", cores: os.cpus().length, blas: blas ? `${blas.core}, ${blas.threads} thread(s)` : backendInfo()?.name ?? "unknown" };
}

/** Fine-tunes (or reuses) the models whose records are missing, then evaluates (or reuses) every job; records in plan order. */
export async function runStudy(plan: StudyPlan, opts: RunOptions = {}): Promise<StudyRecord[]> {
  if ((opts.workers ?? 1) > 1 && plan.models.length > 1) return runInWorkers(plan, opts);
  const base = path.resolve(opts.base ?? baseModelDir());
  const baseKey = opts.baseKey ?? folderHash(base);
  const late = (): boolean => opts.deadline !== undefined && Date.now() > opts.deadline;
  const store = opts.store ?? new ResultStore();
  store.removeStaleTemps(); // left by a run killed mid-write
  const evalsOf = groupBy(plan.evals, (e) => e.model);
  // Each model's folder and key (the modelKey of its records).
  const models = new Map<string, { dir: string; key: string }>();
  let modelsDone = 0, evalsDone = 0;
  // Each (test set, k, map) resolved once (its task, files, records, demonstrations) and shared by every model scored on it.
  const testSets = new Map<string, TestSet>();
  const testSet = (e: EvalJob): TestSet => {
    const spec = evalSpec(e, plan, opts);
    const id = stableJson(spec);
    return testSets.get(id) ?? testSets.set(id, new TestSet(spec)).get(id)!;
  };
  /** Scores one model on its evaluation jobs (loading it only when some record is missing). */
  const evaluateModel = async (id: string): Promise<StudyRecord[]> => {
    const out: StudyRecord[] = [];
    if (!models.has(id)) return out; // not reached before the deadline
    const { dir, key: modelKey } = models.get(id) as { dir: string; key: string };
    const job = plan.models.find((m) => m.id === id) as ModelJob;
    let lm: Promise<CausalLM> | undefined; // loaded only when some record is missing
    try {
      for (const e of evalsOf.get(id) ?? []) {
        const ts = testSet(e);
        if (late() && !store.lookup(store.key(modelKey, ts)).record) continue;
        const r = await evaluateCached(() => (lm ??= loadCausalLM(dir, opts.engine ?? "auto", { batchSize: opts.batchSize })), modelKey, ts, store);
        const rec: StudyRecord = { ...r, model: id, method: methodName(job.method), scope: e.scope, trainTask: job.task, trainSize: job.trainSize, seed: job.seed };
        out.push(rec);
        opts.onProgress?.({ kind: "eval", record: rec, done: ++evalsDone, total: plan.evals.length });
      }
    } finally {
      if (lm) (await lm).dispose();
    }
    return out;
  };
  // Each model is trained (where its records are missing) and then scored, so a run stopped between
  // models leaves every model it reached with all of its records.
  const byModel = new Map<string, StudyRecord[]>();
  for (const job of plan.models) {
    if (job.method.kind === "base") {
      models.set(job.id, { dir: base, key: baseKey });
      opts.onProgress?.({ kind: "model", model: job.id, dir: base, cached: true, done: ++modelsDone, total: plan.models.length });
      byModel.set(job.id, await evaluateModel(job.id));
      continue;
    }
    const recipe = modelRecipe(job, plan, baseKey, opts);
    const key = sha1(stableJson(recipe));
    const dir = modelFolder(job, plan, baseKey, opts);
    const folderKey = path.basename(dir);
    const indexed = store.model(folderKey);
    const finished = fs.existsSync(path.join(dir, "training.json"));
    // A record whose items file fails its check counts as missing (evaluateCached says so, and recomputes it).
    const missing = (evalsOf.get(job.id) ?? []).filter((e) => !store.lookup(store.key(key, testSet(e))).record);
    models.set(job.id, { dir, key });
    if (finished) {
      const weightsHash = folderHash(dir);
      if (!indexed?.weightsHash) {
        // Trained by a run that stopped before indexing it (killed after training.json): its summary from training.json.
        const t = JSON.parse(fs.readFileSync(path.join(dir, "training.json"), "utf8")) as { examples?: number; steps?: number; seconds?: number; losses?: number[] };
        store.putModel(folderKey, {
          ...indexed, id: job.id, modelKey: key, recipe, weightsHash,
          ...(indexed ? {} : { examples: t.examples, steps: t.steps, finalLoss: t.losses?.[t.losses.length - 1], seconds: t.seconds }),
        });
      }
      else if (indexed.weightsHash !== weightsHash) opts.onProgress?.({ kind: "weights-differ", model: job.id, dir, recorded: indexed.weightsHash, found: weightsHash });
    } else if (missing.length > 0) {
      // Past the deadline nothing new starts: its stored records (and later models') are still read.
      if (late()) {
        byModel.set(job.id, await evaluateModel(job.id));
        continue;
      }
      // A fresh clone has the records and the model index, not the fine-tuned folders.
      if (cachedOnly()) throw new Error(`${job.id}: not trained yet (no ${path.relative(projectRoot(), dir)}) and ${missing.length} of its records are missing from ${store.dir}; run npm run study first`);
      const t0 = Date.now();
      const r = await finetune({
        base, task: job.task as NonNullable<ModelJob["task"]>, method: job.method.kind, k: job.method.kind === "fticl" ? job.method.k : undefined,
        trainSize: job.trainSize, limit: trainRecordsFor(job, opts), fieldTokenCap: plan.spec.fieldTokenCap, out: dir,
        ...jobTraining(job, opts),
        onProgress: (p) => opts.onProgress?.({ kind: "train", model: job.id, progress: p }),
      });
      const weightsHash = folderHash(dir);
      if (indexed?.weightsHash && indexed.weightsHash !== weightsHash) opts.onProgress?.({ kind: "weights-differ", model: job.id, dir, recorded: indexed.weightsHash, found: weightsHash });
      const res = r.result;
      // What is recorded stays (the stored records came from those weights); a new entry records this run.
      store.putModel(folderKey, {
        id: job.id, modelKey: key, recipe, weightsHash, machine: trainingMachine(),
        examples: r.examples, steps: res.steps, finalLoss: res.losses[res.losses.length - 1] ?? NaN, seconds: (Date.now() - t0) / 1000,
        ...(indexed?.weightsHash ? indexed : {}),
      });
    }
    opts.onProgress?.({ kind: "model", model: job.id, dir, cached: finished || missing.length === 0, done: ++modelsDone, total: plan.models.length });
    byModel.set(job.id, await evaluateModel(job.id));
  }
  // Records in the plan's order of models.
  const records = [...evalsOf.keys()].flatMap((id) => byModel.get(id) ?? []);
  return records;
}

/** runStudy over worker processes: models dealt round robin, records merged back in plan order. */
async function runInWorkers(plan: StudyPlan, opts: RunOptions): Promise<StudyRecord[]> {
  const n = Math.min(opts.workers ?? 1, plan.models.length);
  const store = opts.store ?? new ResultStore();
  const parts: StudyPlan[] = Array.from({ length: n }, (_, w) => {
    const models = plan.models.filter((_, i) => i % n === w);
    const ids = new Set(models.map((m) => m.id));
    return { spec: plan.spec, models, evals: plan.evals.filter((e) => ids.has(e.model)) };
  });
  const ts = __filename.endsWith(".ts");
  const script = path.join(__dirname, ts ? "worker.ts" : "worker.js");
  let evalsDone = 0, modelsDone = 0;
  const results = await Promise.all(parts.map((part) => new Promise<StudyRecord[]>((resolve, reject) => {
    const child = fork(script, [], {
      execArgv: ts ? ["--import", "tsx"] : [],
      env: { ...process.env, FTGEN_BLAS_THREADS: "1", FTGEN_ORT_THREADS: String(Math.max(1, Math.floor(os.cpus().length / n))) },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let records: StudyRecord[] | undefined;
    child.on("message", (m: WorkerMessage) => {
      if (m.kind === "event") {
        const e = m.event;
        if (e.kind === "eval") opts.onProgress?.({ ...e, done: ++evalsDone, total: plan.evals.length });
        else if (e.kind === "model") opts.onProgress?.({ ...e, done: ++modelsDone, total: plan.models.length });
        else opts.onProgress?.(e);
      } else if (m.kind === "done") records = m.records;
      else reject(new Error(`study worker: ${m.message}`));
    });
    child.on("exit", (code, signal) => (records ? resolve(records) : reject(new Error(`study worker exited (${signal ?? code}) before finishing`))));
    const { store: _s, onProgress: _p, workers: _w, ...rest } = opts;
    child.send({ plan: part, opts: { ...rest, storeDir: store.dir, storeReadFrom: store.readFrom } } satisfies WorkerRequest);
  })));
  // Back in plan order.
  const byJob = new Map(results.flat().map((r) => [`${r.model}|${r.spec.dataset}|${r.spec.k}|${r.spec.map}`, r]));
  // (Jobs left past a deadline have no record.)
  return plan.evals.flatMap((e) => byJob.get(`${e.model}|${e.dataset}|${e.k}|${e.map}`) ?? []);
}

/**
 * Rows for a table: one per record, the columns a reader compares, and beside each score what a
 * constant or trivial answer gets (baselines.ts): for classification the balanced accuracy, the most
 * frequent predicted label and its share (flagged at COLLAPSE_SHARE), and the majority label's
 * accuracy; for generation the better of first-N-words and the best fixed output.
 */
export function recordRows(records: readonly StudyRecord[], store = new ResultStore()): Record<string, string | number>[] {
  return records.map((r) => {
    const classification = TASKS[r.spec.task].kind === "classification";
    const items = classification ? store.items(r.key) : [];
    const top = classification ? predictedLabelShare(items) : undefined;
    const b = bestBaseline(r.spec.task, r.spec.dataset, r.spec.limit);
    return {
      ...(r.subject ? { subject: r.subject } : {}),
      model: r.model, method: r.method, trainTask: r.trainTask ?? "", scope: r.scope, testTask: r.spec.task, dataset: r.spec.dataset,
      kind: TASKS[r.spec.task].kind, k: r.spec.k, map: r.spec.map, metric: r.metric, score: r.value, low: r.ci.low, high: r.ci.high, n: r.n,
      "balanced acc.": classification ? balancedAccuracy(items) : "",
      "top label": top ? `${top.label} ${(100 * top.share).toFixed(0)}%${top.share >= COLLAPSE_SHARE ? " (collapsed)" : ""}` : "",
      baseline: b.value, "baseline is": b.name,
      // Prompts that lost their oldest tokens (demonstrations first) to fit the model's context.
      truncated: r.truncatedPrompts > 0 ? `${r.truncatedPrompts} of ${r.n}` : "",
    };
  });
}
