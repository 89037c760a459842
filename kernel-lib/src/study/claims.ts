/**
 * The paper's claims as measured effects with bootstrap CIs (contrast.ts), and a verdict for each
 * that a constant answer cannot win:
 * - classification cells are judged on balanced accuracy (a model that answers one label gets
 *   1/labels, whatever the label prior), with plain accuracy and a prior-corrected accuracy beside;
 *   generation cells on ROUGE-L. A claim whose cells mix the two says so.
 * - a cell where some model answers one label for ≥ 90% of the items is flagged, and the verdict is
 *   given again without such cells;
 * - every claim is broken down by fine-tuning task beside its pooled effect;
 * - C5 has two halves: it holds only if the base model gains from demonstrations (CI above zero)
 *   and gains more than the FT models;
 * - S2 ("not always") is judged set by set with Holm's correction over the sets;
 * - fine-tuned models count as their seeds together: the bootstrap resamples seeds and items.
 *
 * Verdict: "reproduced" when the CI lies wholly on the paper's side of zero, "not reproduced" when it
 * lies wholly on the other side, "inconclusive at this scale" when it contains zero, or when the
 * effect, however certain, is smaller than MIN_EFFECT (too small to call an effect either way).
 */
import path from "node:path";
import { TASKS, type TaskName } from "../data/tasks";
import type { StudyRecord } from "./runner";
import { projectRoot } from "../util/paths";
import { setting } from "../util/settings";
import { DeclarationRegistry } from "../util/registry";
import { parseClaimDeclaration, type CellFilter, type ClaimSpec } from "./claim-declaration";
import { familyOf, jobKey } from "./record-keys";
import { groupBy } from "../util/group";
import { COLLAPSE_SHARE, predictedLabelShare } from "./baselines";
import { contrastEffect, holm, metricName, type Cell, type Effect, type ItemsOf, type Term } from "./contrast";

/** A claim's id: a declaration's `id` (the paper's C1–C6, S1/S2 and P1, or one of yours). */
export type ClaimId = string;

const registry = new DeclarationRegistry<ClaimSpec>("claim", (c) => c.id);
/** Every declared claim by id (declarations/claims/*.json, then addClaimDeclarations). */
export const CLAIMS: Readonly<Record<ClaimId, ClaimSpec>> = registry.entries;
/** The declared claims in order: by `order`, then those without one as they were added. */
export const CLAIM_IDS: readonly ClaimId[] = registry.keys;
const claims = CLAIMS;

/**
 * Adds the claim declarations in `dir`/claims (a declarations folder of yours; the tasks they name
 * must be declared). Everything is checked before anything is added. Returns the ids added.
 */
export function addClaimDeclarations(dir: string, source: "paper" | "user" = "user"): ClaimId[] {
  return prepareClaimDeclarations(dir, source).commit();
}

/** Reads and checks a folder's claims/ without adding them; `pendingTasks`: tasks about to be added with them. */
export function prepareClaimDeclarations(dir: string, source: "paper" | "user" = "user", pendingTasks: readonly TaskName[] = []): { commit(): ClaimId[] } {
  return registry.prepare(dir, "claims", (file, raw) => parseClaimDeclaration(file, raw, source, pendingTasks));
}

addClaimDeclarations(path.join(projectRoot(), "declarations"), "paper");
for (const dir of setting("declarations") ?? []) addClaimDeclarations(dir);

/** The declaration of a claim, or one line listing the known ones. */
export function claimSpec(id: ClaimId): ClaimSpec {
  const c = claims[id];
  if (!c) throw new Error(`unknown claim "${id}" (known: ${CLAIM_IDS.join(", ")})`);
  return c;
}

export type Verdict = "reproduced" | "not reproduced" | "inconclusive at this scale";

/**
 * The smallest effect worth a verdict: one point of (balanced) accuracy or ROUGE-L. With hundreds of
 * paired items a CI can exclude zero around an effect of a tenth of a point, which no reader would
 * call reproducing (or refuting) a finding.
 */
export const MIN_EFFECT = 0.01;

