/**
 * `npm run study -- [notebook paths] [--profile quick|default|paper|smollm2] [--out DIR] [--cached-only]`
 * Sets up what is missing, then executes notebooks through the real Jupyter protocol
 * (scripts/run_notebooks.py: nbclient and the project's tslab kernel), writing each executed
 * notebook with its outputs. A failing cell exits non-zero, naming the notebook and cell and quoting
 * the kernel's stderr.
 *
 * The default profile is the committed one: notebooks are written in place, records go to results/
 * and figures to figures/. Any other profile keeps to .cache/profiles/<profile>/ (notebooks/,
 * results/, figures/), so a quick run never overwrites the committed outputs.
 * --cached-only (what `npm run figures` runs) computes nothing: every record must be stored already;
 * the figures are exported again and the executed notebooks go to .cache/figures-run.
 * --recompute executes no notebook: it trains and evaluates the profile's studies again into
 * .cache/recompute/<profile>/ and reports how far the new numbers are from the stored ones
 * (scripts/lib/recompute.ts).
 *
 * For clusters (scripts/lib/shard.ts; Slurm: scripts/slurm/, `npm run study:slurm`):
 *   --shard i/n [--results DIR] [--models DIR] [--workers N] [--max-minutes M]
 *       computes shard i of n of the profile's jobs, no notebooks, into DIR (default
 *       .cache/shards/<profile>/<i>-of-<n>/results), reusing the profile's stored records, training
 *       into --models (default .cache/models) in N processes (default 1); exits 0 when the shard is
 *       complete, 3 when --max-minutes stopped it
 *   --plan                                           what the profile's whole study holds, how much is
 *       stored, and the time the rest should take (scripts/lib/plan-report.ts)
 *   --merge DIR... [--into DIR]                     merges results folders into the profile's
 *       results folder (or --into), refusing a key whose contents differ
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ensureBuilt, setupAll, SetupError } from "./lib/setup";
import { parseCli, userPath } from "./lib/cli";
import { jupyterEnv, jupyterPython } from "./lib/jupyter";
import { PROFILES, profileNames, type ProfileName } from "../kernel-lib/src/study/profile";
import { parseShard } from "../kernel-lib/src/study/shards";
import { defaultShardRoot, profileResultsDir, runMerge, runShard, shardResultsDir } from "./lib/shard";
import { printPlanReport } from "./lib/plan-report";
import { ResultStore } from "../kernel-lib/src/study/store";
import { recompute } from "./lib/recompute";
import { projectRoot } from "../kernel-lib/src/util/paths";
import { setting } from "../kernel-lib/src/util/settings";

async function main(): Promise<number> {
  const { values, positionals } = parseCli("npm run study", {
    allowPositionals: true,
    options: {
      profile: { type: "string", default: setting("profile") ?? "default" },
      out: { type: "string" },
      "cell-timeout": { type: "string", default: "3600" },
      "no-setup": { type: "boolean" },
      "cached-only": { type: "boolean" },
      recompute: { type: "boolean" },
      shard: { type: "string" },
      results: { type: "string" },
      "max-minutes": { type: "string" },
      merge: { type: "boolean" },
      plan: { type: "boolean" },
      models: { type: "string" },
      workers: { type: "string" },
      into: { type: "string" },
    },
  });
  const profile = values.profile as string;
  if (!(profile in PROFILES)) throw new SetupError(`ftgen: unknown profile "${profile}" (${profileNames().join(", ")})`);
  const root = projectRoot();
  const p = PROFILES[profile as ProfileName];
  if (values.plan) {
    const dir = values.results ? userPath(values.results as string) : profileResultsDir(p);
    printPlanReport(p, new ResultStore(dir, dir === profileResultsDir(p) ? [] : [profileResultsDir(p)]));
    return 0;
  }
  if (values.merge) {
    if (positionals.length === 0) throw new SetupError("ftgen: --merge needs the results folders to merge, e.g. --merge .cache/shards/quick/0-of-2/results .cache/shards/quick/1-of-2/results");
    try {
      runMerge(positionals.map((d) => userPath(d)), values.into ? userPath(values.into as string) : profileResultsDir(p));
    } catch (e) {
      throw new SetupError(`ftgen: ${(e as Error).message}`);
    }
    return 0;
  }
  if (values.shard !== undefined) {
    let shard: { index: number; count: number };
    try {
      shard = parseShard(values.shard as string);
    } catch (e) {
      throw new SetupError(`ftgen: ${(e as Error).message}`);
    }
    const minutes = values["max-minutes"] === undefined ? undefined : Number(values["max-minutes"]);
    if (minutes !== undefined && !(minutes > 0)) throw new SetupError(`ftgen: --max-minutes "${values["max-minutes"]}": expected a positive number of minutes`);
    if (!values["no-setup"]) await setupAll();
    else ensureBuilt();
    const out = values.results ? userPath(values.results as string) : shardResultsDir(defaultShardRoot(p), shard.index, shard.count);
    const workers = values.workers === undefined ? 1 : Number(values.workers);
    if (!Number.isInteger(workers) || workers < 1) throw new SetupError(`ftgen: --workers "${values.workers}": expected a whole number ≥ 1`);
    const r = await runShard(p, shard.index, shard.count, out, {
      deadline: minutes === undefined ? undefined : Date.now() + minutes * 60_000, workers, ...(values.models ? { modelsDir: userPath(values.models as string) } : {}),
    });
    const complete = r.done === r.jobs;
    console.log(`shard ${shard.index}/${shard.count}: ${r.done} of ${r.jobs} records (${r.computed} computed here) in ${r.seconds.toFixed(0)} s${complete ? "" : "; stopped by --max-minutes: run it again to go on"}`);
    return complete ? 0 : 3;
  }
  if (values.recompute) {
    if (!values["no-setup"]) await setupAll();
    const results = profileResultsDir(p);
    return recompute(profile as ProfileName, results);
  }
  const notebooks = positionals.length > 0
    ? positionals.map((p) => userPath(p))
    : fs.readdirSync(path.join(root, "notebooks")).filter((f) => f.endsWith(".ipynb")).sort().map((f) => path.join(root, "notebooks", f));
  for (const nb of notebooks) if (!fs.existsSync(nb)) throw new SetupError(`ftgen: no such notebook: ${nb}`);
  if (notebooks.length === 0) throw new SetupError("ftgen: no notebooks to run in notebooks/");
  if (!values["no-setup"]) await setupAll();
  else ensureBuilt(); // a stale kernel-lib build would run old code: always cheap to check

  const env: Record<string, string> = { FTGEN_PROFILE: profile };
  let out = values.out ? userPath(values.out as string) : undefined;
  if (profile !== "default") {
    const dir = path.join(root, ".cache", "profiles", profile);
    out ??= path.join(dir, "notebooks");
    env.FTGEN_RESULTS_DIR = profileResultsDir(p); // the committed results/ for smollm2, whose records are committed
    env.FTGEN_FIGURES_DIR = setting("figuresDir") ?? path.join(dir, "figures");
  }
  if (values["cached-only"]) {
    env.FTGEN_CACHED_ONLY = "1";
    out ??= path.join(root, ".cache", "figures-run");
  }
  const args = [path.join(root, "scripts", "run_notebooks.py"), "--timeout", values["cell-timeout"] as string,
    "--failed-dir", path.join(root, ".cache", "failed")];
  if (out) args.push("--out", out);
  const r = spawnSync(jupyterPython(), [...args, ...notebooks], { stdio: "inherit", env: jupyterEnv(env) });
  return r.status ?? 1;
}

main().then((code) => process.exit(code)).catch((e: Error) => {
  console.error(e instanceof SetupError ? e.message : e.stack);
  process.exit(1);
});
