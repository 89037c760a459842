/**
 * The claims' statistics: a paired, cell-stratified bootstrap contrast checked against hand-computed
 * values; the verdict rule; and which records each claim pairs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { contrastEffect, judge, judgePerCell, claimCells, claimVerdicts, verdictRows, type Cell, type ItemsOf } from "../src/study/claims";
import type { StudyRecord } from "../src/study/runner";

/** A record with per-item scores (positions 0..n−1) kept beside it. */
function rec(id: string, fields: Partial<StudyRecord> & { dataset: string; task: string; k?: number; map?: 0 | 1 }, scores: number[]): StudyRecord {
  const { dataset, task, k = 0, map = 0, ...rest } = fields;
  return {
    key: id, modelKey: id, model: rest.model ?? id, method: "ft", scope: "in", cached: true, metric: "accuracy", value: scores.reduce((a, b) => a + b, 0) / scores.length,
    ci: { low: 0, mid: 0, high: 1 }, n: scores.length, excluded: 0, truncatedPrompts: 0, seconds: 0, engine: "test",
    spec: { task, dataset, k, map, limit: scores.length, fieldTokenCap: 32 }, items: scores,
    ...rest,
  } as unknown as StudyRecord;
}
const itemsOf: ItemsOf = (r) => ((r as unknown as { items: number[] }).items).map((score, position) => ({ position, score }));

test("contrast: mean over cells of the mean paired difference (hand-computed), items matched by position", () => {
  const a1 = rec("a1", { dataset: "amazon", task: "sentiment" }, [1, 1, 0, 1]);
  const b1 = rec("b1", { dataset: "amazon", task: "sentiment" }, [0, 1, 0, 0]);
  const a2 = rec("a2", { dataset: "xsum", task: "summary" }, [0.5, 0.2]);
  const b2 = rec("b2", { dataset: "xsum", task: "summary" }, [0.1, 0.4, 0.9]); // position 2 has no partner: dropped
  const cells: Cell[] = [
    { label: "A", terms: [{ weight: 1, record: a1 }, { weight: -1, record: b1 }] },
    { label: "B", terms: [{ weight: 1, record: a2 }, { weight: -1, record: b2 }] },
  ];
  const e = contrastEffect(cells, itemsOf);
  // A: diffs 1, 0, 0, 1 → 0.5; B: 0.4, −0.2 → 0.1; effect (0.5 + 0.1) / 2 = 0.3
  assert.ok(Math.abs(e.effect - 0.3) < 1e-12);
  assert.deepEqual(e.cells.map((c) => [c.label, +c.effect.toFixed(12), c.n]), [["A", 0.5, 4], ["B", 0.1, 2]]);
  // Resampled means lie between the extreme cell means: (0 + −0.2)/2 and (1 + 0.4)/2.
  assert.ok(e.low >= -0.1 && e.high <= 0.7 && e.low < 0.3 && e.high > 0.3);
  // Seeded: the same call gives the same interval.
  assert.deepEqual(contrastEffect(cells, itemsOf), e);
  // A constant difference has a zero-width interval.
  const c = contrastEffect([{ label: "C", terms: [{ weight: 1, record: rec("c", { dataset: "d", task: "sentiment" }, [0.7, 0.7, 0.7]) }, { weight: -1, record: rec("d", { dataset: "d", task: "sentiment" }, [0.5, 0.5, 0.5]) }] }], itemsOf);
  assert.ok(Math.abs(c.low - 0.2) < 1e-12 && Math.abs(c.high - 0.2) < 1e-12);
  assert.throws(() => contrastEffect([], itemsOf), /no cells/);
});

test("verdict: the CI wholly on the paper's side, wholly against, or containing zero", () => {
  const cells = [{ label: "x", effect: 0.1, n: 10 }];
  assert.equal(judge("C1", { effect: 0.1, low: 0.02, high: 0.2, cells }, 100).verdict, "reproduced");
  assert.equal(judge("C1", { effect: -0.1, low: -0.2, high: -0.02, cells }, 100).verdict, "not reproduced");
  assert.equal(judge("C1", { effect: 0.1, low: -0.02, high: 0.2, cells }, 100).verdict, "inconclusive at this scale");
  // C3 points down: a negative CI reproduces it.
  const c3 = judge("C3", { effect: -0.1, low: -0.2, high: -0.02, cells: [{ label: "x", effect: -0.1, n: 10 }] }, 100);
  assert.equal(c3.verdict, "reproduced");
  assert.equal(c3.why, "The 95% CI [−0.200, −0.020] lies wholly below zero; 1 of 1 cell point the paper's way.");
  assert.match(judge("C1", { effect: 0.1, low: -0.02, high: 0.2, cells }, 100).why, /contains zero: with 100 items per test set an effect of \+0\.100/);
});