/** A part of a claim: one fine-tuning task's cells, or one half of C5. */
export interface ClaimPart {
  name: string;
  metric: string;
  effect: number;
  low: number;
  high: number;
  cells: number;
  verdict: Verdict;
}

/** One cell of a per-cell claim (S2), with its Holm-corrected test. */
export interface CellTest {
  label: string;
  metric: string;
  effect: number;
  low: number;
  high: number;
  /** One-sided bootstrap p-value against the paper's direction. */
  p: number;
  /** Rejected by Holm at 0.05 over the claim's cells, and at least MIN_EFFECT. */
  significant: boolean;
}

export interface ClaimResult extends Effect {
  claim: ClaimId;
  text: string;
  measure: string;
  /** What the effect is in: "balanced accuracy", "ROUGE-L", or both, pooled. */
  metric: string;
  verdict: Verdict;
  /** One sentence on why, from the numbers. */
  why: string;
  /** The same cells in plain accuracy, and in prior-corrected accuracy (claims with classification cells). */
  accuracy?: Effect;
  priorCorrected?: Effect;
  /** Cells where some model answers one label for ≥ COLLAPSE_SHARE of the items. */
  collapsed: string[];
  /** The verdict without the collapsed cells (null: none left); absent when no cell collapsed. */
  withoutCollapsed?: (Pick<Effect, "effect" | "low" | "high"> & { verdict: Verdict; cells: number }) | null;
  /** Per fine-tuning task, or C5's two halves and then per task. */
  parts: ClaimPart[];
  /** S2: each set's test. */
  tests?: CellTest[];
  /** Seeds per fine-tuned model (the smallest count among the claim's cells). */
  seeds: number;
}

const signed = (x: number): string => (x >= 0 ? "+" : "−") + Math.abs(x).toFixed(3);

/** The verdict of an effect: its CI against zero, and its size against MIN_EFFECT. */
export function verdictOf(direction: 1 | -1, e: Pick<Effect, "effect" | "low" | "high">): Verdict {
  const onSide = direction * e.low > 0 && direction * e.high > 0, against = direction * e.low < 0 && direction * e.high < 0;
  if ((onSide || against) && Math.abs(e.effect) < MIN_EFFECT) return "inconclusive at this scale";
  return onSide ? "reproduced" : against ? "not reproduced" : "inconclusive at this scale";
}

/** The verdict of an effect for a claim, with its one-sentence reason. */
export function judge(claim: ClaimId, e: Effect, testItems: number): Pick<ClaimResult, "claim" | "text" | "measure" | "verdict" | "why"> & Effect {
  const { direction } = claimSpec(claim);
  const agree = e.cells.filter((c) => Math.sign(c.effect) === direction).length;
  const cellText = `${agree} of ${e.cells.length} ${e.cells.length === 1 ? "cell" : "cells"} point the paper's way`;
  const ci = `[${signed(e.low)}, ${signed(e.high)}]`;
  const verdict = verdictOf(direction, e);
  const clear = (direction * e.low > 0 && direction * e.high > 0) || (direction * e.low < 0 && direction * e.high < 0);
  let why: string;
  if (clear && Math.abs(e.effect) < MIN_EFFECT) why = `The 95% CI ${ci} excludes zero, but an effect of ${signed(e.effect)} is below ${MIN_EFFECT} (one point): too small to call (${cellText}).`;
  else if (verdict === "reproduced") why = `The 95% CI ${ci} lies wholly ${direction > 0 ? "above" : "below"} zero; ${cellText}.`;
  else if (verdict === "not reproduced") why = `The 95% CI ${ci} lies wholly on the other side of zero: at our scale the opposite holds (${cellText}).`;
  else why = `The 95% CI ${ci} contains zero: with ${testItems} items per test set an effect of ${signed(e.effect)} cannot be told from noise (${cellText}).`;
  return { claim, text: claimSpec(claim).text, measure: claimSpec(claim).measure, ...e, verdict, why };
}

// ---- the cells of each claim, from a study's records ------------------------------------------

const kindOf = (t: string): "generation" | "classification" => TASKS[t as TaskName].kind;
type Rec = StudyRecord;


