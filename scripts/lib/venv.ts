/**
 * The project venv (.venv): Debian's Python with the independent implementations the tests and
 * benchmarks check ftgen against (bench/requirements.txt: PyTorch CPU, transformers, gguf-py, HF
 * tokenizers; bench/requirements-bench.txt adds llama.cpp). The study never needs it.
 *
 * A stamp file records the hash of the requirements installed, so a second run checks and changes
 * nothing. Where it cannot be built (no python3-venv, no PyPI), it says so in one line.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { projectRoot } from "../../kernel-lib/src/util/paths";
import { hexDigest } from "../../kernel-lib/src/util/hash";
import { ensureAptPackages, SetupError } from "./apt";
import { setting } from "../../kernel-lib/src/util/settings";

export type VenvTier = "conformance" | "bench";

export function venvDir(): string {
  return path.join(projectRoot(), ".venv");
}

/** The venv's Python (FTGEN_VENV_PYTHON overrides, e.g. for a venv elsewhere). */
export function venvPython(): string {
  return setting("venvPython") ?? path.join(venvDir(), "bin", "python");
}

function requirementsFile(tier: VenvTier): string {
  return path.join(projectRoot(), "bench", tier === "bench" ? "requirements-bench.txt" : "requirements.txt");
}

/** Hash of the requirement files a tier installs (requirements-bench.txt includes requirements.txt). */
function requirementsHash(tier: VenvTier): string {
  const files = tier === "bench" ? [requirementsFile("conformance"), requirementsFile("bench")] : [requirementsFile("conformance")];
  return hexDigest("sha256", files.map((f) => fs.readFileSync(f, "utf8")).join("\0"));
}

function stampFile(tier: VenvTier): string {
  return path.join(venvDir(), `ftgen-${tier}.sha256`);
}

/** Whether the venv has a tier's requirements installed (by its stamp), with the reason when not. */
export function venvStatus(tier: VenvTier): { ready: boolean; why: string } {
  if (!fs.existsSync(venvPython())) return { ready: false, why: `no project venv (${path.relative(process.cwd(), venvDir()) || venvDir()}); run: npm run venv` };
  const stamp = stampFile(tier);
  if (!fs.existsSync(stamp) || fs.readFileSync(stamp, "utf8").trim() !== requirementsHash(tier)) {
    return { ready: false, why: `the project venv lacks ${path.relative(projectRoot(), requirementsFile(tier))}; run: npm run venv${tier === "bench" ? " -- --bench" : ""}` };
  }
  return { ready: true, why: "" };
}

/** Builds or completes the venv for `tier`; returns its Python. */
export function ensureVenv(tier: VenvTier, log: (s: string) => void = console.log): string {
  if (venvStatus(tier).ready) return venvPython();
  ensureAptPackages({ "python3-venv": "", "python3-pip": "" }, log);
  if (!fs.existsSync(venvPython())) {
    log(`ftgen: creating the project venv in ${path.relative(process.cwd(), venvDir()) || venvDir()}`);
    const r = spawnSync("/usr/bin/python3", ["-m", "venv", venvDir()], { encoding: "utf8" });
    if (r.status !== 0) throw new SetupError(`ftgen: could not create ${venvDir()} (${(r.stderr || r.error?.message || "").trim().split("\n").pop()}); run: /usr/bin/python3 -m venv .venv`);
  }
  const req = requirementsFile(tier);
  log(`ftgen: installing ${path.relative(projectRoot(), req)} into the project venv${tier === "bench" ? " (llama.cpp builds from source: several minutes)" : ""}`);
  const r = spawnSync(venvPython(), ["-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", req], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60 * 60_000 });
  if (r.status !== 0) {
    const why = `${r.stderr}`.split("\n").filter((l) => l.trim() && !/^WARNING: Location/.test(l)).pop() ?? r.error?.message ?? `exit ${r.status}`;
    throw new SetupError(`ftgen: pip could not install ${path.relative(projectRoot(), req)} (${why.trim()}); run: .venv/bin/pip install -r ${path.relative(projectRoot(), req)}`);
  }
  fs.writeFileSync(stampFile(tier), requirementsHash(tier) + "\n");
  if (tier === "bench") fs.writeFileSync(stampFile("conformance"), requirementsHash("conformance") + "\n");
  return venvPython();
}
