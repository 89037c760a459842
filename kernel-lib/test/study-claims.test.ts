/**
 * The claims' statistics: the hierarchical paired bootstrap (contrast.ts) against hand-computed
 * values (means, balanced and prior-corrected accuracy, seeds), Holm's correction, the verdict
 * rules (C5's two halves, S2 per set, collapse), and which records each claim pairs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { claimCells, claimVerdicts, judge, judgePerCell, verdictRows, partRows } from "../src/study/claims";
import { familyOf } from "../src/study/record-keys";
import { contrastEffect, holm, type Cell, type ItemsOf, type ItemLike } from "../src/study/contrast";
import type { StudyRecord } from "../src/study/runner";

type Item = number | { score: number; gold?: string; output?: string; lp?: number[] };

/** A record with per-item rows (positions 0..n−1) kept beside it. */
function rec(id: string, fields: Partial<StudyRecord> & { dataset: string; task: string; k?: number; map?: 0 | 1 }, items: Item[]): StudyRecord {
  const { dataset, task, k = 0, map = 0, ...rest } = fields;
  const rows: ItemLike[] = items.map((x, position) => (typeof x === "number" ? { position, score: x } : { position, score: x.score, gold: x.gold, output: x.output, labelLogProbs: x.lp }));
  return {
    key: id, modelKey: id, model: rest.model ?? id, method: "ft", scope: "in", cached: true, metric: "accuracy", value: rows.reduce((a, b) => a + b.score, 0) / rows.length,
    ci: { low: 0, mid: 0, high: 1 }, n: rows.length, excluded: 0, truncatedPrompts: 0, seconds: 0, engine: "test",
    spec: { task, dataset, k, map, limit: rows.length, fieldTokenCap: 32 }, items: rows,
    ...rest,
  } as unknown as StudyRecord;
}
const itemsOf: ItemsOf = (r) => (r as unknown as { items: ItemLike[] }).items;
const cell = (label: string, task: string, ...terms: [number, StudyRecord[], string?][]): Cell =>
  ({ label, task: task as Cell["task"], terms: terms.map(([weight, records, group]) => ({ weight, records, group: group ?? records[0].key })) });
/** A sentiment item: gold label, predicted label, scored. */
const s = (gold: string, output: string, lp?: number[]): Item => ({ score: gold === output ? 1 : 0, gold, output, lp });

test("contrast: mean over cells of the mean paired difference (hand-computed), items matched by position", () => {
  const a1 = rec("a1", { dataset: "xsum", task: "summary" }, [1, 1, 0, 1]);
  const b1 = rec("b1", { dataset: "xsum", task: "summary" }, [0, 1, 0, 0]);
  const a2 = rec("a2", { dataset: "xsum", task: "summary" }, [0.5, 0.2]);
  const b2 = rec("b2", { dataset: "xsum", task: "summary" }, [0.1, 0.4, 0.9]); // position 2 has no partner: dropped
  const cells = [cell("A", "summary", [1, [a1]], [-1, [b1]]), cell("B", "summary", [1, [a2]], [-1, [b2]])];
  const e = contrastEffect(cells, itemsOf);
  // A: diffs 1, 0, 0, 1 → 0.5; B: 0.4, −0.2 → 0.1; effect (0.5 + 0.1) / 2 = 0.3
  assert.ok(Math.abs(e.effect - 0.3) < 1e-12);
  assert.deepEqual(e.cells.map((c) => [c.label, +c.effect.toFixed(12), c.n, c.seeds]), [["A", 0.5, 4, 1], ["B", 0.1, 2, 1]]);
  assert.ok(e.low >= -0.1 && e.high <= 0.7 && e.low < 0.3 && e.high > 0.3);
  assert.deepEqual(contrastEffect(cells, itemsOf), e, "seeded");
  // A constant difference has a zero-width interval, and p = 1/(samples + 1) on the paper's side.
  const c = contrastEffect([cell("C", "summary", [1, [rec("c", { dataset: "d", task: "summary" }, [0.7, 0.7, 0.7])]], [-1, [rec("d", { dataset: "d", task: "summary" }, [0.5, 0.5, 0.5])]])], itemsOf, { samples: 99 });
  assert.ok(Math.abs(c.low - 0.2) < 1e-12 && Math.abs(c.high - 0.2) < 1e-12);
  assert.equal(c.p, 1 / 100);
  assert.throws(() => contrastEffect([], itemsOf), /no cells/);
});

