/**
 * The paper's claims C1–C6 as measured effects with bootstrap CIs, and a verdict for each.
 *
 * An effect is a contrast of records scored on the same test items: each cell (e.g. one task's
 * in-domain set at 0-shot, map 0) combines records with weights (FT − base: +1, −1), item by item;
 * the effect is the mean over cells of each cell's mean per-item contrast. Its CI is a stratified,
 * paired percentile bootstrap: each resample redraws the items of every cell with replacement and
 * keeps items paired across the cell's records (the same item is scored under every model).
 *
 * Verdict: "reproduced" when the CI lies wholly on the paper's side of zero, "not reproduced" when it
 * lies wholly on the other side, "inconclusive at this scale" when it contains zero, or when the
 * effect, however certain, is smaller than MIN_EFFECT (too small to call an effect either way).
 */
import { TASKS, type TaskName } from "../data/tasks";
import { percentileSorted } from "../metrics/bootstrap";
import { makeRng } from "../util/random";
import type { StoredResult } from "./store";
import type { StudyRecord } from "./runner";
import { deltasVsBase, jobKey } from "./results";
import { groupBy } from "../util/group";

/** C1–C6: the paper's main claims; S1/S2: its train-size remarks; P1: its prompt-format remark. */
export type ClaimId = "C1" | "C2" | "C3" | "C4" | "C5" | "C6" | "S1" | "S2" | "P1";

export const CLAIMS: Readonly<Record<ClaimId, { text: string; direction: 1 | -1; measure: string }>> = {
  C1: { text: "FT beats base in-domain", direction: 1, measure: "FT − base on each task's in-domain test set (0-shot, map 0)" },
  C2: { text: "classification FT transfers positively out of domain", direction: 1, measure: "FT − base on the classification tasks' out-of-domain sets (0-shot, map 0)" },
  C3: { text: "generation FT transfers negatively out of domain", direction: -1, measure: "FT − base on the generation tasks' out-of-domain sets (0-shot, map 0)" },
  C4: { text: "classification-FT models do poorly on generation tasks", direction: -1, measure: "classification-FT model − base on the generation tasks' in-domain sets (0-shot, map 0)" },
  C5: { text: "ICL at inference helps base more than FT models", direction: 1, measure: "(base k-shot − base 0-shot) − (FT k-shot − FT 0-shot), k over each shot list, in-domain and out-of-domain, both maps" },
  C6: { text: "FTICL beats FT out of domain on generation tasks", direction: 1, measure: "FTICL − FT on the generation tasks' out-of-domain sets, with the k demonstrations FTICL trained with (map 0)" },
  S1: { text: "more training data helps in-domain", direction: 1, measure: "FT at the largest train size − FT at the smallest, in-domain (0-shot, map 0)" },
  S2: { text: "more training data does not always help out of domain", direction: -1, measure: "FT at the largest train size − FT at the smallest, per out-of-domain set (0-shot, map 0); judged per set" },
  P1: { text: "the prompt format decides how generation-FT models do on classification tasks", direction: 1, measure: "map 1 − map 0 for generation-FT models on the classification tasks' in-domain sets (0-shot)" },
};

/** Claims judged per cell: reproduced when SOME cell's CI lies on the paper's side ("not always"). */
const PER_CELL: readonly ClaimId[] = ["S2"];

export interface Term { weight: number; record: StoredResult }
export interface Cell { label: string; terms: Term[] }

export interface Effect {
  /** Mean over cells of the mean per-item contrast. */
  effect: number;
  low: number;
  high: number;
  cells: { label: string; effect: number; n: number }[];
}

/** Per-item rows of a record (the store's items file). */
export type ItemsOf = (r: StoredResult) => readonly { position: number; score: number }[];

