/**
 * `npm run notebook`: start Jupyter on 127.0.0.1 with the project's tslab kernel, and print the URL.
 * JupyterLab where it is installed, Notebook otherwise. Ctrl-C stops it.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { setupAll, SetupError } from "./lib/setup";
import { jupyterEnv, jupyterPython } from "./lib/jupyter";
import { projectRoot } from "../kernel-lib/src/util/paths";
import { parseCli } from "./lib/cli";

function hasModule(mod: string): boolean {
  return spawnSync(jupyterPython(), ["-c", `import ${mod}`]).status === 0;
}

/**
 * Jupyter runs the scripts of a notebook's outputs (our plotly plots) only in notebooks it trusts,
 * and trust is a signature kept per machine (here in the project's .jupyter): a fresh clone trusts
 * nothing, so its plots would show as empty boxes. The project's own notebooks are trusted here.
 */
function trustProjectNotebooks(): void {
  const dir = path.join(projectRoot(), "notebooks");
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".ipynb")).map((f) => path.join(dir, f));
  if (files.length === 0) return;
  const r = spawnSync(jupyterPython(), ["-m", "nbformat.sign", ...files], { env: jupyterEnv(), encoding: "utf8" });
  if (r.status !== 0) console.warn(`ftgen: could not mark the notebooks trusted (${(r.stderr || "").trim().split("\n").pop()}); plots appear after running their cells`);
}

async function main(): Promise<void> {
  const { values } = parseCli("npm run notebook", { options: { port: { type: "string", default: "8888" }, "no-setup": { type: "boolean" }, classic: { type: "boolean" } } });
  if (!values["no-setup"]) await setupAll();
  trustProjectNotebooks();
  const app = !values.classic && hasModule("jupyterlab") ? "jupyterlab" : "notebook";
  const args = ["-m", app, "--no-browser", "--ip=127.0.0.1", `--port=${values.port}`, `--notebook-dir=${path.join(projectRoot(), "notebooks")}`];
  // Jupyter refuses root unless told; a fresh Debian box (and CI) runs as root.
  if (typeof process.getuid === "function" && process.getuid() === 0) args.push("--allow-root");
  console.log(`ftgen: starting ${app === "jupyterlab" ? "JupyterLab" : "Jupyter Notebook"} with the tslab kernel "TypeScript (ftgen)"`);
  const child = spawn(jupyterPython(), args, { env: jupyterEnv(), stdio: ["inherit", "inherit", "pipe"] });
  let announced = false;
  child.stderr.on("data", (chunk: Buffer) => {
    const text = chunk.toString();
    process.stderr.write(text);
    const m = /(http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(text);
    if (m && !announced) {
      announced = true;
      console.log(`\nftgen: Jupyter is at ${m[1]}\n`);
    }
  });
  const stop = (): void => { child.kill("SIGTERM"); };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  child.on("exit", (code) => process.exit(code ?? 0));
}

main().catch((e: Error) => {
  console.error(e instanceof SetupError ? e.message : e.stack);
  process.exit(1);
});