/**
 * A family's records on one job (test set, k, map, items), one per seed, restricted to `seeds`
 * and in seed order; undefined when a seed is missing.
 */
function seedRecords(records: readonly Rec[], family: string, job: string, seeds: readonly number[]): Rec[] | undefined {
  const mine = records.filter((r) => familyOf(r) === family && jobKey(r) === job);
  if (family === "base") return mine.length ? [mine[0]] : undefined;
  const out = seeds.map((s) => mine.find((r) => (r.seed ?? 0) === s));
  return out.every(Boolean) ? (out as Rec[]) : undefined;
}

/** Seeds a family has on every one of `jobs`. */
function commonSeeds(records: readonly Rec[], family: string, jobs: readonly string[]): number[] {
  if (family === "base") return [0];
  const sets = jobs.map((j) => new Set(records.filter((r) => familyOf(r) === family && jobKey(r) === j).map((r) => r.seed ?? 0)));
  return [...(sets[0] ?? [])].filter((s) => sets.every((x) => x.has(s))).sort((a, b) => a - b);
}

/** A cell from (weight, family, job) triples, each family with the seeds it has on all its jobs; undefined if a term is missing. */
function makeCell(records: readonly Rec[], label: string, task: TaskName, trainTask: string | undefined, spec: readonly [number, string, string][]): Cell | undefined {
  const seedsOf = new Map<string, number[]>();
  for (const family of new Set(spec.map((s) => s[1]))) seedsOf.set(family, commonSeeds(records, family, spec.filter((s) => s[1] === family).map((s) => s[2])));
  const terms: Term[] = [];
  for (const [weight, family, job] of spec) {
    const recs = seedRecords(records, family, job, seedsOf.get(family) ?? []);
    if (!recs || recs.length === 0) return undefined;
    terms.push({ weight, records: recs, group: family });
  }
  return { label, task, trainTask, terms };
}

/** Whether a record is among a claim's cells (CellFilter: unset fields take all). */
function matches(f: CellFilter, r: Rec): boolean {
  if (f.scope && !f.scope.includes(r.scope as "in" | "out" | "cross")) return false;
  if (f.k !== undefined && r.spec.k !== f.k) return false;
  if (f.map !== undefined && r.spec.map !== f.map) return false;
  if (f.testKind && kindOf(r.spec.task) !== f.testKind) return false;
  if (f.trainKind && (!r.trainTask || kindOf(r.trainTask) !== f.trainKind)) return false;
  if (f.testTasks && !f.testTasks.includes(r.spec.task)) return false;
  if (f.trainTasks && (!r.trainTask || !f.trainTasks.includes(r.trainTask))) return false;
  return true;
}

/** FT − base cells, one per FT family and job of the records that pass `keep`. */
function ftVsBase(records: readonly Rec[], keep: (r: Rec) => boolean): Cell[] {
  const cells: Cell[] = [];
  for (const rs of groupBy(records.filter((r) => r.method === "ft" && keep(r)), (r) => `${familyOf(r)}|${jobKey(r)}`).values()) {
    const r = rs[0];
    const c = makeCell(records, `${r.trainTask} → ${r.spec.dataset}`, r.spec.task, r.trainTask, [[1, familyOf(r), jobKey(r)], [-1, "base", jobKey(r)]]);
    if (c) cells.push(c);
  }
  return cells;
}

const jobAt = (r: Rec, k: number, map = r.spec.map): string => `${r.spec.task}|${r.spec.dataset}|${k}|${map}|${r.spec.limit}`;

