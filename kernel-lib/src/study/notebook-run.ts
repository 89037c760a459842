/**
 * What a research notebook's cells call: run its study with a progress bar, and show the verdicts.
 *
 *   const records = await ftgen.runNotebookStudy("generalization");   // bar: models trained, records scored
 *   ftgen.showVerdicts(records, ["C1", "C2", "C3", "C4"]);
 */
import { showTable, toDataFrame } from "../notebook/table";
import { showText } from "../notebook/display";
import { progressBar, trainingStatus } from "../notebook/progress";
import { planStudy, type StudyPlan } from "./plan";
import { profile as activeProfile, type Profile } from "./profile";
import { runStudy, type RunOptions, type StudyRecord } from "./runner";
import { ResultStore } from "./store";
import { claimVerdicts, partRows, verdictRows, type ClaimId, type ClaimResult } from "./claims";
import { notebookStudy, runOptions, type NotebookStudy } from "./studies";

export interface NotebookRunOptions extends Partial<RunOptions> {
  /** Default: the active profile (FTGEN_PROFILE). */
  profile?: Profile;
}

/** The plan of a notebook's study under the active profile. */
export function notebookPlan(name: NotebookStudy, p: Profile = activeProfile()): StudyPlan {
  return planStudy(notebookStudy(name, p));
}

/**
 * Runs a notebook's study (training what is missing, reusing every stored record) with one bar
 * counting models and records, and returns the records in plan order.
 */
export async function runNotebookStudy(name: NotebookStudy, opts: NotebookRunOptions = {}): Promise<StudyRecord[]> {
  const p = opts.profile ?? activeProfile();
  const plan = notebookPlan(name, p);
  const trained = plan.models.filter((m) => m.method.kind !== "base").length;
  const total = trained + plan.evals.length;
  const bar = progressBar(`study "${name}" (${p.name})`, { unit: "jobs" });
  let models = 0, evals = 0, fresh = 0;
  const differ: string[] = [];
  const { profile: _p, ...extra } = opts;
  const records = await runStudy(plan, {
    ...runOptions(p, extra),
    onProgress: (e) => {
      if (e.kind === "train") bar.update(models + evals, total, `training ${e.model}: ${trainingStatus(e.progress)}`);
      else if (e.kind === "model") { if (e.model !== "base") models++; bar.update(models + evals, total, `${e.cached ? "reused" : "trained"} ${e.model}`); }
      else if (e.kind === "weights-differ") differ.push(e.model);
      else { evals++; if (!e.record.cached) fresh++; bar.update(models + evals, total, `${e.record.model} on ${e.record.spec.dataset} k=${e.record.spec.k} map ${e.record.spec.map}`); }
      opts.onProgress?.(e);
    },
  });
  // The closing state names no job: with worker processes the last one to finish varies from run
  // to run, and a notebook executed from stored records must save the same output every time.
  bar.update(total, total, "");
  bar.finish(`${records.length} records (${fresh} computed, ${records.length - fresh} reused)`);
  if (differ.length) {
    showText(`${differ.join(", ")}: trained here, with weights that differ from the recorded ones (results/models): the same recipe gives other last bits on another CPU or BLAS thread count. The stored records are kept; records computed here come from these weights.`, "Weights differ from the recorded ones");
  }
  return records;
}

/** The verdicts of `claims` from a study's records (per-item rows read from the result store). */
export function verdicts(records: readonly StudyRecord[], claims?: readonly ClaimId[], store = new ResultStore()): ClaimResult[] {
  // Each claim reads a record's items several times (cells, metrics, the collapse check): parse each file once.
  const cache = new Map<string, ReturnType<ResultStore["items"]>>();
  return claimVerdicts(records, (r) => cache.get(r.key) ?? cache.set(r.key, store.items(r.key)).get(r.key)!, claims);
}

/** Shows the verdict table (claim, effect, CI, verdict, why) and returns the verdicts. */
export function showVerdicts(records: readonly StudyRecord[], claims?: readonly ClaimId[], store = new ResultStore()): ClaimResult[] {
  const v = verdicts(records, claims, store);
  if (v.length === 0) throw new Error("showVerdicts: these records answer none of the claims asked for");
  showTable(toDataFrame(verdictRows(v)), { caption: "Verdicts at this scale (95% CIs of a bootstrap over seeds and items; classification in balanced accuracy, with plain and prior-corrected accuracy beside)", maxChars: 400 });
  const parts = partRows(v);
  if (parts.length) showTable(toDataFrame(parts), { caption: "Each claim by fine-tuning task (C5: its two halves first; S2: each set's test, Holm-corrected)", maxRows: 60 });
  return v;
}
