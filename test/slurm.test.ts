/**
 * The study on a real Slurm cluster: a one-node cluster on 127.0.0.1 (munge, slurmctld, slurmd from
 * Debian's slurm-wlm, started by scripts/slurm/local-cluster.sh) runs the quick profile as a 2-task
 * job array through `npm run study:slurm`, which merges the shards and executes the notebooks from
 * the merged records. The merge must equal a one-machine run of the same profile, record for record
 * (every model trained apart in both: its own models folder), and the notebooks must run on it.
 *
 * Needs root and slurm-wlm + munge: skipped without them, a failure where FTGEN_REQUIRE_SLURM=1 (CI).
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { mergeResults } from "../kernel-lib/src/study/merge";
import { ResultStore } from "../kernel-lib/src/study/store";

const root = path.resolve(__dirname, "..");
const tsx = path.join(root, "node_modules", ".bin", "tsx");
const cluster = path.join(root, "scripts", "slurm", "local-cluster.sh");
const work = path.join(root, ".cache", "test-slurm");
const has = (cmd: string): boolean => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
const missing = ["sbatch", "slurmctld", "slurmd", "munged"].filter((c) => !has(c));
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const why = missing.length ? `${missing.join(", ")} missing (apt-get install slurm-wlm munge)` : !isRoot ? "the local cluster needs root" : "";
if (why && process.env.FTGEN_REQUIRE_SLURM === "1") throw new Error(`FTGEN_REQUIRE_SLURM=1 and ${why}`);

after(() => {
  if (!why) spawnSync(cluster, ["stop", path.join(work, "cluster")]);
});

test("study:slurm runs the quick profile as a 2-task array; the merge equals a one-machine run; the notebooks run on it", { skip: why || false }, () => {
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  const start = spawnSync(cluster, ["start", path.join(work, "cluster"), "2"], { encoding: "utf8" });
  assert.equal(start.status, 0, start.stderr);
  const slurmConf = /export SLURM_CONF=(\S+)/.exec(start.stdout)?.[1];
  assert.ok(slurmConf && fs.existsSync(slurmConf), start.stdout);
  // Nothing reused from earlier runs: an empty profile folder, and each run trains into its own models folder.
  // One BLAS and onnxruntime thread everywhere, as the study's worker processes use.
  const env = { ...process.env, SLURM_CONF: slurmConf, FTGEN_RESULTS_DIR: path.join(work, "empty"), FTGEN_FIGURES_DIR: path.join(work, "figures"), FTGEN_BLAS_THREADS: "1", FTGEN_ORT_THREADS: "1" };
  fs.mkdirSync(env.FTGEN_RESULTS_DIR, { recursive: true });

  const local = spawnSync(tsx, [path.join(root, "scripts", "study.ts"), "--profile", "quick", "--no-setup", "--shard", "0/1", "--workers", "2",
    "--results", path.join(work, "local"), "--models", path.join(work, "local-models")], { cwd: root, encoding: "utf8", env, timeout: 900_000 });
  assert.equal(local.status, 0, local.stdout.slice(-2000) + local.stderr.slice(-2000));

  const merged = path.join(work, "merged");
  const r = spawnSync(tsx, [path.join(root, "scripts", "study-slurm.ts"), "--profile", "quick", "--shards", "2", "--no-setup", "--poll", "2",
    "--shared", path.join(work, "shards"), "--models", path.join(work, "slurm-models"), "--into", merged, "--out", path.join(work, "notebooks")], { cwd: root, encoding: "utf8", env, timeout: 1_200_000 });
  assert.equal(r.status, 0, r.stdout.slice(-3000) + r.stderr.slice(-3000));
  assert.match(r.stdout, /submitted job array \d+ \(shards 0, 1 of 2/);
  assert.match(r.stdout, /array \d+: .*running/, "the array was followed while it ran");
  // Each task ran on the cluster: its log names its shard.
  const logs = fs.readdirSync(path.join(work, "shards")).filter((f) => /^slurm-\d+_\d\.out$/.test(f));
  assert.equal(logs.length, 2);
  for (const [i, f] of logs.sort().entries()) assert.match(fs.readFileSync(path.join(work, "shards", f), "utf8"), new RegExp(`shard ${i}/2: (\\d+) of \\1 records`));
  // Trained apart: each shard trained its own models, none in the local run's folder.
  assert.ok(fs.readdirSync(path.join(work, "slurm-models")).length > 0);

  // Record for record: the same keys, and merging the local run into the merge adds nothing and conflicts nowhere.
  const keys = (d: string) => new ResultStore(d).all().map((x) => x.key);
  assert.ok(keys(merged).length > 100);
  assert.deepEqual(keys(merged), keys(path.join(work, "local")));
  const report = mergeResults([path.join(work, "local")], merged);
  assert.deepEqual(report.added, { records: 0, models: 0 });
  assert.equal(report.identical.records, keys(merged).length);
  assert.equal(report.identical.models, fs.readdirSync(path.join(merged, "models")).length, "every model: the same recipe and weights hash");

  // The notebooks ran from the merged records (computing nothing) and end with their verdicts.
  for (const nb of ["01-generation-vs-classification", "02-icl-at-inference", "03-fticl", "04-train-size", "05-prompt-format"]) {
    const file = path.join(work, "notebooks", `${nb}.ipynb`);
    assert.ok(fs.existsSync(file), `${nb} executed`);
    assert.match(fs.readFileSync(file, "utf8"), /Verdicts by subject/);
  }
});