/** icl-gain-base-vs-ft's cells in three forms: the difference of gains, the base gain alone, the FT gain alone. */
function iclGainCells(records: readonly Rec[], keep: (r: Rec) => boolean): { diff: Cell[]; base: Cell[]; ft: Cell[] } {
  const diff: Cell[] = [], base: Cell[] = [], ft: Cell[] = [];
  const ftRecords = records.filter((r) => r.method === "ft" && keep(r));
  for (const rs of groupBy(ftRecords, (r) => `${familyOf(r)}|${r.spec.dataset}|${r.spec.map}`).values()) {
    const r = rs[0], fam = familyOf(r);
    const ks = [...new Set(rs.map((x) => x.spec.k).filter((k) => k > 0))].sort((a, b) => a - b);
    if (ks.length === 0 || !rs.some((x) => x.spec.k === 0)) continue;
    const w = 1 / ks.length;
    const label = `${r.trainTask} → ${r.spec.dataset} · map ${r.spec.map}`;
    const baseTerms: [number, string, string][] = [...ks.map((k) => [w, "base", jobAt(r, k)] as [number, string, string]), [-1, "base", jobAt(r, 0)]];
    const ftTerms: [number, string, string][] = [...ks.map((k) => [w, fam, jobAt(r, k)] as [number, string, string]), [-1, fam, jobAt(r, 0)]];
    const d = makeCell(records, label, r.spec.task, r.trainTask, [...baseTerms, ...ftTerms.map(([x, f, j]) => [-x, f, j] as [number, string, string])]);
    if (!d) continue;
    diff.push(d);
    const b = makeCell(records, `base → ${r.spec.dataset} · map ${r.spec.map}`, r.spec.task, r.trainTask, baseTerms);
    if (b && !base.some((x) => x.label === b.label)) base.push(b);
    const f = makeCell(records, label, r.spec.task, r.trainTask, ftTerms);
    if (f) ft.push(f);
  }
  return { diff, base, ft };
}

/** FTICL − FT cells, with the k demonstrations each FTICL model trained with. */
function fticlVsFt(records: readonly Rec[], keep: (r: Rec) => boolean): Cell[] {
  const cells: Cell[] = [];
  const fticl = records.filter((r) => r.method.startsWith("fticl") && keep(r) && r.spec.k === Number(r.method.slice(5)));
  for (const rs of groupBy(fticl, (r) => `${familyOf(r)}|${jobKey(r)}`).values()) {
    const r = rs[0];
    const ftFamily = `ft/${r.trainTask}/${r.trainSize}`;
    const c = makeCell(records, `${r.trainTask} (k=${r.spec.k}) → ${r.spec.dataset}`, r.spec.task, r.trainTask, [[1, familyOf(r), jobKey(r)], [-1, ftFamily, jobKey(r)]]);
    if (c) cells.push(c);
  }
  return cells;
}

/** FT at the largest train size − FT at the smallest, per task and test set. */
function largestVsSmallest(records: readonly Rec[], keep: (r: Rec) => boolean): Cell[] {
  const cells: Cell[] = [];
  const fts = records.filter((r) => r.method === "ft" && keep(r));
  for (const task of new Set(fts.map((r) => r.trainTask))) {
    const mine = fts.filter((r) => r.trainTask === task);
    const sizes = [...new Set(mine.map((r) => r.trainSize as number))].sort((a, b) => a - b);
    if (sizes.length < 2) continue;
    const [small, large] = [sizes[0], sizes[sizes.length - 1]];
    for (const job of new Set(mine.filter((r) => r.trainSize === large).map(jobKey))) {
      const r = mine.find((x) => jobKey(x) === job) as Rec;
      const c = makeCell(records, `${task} ${large} vs ${small} → ${r.spec.dataset}`, r.spec.task, task, [[1, `ft/${task}/${large}`, job], [-1, `ft/${task}/${small}`, job]]);
      if (c) cells.push(c);
    }
  }
  return cells;
}

/** The same FT model prompted in map 1 − in map 0. */
function map1VsMap0(records: readonly Rec[], keep: (r: Rec) => boolean): Cell[] {
  const cells: Cell[] = [];
  const m1 = records.filter((r) => r.method === "ft" && r.spec.map === 1 && keep(r));
  for (const rs of groupBy(m1, (r) => `${familyOf(r)}|${jobKey(r)}`).values()) {
    const r = rs[0];
    const c = makeCell(records, `${r.trainTask} → ${r.spec.dataset}`, r.spec.task, r.trainTask, [[1, familyOf(r), jobKey(r)], [-1, familyOf(r), jobAt(r, r.spec.k, 0)]]);
    if (c) cells.push(c);
  }
  return cells;
}

