/**
 * `npm run notebook`: start Jupyter on 127.0.0.1 with the project's tslab kernel, and print the URL.
 * JupyterLab 4 from the Lab venv that set-up installs (scripts/lib/lab.ts); where it is not there,
 * Debian's Jupyter Notebook 6, with one line saying why. Ctrl-C stops it.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { setupAll, SetupError } from "./lib/setup";
import { chooseJupyterApp, ensureLab, jupyterServerArgs, labEnv } from "./lib/lab";
import { projectRoot } from "../kernel-lib/src/util/paths";
import { parseCli, userPath } from "./lib/cli";

/**
 * Jupyter runs the scripts of a notebook's outputs (our plots' HTML) only in notebooks it trusts,
 * and trust is a signature kept per machine (here in the project's .jupyter): a fresh clone trusts
 * nothing, so Notebook 6 would show its plots as still images. The notebooks served are trusted here.
 */
function trustNotebooks(python: string, dir: string): void {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".ipynb")).map((f) => path.join(dir, f));
  if (files.length === 0) return;
  const r = spawnSync(python, ["-m", "nbformat.sign", ...files], { env: labEnv(), encoding: "utf8" });
  if (r.status !== 0) console.warn(`ftgen: could not mark the notebooks trusted (${(r.stderr || "").trim().split("\n").pop()}); plots are interactive after running their cells`);
}

/** Waits until a server answers at `url` (Jupyter prints its URL a moment before it listens), up to 30 s. */
async function whenListening(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      await fetch(new URL("/api/status", url));
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function main(): Promise<void> {
  const { values } = parseCli("npm run notebook", { options: { port: { type: "string", default: "8888" }, dir: { type: "string" }, "no-setup": { type: "boolean" }, classic: { type: "boolean" } } });
  const dir = values.dir ? userPath(values.dir) : path.join(projectRoot(), "notebooks");
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new SetupError(`ftgen: npm run notebook: --dir ${values.dir}: no such folder`);
  let installWhy = "";
  if (!values["no-setup"]) {
    await setupAll({ lab: false });
    // Where Lab cannot be installed, the one line below says why.
    const lab = values.classic ? { ready: true, why: "" } : ensureLab(console.log, { quietFailure: true });
    if (!lab.ready) installWhy = `${lab.why}; npm run setup tries again`;
  }
  const { app, python, why } = chooseJupyterApp({ classic: values.classic });
  if (app === "notebook" && !values.classic) console.log(`ftgen: JupyterLab is not available (${installWhy || why}); opening Jupyter Notebook 6 instead`);
  trustNotebooks(python, dir);
  const args = jupyterServerArgs(app, { port: values.port, dir });
  console.log(`ftgen: starting ${app === "jupyterlab" ? "JupyterLab" : "Jupyter Notebook"} with the tslab kernel "TypeScript (ftgen)"`);
  const child = spawn(python, args, { env: labEnv(), stdio: ["inherit", "inherit", "pipe"] });
  let announced = false;
  child.stderr.on("data", (chunk: Buffer) => {
    const text = chunk.toString();
    process.stderr.write(text);
    const m = /(http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(text);
    if (m && !announced) {
      announced = true;
      const url = m[1];
      void whenListening(url).then(() => console.log(`\nftgen: Jupyter is at ${url}\n`));
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
