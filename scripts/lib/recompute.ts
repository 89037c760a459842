/**
 * `npm run study -- --recompute [--profile P]`: trains every model of the profile's notebook studies
 * again and evaluates every record again, into .cache/recompute/<profile>/ (resumable: a rerun reuses
 * what an earlier one left there), then says how far the new numbers are from the stored ones.
 * Nothing stored changes. The report is written to .cache/recompute/<profile>/report.json.
 */
import fs from "node:fs";
import path from "node:path";
import { initBackend } from "../../kernel-lib/src/model/backend";
import { PROFILES, type ProfileName } from "../../kernel-lib/src/study/profile";
import { notebookStudy, runOptions, type NotebookStudy } from "../../kernel-lib/src/study/studies";
import { planStudy } from "../../kernel-lib/src/study/plan";
import { recomputeStudy } from "../../kernel-lib/src/study/recompute";
import { ResultStore } from "../../kernel-lib/src/study/store";
import { trainingMachine } from "../../kernel-lib/src/study/runner";
import { projectRoot } from "../../kernel-lib/src/util/paths";
import { writeFileAtomic } from "../../kernel-lib/src/util/atomic";

const STUDIES: NotebookStudy[] = ["generalization", "icl", "fticl", "trainSize"];

/** Runs the recompute and prints its summary; returns the exit code (0: done, whatever the differences). */
export async function recompute(profileName: ProfileName, resultsDir: string): Promise<number> {
  const p = PROFILES[profileName];
  const scratch = path.join(projectRoot(), ".cache", "recompute", profileName);
  await initBackend({ quiet: true });
  const plans = STUDIES.map((s) => planStudy(notebookStudy(s, p)));
  console.log(`ftgen: recomputing the ${profileName} profile's ${STUDIES.length} studies into ${path.relative(projectRoot(), scratch)} (on ${trainingMachine().cpu})`);
  let last = 0;
  const report = await recomputeStudy(plans, scratch, runOptions(p, {
    store: new ResultStore(resultsDir),
    onProgress: (e) => {
      if (e.kind === "model" && e.model !== "base") console.log(`  ${e.cached ? "reused" : "trained"} ${e.model}`);
      else if (e.kind === "eval" && Date.now() - last > 30_000) { last = Date.now(); console.log(`  evaluated ${e.done}/${e.total}`); }
    },
  }));
  writeFileAtomic(path.join(scratch, "report.json"), JSON.stringify({ machine: trainingMachine(), ...report }, null, 1) + "\n");
  const compared = report.records.filter((r) => r.delta !== undefined);
  const same = report.models.filter((m) => m.identical).length;
  console.log(`models: ${same} of ${report.models.length} with bit-identical weights${report.models.some((m) => !m.recorded) ? ` (${report.models.filter((m) => !m.recorded).length} had no recorded hash)` : ""}`);
  console.log(`records: ${report.identicalRecords} of ${compared.length} identical item for item; largest |difference| ${report.maxAbsDelta.toFixed(4)}${compared.length < report.records.length ? `; ${report.records.length - compared.length} had no stored twin` : ""}`);
  const worst = [...compared].sort((a, b) => Math.abs(b.delta!) - Math.abs(a.delta!)).filter((r) => r.delta !== 0).slice(0, 10);
  for (const r of worst) console.log(`  ${r.model} on ${r.dataset} k=${r.k} map ${r.map}: ${r.metric} ${r.stored!.toFixed(4)} → ${r.recomputed.toFixed(4)} (${r.delta! > 0 ? "+" : ""}${r.delta!.toFixed(4)}, ${r.itemsChanged} items changed)`);
  console.log(`report: ${path.relative(process.cwd(), path.join(scratch, "report.json"))}`);
  if (!fs.existsSync(resultsDir)) console.log(`(no stored records in ${resultsDir}: nothing to compare with)`);
  return 0;
}