/** The cells of a claim among a study's records (empty when the study did not measure it). */
export function claimCells(claim: ClaimId, records: readonly Rec[]): Cell[] {
  const spec = claimSpec(claim);
  const keep = (r: Rec): boolean => matches(spec.cells, r);
  switch (spec.contrast) {
    case "ft-vs-base": return ftVsBase(records, keep);
    case "icl-gain-base-vs-ft": return iclGainCells(records, keep).diff;
    case "fticl-vs-ft": return fticlVsFt(records, keep);
    case "largest-vs-smallest-size": return largestVsSmallest(records, keep);
    case "map1-vs-map0": return map1VsMap0(records, keep);
  }
}

// ---- verdicts ------------------------------------------------------------------------------------

/** Whether some classification record of a cell answers one label for ≥ COLLAPSE_SHARE of its items. */
export function cellCollapsed(cell: Cell, itemsOf: ItemsOf): boolean {
  if (kindOf(cell.task) !== "classification") return false;
  return cell.terms.some((t) => t.records.some((r) => predictedLabelShare(itemsOf(r).map((it) => ({ output: it.output ?? "" }))).share >= COLLAPSE_SHARE));
}

/** The metric a set of cells is judged in. */
function metricOf(cells: readonly Cell[]): string {
  const kinds = groupBy(cells, (c) => metricName(c.task, "primary"));
  if (kinds.size === 1) return [...kinds.keys()][0];
  return `${[...kinds].map(([m, cs]) => `${m} (${cs.length} cells)`).join(" and ")}, pooled`;
}

function part(claim: ClaimId, name: string, cells: readonly Cell[], itemsOf: ItemsOf, direction: 1 | -1 = claimSpec(claim).direction): ClaimPart {
  const e = contrastEffect(cells, itemsOf, { seed: `${claim}:${name}`, direction });
  return { name, metric: metricOf(cells), effect: e.effect, low: e.low, high: e.high, cells: cells.length, verdict: verdictOf(direction, e) };
}

/** Per fine-tuning task (in the order the cells name them), when the cells span more than one. */
function perTask(claim: ClaimId, cells: readonly Cell[], itemsOf: ItemsOf): ClaimPart[] {
  const byTask = groupBy(cells, (c) => c.trainTask ?? "");
  return byTask.size < 2 ? [] : [...byTask].map(([task, cs]) => part(claim, task, cs, itemsOf));
}

/**
 * The verdict of one (pooled) claim: primary metric, accuracy and prior-corrected beside, the
 * collapse check, and the parts.
 */
function judgeClaim(claim: ClaimId, cells: readonly Cell[], itemsOf: ItemsOf, testItems: number): ClaimResult {
  const { direction } = claimSpec(claim);
  const e = contrastEffect(cells, itemsOf, { seed: claim, direction });
  const base = judge(claim, e, testItems);
  const hasClassification = cells.some((c) => kindOf(c.task) === "classification");
  const collapsed = cells.filter((c) => cellCollapsed(c, itemsOf)).map((c) => c.label);
  let withoutCollapsed: ClaimResult["withoutCollapsed"];
  if (collapsed.length) {
    const kept = cells.filter((c) => !collapsed.includes(c.label));
    if (kept.length === 0) withoutCollapsed = null;
    else {
      const k = contrastEffect(kept, itemsOf, { seed: `${claim}:kept`, direction });
      withoutCollapsed = { effect: k.effect, low: k.low, high: k.high, cells: kept.length, verdict: verdictOf(direction, k) };
    }
  }
  return {
    ...base, metric: metricOf(cells), collapsed, withoutCollapsed, parts: perTask(claim, cells, itemsOf),
    accuracy: hasClassification ? contrastEffect(cells, itemsOf, { seed: claim, direction, metric: "accuracy" }) : undefined,
    priorCorrected: hasClassification ? contrastEffect(cells, itemsOf, { seed: claim, direction, metric: "prior-corrected" }) : undefined,
    seeds: Math.min(...e.cells.map((c) => c.seeds)),
  };
}

/**
 * The rule gain-and-gap (C5), in its two halves: reproduced only when the base model's gain from
 * demonstrations lies above zero AND exceeds the FT models' gain; not reproduced when either lies
 * clearly the other way.
 */