test("classification is judged in balanced accuracy: a constant answer gets 1/labels whatever the prior", () => {
  // 8 items, 6 positive and 2 negative. "always positive": accuracy 0.75, balanced (1 + 0)/2 = 0.5.
  const gold = ["positive", "positive", "positive", "positive", "positive", "positive", "negative", "negative"];
  const constant = rec("const", { dataset: "amazon", task: "sentiment" }, gold.map((g) => s(g, "positive", [-0.1, -2.3])));
  // A model right on 4 of 6 positives and both negatives: accuracy 6/8, balanced (4/6 + 2/2)/2 = 5/6.
  const model = rec("model", { dataset: "amazon", task: "sentiment" }, gold.map((g, i) => s(g, i < 4 || g === "negative" ? g : "negative", [-1, -1])));
  const c = [cell("amazon", "sentiment", [1, [model]], [-1, [constant]])];
  assert.ok(Math.abs(contrastEffect(c, itemsOf, { metric: "accuracy" }).effect - 0) < 1e-12, "equal in plain accuracy");
  assert.ok(Math.abs(contrastEffect(c, itemsOf).effect - (5 / 6 - 0.5)) < 1e-12, "apart in balanced accuracy");
});

test("prior-corrected accuracy: each label's mean log-probability over the record's items is subtracted before the argmax", () => {
  // The model always prefers "positive" by 1 nat, but less so on the negative items: corrected, it gets them all.
  const gold = ["positive", "positive", "negative", "negative"];
  const lps = [[-0.1, -1.6], [-0.2, -1.7], [-0.6, -1.1], [-0.7, -1.2]]; // mean: [-0.4, -1.4] → corrected margins +0.5, +0.5, −0.5, −0.5
  const m = rec("m", { dataset: "amazon", task: "sentiment" }, gold.map((g, i) => s(g, "positive", lps[i])));
  const zero = rec("z", { dataset: "amazon", task: "sentiment" }, gold.map((g) => s(g, "negative", [-5, -0.01])));
  const c = [cell("amazon", "sentiment", [1, [m]], [-1, [zero]])];
  // zero: always "negative" in both readings after correction too (constant log-probs): 0.5 accuracy, 0.5 corrected? Its margins are all equal, so argmax after correction is label 0 (ties keep the first): "positive", 0.5.
  assert.ok(Math.abs(contrastEffect(c, itemsOf, { metric: "accuracy" }).effect - (0.5 - 0.5)) < 1e-12);
  assert.ok(Math.abs(contrastEffect(c, itemsOf, { metric: "prior-corrected" }).effect - (1 - 0.5)) < 1e-12);
  const noLp = rec("n", { dataset: "amazon", task: "sentiment" }, gold.map((g) => s(g, "positive")));
  assert.throws(() => contrastEffect([cell("x", "sentiment", [1, [noLp]], [-1, [zero]])], itemsOf), /n\.items\.jsonl: 4 items lack label log-probabilities/);
});