test("claim cells pair the right records: C1 in-domain FT vs base; C5 difference in differences; C6 FTICL at its k; S1 sizes; P1 maps", () => {
  const base0 = rec("base0", { model: "base", method: "base", scope: "base", dataset: "amazon", task: "sentiment" }, [0, 0, 1, 1]);
  const base2 = rec("base2", { model: "base", method: "base", scope: "base", dataset: "amazon", task: "sentiment", k: 2 }, [1, 1, 1, 1]);
  const ft0 = rec("ft0", { model: "ft/s", trainTask: "sentiment", trainSize: 2000, seed: 0, dataset: "amazon", task: "sentiment" }, [1, 1, 1, 0]);
  const ft2 = rec("ft2", { model: "ft/s", trainTask: "sentiment", trainSize: 2000, seed: 0, dataset: "amazon", task: "sentiment", k: 2 }, [1, 1, 1, 1]);
  const ftMap1 = rec("ft0m1", { model: "ft/s", trainTask: "sentiment", trainSize: 2000, seed: 0, dataset: "amazon", task: "sentiment", map: 1 }, [0, 0, 0, 0]);
  const records = [base0, base2, ft0, ft2, ftMap1];
  const c1 = claimCells("C1", records);
  assert.deepEqual(c1.map((c) => c.terms.map((t) => [t.weight, t.record.key])), [[[1, "ft0"], [-1, "base0"]]]);
  // C5 = (base k − base 0) − (FT k − FT 0) = (1 − 0.5) − (1 − 0.75) = 0.25
  const c5 = claimCells("C5", records);
  assert.equal(c5.length, 1);
  assert.ok(Math.abs(contrastEffect(c5, itemsOf).effect - 0.25) < 1e-12);
  const v = claimVerdicts(records, itemsOf, ["C1", "C5", "C6"]);
  assert.deepEqual(v.map((x) => x.claim), ["C1", "C5"], "C6 has no FTICL records: left out");
  assert.ok(Math.abs(v[0].effect - 0.25) < 1e-12); // ft0 − base0 = 0.75 − 0.5
  assert.deepEqual(Object.keys(verdictRows(v)[0]), ["claim", "effect", "95% CI", "cells", "verdict", "why"]);

  // C6: FTICL k=1 against FT, both with 1 demonstration, out of domain, generation.
  const ftX = rec("ftX", { model: "ft/q", trainTask: "question", trainSize: 2000, seed: 0, scope: "out", dataset: "tweetqa", task: "question", k: 1 }, [0.1, 0.2]);
  const ticl = rec("ticl", { model: "fticl1/q", method: "fticl1", trainTask: "question", trainSize: 2000, seed: 0, scope: "out", dataset: "tweetqa", task: "question", k: 1 }, [0.3, 0.2]);
  const ticl0 = rec("ticl0", { model: "fticl1/q", method: "fticl1", trainTask: "question", trainSize: 2000, seed: 0, scope: "out", dataset: "tweetqa", task: "question", k: 0 }, [0.9, 0.9]);
  const c6 = claimCells("C6", [ftX, ticl, ticl0]);
  assert.deepEqual(c6.map((c) => c.terms.map((t) => t.record.key)), [["ticl", "ftX"]]);

  // S1: largest size − smallest size, in-domain.
  const small = rec("small", { model: "ft/s/2000", trainTask: "sentiment", trainSize: 2000, seed: 0, dataset: "amazon", task: "sentiment" }, [0, 1]);
  const mid = rec("mid", { model: "ft/s/4000", trainTask: "sentiment", trainSize: 4000, seed: 0, dataset: "amazon", task: "sentiment" }, [1, 1]);
  const large = rec("large", { model: "ft/s/6000", trainTask: "sentiment", trainSize: 6000, seed: 0, dataset: "amazon", task: "sentiment" }, [1, 1]);
  assert.deepEqual(claimCells("S1", [small, mid, large]).map((c) => c.terms.map((t) => t.record.key)), [["large", "small"]]);

  // P1: generation-FT model on a classification set, map 1 − map 0.
  const g0 = rec("g0", { model: "ft/sum", trainTask: "summary", scope: "cross", dataset: "paws", task: "detection" }, [0, 0]);
  const g1 = rec("g1", { model: "ft/sum", trainTask: "summary", scope: "cross", dataset: "paws", task: "detection", map: 1 }, [1, 0]);
  assert.deepEqual(claimCells("P1", [g0, g1]).map((c) => c.terms.map((t) => [t.weight, t.record.key])), [[[1, "g1"], [-1, "g0"]]]);
});

test("S2 is judged set by set: one set with a clear drop reproduces 'not always'", () => {
  const mk = (name: string, a: number[], b: number[]): Cell => ({ label: name, terms: [{ weight: 1, record: rec(`${name}L`, { dataset: name, task: "sentiment" }, a) }, { weight: -1, record: rec(`${name}S`, { dataset: name, task: "sentiment" }, b) }] });
  const drop = mk("yelp", [0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1]); // every item worse with more data
  const gain = mk("sst2", [1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0]);
  const noisy = mk("qqp", [1, 0, 1, 0], [0, 1, 0, 1]);
  assert.equal(judgePerCell("S2", [drop, gain], itemsOf, 6).verdict, "reproduced");
  assert.equal(judgePerCell("S2", [gain], itemsOf, 6).verdict, "not reproduced");
  assert.equal(judgePerCell("S2", [gain, noisy], itemsOf, 6).verdict, "inconclusive at this scale");
});

test("an effect below one point is inconclusive even when its CI excludes zero", () => {
  const cells = [{ label: "x", effect: 0.002, n: 500 }];
  const v = judge("C6", { effect: 0.002, low: 0.001, high: 0.003, cells }, 500);
  assert.equal(v.verdict, "inconclusive at this scale");
  assert.equal(v.why, "The 95% CI [+0.001, +0.003] excludes zero, but an effect of +0.002 is below 0.01 (one point): too small to call (1 of 1 cell point the paper's way).");
  assert.equal(judge("C6", { effect: 0.02, low: 0.011, high: 0.03, cells }, 500).verdict, "reproduced");
});
