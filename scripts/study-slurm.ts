/**
 * `npm run study:slurm -- --profile P --shards N [options]`: the study on a Slurm cluster.
 * Submits scripts/slurm/study-array.sbatch as a job array (one shard per task), follows it, submits
 * again the shards that stopped unfinished (a time limit), merges the shards into the profile's
 * results folder, then executes the notebooks from the records (computing nothing).
 *
 *   --shared DIR        the shards' results, on a filesystem the nodes share (default .cache/shards/<profile>)
 *   --models DIR        where tasks train their models (default each node's project .cache/models)
 *   --partition NAME    --time HH:MM:SS    --cpus-per-task C    passed to sbatch
 *   --max-minutes M     each task stops starting jobs after M minutes (keep it under --time)
 *   --rounds R          submissions at most, for shards left unfinished (default 3)
 *   --into DIR          merge into DIR instead of the profile's results folder
 *   --no-notebooks      stop after the merge
 *   --out DIR           where the executed notebooks go (as npm run study's --out)
 *   --no-setup          skip set-up on this machine (the tasks never set up)
 *
 * Nodes run the project from the folder this command runs in (sbatch's submit directory): put the
 * project on the shared filesystem, or clone it at the same path on every node.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseCli, userPath } from "./lib/cli";
import { ensureBuilt, setupAll, SetupError } from "./lib/setup";
import { PROFILES, profileNames, type ProfileName } from "../kernel-lib/src/study/profile";
import { registryEntry } from "../kernel-lib/src/model/registry";
import { defaultShardRoot, profileResultsDir, runMerge, shardResultsDir, shardStatusFile, type ShardStatus } from "./lib/shard";
import { ensureRegistryModel } from "./lib/get-model";
import { projectRoot } from "../kernel-lib/src/util/paths";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function slurm(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.error) throw new SetupError(`ftgen: ${cmd} could not run (${(r.error as Error).message}); is Slurm installed and SLURM_CONF set?`);
  if (r.status !== 0) throw new SetupError(`ftgen: ${cmd} ${args.join(" ")} failed: ${(r.stderr || r.stdout).trim().split("\n").pop()}`);
  return r.stdout.trim();
}

function readStatus(file: string): ShardStatus | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as ShardStatus;
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  const { values } = parseCli("npm run study:slurm", { options: {
    profile: { type: "string", default: "default" }, shards: { type: "string" }, shared: { type: "string" }, models: { type: "string" },
    partition: { type: "string" }, time: { type: "string" }, "cpus-per-task": { type: "string" }, "max-minutes": { type: "string" },
    rounds: { type: "string", default: "3" }, into: { type: "string" }, "no-notebooks": { type: "boolean" }, "no-setup": { type: "boolean" },
    out: { type: "string" }, poll: { type: "string", default: "10" },
  } });
  const name = values.profile as string;
  if (!(name in PROFILES)) throw new SetupError(`ftgen: unknown profile "${name}" (${profileNames().join(", ")})`);
  const p = PROFILES[name as ProfileName];
  const count = Number(values.shards);
  if (!Number.isInteger(count) || count < 1) throw new SetupError(`ftgen: --shards "${values.shards ?? ""}": expected the number of array tasks, e.g. --shards 8`);
  const rounds = Number(values.rounds);
  const root = projectRoot();
  const shared = values.shared ? userPath(values.shared as string) : defaultShardRoot(p);
  const dest = values.into ? userPath(values.into as string) : profileResultsDir(p);
  if (!values["no-setup"]) await setupAll();
  else ensureBuilt();
  if (p.model !== "ftgen-base") await ensureRegistryModel(registryEntry(p.model));
  fs.mkdirSync(shared, { recursive: true });

  const resultsOf = (i: number): string => shardResultsDir(shared, i, count);
  const statusOf = (i: number): ShardStatus | undefined => readStatus(shardStatusFile(resultsOf(i)));
  let todo = Array.from({ length: count }, (_, i) => i).filter((i) => statusOf(i)?.state !== "complete");
  if (todo.length < count) console.log(`ftgen: ${count - todo.length} of ${count} shards already complete in ${path.relative(process.cwd(), shared) || "."}`);
  for (let round = 1; todo.length > 0; round++) {
    if (round > rounds) {
      const logs = todo.map((i) => `${i} (${statusOf(i)?.state ?? "never started"})`).join(", ");
      throw new SetupError(`ftgen: shards ${logs} are unfinished after ${rounds} submissions; see ${path.relative(process.cwd(), shared)}/slurm-*.out, then run this again to go on`);
    }
    const env = [`ALL`, `FTGEN_PROFILE=${p.name}`, `FTGEN_SHARDS=${count}`, `FTGEN_SHARD_ROOT=${shared}`, `FTGEN_PROJECT=${root}`];
    if (values.models) env.push(`FTGEN_SHARD_MODELS=${userPath(values.models as string)}`);
    if (values["max-minutes"]) env.push(`FTGEN_MAX_MINUTES=${values["max-minutes"]}`);
    const args = ["--parsable", `--array=${todo.join(",")}`, `--job-name=ftgen-${p.name}`, `--output=${path.join(shared, "slurm-%A_%a.out")}`, `--export=${env.join(",")}`, `--chdir=${root}`];
    if (values.partition) args.push(`--partition=${values.partition}`);
    if (values.time) args.push(`--time=${values.time}`);
    if (values["cpus-per-task"]) args.push(`--cpus-per-task=${values["cpus-per-task"]}`);
    const job = slurm("sbatch", [...args, path.join(root, "scripts", "slurm", "study-array.sbatch")]).split(";")[0];
    console.log(`ftgen: submitted job array ${job} (shards ${todo.join(", ")} of ${count}, profile "${p.name}", round ${round})`);
    let lastLine = "";
    for (;;) {
      const states = slurm("squeue", ["-h", "-r", "-j", job, "-o", "%T"]).split("\n").filter(Boolean);
      const shardLine = todo.map((i) => { const s = statusOf(i); return `${i}: ${s ? `${s.done}/${s.jobs}` : "-"}`; }).join(", ");
      const counts = [...new Set(states)].map((s) => `${states.filter((x) => x === s).length} ${s.toLowerCase()}`).join(", ");
      const line = `  array ${job}: ${counts || "finished"} · records per shard ${shardLine}`;
      if (line !== lastLine) console.log(line);
      lastLine = line;
      if (states.length === 0) break;
      await sleep(Number(values.poll) * 1000);
    }
    todo = todo.filter((i) => statusOf(i)?.state !== "complete");
    if (todo.length) console.log(`ftgen: shards ${todo.join(", ")} unfinished (a time limit or a failure); submitting them again`);
  }
  runMerge(Array.from({ length: count }, (_, i) => resultsOf(i)), dest);
  if (values["no-notebooks"]) return 0;
  // Every record is stored now: the notebooks compute nothing (a missing one is an error, not a run).
  console.log("ftgen: executing the notebooks from the merged records");
  const r = spawnSync(process.execPath, [path.join(root, "node_modules", "tsx", "dist", "cli.mjs"), path.join(root, "scripts", "study.ts"), "--profile", p.name, "--no-setup",
    ...(values.out ? ["--out", userPath(values.out as string)] : [])], {
    stdio: "inherit", env: { ...process.env, FTGEN_CACHED_ONLY: "1", ...(values.into ? { FTGEN_RESULTS_DIR: dest } : {}) },
  });
  return r.status ?? 1;
}

main().then((code) => process.exit(code)).catch((e: Error) => {
  console.error(e instanceof SetupError ? e.message : e.stack);
  process.exit(1);
});