test("seeds: a term is the mean over its seeds, and the bootstrap resamples them, so seed-to-seed variance widens the CI", () => {
  const b = rec("b", { dataset: "x", task: "summary" }, Array(50).fill(0.5));
  const seedA = rec("a0", { dataset: "x", task: "summary" }, Array(50).fill(0.6));
  const seedB = rec("a1", { dataset: "x", task: "summary" }, Array(50).fill(0.4));
  const seedC = rec("a2", { dataset: "x", task: "summary" }, Array(50).fill(0.8));
  const e = contrastEffect([cell("x", "summary", [1, [seedA, seedB, seedC], "ft"], [-1, [b], "base"])], itemsOf, { samples: 2000 });
  // (0.6 + 0.4 + 0.8)/3 − 0.5 = 0.1; every item is constant, so all the width comes from the seeds.
  assert.ok(Math.abs(e.effect - 0.1) < 1e-12);
  assert.equal(e.cells[0].seeds, 3);
  assert.ok(e.low < 0 && e.high > 0.2, `seed resampling spans the seeds' means: [${e.low}, ${e.high}]`);
  // Terms of one group draw the same seeds: FT k − FT 0 of the same seed cancels exactly.
  const e2 = contrastEffect([cell("y", "summary", [1, [seedA, seedB], "ft"], [-1, [seedA, seedB], "ft"])], itemsOf);
  assert.equal(e2.low, 0);
  assert.equal(e2.high, 0);
});

test("Holm: step-down over sorted p-values (hand-computed)", () => {
  // m = 4: 0.005 ≤ 0.05/4 yes; 0.01 ≤ 0.05/3 yes; 0.03 ≤ 0.05/2 no: stop.
  assert.deepEqual(holm([0.01, 0.04, 0.03, 0.005]), [true, false, false, true]);
  assert.deepEqual(holm([0.02]), [true]);
  assert.deepEqual(holm([0.02, 0.02]), [true, true], "0.02 ≤ 0.05/2, then 0.02 ≤ 0.05/1");
  assert.deepEqual(holm([0.03, 0.03]), [false, false], "0.03 > 0.05/2: the first fails, and stops");
  assert.deepEqual(holm([]), []);
});

test("verdict: the CI wholly on the paper's side, wholly against, or containing zero; under one point is too small", () => {
  const cells = [{ label: "x", effect: 0.1, n: 10, seeds: 1 }];
  const e = (effect: number, low: number, high: number) => ({ effect, low, high, p: 0.5, cells: cells.map((c) => ({ ...c, effect })) });
  assert.equal(judge("C1", e(0.1, 0.02, 0.2), 100).verdict, "reproduced");
  assert.equal(judge("C1", e(-0.1, -0.2, -0.02), 100).verdict, "not reproduced");
  assert.equal(judge("C1", e(0.1, -0.02, 0.2), 100).verdict, "inconclusive at this scale");
  const c3 = judge("C3", e(-0.1, -0.2, -0.02), 100);
  assert.equal(c3.verdict, "reproduced");
  assert.equal(c3.why, "The 95% CI [−0.200, −0.020] lies wholly below zero; 1 of 1 cell point the paper's way.");
  const small = judge("C6", e(0.002, 0.001, 0.003), 500);
  assert.equal(small.verdict, "inconclusive at this scale");
  assert.equal(small.why, "The 95% CI [+0.001, +0.003] excludes zero, but an effect of +0.002 is below 0.01 (one point): too small to call (1 of 1 cell point the paper's way).");
});

/** A family of FT records over seeds on one job. */
function seeds(family: string, fields: Partial<StudyRecord> & { dataset: string; task: string; k?: number; map?: 0 | 1 }, perSeed: Item[][]): StudyRecord[] {
  return perSeed.map((items, seed) => rec(`${family}/s${seed}@${fields.dataset}k${fields.k ?? 0}m${fields.map ?? 0}`, { ...fields, model: `${family}/s${seed}`, seed }, items));
}

