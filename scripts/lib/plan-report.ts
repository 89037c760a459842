/**
 * `npm run study -- --profile P --plan`: what a profile's whole study holds, how much of it is
 * stored, the time the stored part took, and the time the rest should take, from the records
 * themselves. A missing evaluation is estimated from stored evaluations of the same test set, k and
 * map by models of the same method (else by any model, else by the base model); a missing model's
 * training from stored models of the same method, task and size (else the same task). Times are the
 * workers' own (one BLAS thread each); with W workers the wall time is about their sum over W.
 */
import path from "node:path";
import type { Profile } from "../../kernel-lib/src/study/profile";
import { profilePlan } from "../../kernel-lib/src/study/shards";
import { runOptions } from "../../kernel-lib/src/study/studies";
import { methodName, type ModelJob, type StudyPlan } from "../../kernel-lib/src/study/plan";
import { modelFolder, modelKeyOf, type RunOptions } from "../../kernel-lib/src/study/runner";
import { ResultStore, folderHash, type StoredResult } from "../../kernel-lib/src/study/store";
import { baseModelDir } from "../../kernel-lib/src/util/paths";

const mean = (xs: readonly number[]): number | undefined => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);
const hours = (s: number): string => `${(s / 3600).toFixed(1)} h`;

interface Tally { total: number; done: number; seconds: number; estimateSeconds: number; unknown: number }

export interface PlanReport {
  models: { total: number; trained: number; trainSeconds: number; estimateSeconds: number; unknown: number };
  evals: { total: number; stored: number; seconds: number; estimateSeconds: number; unknown: number };
  /** The same, per task: models by the task they train on, evaluations by the test set's task. */
  byTask: { task: string; models: Tally; evals: Tally }[];
}

const tally = (): Tally => ({ total: 0, done: 0, seconds: 0, estimateSeconds: 0, unknown: 0 });

export function planReport(p: Profile, store: ResultStore, plan: StudyPlan = profilePlan(p)): PlanReport {
  const opts: RunOptions = runOptions(p, { store });
  const baseKey = opts.baseKey ?? folderHash(path.resolve(opts.base ?? baseModelDir()));
  const keyOf = (m: ModelJob): string => (m.method.kind === "base" ? baseKey : modelKeyOf(m, plan, baseKey, opts));
  const jobs = new Map(plan.models.map((m) => [m.id, m]));
  const spec = (e: StudyPlan["evals"][number]) => ({ task: e.task, dataset: e.dataset, k: e.k, map: e.map, limit: plan.spec.testItems, fieldTokenCap: plan.spec.fieldTokenCap, batchSize: opts.batchSize });
  const evals = plan.evals.map((e) => {
    const m = jobs.get(e.model)!;
    return { e, m, rec: store.lookup(store.key(keyOf(m), spec(e))).record as StoredResult | undefined };
  });
  const stored = evals.filter((x) => x.rec);
  const like = (pred: (x: (typeof evals)[number]) => boolean) => mean(stored.filter(pred).map((x) => x.rec!.seconds));
  const tasks = new Map<string, { models: Tally; evals: Tally }>();
  const of = (task: string) => tasks.get(task) ?? tasks.set(task, { models: tally(), evals: tally() }).get(task)!;
  for (const x of stored) { const t = of(x.e.task).evals; t.total++; t.done++; t.seconds += x.rec!.seconds; }
  let evalEstimate = 0, evalUnknown = 0;
  for (const x of evals.filter((y) => !y.rec)) {
    const same = (y: (typeof evals)[number]) => y.e.dataset === x.e.dataset && y.e.k === x.e.k && y.e.map === x.e.map;
    const s = like((y) => same(y) && methodName(y.m.method) === methodName(x.m.method)) ?? like((y) => same(y) && y.m.method.kind !== "base") ?? like(same);
    const t = of(x.e.task).evals;
    t.total++;
    if (s === undefined) { evalUnknown++; t.unknown++; }
    else { evalEstimate += s; t.estimateSeconds += s; }
  }
  const trained = plan.models.filter((m) => m.method.kind !== "base").map((m) => ({ m, rec: store.model(path.basename(modelFolder(m, plan, baseKey, opts))) }));
  const done = trained.filter((t) => t.rec?.seconds !== undefined);
  for (const d of done) { const t = of(d.m.task as string).models; t.total++; t.done++; t.seconds += d.rec!.seconds!; }
  let trainEstimate = 0, trainUnknown = 0;
  for (const t of trained.filter((x) => x.rec?.seconds === undefined)) {
    const s = mean(done.filter((d) => methodName(d.m.method) === methodName(t.m.method) && d.m.task === t.m.task && d.m.trainSize === t.m.trainSize).map((d) => d.rec!.seconds!))
      ?? mean(done.filter((d) => d.m.task === t.m.task).map((d) => d.rec!.seconds!));
    const tt = of(t.m.task as string).models;
    tt.total++;
    if (s === undefined) { trainUnknown++; tt.unknown++; }
    else { trainEstimate += s; tt.estimateSeconds += s; }
  }
  return {
    models: { total: trained.length, trained: done.length, trainSeconds: done.reduce((a, d) => a + d.rec!.seconds!, 0), estimateSeconds: trainEstimate, unknown: trainUnknown },
    evals: { total: evals.length, stored: stored.length, seconds: stored.reduce((a, x) => a + x.rec!.seconds, 0), estimateSeconds: evalEstimate, unknown: evalUnknown },
    byTask: [...tasks].map(([task, t]) => ({ task, ...t })),
  };
}

/** Prints the report (npm run study -- --plan). */
export function printPlanReport(p: Profile, store: ResultStore): void {
  const r = planReport(p, store);
  const m = r.models, e = r.evals;
  console.log(`profile "${p.name}": ${p.description}`);
  console.log(`fine-tuned models: ${m.trained} of ${m.total} trained (${hours(m.trainSeconds)}); the other ${m.total - m.trained}: about ${hours(m.estimateSeconds)}${m.unknown ? ` plus ${m.unknown} with nothing like them trained yet` : ""}`);
  console.log(`evaluations: ${e.stored} of ${e.total} stored (${hours(e.seconds)}); the other ${e.total - e.stored}: about ${hours(e.estimateSeconds)}${e.unknown ? ` plus ${e.unknown} with nothing like them stored yet` : ""}`);
  const line = (t: Tally, what: string): string => `${what} ${t.done} of ${t.total} (${hours(t.seconds)}${t.total > t.done ? `; the rest about ${hours(t.estimateSeconds)}${t.unknown ? ` plus ${t.unknown} unknown` : ""}` : ""})`;
  for (const t of r.byTask) console.log(`  ${t.task.padEnd(10)} ${line(t.models, "models")}; ${line(t.evals, "evaluations")}`);
  const total = m.trainSeconds + m.estimateSeconds + e.seconds + e.estimateSeconds;
  console.log(`the whole profile: about ${hours(total)} of worker time (${hours(total / p.workers)} with its ${p.workers} workers), as measured so far`);
}
