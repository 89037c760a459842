/**
 * A profile's whole study as one plan, and its deterministic split into shards for a cluster.
 *
 *   const plan = profilePlan(PROFILES.smollm2);     // the notebooks' studies, models and evaluations once each
 *   const part = shardPlan(plan, 0, 4);              // shard 0 of 4: whole models with their evaluations
 *
 * A shard owns whole fine-tuned models: it trains each of them and runs all of their evaluations, so
 * no shard waits for another's model and no model folder crosses machines (FT jobs come before the
 * evaluations that need them inside the shard, as runStudy orders them). The base model needs no
 * training, so its evaluations are spread one by one. Units are dealt longest first to the least
 * loaded shard (LPT), by a cost read from the plan alone, so every shard of an array computes the
 * same split with no coordination. Records are keyed by content, so the shards' results folders merge
 * without conflict (merge.ts).
 */
import { TASKS } from "../data/tasks";
import { planStudy, type EvalJob, type ModelJob, type StudyPlan } from "./plan";
import type { Profile } from "./profile";
import { STUDIES, notebookStudy, type NotebookStudy } from "./studies";

/** The studies behind notebooks 01–05 (05 reads 01's records). */
/** Every declared study (declarations/studies), in order: together, a profile's whole study. */
export function notebookStudies(): NotebookStudy[] {
  return Object.keys(STUDIES);
}

const evalId = (e: EvalJob): string => `${e.model}|${e.dataset}|${e.k}|${e.map}`;

/** Plans merged into one: each model and each evaluation once, in first-seen order. */
export function unionPlan(plans: readonly StudyPlan[], name = "union"): StudyPlan {
  if (plans.length === 0) throw new Error("unionPlan: no plans");
  const models = new Map<string, ModelJob>(), evals = new Map<string, EvalJob>();
  for (const p of plans) {
    for (const m of p.models) if (!models.has(m.id)) models.set(m.id, m);
    for (const e of p.evals) if (!evals.has(evalId(e))) evals.set(evalId(e), e);
  }
  // Evaluation specs come from spec-wide settings (items, field cap), which the plans must share.
  const { testItems, fieldTokenCap } = plans[0].spec;
  const odd = plans.find((p) => p.spec.testItems !== testItems || p.spec.fieldTokenCap !== fieldTokenCap);
  if (odd) throw new Error(`unionPlan: study "${odd.spec.name}" scores ${odd.spec.testItems} items at cap ${odd.spec.fieldTokenCap}, "${plans[0].spec.name}" ${testItems} at ${fieldTokenCap}`);
  return { spec: { ...plans[0].spec, name }, models: [...models.values()], evals: [...evals.values()] };
}

/** Every model and evaluation of a profile's notebook studies, once. */
export function profilePlan(p: Profile): StudyPlan {
  return unionPlan(notebookStudies().map((s) => planStudy(notebookStudy(s, p))), `${p.name} (all notebooks)`);
}

/** Relative cost of one evaluation: prompts grow with k; generation decodes up to 60 tokens an item. */
export function evalCost(e: EvalJob, testItems: number): number {
  return testItems * (1 + e.k) * (TASKS[e.task].kind === "generation" ? 6 : 1);
}

/** Relative cost of training a model (in evalCost's units): records seen, longer with demonstrations. */
export function trainCost(m: ModelJob, records: number, epochs: number): number {
  if (m.method.kind === "base") return 0;
  const k = m.method.kind === "fticl" ? m.method.k : 0;
  const task = m.task as NonNullable<ModelJob["task"]>;
  return 2 * records * epochs * (1 + k) * (TASKS[task].kind === "generation" ? 4 : 1);
}

export interface ShardUnit {
  /** The model job (absent for a unit of base evaluations). */
  model?: ModelJob;
  evals: EvalJob[];
  cost: number;
}

/**
 * The plan's units of work: each fine-tuned model with its evaluations, and each evaluation of a
 * model that needs no training. `records(m)`: the train records a model sees (the runner's trainRecordsFor).
 */
export function shardUnits(plan: StudyPlan, records: (m: ModelJob) => number, epochs: number): ShardUnit[] {
  const units: ShardUnit[] = [];
  for (const m of plan.models) {
    const evals = plan.evals.filter((e) => e.model === m.id);
    if (m.method.kind === "base") for (const e of evals) units.push({ evals: [e], cost: evalCost(e, plan.spec.testItems) });
    else units.push({ model: m, evals, cost: trainCost(m, records(m), epochs) + evals.reduce((a, e) => a + evalCost(e, plan.spec.testItems), 0) });
  }
  return units;
}

/** Parses "i/n" (0 ≤ i < n), one line naming the value when it is not one. */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN, count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) throw new Error(`--shard "${text}": expected i/n with 0 ≤ i < n, e.g. 0/4`);
  return { index, count };
}

/**
 * Shard `index` of `count`: the units dealt longest first (ties by plan order) to the least loaded
 * shard (ties to the lowest index). The shards' plans partition the plan's models and evaluations;
 * the base model appears in every shard that has one of its evaluations.
 */
export function shardPlan(plan: StudyPlan, index: number, count: number, records: (m: ModelJob) => number, epochs: number): StudyPlan & { cost: number; totalCost: number } {
  const units = shardUnits(plan, records, epochs).map((u, order) => ({ ...u, order }));
  units.sort((a, b) => b.cost - a.cost || a.order - b.order);
  const load = new Array<number>(count).fill(0);
  const mine: typeof units = [];
  for (const u of units) {
    let s = 0;
    for (let i = 1; i < count; i++) if (load[i] < load[s]) s = i;
    load[s] += u.cost;
    if (s === index) mine.push(u);
  }
  mine.sort((a, b) => a.order - b.order); // plan order inside the shard
  const evalIds = new Set(mine.flatMap((u) => u.evals.map(evalId)));
  const modelIds = new Set(mine.flatMap((u) => (u.model ? [u.model.id] : u.evals.map((e) => e.model))));
  return {
    spec: plan.spec,
    models: plan.models.filter((m) => modelIds.has(m.id)),
    evals: plan.evals.filter((e) => evalIds.has(evalId(e))),
    cost: load[index], totalCost: load.reduce((a, b) => a + b, 0),
  };
}