test("claim cells pair families over their seeds: C1 FT vs base, C6 FTICL vs FT at its k, S1 sizes, P1 maps", () => {
  const base0 = rec("base0", { model: "base", method: "base", scope: "base", dataset: "amazon", task: "sentiment" }, [s("positive", "positive", [0, -1]), s("negative", "positive", [0, -1])]);
  const ft = seeds("ft/sentiment/2000", { trainTask: "sentiment", trainSize: 2000, dataset: "amazon", task: "sentiment" }, [
    [s("positive", "positive", [0, -1]), s("negative", "negative", [-1, 0])], [s("positive", "positive", [0, -1]), s("negative", "positive", [0, -1])]]);
  assert.equal(familyOf(ft[1]), "ft/sentiment/2000");
  const c1 = claimCells("C1", [base0, ...ft]);
  assert.deepEqual(c1.map((c) => c.terms.map((t) => [t.weight, t.group, t.records.map((r) => r.key)])), [[[1, "ft/sentiment/2000", [ft[0].key, ft[1].key]], [-1, "base", ["base0"]]]]);
  // Balanced accuracy: base 0.5; seed 0 1.0, seed 1 0.5 → 0.75; effect +0.25.
  assert.ok(Math.abs(contrastEffect(c1, itemsOf).effect - 0.25) < 1e-12);

  const ftX = seeds("ft/question/2000", { trainTask: "question", trainSize: 2000, scope: "out", dataset: "tweetqa", task: "question", k: 1 }, [[0.1, 0.2]]);
  const ticl = seeds("fticl1/question/2000", { method: "fticl1", trainTask: "question", trainSize: 2000, scope: "out", dataset: "tweetqa", task: "question", k: 1 }, [[0.3, 0.2]]);
  const ticl0 = seeds("fticl1/question/2000", { method: "fticl1", trainTask: "question", trainSize: 2000, scope: "out", dataset: "tweetqa", task: "question", k: 0 }, [[0.9, 0.9]]);
  assert.deepEqual(claimCells("C6", [...ftX, ...ticl, ...ticl0]).map((c) => c.terms.map((t) => t.records[0].key)), [[ticl[0].key, ftX[0].key]]);

  const small = seeds("ft/sentiment/2000", { trainTask: "sentiment", trainSize: 2000, dataset: "amazon", task: "sentiment" }, [[0, 1]]);
  const mid = seeds("ft/sentiment/4000", { trainTask: "sentiment", trainSize: 4000, dataset: "amazon", task: "sentiment" }, [[1, 1]]);
  const large = seeds("ft/sentiment/6000", { trainTask: "sentiment", trainSize: 6000, dataset: "amazon", task: "sentiment" }, [[1, 1]]);
  assert.deepEqual(claimCells("S1", [...small, ...mid, ...large]).map((c) => c.terms.map((t) => t.group)), [["ft/sentiment/6000", "ft/sentiment/2000"]]);

  const g0 = seeds("ft/summary/2000", { trainTask: "summary", trainSize: 2000, scope: "cross", dataset: "paws", task: "detection" }, [[0, 0]]);
  const g1 = seeds("ft/summary/2000", { trainTask: "summary", trainSize: 2000, scope: "cross", dataset: "paws", task: "detection", map: 1 }, [[1, 0]]);
  assert.deepEqual(claimCells("P1", [...g0, ...g1]).map((c) => c.terms.map((t) => [t.weight, t.records[0].key])), [[[1, g1[0].key], [-1, g0[0].key]]]);
  // A seed missing on one job leaves that seed out of the cell, not the cell.
  assert.deepEqual(claimCells("C1", [base0, ft[0]]).map((c) => c.terms[0].records.length), [1]);
});