/** The paired, cell-stratified bootstrap of a contrast (see the file comment). */
export function contrastEffect(cells: readonly Cell[], itemsOf: ItemsOf, opts: { samples?: number; seed?: number | string; confidence?: number } = {}): Effect {
  if (cells.length === 0) throw new Error("contrastEffect: no cells (the records this claim needs are missing)");
  // Per cell: the contrast of each item present in all of the cell's records.
  const diffs = cells.map((c) => {
    const maps = c.terms.map((t) => new Map(itemsOf(t.record).map((it) => [it.position, it.score])));
    const positions = [...maps[0].keys()].filter((p) => maps.every((m) => m.has(p))).sort((a, b) => a - b);
    if (positions.length === 0) throw new Error(`contrastEffect: cell "${c.label}" has no item common to its records`);
    return Float64Array.from(positions, (p) => c.terms.reduce((a, t, j) => a + t.weight * (maps[j].get(p) as number), 0));
  });
  const meanOf = (d: Float64Array): number => d.reduce((a, b) => a + b, 0) / d.length;
  const effect = diffs.reduce((a, d) => a + meanOf(d), 0) / diffs.length;
  const samples = opts.samples ?? 1000, rng = makeRng(opts.seed ?? 0);
  const dist = new Float64Array(samples);
  for (let s = 0; s < samples; s++) {
    let total = 0;
    for (const d of diffs) {
      let sum = 0;
      for (let i = 0; i < d.length; i++) sum += d[rng.int(d.length)];
      total += sum / d.length;
    }
    dist[s] = total / diffs.length;
  }
  dist.sort();
  const tail = (1 - (opts.confidence ?? 0.95)) / 2;
  return {
    effect, low: percentileSorted(dist, tail), high: percentileSorted(dist, 1 - tail),
    cells: cells.map((c, i) => ({ label: c.label, effect: meanOf(diffs[i]), n: diffs[i].length })),
  };
}

export type Verdict = "reproduced" | "not reproduced" | "inconclusive at this scale";

/**
 * The smallest effect worth a verdict: one point of accuracy or ROUGE-L. With hundreds of paired
 * items a CI can exclude zero around an effect of a tenth of a point, which no reader would call
 * reproducing (or refuting) a finding.
 */
export const MIN_EFFECT = 0.01;

export interface ClaimResult extends Effect {
  claim: ClaimId;
  text: string;
  measure: string;
  verdict: Verdict;
  /** One sentence on why, from the numbers. */
  why: string;
}

const signed = (x: number): string => (x >= 0 ? "+" : "−") + Math.abs(x).toFixed(3);

/** The verdict of an effect for a claim, with its one-sentence reason. */
export function judge(claim: ClaimId, e: Effect, testItems: number): ClaimResult {
  const { direction } = CLAIMS[claim];
  const agree = e.cells.filter((c) => Math.sign(c.effect) === direction).length;
  const cellText = `${agree} of ${e.cells.length} ${e.cells.length === 1 ? "cell" : "cells"} point the paper's way`;
  const ci = `[${signed(e.low)}, ${signed(e.high)}]`;
  let verdict: Verdict, why: string;
  const clear = (direction * e.low > 0 && direction * e.high > 0) || (direction * e.low < 0 && direction * e.high < 0);
  if (clear && Math.abs(e.effect) < MIN_EFFECT) {
    verdict = "inconclusive at this scale";
    why = `The 95% CI ${ci} excludes zero, but an effect of ${signed(e.effect)} is below ${MIN_EFFECT} (one point): too small to call (${cellText}).`;
  } else if (direction * e.low > 0 && direction * e.high > 0) {
    verdict = "reproduced";
    why = `The 95% CI ${ci} lies wholly ${direction > 0 ? "above" : "below"} zero; ${cellText}.`;
  } else if (direction * e.low < 0 && direction * e.high < 0) {
    verdict = "not reproduced";
    why = `The 95% CI ${ci} lies wholly on the other side of zero: at our scale the opposite holds (${cellText}).`;
  } else {
    verdict = "inconclusive at this scale";
    why = `The 95% CI ${ci} contains zero: with ${testItems} items per test set an effect of ${signed(e.effect)} cannot be told from noise (${cellText}).`;
  }
  return { claim, text: CLAIMS[claim].text, measure: CLAIMS[claim].measure, ...e, verdict, why };
}

// ---- the cells of each claim, from a study's records ------------------------------------------

