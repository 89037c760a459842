/**
 * Seeded percentile-bootstrap confidence intervals. The paper's comparisons (fine-tuned vs
 * base, in-domain vs out-of-domain) are often a few points apart on a few hundred items, so
 * every score in ftgen can carry an interval; seeding makes that interval reproducible.
 *
 * Procedure: draw `samples` resamples of n item indices uniformly with replacement, evaluate
 * the statistic on each, and read percentiles of those values. `mid` is their median, as in
 * rouge_score's BootstrapAggregator (what Hugging Face `evaluate` reports for ROUGE by default).
 * Percentiles use LINEAR interpolation between order statistics — numpy's default
 * (`np.percentile(..., method="linear")`): for sorted values x[0..N-1] and p in [0, 1], take
 * h = (N − 1)·p and return x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]).
 */
import { makeRng } from "../util/random";
import { mean } from "./shared";

export interface BootstrapOptions {
  /** Number of resamples (default 1000, as rouge_score). */
  samples?: number;
  /** Two-sided coverage, in [0, 1] (default 0.95 → 2.5th and 97.5th percentiles). */
  confidence?: number;
  /** Seed for makeRng (default 0). The same seed, n and statistic give the same interval. */
  seed?: number | string;
}

export interface BootstrapResult {
  /** The statistic on all n items (the point estimate to report). */
  estimate: number;
  /** Percentile (1 − confidence)/2 of the resampled statistics. */
  low: number;
  /** Median of the resampled statistics (rouge_score's "mid"). */
  mid: number;
  /** Percentile 1 − (1 − confidence)/2 of the resampled statistics. */
  high: number;
  /** Number of resamples drawn. */
  samples: number;
  confidence: number;
  /** The resampled statistics, in draw order (e.g. for a histogram). */
  distribution: number[];
}

/**
 * Percentile of already-sorted values, p in [0, 1], linear interpolation (numpy's default).
 * Uses numpy's two-sided lerp (from the upper neighbour when the fraction is ≥ 0.5), so the
 * result is monotone in p and hits the data exactly at whole positions.
 */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) throw new Error("percentileSorted: no values");
  if (!(p >= 0 && p <= 1)) throw new Error(`percentileSorted: p must be in [0, 1], got ${p}`);
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const t = h - lo;
  const a = sorted[lo], b = sorted[hi];
  const d = b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/** items[indices[0]], items[indices[1]], … — to build a resampled list inside a statistic. */
export function pick<T>(items: readonly T[], indices: ArrayLike<number>): T[] {
  const out = new Array<T>(indices.length);
  for (let i = 0; i < indices.length; i++) out[i] = items[indices[i]];
  return out;
}

/**
 * Percentile bootstrap CI of any statistic of n items. `stat` receives item indices (a fresh
 * plain array each call; the identity 0..n−1 for the point estimate, a resample otherwise)
 * and must return a finite number. Resamples draw indices with `rng.int(n)` from
 * makeRng(seed), sample after sample, so results are reproducible across runs and platforms.
 */
export function bootstrapCI(n: number, stat: (indices: number[]) => number, opts: BootstrapOptions = {}): BootstrapResult {
  if (!Number.isInteger(n) || n < 1) throw new Error(`bootstrapCI: need at least one item to resample, got n = ${n}`);
  const samples = opts.samples ?? 1000;
  const confidence = opts.confidence ?? 0.95;
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`bootstrapCI: samples must be a positive integer, got ${samples}`);
  if (!(confidence >= 0 && confidence <= 1)) throw new Error(`bootstrapCI: confidence must be in [0, 1], got ${confidence}`);
  const rng = makeRng(opts.seed ?? 0);

  const estimate = stat(Array.from({ length: n }, (_, i) => i));
  if (!Number.isFinite(estimate)) throw new Error(`bootstrapCI: statistic returned ${estimate} on all ${n} items; it must be finite`);
  const distribution = new Array<number>(samples);
  for (let s = 0; s < samples; s++) {
    const idx = new Array<number>(n);
    for (let i = 0; i < n; i++) idx[i] = rng.int(n);
    const v = stat(idx);
    if (!Number.isFinite(v)) throw new Error(`bootstrapCI: statistic returned ${v} on resample ${s}; it must be finite on every resample`);
    distribution[s] = v;
  }
  const sorted = Float64Array.from(distribution).sort();
  const tail = (1 - confidence) / 2;
  return {
    estimate,
    low: percentileSorted(sorted, tail),
    mid: percentileSorted(sorted, 0.5),
    high: percentileSorted(sorted, 1 - tail),
    samples,
    confidence,
    distribution,
  };
}

/** Bootstrap CI of the mean of per-item values (e.g. per-item ROUGE-L F, or 0/1 correctness). */
export function meanCI(values: readonly number[], opts: BootstrapOptions = {}): BootstrapResult {
  if (values.length === 0) throw new Error("meanCI: no values (need at least one item to resample)");
  return bootstrapCI(values.length, (idx) => mean(pick(values, idx)), opts);
}