function judgeGainAndGap(claim: ClaimId, records: readonly Rec[], itemsOf: ItemsOf, testItems: number): ClaimResult | undefined {
  const spec = claimSpec(claim);
  const { diff, base, ft } = iclGainCells(records, (r) => matches(spec.cells, r));
  if (diff.length === 0) return undefined;
  const r = judgeClaim(claim, diff, itemsOf, testItems);
  const baseGain = part(claim, "base gain (base k-shot − base 0-shot)", base, itemsOf, 1);
  const ftGain = part(claim, "FT gain (FT k-shot − FT 0-shot)", ft, itemsOf, 1);
  const gap = `difference ${signed(r.effect)} [${signed(r.low)}, ${signed(r.high)}]`;
  const halves = `base gain ${signed(baseGain.effect)} [${signed(baseGain.low)}, ${signed(baseGain.high)}], FT gain ${signed(ftGain.effect)} [${signed(ftGain.low)}, ${signed(ftGain.high)}]`;
  if (r.verdict === "reproduced" && baseGain.verdict === "reproduced") {
    r.why = `The base model gains from demonstrations and gains more than the FT models: ${halves}; ${gap}.`;
  } else if (r.verdict === "not reproduced" || baseGain.verdict === "not reproduced") {
    r.why = baseGain.verdict === "not reproduced"
      ? `Demonstrations lower the base model's scores: ${halves}; ${gap}.`
      : `The FT models gain more from demonstrations than the base: ${halves}; ${gap}.`;
    r.verdict = "not reproduced";
  } else {
    r.why = r.verdict === "reproduced"
      ? `The difference ${signed(r.effect)} [${signed(r.low)}, ${signed(r.high)}] comes from the FT half: the base model's own gain is not above zero (${halves}).`
      : `${halves}; ${gap}: the CIs do not settle it at this scale.`;
    r.verdict = "inconclusive at this scale";
  }
  r.parts = [baseGain, ftGain, ...r.parts];
  return r;
}

/**
 * A "not always" claim: each cell tested on its own (one-sided bootstrap p against the paper's
 * direction), Holm-corrected over the cells. Reproduced when at least one cell is significant on
 * the paper's side (and at least MIN_EFFECT); not reproduced when every cell is significant the
 * other way; inconclusive otherwise.
 */
export function judgePerCell(claim: ClaimId, cells: readonly Cell[], itemsOf: ItemsOf, testItems: number): ClaimResult {
  const { direction } = claimSpec(claim);
  const pooled = judgeClaim(claim, cells, itemsOf, testItems);
  const samples = 4000;
  const each = cells.map((c) => contrastEffect([c], itemsOf, { seed: `${claim}:${c.label}`, direction, samples }));
  const other = cells.map((c) => contrastEffect([c], itemsOf, { seed: `${claim}:${c.label}`, direction: direction === 1 ? -1 : 1, samples }));
  const big = (e: Effect): boolean => Math.abs(e.effect) >= MIN_EFFECT;
  const onSide = holm(each.map((e) => e.p)).map((x, i) => x && big(each[i]));
  const against = holm(other.map((e) => e.p)).map((x, i) => x && big(other[i]));
  const tests: CellTest[] = cells.map((c, i) => ({ label: c.label, metric: metricName(c.task, "primary"), effect: each[i].effect, low: each[i].low, high: each[i].high, p: each[i].p, significant: onSide[i] }));
  let verdict: Verdict, why: string;
  const hits = tests.filter((t) => t.significant);
  // Words for the cells' effect: the train-size contrast's own (S2), or the claim's direction.
  const size = claimSpec(claim).contrast === "largest-vs-smallest-size";
  const paperSide = size ? (direction < 0 ? "the larger train set scores lower" : "the larger train set scores higher") : `the effect lies ${direction < 0 ? "below" : "above"} zero`;
  const otherSide = size ? (direction < 0 ? "the larger train set scores higher" : "the larger train set scores lower") : `the effect lies ${direction < 0 ? "above" : "below"} zero`;
  const sets = size ? "sets" : "cells";
  if (hits.length > 0) {
    verdict = "reproduced";
    why = `${hits.map((t) => `${t.label} ${signed(t.effect)} [${signed(t.low)}, ${signed(t.high)}], p = ${t.p.toFixed(4)}`).join("; ")}: ${hits.length === 1 ? `a ${sets.slice(0, -1)} where` : `${sets} where`} ${paperSide}, significant after Holm's correction over ${cells.length} ${sets}.`;
  } else if (against.every(Boolean)) {
    verdict = "not reproduced";
    why = `On every one of the ${cells.length} ${sets} ${otherSide}, each significant after Holm's correction.`;
  } else {
    verdict = "inconclusive at this scale";
    why = size && direction < 0
      ? `No set's drop is significant after Holm's correction over ${cells.length} sets (smallest p ${Math.min(...tests.map((t) => t.p)).toFixed(4)}; ${against.filter(Boolean).length} of ${cells.length} clearly gain); with ${testItems} items per set a drop cannot be shown.`
      : `No ${sets.slice(0, -1)} is significant on the claim's side after Holm's correction over ${cells.length} ${sets} (smallest p ${Math.min(...tests.map((t) => t.p)).toFixed(4)}; ${against.filter(Boolean).length} of ${cells.length} clearly the other way).`;
  }
  return { ...pooled, verdict, why, tests };
}