test("C5 has two halves: a difference that comes only from demonstrations hurting the FT model is not a reproduction", () => {
  const n = 40;
  const items = (score: number): number[] => Array.from({ length: n }, (_, i) => (i % 10 < score * 10 ? 1 : 0));
  const base0 = rec("b0", { model: "base", method: "base", scope: "base", dataset: "xsum", task: "summary" }, items(0.5));
  const base2 = rec("b2", { model: "base", method: "base", scope: "base", dataset: "xsum", task: "summary", k: 2 }, items(0.5));
  const ft0 = seeds("ft/summary/2000", { trainTask: "summary", trainSize: 2000, dataset: "xsum", task: "summary" }, [items(0.8), items(0.8)]);
  const ft2 = seeds("ft/summary/2000", { trainTask: "summary", trainSize: 2000, dataset: "xsum", task: "summary", k: 2 }, [items(0.3), items(0.3)]);
  const [v] = claimVerdicts([base0, base2, ...ft0, ...ft2], itemsOf, ["C5"]);
  // (0.5 − 0.5) − (0.3 − 0.8) = +0.5: the difference alone would "reproduce" C5.
  assert.ok(Math.abs(v.effect - 0.5) < 1e-12 && v.low > 0);
  assert.equal(v.verdict, "inconclusive at this scale");
  assert.match(v.why, /comes from the FT half: the base model's own gain is not above zero \(base gain \+0\.000 \[\+0\.000, \+0\.000\], FT gain −0\.500/);
  assert.deepEqual(v.parts.slice(0, 2).map((p) => [p.name, +p.effect.toFixed(12)]), [["base gain (base k-shot − base 0-shot)", 0], ["FT gain (FT k-shot − FT 0-shot)", -0.5]]);
  // With a base gain above zero it is reproduced.
  const base2b = rec("b2b", { model: "base", method: "base", scope: "base", dataset: "xsum", task: "summary", k: 2 }, items(0.9));
  assert.equal(claimVerdicts([base0, base2b, ...ft0, ...ft2], itemsOf, ["C5"])[0].verdict, "reproduced");
  // Demonstrations that lower the base's scores refute it, whatever the difference.
  const base2c = rec("b2c", { model: "base", method: "base", scope: "base", dataset: "xsum", task: "summary", k: 2 }, items(0.4));
  const c = claimVerdicts([base0, base2c, ...ft0, ...ft2], itemsOf, ["C5"])[0];
  assert.equal(c.verdict, "not reproduced");
  assert.match(c.why, /^Demonstrations lower the base model's scores/);
});

test("a cell where a model answers one label for ≥ 90% of items is flagged, and the verdict is given again without it", () => {
  const gold = Array.from({ length: 20 }, (_, i) => (i % 2 ? "positive" : "negative"));
  const base = (ds: string) => rec(`base@${ds}`, { model: "base", method: "base", scope: "base", dataset: ds, task: "sentiment" }, gold.map((g, i) => s(g, i % 4 === 0 ? "positive" : g, [0, 0])));
  // On yelp the FT model says "positive" to everything (collapsed); on sst2 it is right on every item.
  const ftYelp = seeds("ft/sentiment/2000", { trainTask: "sentiment", trainSize: 2000, scope: "out", dataset: "yelp", task: "sentiment" }, [gold.map((g) => s(g, "positive", [0, -1]))]);
  const ftSst = seeds("ft/sentiment/2000", { trainTask: "sentiment", trainSize: 2000, scope: "out", dataset: "sst2", task: "sentiment" }, [gold.map((g) => s(g, g, [0, 0]))]);
  const [v] = claimVerdicts([base("yelp"), base("sst2"), ...ftYelp, ...ftSst], itemsOf, ["C2"]);
  assert.deepEqual(v.collapsed, ["sentiment → yelp"]);
  assert.equal(v.metric, "balanced accuracy");
  assert.ok(v.withoutCollapsed && v.withoutCollapsed.cells === 1);
  // sst2 alone: base balanced accuracy 0.75 (negatives 5/10 right), FT 1.0 → +0.25.
  assert.ok(Math.abs(v.withoutCollapsed!.effect - 0.25) < 1e-12);
  const row = verdictRows([v])[0];
  assert.deepEqual(Object.keys(row), ["claim", "metric", "effect [95% CI]", "cells", "seeds", "verdict", "in accuracy", "prior-corrected", "collapsed cells", "without them", "why"]);
  assert.equal(row["collapsed cells"], "1 of 2");
  assert.match(String(row["without them"]), /^reproduced: \+0\.250/);
});

test("mixed claims say so, and every claim is broken down by fine-tuning task", () => {
  const mk = (task: string, ds: string, kind: "g" | "c", ftScore: number) => {
    const it = (x: number): Item[] => Array.from({ length: 10 }, (_, i) => (kind === "g" ? x : s(i % 2 ? "yes" : "no", i < x * 10 ? (i % 2 ? "yes" : "no") : (i % 2 ? "no" : "yes"), [0, 0])));
    return [rec(`base@${ds}`, { model: "base", method: "base", scope: "base", dataset: ds, task }, it(0.5)),
      ...seeds(`ft/${task}/2000`, { trainTask: task, trainSize: 2000, dataset: ds, task }, [it(ftScore)])];
  };
  const records = [...mk("summary", "xsum", "g", 0.6), ...mk("detection", "paws", "c", 0.8)];
  const [v] = claimVerdicts(records, itemsOf, ["C1"]);
  assert.equal(v.metric, "ROUGE-L (1 cells) and balanced accuracy (1 cells), pooled");
  assert.deepEqual(v.parts.map((p) => [p.name, p.metric, +p.effect.toFixed(12)]), [["summary", "ROUGE-L", 0.1], ["detection", "balanced accuracy", 0.3]]);
  assert.deepEqual(Object.keys(partRows([v])[0]), ["claim", "part", "metric", "effect [95% CI]", "cells", "verdict", "p (one-sided)", "Holm 5%"]);
});

test("S2 is judged set by set with Holm's correction: one clear drop reproduces 'not always'; a lone marginal one does not survive ten sets", () => {
  const mk = (name: string, a: number[], b: number[]): Cell => cell(name, "summary", [1, [rec(`${name}L`, { dataset: name, task: "summary" }, a)]], [-1, [rec(`${name}S`, { dataset: name, task: "summary" }, b)]]);
  const drop = mk("yelp", Array(30).fill(0), Array(30).fill(1));
  const gain = mk("sst2", Array(30).fill(1), Array(30).fill(0));
  const noisy = (i: number) => mk(`n${i}`, [1, 0, 1, 0, 1, 0], [0, 1, 0, 1, 0, 1]);
  const v = judgePerCell("S2", [drop, gain], itemsOf, 30);
  assert.equal(v.verdict, "reproduced");
  assert.deepEqual(v.tests!.map((t) => [t.label, t.significant]), [["yelp", true], ["sst2", false]]);
  assert.equal(judgePerCell("S2", [gain], itemsOf, 30).verdict, "not reproduced");
  assert.equal(judgePerCell("S2", [gain, noisy(0)], itemsOf, 30).verdict, "inconclusive at this scale");
  // A marginal drop: 8 of 40 items worse, 2 better. Alone its one-sided p is below 0.05; among ten sets Holm needs 0.005.
  const marginal = mk("m", [...Array(8).fill(0), ...Array(2).fill(1), ...Array(30).fill(0.5)], [...Array(8).fill(1), ...Array(2).fill(0), ...Array(30).fill(0.5)]);
  const alone = judgePerCell("S2", [marginal], itemsOf, 40);
  assert.ok(alone.tests![0].p < 0.05 && alone.tests![0].p > 0.005, `p = ${alone.tests![0].p}`);
  assert.equal(alone.verdict, "reproduced");
  const among = judgePerCell("S2", [marginal, ...Array.from({ length: 9 }, (_, i) => noisy(i))], itemsOf, 40);
  assert.equal(among.verdict, "inconclusive at this scale");
  assert.match(among.why, /significant after Holm's correction over 10 sets/);
});
