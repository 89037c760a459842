/**
 * JupyterLab 4 for `npm run notebook`: a venv of its own (.jupyter/venv, built from Debian's Python)
 * with the pinned scripts/requirements-lab.txt, plotly's prebuilt mime renderer extension included,
 * installed with pip from PyPI. Set-up installs it when pip can; where it cannot, one line says why
 * and everything else goes on (npm run notebook then opens Debian's Jupyter Notebook 6).
 *
 * A stamp in the venv records the hash of the requirements installed, so a second run checks one file
 * and changes nothing. Headless execution (npm run study, the tests' nbclient) keeps to Debian's Jupyter.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { projectRoot } from "../../kernel-lib/src/util/paths";
import { hexDigest } from "../../kernel-lib/src/util/hash";
import { jupyterEnv, jupyterPrefix, jupyterPython } from "./jupyter";
import { ensureAptPackages } from "./apt";
import { setting } from "../../kernel-lib/src/util/settings";

/** The plotly mime renderer's Lab extension, as plotly's wheel installs it into the venv. */
export const PLOTLY_LAB_EXTENSION = "jupyterlab-plotly";

/** The Lab venv (FTGEN_LAB_VENV overrides, e.g. for a throwaway one in tests). */
export function labVenvDir(): string {
  const venv = setting("labVenv");
  return venv ? path.resolve(venv) : path.join(jupyterPrefix(), "venv");
}

export function labPython(): string {
  return path.join(labVenvDir(), "bin", "python");
}

export function labRequirements(): string {
  return path.join(projectRoot(), "scripts", "requirements-lab.txt");
}

function stampFile(): string {
  return path.join(labVenvDir(), "ftgen-lab.sha256");
}

function requirementsHash(): string {
  return hexDigest("sha256", fs.readFileSync(labRequirements(), "utf8"));
}

/** Where plotly's Lab extension lies in the venv (its package.json names the mime extension). */
export function plotlyLabExtensionDir(): string {
  return path.join(labVenvDir(), "share", "jupyter", "labextensions", PLOTLY_LAB_EXTENSION);
}

function shown(p: string): string {
  return path.relative(projectRoot(), p) || p;
}

/** Whether the Lab venv holds the pinned requirements (by its stamp), with the reason when not. */
export function labStatus(): { ready: boolean; why: string } {
  if (!fs.existsSync(labPython())) return { ready: false, why: `no Lab venv at ${shown(labVenvDir())}` };
  if (!fs.existsSync(stampFile()) || fs.readFileSync(stampFile(), "utf8").trim() !== requirementsHash()) {
    return { ready: false, why: `the Lab venv at ${shown(labVenvDir())} lacks ${shown(labRequirements())}` };
  }
  if (!fs.existsSync(path.join(plotlyLabExtensionDir(), "package.json"))) {
    return { ready: false, why: `the Lab venv lacks plotly's Lab extension (${shown(plotlyLabExtensionDir())})` };
  }
  return { ready: true, why: "" };
}

/** The last meaningful line of a tool's error output. */
function lastLine(text: string, fallback: string): string {
  return (text.split("\n").map((l) => l.trim()).filter((l) => l && !/^WARNING: Location|^\[notice\]/.test(l)).pop() ?? fallback).slice(0, 300);
}

/**
 * Builds or completes the Lab venv. Never throws: where it cannot (no python3-venv and no apt, no
 * PyPI), it logs one line saying why and what npm run notebook does instead (unless `quietFailure`:
 * the caller says it), and returns the reason.
 */
