/**
 * The two subjects the research notebooks set side by side: ftgen's own small base model and a
 * real pretrained LLM, SmolLM2-135M, each with its profile and its records.
 *
 *   const runs = await ftgen.runSubjects("generalization");    // [{ subject, records, missing }, …]
 *   ftgen.showVerdictComparison(runs, ["C1", "C2"]);             // one verdict column per subject
 *
 * The active profile (FTGEN_PROFILE) decides which subject computes: ftgen's base at quick, default
 * or paper, SmolLM2 at smollm2 (hours of fine-tuning: `npm run study -- --profile smollm2 --shard 0/1`
 * or `npm run study:slurm`). The other subject is read from its stored records only, and a notebook
 * says how many it lacks instead of computing them.
 */
import path from "node:path";
import { showTable, toDataFrame } from "../notebook/table";
import { showText } from "../notebook/display";
import { PROFILES, profile as activeProfile, type Profile } from "./profile";
import { runStudy, type StudyRecord } from "./runner";
import { ResultStore, cachedOnly } from "./store";
import { notebookPlan, runNotebookStudy, verdicts } from "./notebook-run";
import { runOptions, type NotebookStudy } from "./studies";
import { CLAIMS, partRows, verdictRows, type ClaimId, type ClaimResult } from "./claims";
import { projectRoot } from "../util/paths";

export interface Subject {
  /** Short name for file names and keys ("ftgen", "smollm2"). */
  id: "ftgen" | "smollm2";
  /** For tables and plot titles. */
  title: string;
  profile: Profile;
  /** Where its records are read (and written, when it computes). */
  store: ResultStore;
  /** Whether this run may fine-tune and evaluate what is missing. */
  compute: boolean;
}

/** The committed results folder (FTGEN_RESULTS_DIR where the active profile is this subject's). */
function storeFor(p: Profile, active: Profile): ResultStore {
  if (p.name === active.name) return new ResultStore();
  return new ResultStore(path.join(projectRoot(), "results"));
}

/** The subjects under the active profile: ftgen's base (the active profile, or default) and SmolLM2 (profile smollm2). */
export function subjects(active: Profile = activeProfile()): Subject[] {
  const ftgenProfile = active.model === "ftgen-base" ? active : PROFILES.default;
  return [
    { id: "ftgen", title: "ftgen base (2M)", profile: ftgenProfile, store: storeFor(ftgenProfile, active), compute: active.model === "ftgen-base" && !cachedOnly() },
    { id: "smollm2", title: "SmolLM2-135M", profile: PROFILES.smollm2, store: storeFor(PROFILES.smollm2, active), compute: active.name === "smollm2" && !cachedOnly() },
  ];
}

export interface SubjectRun {
  subject: Subject;
  records: StudyRecord[];
  /** Evaluations of the plan without a stored record (0 once the subject's study is complete). */
  missing: number;
  total: number;
}

/**
 * Reads a subject's stored records of a notebook's study without computing any: the runner with a
 * deadline already past starts no training and no evaluation, and returns what is stored.
 */
export async function storedRecords(name: NotebookStudy, s: Subject): Promise<{ records: StudyRecord[]; total: number }> {
  const plan = notebookPlan(name, s.profile);
  const records = await runStudy(plan, { ...runOptions(s.profile), workers: 1, store: s.store, deadline: 0 });
  return { records, total: plan.evals.length };
}

/**
 * A notebook's study for each subject: the computing subject through runNotebookStudy (its bar),
 * the other from its stored records, with one line saying how complete each is.
 */
export async function runSubjects(name: NotebookStudy, list: readonly Subject[] = subjects()): Promise<SubjectRun[]> {
  const runs: SubjectRun[] = [];
  for (const s of list) {
    if (s.compute) {
      const records = (await runNotebookStudy(name, { profile: s.profile, store: s.store })).map((r) => ({ ...r, subject: s.title }));
      runs.push({ subject: s, records, missing: notebookPlan(name, s.profile).evals.length - records.length, total: records.length });
    } else {
      const { records, total } = await storedRecords(name, s);
      runs.push({ subject: s, records: records.map((r) => ({ ...r, subject: s.title })), missing: total - records.length, total });
    }
  }
  const lines = runs.map((r) => `${r.subject.title} (profile "${r.subject.profile.name}"): ${r.records.length} of ${r.total} records${r.subject.compute ? "" : " stored"}${r.missing
    ? `; ${r.missing} not computed yet (npm run study -- --profile ${r.subject.profile.name}${r.subject.profile.model === "ftgen-base" ? "" : " --shard 0/1, or npm run study:slurm"}): its plots and verdicts appear once its study is complete (the table below lists the records there are)`
    : ""}`);
  showText(lines.join("\n"), "Subjects");
  return runs;
}

