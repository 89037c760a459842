/**
 * Debian packages a step needs, installed with apt-get where missing (as root), or one line naming
 * the command to run. Off Debian, any Python with the packages' modules will do.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { jupyterPython } from "./jupyter";

/** A set-up step that cannot go on: one line saying what to run. */
export class SetupError extends Error {}

/** Runs a command, output shown or (quiet) collected. */
export function run(cmd: string, args: string[], opts: { quiet?: boolean } = {}): { status: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", stdio: opts.quiet ? "pipe" : "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  return { status: r.status ?? (r.error ? 127 : 1), out: (r.stdout ?? "") + (r.stderr ?? "") };
}

function dpkgInstalled(pkg: string): boolean | null {
  const r = spawnSync("dpkg-query", ["-W", "-f=${Status}", pkg], { encoding: "utf8" });
  if (r.error) return null; // no dpkg: not Debian
  return r.status === 0 && r.stdout.includes("install ok installed");
}

function pythonHas(modules: string[]): boolean {
  const r = spawnSync(jupyterPython(), ["-c", `import ${modules.join(", ")}`], { encoding: "utf8" });
  return r.status === 0;
}

/** Install whichever of `packages` are missing, with apt, as root. */
export function ensureAptPackages(packages: Readonly<Record<string, string>>, log: (s: string) => void = console.log): void {
  const names = Object.keys(packages);
  const status = names.map((p) => dpkgInstalled(p));
  if (status.some((s) => s === null)) {
    // Not a Debian system: accept any Python that has the modules.
    const modules = Object.values(packages).filter(Boolean);
    if (modules.length === 0 || pythonHas(modules)) return;
    throw new SetupError(`ftgen: ${jupyterPython()} lacks ${modules.join(", ")}; install them (e.g. pip install ${modules.join(" ")}) and set FTGEN_PYTHON to that Python`);
  }
  const missing = names.filter((_, i) => !status[i]);
  if (missing.length === 0) return;
  const cmd = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(" ")}`;
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!isRoot || !fs.existsSync("/usr/bin/apt-get")) {
    throw new SetupError(`ftgen: missing Debian packages ${missing.join(", ")}; run as root: sudo sh -c '${cmd}'`);
  }
  log(`ftgen: installing ${missing.join(", ")} with apt-get`);
  if (run("apt-get", ["update"], { quiet: true }).status !== 0) throw new SetupError(`ftgen: "apt-get update" failed; run it by hand: ${cmd}`);
  const inst = run("apt-get", ["install", "-y", "--no-install-recommends", ...missing], { quiet: true });
  if (inst.status !== 0) throw new SetupError(`ftgen: apt-get install failed (${inst.out.trim().split("\n").pop()}); run: ${cmd}`);
}

