import { test } from "node:test";
import assert from "node:assert/strict";
import { bootstrapCI, meanCI, percentileSorted, pick } from "../src/metrics/bootstrap";
import { accuracy } from "../src/metrics/classification";

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} vs ${expected}`);

test("percentiles interpolate linearly between order statistics (numpy's default)", () => {
  // x = [1, 2, 3, 4, 10], N = 5, position h = (N - 1) * p = 4p
  const x = [1, 2, 3, 4, 10];
  close(percentileSorted(x, 0), 1, "p=0");      // h = 0
  close(percentileSorted(x, 0.1), 1.4, "p=0.1"); // h = 0.4 -> 1 + 0.4 * (2 - 1)
  close(percentileSorted(x, 0.25), 2, "p=0.25"); // h = 1   -> x[1]
  close(percentileSorted(x, 0.5), 3, "p=0.5");   // h = 2   -> x[2]
  close(percentileSorted(x, 0.9), 7.6, "p=0.9"); // h = 3.6 -> 4 + 0.6 * (10 - 4)
  close(percentileSorted(x, 1), 10, "p=1");      // h = 4
  close(percentileSorted([5], 0.3), 5, "single value");
  assert.throws(() => percentileSorted([], 0.5), /no values/);
  assert.throws(() => percentileSorted(x, 1.5), /\[0, 1\]/);
});

test("one item or constant values give a zero-width interval at the value", () => {
  // n = 1: every resample is [0], so every resampled mean is 7.
  assert.deepEqual(
    { ...meanCI([7], { samples: 50 }), distribution: undefined },
    { estimate: 7, low: 7, mid: 7, high: 7, samples: 50, confidence: 0.95, distribution: undefined },
  );
  const c = meanCI([0.25, 0.25, 0.25, 0.25], { samples: 100, seed: 3 });
  assert.deepEqual([c.estimate, c.low, c.mid, c.high], [0.25, 0.25, 0.25, 0.25]);
});

test("two items {0, 1}: resampled means are 0, 1/2, 1 with probabilities 1/4, 1/2, 1/4", () => {
  // With 4000 resamples about 1000 means are 0, 2000 are 1/2, 1000 are 1. The 2.5th percentile
  // sits at sorted position 0.025 * 3999 ≈ 100, inside the block of zeros; the 97.5th inside the
  // block of ones; the median inside the block of halves.
  const r = meanCI([0, 1], { samples: 4000, seed: "two-point" });
  assert.deepEqual([r.estimate, r.low, r.mid, r.high], [0.5, 0, 0.5, 1]);
  const zeros = r.distribution.filter((v) => v === 0).length;
  assert.ok(zeros > 800 && zeros < 1200, `about a quarter zeros, got ${zeros}`);
});

test("the same seed gives the same interval; another seed another resampling", () => {
  const values = Array.from({ length: 50 }, (_, i) => (i * 37) % 11);
  const a = meanCI(values, { seed: 42, samples: 300 });
  const b = meanCI(values, { seed: 42, samples: 300 });
  const c = meanCI(values, { seed: 43, samples: 300 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.distribution, c.distribution);
  assert.equal(a.estimate, c.estimate);
});

test("a typical case: estimate inside [low, high], width near the normal approximation", () => {
  // 400 items, half correct: mean 0.5, sd 0.5, standard error 0.5 / sqrt(400) = 0.025;
  // a 95% interval is about 0.5 ± 1.96 * 0.025 = [0.451, 0.549].
  const correct = Array.from({ length: 400 }, (_, i) => i % 2);
  const r = meanCI(correct, { seed: 1 });
  assert.equal(r.estimate, 0.5);
  assert.equal(r.samples, 1000);
  assert.equal(r.distribution.length, 1000);
  assert.ok(r.low <= r.estimate && r.estimate <= r.high, `${r.low} <= ${r.estimate} <= ${r.high}`);
  assert.ok(r.low > 0.43 && r.low < 0.47, `low ${r.low}`);
  assert.ok(r.high > 0.53 && r.high < 0.57, `high ${r.high}`);
  assert.ok(r.low <= r.mid && r.mid <= r.high);
  // A wider confidence gives a wider (or equal) interval from the same resamples.
  const r99 = meanCI(correct, { seed: 1, confidence: 0.99 });
  assert.ok(r99.low <= r.low && r99.high >= r.high);
});

test("any statistic of item indices: e.g. accuracy of resampled predictions", () => {
  const pred = ["a", "b", "a", "b"];
  const gold = ["a", "b", "b", "b"];
  const seen: number[][] = [];
  const r = bootstrapCI(
    4,
    (idx) => {
      seen.push(idx.slice());
      return accuracy(pick(pred, idx), pick(gold, idx)).value;
    },
    { samples: 20, seed: 9 },
  );
  // Point estimate on all items: 3 of 4 correct = 0.75, computed on the identity indices.
  assert.equal(r.estimate, 0.75);
  assert.deepEqual(seen[0], [0, 1, 2, 3]);
  assert.equal(seen.length, 21);
  for (const idx of seen) assert.ok(idx.length === 4 && idx.every((i) => Number.isInteger(i) && i >= 0 && i < 4));
});

test("rejects n = 0 and bad options, and non-finite statistics", () => {
  assert.throws(() => bootstrapCI(0, () => 0), /need at least one item/);
  assert.throws(() => meanCI([]), /no values/);
  assert.throws(() => meanCI([1], { samples: 0 }), /samples must be a positive integer/);
  assert.throws(() => meanCI([1], { confidence: 95 }), /confidence must be in \[0, 1\]/);
  assert.throws(() => bootstrapCI(3, (idx) => (idx[0] === 0 && idx[1] === 1 ? 1 : NaN), { samples: 5 }), /returned NaN on resample/);
});

test("pick gathers items by index, with repeats", () => {
  assert.deepEqual(pick(["x", "y", "z"], [2, 0, 2]), ["z", "x", "z"]);
});