export function ensureLab(log: (s: string) => void = console.log, opts: { quietFailure?: boolean } = {}): { ready: boolean; why: string } {
  const status = labStatus();
  if (status.ready) return status;
  const fail = (why: string): { ready: boolean; why: string } => {
    if (!opts.quietFailure) log(`ftgen: JupyterLab not installed (${why}); npm run notebook opens Jupyter Notebook 6 instead; npm run setup tries again`);
    return { ready: false, why };
  };
  try {
    ensureAptPackages({ "python3-venv": "" }, log);
  } catch (e) {
    return fail((e as Error).message.replace(/^ftgen: /, ""));
  }
  if (!fs.existsSync(labPython())) {
    log(`ftgen: creating the Lab venv in ${shown(labVenvDir())}`);
    const r = spawnSync(jupyterPython(), ["-m", "venv", labVenvDir()], { encoding: "utf8" });
    if (r.status !== 0) return fail(`${jupyterPython()} -m venv failed: ${lastLine(`${r.stderr}`, r.error?.message ?? `exit ${r.status}`)}`);
  }
  log(`ftgen: installing JupyterLab and plotly's Lab renderer (${shown(labRequirements())}) into ${shown(labVenvDir())}`);
  // Short network timeouts: where PyPI cannot be reached, set-up says so in seconds, not minutes.
  const r = spawnSync(labPython(), ["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q", "--retries", "1", "--timeout", "30", "-r", labRequirements()],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 30 * 60_000 });
  if (r.status !== 0) {
    const err = `${r.stderr}`;
    const offline = /NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution|Name or service not known|ConnectTimeout|Network is unreachable/.test(err);
    return fail(`pip: ${offline ? "PyPI cannot be reached; " : ""}${lastLine(err, r.error?.message ?? `exit ${r.status}`)}`);
  }
  if (!fs.existsSync(path.join(plotlyLabExtensionDir(), "package.json"))) return fail(`pip installed ${shown(labRequirements())} but ${shown(plotlyLabExtensionDir())} is missing`);
  fs.writeFileSync(stampFile(), requirementsHash() + "\n");
  return { ready: true, why: "" };
}

/**
 * The environment of Lab's processes: the project's Jupyter environment (its kernel registration,
 * data and runtime files under .jupyter/), and Lab's user settings and workspaces there too, so that
 * no per-user Jupyter state is touched (FTGEN's callers may point them elsewhere through the same variables).
 */
export function labEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return jupyterEnv({
    JUPYTERLAB_SETTINGS_DIR: process.env.JUPYTERLAB_SETTINGS_DIR ?? path.join(jupyterPrefix(), "lab", "user-settings"),
    JUPYTERLAB_WORKSPACES_DIR: process.env.JUPYTERLAB_WORKSPACES_DIR ?? path.join(jupyterPrefix(), "lab", "workspaces"),
    ...extra,
  });
}

export type JupyterApp = "jupyterlab" | "notebook";

/** Which Jupyter `npm run notebook` runs: Lab where its venv is ready, else Notebook 6 with the reason. */
export function chooseJupyterApp(opts: { classic?: boolean } = {}): { app: JupyterApp; python: string; why: string } {
  if (opts.classic) return { app: "notebook", python: jupyterPython(), why: "--classic" };
  const status = labStatus();
  if (!status.ready) return { app: "notebook", python: jupyterPython(), why: `${status.why}; npm run setup installs it` };
  const r = spawnSync(labPython(), ["-c", "import jupyterlab"], { encoding: "utf8" });
  if (r.status !== 0) return { app: "notebook", python: jupyterPython(), why: `the Lab venv cannot import jupyterlab (${lastLine(`${r.stderr}`, `exit ${r.status}`)}); rebuild it: rm -r ${shown(labVenvDir())} && npm run setup` };
  return { app: "jupyterlab", python: labPython(), why: "" };
}

/**
 * The command line of a Jupyter server on 127.0.0.1: `app` serving `dir` on `port` (Jupyter moves to
 * the next free port when it is taken), with `token` when given (else Jupyter makes one and prints it
 * in its URL); `extra` arguments last.
 */
export function jupyterServerArgs(app: JupyterApp, opts: { port: number | string; dir: string; token?: string; extra?: readonly string[] }): string[] {
  const args = ["-m", app, "--no-browser", "--ip=127.0.0.1", `--port=${opts.port}`];
  if (app === "jupyterlab") {
    args.push(`--ServerApp.root_dir=${opts.dir}`);
    if (opts.token !== undefined) args.push(`--IdentityProvider.token=${opts.token}`);
  } else {
    args.push(`--notebook-dir=${opts.dir}`);
    if (opts.token !== undefined) args.push(`--NotebookApp.token=${opts.token}`);
  }
  // Jupyter refuses root unless told; a fresh Debian box (and CI) runs as root.
  if (typeof process.getuid === "function" && process.getuid() === 0) args.push("--allow-root");
  return [...args, ...(opts.extra ?? [])];
}
