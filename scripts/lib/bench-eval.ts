/**
 * The evaluation stage, timed per engine: the base model's 0-shot and k-shot scoring on every test
 * set (map 0, the paper's shot lists, the default profile's field cap, BENCH_ITEMS items), run by each engine
 * in turn through the same evaluate(). The scores must agree; the times are what `engine: "auto"`
 * is chosen by.
 */
import { TASKS, paperTasks, testSets } from "../../kernel-lib/src/data/tasks";
import { evaluate, type EvalSpec } from "../../kernel-lib/src/evaluate/evaluate";
import type { CausalLM } from "../../kernel-lib/src/evaluate/lm";
import { PROFILES } from "../../kernel-lib/src/study/profile";
import type { StoredResult } from "../../kernel-lib/src/study/store";

export interface EngineTiming {
  engine: string;
  evaluations: number;
  prompts: number;
  seconds: number;
  promptsPerSecond: number;
  /** Seconds on classification and on generation evaluations. */
  classificationSeconds: number;
  generationSeconds: number;
}

/**
 * Items per test set: the first 100 of the default profile's 250, so that the three engines' runs
 * (plain wasm is the slowest) fit in minutes; the ratios are what the bench is for.
 */
export const BENCH_ITEMS = 100;

/** The evaluations: every test set × the paper's shot list, map 0 (or only in-domain sets with `inDomainOnly`). */
export function evalSpecs(opts: { inDomainOnly?: boolean; items?: number } = {}): EvalSpec[] {
  const p = PROFILES.default;
  return paperTasks().flatMap((task) => (opts.inDomainOnly ? [TASKS[task].inDomain] : testSets(task)).flatMap((dataset) =>
    TASKS[task].shots.map((k) => ({ task, dataset, k, map: 0 as const, limit: opts.items ?? BENCH_ITEMS, fieldTokenCap: p.fieldTokenCap, batchSize: 16 }))));
}

/** Runs `specs` on one engine; returns the timing and each evaluation's score. */
export async function timeEngine(lm: CausalLM, specs: readonly EvalSpec[], log: (s: string) => void = () => undefined): Promise<{ timing: EngineTiming; scores: number[] }> {
  const scores: number[] = [];
  let prompts = 0, cls = 0, gen = 0;
  const t0 = Date.now();
  for (const spec of specs) {
    const t = Date.now();
    const r = await evaluate(lm, spec);
    const s = (Date.now() - t) / 1000;
    if (TASKS[spec.task].kind === "generation") gen += s; else cls += s;
    scores.push(r.value);
    prompts += r.n;
    log(`  ${lm.engine}: ${spec.dataset} k=${spec.k} ${r.metric} ${r.value.toFixed(4)} (${s.toFixed(2)} s)`);
  }
  const seconds = (Date.now() - t0) / 1000;
  return { timing: { engine: lm.engine, evaluations: specs.length, prompts, seconds, promptsPerSecond: prompts / seconds, classificationSeconds: cls, generationSeconds: gen }, scores };
}

/**
 * The study's own evaluation stage, from its stored records (each keeps its engine and seconds):
 * per engine, the records, items scored and the seconds they took (summed over worker processes,
 * which run side by side, so this is compute time, not wall time).
 */
export function storedEvaluationTimes(records: readonly StoredResult[]): Record<string, { records: number; items: number; seconds: number; itemsPerSecond: number }> {
  const out: Record<string, { records: number; items: number; seconds: number; itemsPerSecond: number }> = {};
  for (const r of records) {
    const e = (out[r.engine] ??= { records: 0, items: 0, seconds: 0, itemsPerSecond: 0 });
    e.records++;
    e.items += r.n;
    e.seconds += r.seconds;
  }
  for (const e of Object.values(out)) {
    e.seconds = +e.seconds.toFixed(1);
    e.itemsPerSecond = +(e.items / e.seconds).toFixed(2);
  }
  return out;
}
