/**
 * `npm run study -- [notebook paths] [--profile quick|default|paper] [--out DIR] [--cached-only]`
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
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ensureBuilt, setupAll, SetupError } from "./lib/setup";
import { parseCli, userPath } from "./lib/cli";
import { jupyterEnv, jupyterPython } from "./lib/jupyter";
import { PROFILES, type ProfileName } from "../kernel-lib/src/study/profile";
import { recompute } from "./lib/recompute";
import { projectRoot } from "../kernel-lib/src/util/paths";

async function main(): Promise<number> {
  const { values, positionals } = parseCli("npm run study", {
    allowPositionals: true,
    options: {
      profile: { type: "string", default: process.env.FTGEN_PROFILE ?? "default" },
      out: { type: "string" },
      "cell-timeout": { type: "string", default: "3600" },
      "no-setup": { type: "boolean" },
      "cached-only": { type: "boolean" },
      recompute: { type: "boolean" },
    },
  });
  const profile = values.profile as string;
  if (!(profile in PROFILES)) throw new SetupError(`ftgen: unknown profile "${profile}" (quick, default, paper)`);
  const root = projectRoot();
  if (values.recompute) {
    if (!values["no-setup"]) await setupAll();
    const results = profile === "default" ? path.join(root, "results") : process.env.FTGEN_RESULTS_DIR ?? path.join(root, ".cache", "profiles", profile, "results");
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
    env.FTGEN_RESULTS_DIR = process.env.FTGEN_RESULTS_DIR ?? path.join(dir, "results");
    env.FTGEN_FIGURES_DIR = process.env.FTGEN_FIGURES_DIR ?? path.join(dir, "figures");
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
