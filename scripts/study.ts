/**
 * `npm run study -- [notebook paths] [--profile quick|default|paper] [--out DIR]`
 * Sets up what is missing, then executes notebooks through the real Jupyter protocol
 * (scripts/run_notebooks.py: nbclient and the project's tslab kernel), writing each executed
 * notebook with its outputs (in place by default). A failing cell exits non-zero, naming the
 * notebook and cell and quoting the kernel's stderr.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { ensureBuilt, setupAll, SetupError } from "./lib/setup";
import { jupyterEnv, jupyterPython } from "./lib/jupyter";
import { PROFILES } from "../kernel-lib/src/study/profile";
import { projectRoot } from "../kernel-lib/src/util/paths";

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      profile: { type: "string", default: process.env.FTGEN_PROFILE ?? "default" },
      out: { type: "string" },
      "cell-timeout": { type: "string", default: "3600" },
      "no-setup": { type: "boolean" },
    },
  });
  const profile = values.profile as string;
  if (!(profile in PROFILES)) throw new SetupError(`ftgen: unknown profile "${profile}" (quick, default, paper)`);
  const root = projectRoot();
  const notebooks = positionals.length > 0
    ? positionals.map((p) => path.resolve(p))
    : fs.readdirSync(path.join(root, "notebooks")).filter((f) => f.endsWith(".ipynb")).sort().map((f) => path.join(root, "notebooks", f));
  for (const nb of notebooks) if (!fs.existsSync(nb)) throw new SetupError(`ftgen: no such notebook: ${nb}`);
  if (notebooks.length === 0) throw new SetupError("ftgen: no notebooks to run in notebooks/");
  if (!values["no-setup"]) await setupAll();
  else ensureBuilt(); // a stale kernel-lib build would run old code: always cheap to check

  const args = [path.join(root, "scripts", "run_notebooks.py"), "--timeout", values["cell-timeout"] as string,
    "--failed-dir", path.join(root, ".cache", "failed")];
  if (values.out) args.push("--out", path.resolve(values.out));
  const r = spawnSync(jupyterPython(), [...args, ...notebooks], { stdio: "inherit", env: jupyterEnv({ FTGEN_PROFILE: profile }) });
  return r.status ?? 1;
}

main().then((code) => process.exit(code)).catch((e: Error) => {
  console.error(e instanceof SetupError ? e.message : e.stack);
  process.exit(1);
});