/** Why a subject has no verdict on a claim: its study is not complete, or (complete) its profile measures none of the claim's cells. */
function notJudged(r: { verdicts: readonly ClaimResult[] }, missing: number | undefined): string {
  if (missing === 0 || (missing === undefined && r.verdicts.length > 0)) return "not measured: its profile has none of this claim's cells (its cut, or one train size)";
  return `not judged yet: ${missing ?? "some"} records of its study are not computed`;
}

/** Rows of a verdict table with one column per subject: the claim, the paper's finding, each subject's verdict and effect. */
export function verdictComparisonRows(results: readonly { subject: Subject; verdicts: readonly ClaimResult[] }[], claims: readonly ClaimId[], runs: readonly SubjectRun[] = []): Record<string, string>[] {
  const signed = (x: number): string => (x >= 0 ? "+" : "−") + Math.abs(x).toFixed(3);
  return claims.map((c) => {
    const row: Record<string, string> = { claim: `${c}: ${CLAIMS[c].text}` };
    for (const r of results) {
      const v = r.verdicts.find((x) => x.claim === c);
      const missing = runs.find((x) => x.subject === r.subject)?.missing;
      row[r.subject.title] = v
        ? `${v.verdict}: ${signed(v.effect)} [${signed(v.low)}, ${signed(v.high)}]${v.collapsed.length ? ` (${v.collapsed.length} of ${v.cells.length} cells collapsed${v.withoutCollapsed ? `; without them ${v.withoutCollapsed.verdict}` : ""})` : ""}`
        : notJudged(r, missing);
    }
    return row;
  });
}

/**
 * The verdicts of `claims` for each subject, shown as one table with a column per subject (and each
 * subject's full table below it); returns them.
 */
export function showVerdictComparison(runs: readonly SubjectRun[], claims: readonly ClaimId[]): { subject: Subject; verdicts: ClaimResult[] }[] {
  // A subject whose study is not complete gets no verdict: a claim judged on part of its cells
  // (some tasks, some seeds) could read as a finding.
  const out = runs.map((r) => ({ subject: r.subject, verdicts: r.missing === 0 && r.records.length ? verdicts(r.records, claims, r.subject.store) : [] }));
  showTable(toDataFrame(verdictComparisonRows(out, claims, runs)), { caption: "Verdicts by subject (95% CIs of a bootstrap over seeds and items; classification in balanced accuracy)", maxChars: 400 });
  showText(agreementLines(out, claims, runs).join("\n"), "Where the two subjects agree");
  for (const r of out) {
    if (r.verdicts.length === 0) continue;
    showTable(toDataFrame(verdictRows(r.verdicts)), { caption: `${r.subject.title}: verdicts with their checks`, maxChars: 400 });
    const parts = partRows(r.verdicts);
    if (parts.length) showTable(toDataFrame(parts), { caption: `${r.subject.title}: each claim by fine-tuning task (C5: its two halves first; S2: each set's test, Holm-corrected)`, maxRows: 60 });
  }
  return out;
}

/** One line per claim: the subjects' verdicts side by side, and whether they agree with each other and with the paper. */
export function agreementLines(results: readonly { subject: Subject; verdicts: readonly ClaimResult[] }[], claims: readonly ClaimId[], runs: readonly SubjectRun[] = []): string[] {
  return claims.map((c) => {
    const vs = results.map((r) => ({ who: r.subject.title, v: r.verdicts.find((x) => x.claim === c)?.verdict, why: notJudged(r, runs.find((x) => x.subject === r.subject)?.missing) }));
    const known = vs.filter((x) => x.v);
    const list = vs.map((x) => `${x.who} ${x.v ?? x.why}`).join("; ");
    if (known.length < vs.length) return `${c}: ${list}.`;
    const same = new Set(known.map((x) => x.v)).size === 1;
    const paper = known.filter((x) => x.v === "reproduced").map((x) => x.who);
    const tail = paper.length === known.length ? "both behave as the paper says" : paper.length ? `only ${paper.join(" and ")} behaves as the paper says` : "neither reproduces the paper's finding";
    return `${c}: ${list}. ${same ? "They agree" : "They differ"}: ${tail}.`;
  });
}
