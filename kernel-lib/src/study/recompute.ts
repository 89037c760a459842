/**
 * Recomputes a study from scratch beside its stored records, and says how far the new numbers are
 * from them (`npm run study -- --recompute`). Models are trained again into a scratch folder and
 * every record is evaluated again into a scratch store, under the same keys, so each new record
 * meets its stored twin. On the machine and thread count that computed the stored records the two
 * are bit-identical; elsewhere the weights differ in the last bits (other BLAS kernels, other
 * summation order) and scores may move by a few items.
 */
import path from "node:path";
import { ResultStore, type StoredResult } from "./store";
import { runStudy, type RunOptions, type StudyRecord } from "./runner";
import type { StudyPlan } from "./plan";

export interface RecomputedRecord {
  model: string;
  dataset: string;
  k: number;
  map: number;
  metric: string;
  /** The stored value, or undefined where nothing was stored under the key. */
  stored?: number;
  recomputed: number;
  /** recomputed − stored. */
  delta?: number;
  /** Items whose score changed. */
  itemsChanged?: number;
}

export interface RecomputedModel {
  model: string;
  /** The weights' hash recorded with the stored records (results/models), if any. */
  recorded?: string;
  found: string;
  identical: boolean;
}

export interface RecomputeReport {
  records: RecomputedRecord[];
  models: RecomputedModel[];
  /** Largest |delta| over the records that had a stored twin. */
  maxAbsDelta: number;
  /** Records whose value and every item's score equal the stored ones. */
  identicalRecords: number;
}

/**
 * Runs `plans` again into `<scratch>/models` and `<scratch>/results` (reusing what an earlier
 * recompute left there) and compares with `opts.store` (default results/). Nothing stored changes.
 */
export async function recomputeStudy(plans: readonly StudyPlan[], scratch: string, opts: RunOptions = {}): Promise<RecomputeReport> {
  const stored = opts.store ?? new ResultStore();
  const fresh = new ResultStore(path.join(scratch, "results"));
  const out: StudyRecord[] = [];
  for (const plan of plans) out.push(...await runStudy(plan, { ...opts, store: fresh, modelsDir: path.join(scratch, "models") }));
  const seen = new Set<string>();
  const records: RecomputedRecord[] = [];
  for (const r of out) {
    if (seen.has(r.key)) continue;
    seen.add(r.key);
    const old: StoredResult | undefined = stored.lookup(r.key).record; // a stored twin that fails its items check counts as none
    const row: RecomputedRecord = { model: r.model, dataset: r.spec.dataset, k: r.spec.k, map: r.spec.map, metric: r.metric, recomputed: r.value };
    if (old) {
      row.stored = old.value;
      row.delta = r.value - old.value;
      const a = stored.items(r.key), b = fresh.items(r.key);
      row.itemsChanged = b.filter((x, i) => a[i]?.score !== x.score || a[i]?.output !== x.output).length + Math.max(0, a.length - b.length);
    }
    records.push(row);
  }
  const models: RecomputedModel[] = [];
  for (const folder of fresh.modelKeys()) {
    const now = fresh.model(folder)!;
    const then = stored.model(folder);
    models.push({ model: now.id, recorded: then?.weightsHash, found: now.weightsHash ?? "", identical: then?.weightsHash === now.weightsHash });
  }
  const compared = records.filter((r) => r.delta !== undefined);
  return {
    records, models,
    maxAbsDelta: compared.reduce((m, r) => Math.max(m, Math.abs(r.delta!)), 0),
    identicalRecords: compared.filter((r) => r.delta === 0 && r.itemsChanged === 0).length,
  };
}