const kindOf = (t: string): "generation" | "classification" => TASKS[t as TaskName].kind;
type Rec = StudyRecord;
/** Scored on the same items: the same test set, k, map and item count (results.ts's job key). */
const sameItems = (a: Rec, b: Rec): boolean => jobKey(a) === jobKey(b);

function baseFor(records: readonly Rec[], r: Rec): Rec | undefined {
  return records.find((b) => b.method === "base" && sameItems(b, r));
}

/** FT − base cells for FT records that pass `keep`. */
function ftVsBase(records: readonly Rec[], keep: (r: Rec) => boolean): Cell[] {
  return deltasVsBase(records).flatMap(({ record: r, base: b }) => (r.method === "ft" && b && keep(r)
    ? [{ label: `${r.trainTask} → ${r.spec.dataset}`, terms: [{ weight: 1, record: r }, { weight: -1, record: b }] }] : []));
}

const zeroShotMap0 = (r: Rec): boolean => r.spec.k === 0 && r.spec.map === 0;

/** The cells of a claim among a study's records (empty when the study did not measure it). */
export function claimCells(claim: ClaimId, records: readonly Rec[]): Cell[] {
  switch (claim) {
    case "C1": return ftVsBase(records, (r) => r.scope === "in" && zeroShotMap0(r));
    case "C2": return ftVsBase(records, (r) => r.scope === "out" && zeroShotMap0(r) && kindOf(r.spec.task) === "classification");
    case "C3": return ftVsBase(records, (r) => r.scope === "out" && zeroShotMap0(r) && kindOf(r.spec.task) === "generation");
    case "C4": return ftVsBase(records, (r) => r.scope === "cross" && zeroShotMap0(r) && kindOf(r.trainTask as string) === "classification" && kindOf(r.spec.task) === "generation");
    case "C5": {
      const cells: Cell[] = [];
      const ftRecords = records.filter((r) => r.method === "ft" && r.scope !== "cross");
      const groups = groupBy(ftRecords, (r) => `${r.model}|${r.spec.dataset}|${r.spec.map}`);
      for (const rs of groups.values()) {
        const ft = rs[0];
        const zero = rs.find((r) => r.spec.k === 0), ks = rs.filter((r) => r.spec.k > 0);
        const b0 = zero && baseFor(records, zero);
        const bks = ks.map((r) => baseFor(records, r));
        if (!zero || !b0 || ks.length === 0 || bks.some((b) => !b)) continue;
        const w = 1 / ks.length;
        cells.push({
          label: `${ft.trainTask} → ${ft.spec.dataset} · map ${ft.spec.map}`,
          terms: [...bks.map((b) => ({ weight: w, record: b as Rec })), { weight: -1, record: b0 }, ...ks.map((r) => ({ weight: -w, record: r })), { weight: 1, record: zero }],
        });
      }
      return cells;
    }
    case "C6": {
      const cells: Cell[] = [];
      for (const r of records) {
        if (!r.method.startsWith("fticl") || r.scope !== "out" || kindOf(r.spec.task) !== "generation" || r.spec.map !== 0) continue;
        const k = Number(r.method.slice(5));
        if (r.spec.k !== k) continue;
        const ft = records.find((f) => f.method === "ft" && f.trainTask === r.trainTask && f.trainSize === r.trainSize && f.seed === r.seed && sameItems(f, r));
        if (ft) cells.push({ label: `${r.trainTask} (k=${k}) → ${r.spec.dataset}`, terms: [{ weight: 1, record: r }, { weight: -1, record: ft }] });
      }
      return cells;
    }
    case "S1":
    case "S2": {
      const cells: Cell[] = [];
      const fts = records.filter((r) => r.method === "ft" && r.scope === (claim === "S1" ? "in" : "out") && zeroShotMap0(r));
      for (const task of new Set(fts.map((r) => r.trainTask))) {
        const mine = fts.filter((r) => r.trainTask === task);
        const sizes = [...new Set(mine.map((r) => r.trainSize as number))].sort((a, b) => a - b);
        if (sizes.length < 2) continue;
        const [small, large] = [sizes[0], sizes[sizes.length - 1]];
        for (const big of mine.filter((r) => r.trainSize === large)) {
          const little = mine.find((r) => r.trainSize === small && r.seed === big.seed && sameItems(r, big));
          if (little) cells.push({ label: `${task} ${large} vs ${small} → ${big.spec.dataset}`, terms: [{ weight: 1, record: big }, { weight: -1, record: little }] });
        }
      }
      return cells;
    }
    case "P1": {
      const cells: Cell[] = [];
      for (const r of records) {
        if (r.method !== "ft" || r.scope !== "cross" || r.spec.k !== 0 || r.spec.map !== 1) continue;
        if (kindOf(r.trainTask as string) !== "generation" || kindOf(r.spec.task) !== "classification") continue;
        const m0 = records.find((x) => x.model === r.model && x.spec.dataset === r.spec.dataset && x.spec.k === 0 && x.spec.map === 0 && x.spec.limit === r.spec.limit);
        if (m0) cells.push({ label: `${r.trainTask} → ${r.spec.dataset}`, terms: [{ weight: 1, record: r }, { weight: -1, record: m0 }] });
      }
      return cells;
    }
  }
}