/** Verdicts of the claims that a study's records can answer (claims without cells are left out), by each claim's rule. */
export function claimVerdicts(records: readonly Rec[], itemsOf: ItemsOf, claims: readonly ClaimId[] = ["C1", "C2", "C3", "C4", "C5", "C6"]): ClaimResult[] {
  const out: ClaimResult[] = [];
  const items = records[0]?.spec.limit ?? 0;
  for (const c of claims) {
    const rule = claimSpec(c).rule;
    if (rule === "gain-and-gap") {
      const r = judgeGainAndGap(c, records, itemsOf, items);
      if (r) out.push(r);
      continue;
    }
    const cells = claimCells(c, records);
    if (cells.length === 0) continue;
    out.push(rule === "some-cell-holm" ? judgePerCell(c, cells, itemsOf, items) : judgeClaim(c, cells, itemsOf, items));
  }
  return out;
}

const ci = (e: Pick<Effect, "effect" | "low" | "high">): string => `${signed(e.effect)} [${signed(e.low)}, ${signed(e.high)}]`;

/** Rows of the verdict table: claim, metric, effect and CI, verdict, the checks beside it, why. */
export function verdictRows(results: readonly ClaimResult[]): Record<string, string | number>[] {
  return results.map((r) => ({
    claim: `${r.claim}: ${r.text}`, metric: r.metric, "effect [95% CI]": ci(r), cells: r.cells.length, seeds: r.seeds, verdict: r.verdict,
    "in accuracy": r.accuracy ? ci(r.accuracy) : "",
    "prior-corrected": r.priorCorrected ? ci(r.priorCorrected) : "",
    "collapsed cells": r.collapsed.length ? `${r.collapsed.length} of ${r.cells.length}` : r.accuracy ? "none" : "",
    "without them": r.withoutCollapsed === undefined ? "" : r.withoutCollapsed === null ? "no cell left" : `${r.withoutCollapsed.verdict}: ${ci(r.withoutCollapsed)}`,
    why: r.why,
  }));
}

/** Rows of the breakdown table: each claim's parts (per task; C5's halves) and S2's per-set tests. */
export function partRows(results: readonly ClaimResult[]): Record<string, string | number>[] {
  return results.flatMap((r) => [
    ...r.parts.map((p) => ({ claim: r.claim, part: p.name, metric: p.metric, "effect [95% CI]": ci(p), cells: p.cells, verdict: p.verdict, "p (one-sided)": "", "Holm 5%": "" })),
    ...(r.tests ?? []).map((t) => ({ claim: r.claim, part: t.label, metric: t.metric, "effect [95% CI]": ci(t), cells: 1, verdict: "", "p (one-sided)": t.p.toFixed(4), "Holm 5%": t.significant ? "significant" : "not significant" })),
  ]);
}

export type { Cell, Term, Effect, ItemsOf } from "./contrast";