/**
 * A "not always" claim: reproduced when at least one cell's own CI lies wholly on the paper's side,
 * not reproduced when every cell's CI lies wholly on the other side, inconclusive otherwise.
 */
export function judgePerCell(claim: ClaimId, cells: readonly Cell[], itemsOf: ItemsOf, testItems: number): ClaimResult {
  const { direction } = CLAIMS[claim];
  const pooled = contrastEffect(cells, itemsOf, { seed: claim });
  const each = cells.map((c) => ({ cell: c, e: contrastEffect([c], itemsOf, { seed: `${claim}:${c.label}` }) }));
  const big = (e: Effect): boolean => Math.abs(e.effect) >= MIN_EFFECT;
  const onSide = each.filter(({ e }) => direction * e.low > 0 && direction * e.high > 0 && big(e));
  const against = each.filter(({ e }) => direction * e.low < 0 && direction * e.high < 0 && big(e));
  let verdict: Verdict, why: string;
  if (onSide.length > 0) {
    verdict = "reproduced";
    why = `${onSide.map(({ cell, e }) => `${cell.label} ${signed(e.effect)} [${signed(e.low)}, ${signed(e.high)}]`).join("; ")}: ${onSide.length === 1 ? "a set where" : "sets where"} the larger train set scores lower, CI clear of zero.`;
  } else if (against.length === cells.length) {
    verdict = "not reproduced";
    why = `On every one of the ${cells.length} sets the larger train set scores higher, each CI clear of zero.`;
  } else {
    verdict = "inconclusive at this scale";
    why = `No set's CI lies wholly on either side on all sets (${against.length} of ${cells.length} clearly gain); with ${testItems} items per set a drop cannot be shown.`;
  }
  return { claim, text: CLAIMS[claim].text, measure: CLAIMS[claim].measure, ...pooled, verdict, why };
}

/** Verdicts of the claims that a study's records can answer (claims without cells are left out). */
export function claimVerdicts(records: readonly Rec[], itemsOf: ItemsOf, claims: readonly ClaimId[] = ["C1", "C2", "C3", "C4", "C5", "C6"]): ClaimResult[] {
  const out: ClaimResult[] = [];
  const items = records[0]?.spec.limit ?? 0;
  for (const c of claims) {
    const cells = claimCells(c, records);
    if (cells.length === 0) continue;
    out.push(PER_CELL.includes(c) ? judgePerCell(c, cells, itemsOf, items) : judge(c, contrastEffect(cells, itemsOf, { seed: c }), items));
  }
  return out;
}

/** Rows of a verdict table: claim, measured effect, CI, verdict, why. */
export function verdictRows(results: readonly ClaimResult[]): Record<string, string | number>[] {
  return results.map((r) => ({
    claim: `${r.claim}: ${r.text}`, effect: +r.effect.toFixed(4), "95% CI": `[${signed(r.low)}, ${signed(r.high)}]`, cells: r.cells.length, verdict: r.verdict, why: r.why,
  }));
}
