/**
 * The manifest of the paper repository's data/ folder at the pinned commit: one entry a file,
 * with task, dataset, role, size, git blob id and source URL. It is committed as data/manifest.json
 * (made by scripts/tools/make-manifest.ts from the mirror's TREE.tsv); the files themselves never are.
 */
import fs from "node:fs";
import { manifestPath } from "../util/paths";

export const PAPER_REPO = "LHRYANG/Generalization_of_FT-LLM";
export const PAPER_COMMIT = "f3718fc8ebbef352441ace9c0b74fe316e9cd349";

export type FileRole = "train" | "test" | "few_shot" | "prompt_map";

export interface ManifestEntry {
  /** Path relative to the repository's data/ folder, e.g. "sentiment/amazon_test_500.json". */
  path: string;
  /** The task folder (a task's name), or null for prompt_map.json. */
  task: string | null;
  dataset: string | null;
  role: FileRole;
  /** Number in the file name (train sizes 2000/4000/6000; test files say 500). */
  nominalSize: number | null;
  /** Size in bytes, or null where the source tree does not state it. */
  bytes: number | null;
  /** Git blob SHA-1 at the pinned commit. */
  blob: string;
  /** Raw download URL at the pinned commit. */
  url: string;
  /** Known not to be in the reference mirror: reported as unavailable when it cannot be had, never fatal. */
  optional?: boolean;
}

export interface Manifest {
  repo: string;
  commit: string;
  files: ManifestEntry[];
}

export function rawUrl(relPath: string): string {
  return `https://raw.githubusercontent.com/${PAPER_REPO}/${PAPER_COMMIT}/data/${relPath}`;
}

/** Classify a data/ path: "sentiment/amazon_train_2000.json" → train file of amazon, size 2000. */
export function describePath(relPath: string): Pick<ManifestEntry, "task" | "dataset" | "role" | "nominalSize"> {
  if (relPath === "prompt_map.json") return { task: null, dataset: null, role: "prompt_map", nominalSize: null };
  const parts = relPath.split("/");
  const task = parts[0];
  const file = parts[parts.length - 1];
  if (parts.length === 3 && parts[1] === "few_shot") {
    const m = /^(.+)_few_shot\.json$/.exec(file);
    if (!m) throw new Error(`manifest: cannot classify ${relPath}`);
    return { task, dataset: m[1], role: "few_shot", nominalSize: null };
  }
  const m = /^(.+)_(train|test)_(\d+)\.json$/.exec(file);
  if (parts.length !== 2 || !m) throw new Error(`manifest: cannot classify ${relPath}`);
  return { task, dataset: m[1], role: m[2] as FileRole, nominalSize: Number(m[3]) };
}

const cache = new Map<string, Manifest>();

export function loadManifest(file = manifestPath()): Manifest {
  const hit = cache.get(file);
  if (hit) return hit;
  let parsed: Manifest;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8")) as Manifest;
  } catch (e) {
    throw new Error(`${file}: cannot read the data manifest (${(e as Error).message})`);
  }
  if (!Array.isArray(parsed.files)) throw new Error(`${file}: no "files" array`);
  cache.set(file, parsed);
  return parsed;
}

/** The manifest entry of a (task, dataset, role[, size]) file. */
export function findEntry(task: string, dataset: string, role: FileRole, nominalSize?: number): ManifestEntry {
  const hits = loadManifest().files.filter(
    (f) => f.task === task && f.dataset === dataset && f.role === role && (nominalSize === undefined || f.nominalSize === nominalSize),
  );
  if (hits.length === 0) {
    const what = `${task}/${dataset} ${role}${nominalSize ? ` ${nominalSize}` : ""}`;
    // Say what there is instead: the task's datasets, or the sizes of this one.
    const files = loadManifest().files;
    const datasets = [...new Set(files.filter((f) => f.task === task).map((f) => f.dataset))].sort();
    const sizes = [...new Set(files.filter((f) => f.task === task && f.dataset === dataset && f.role === role).map((f) => f.nominalSize).filter((n): n is number => n !== null))].sort((a, b) => a - b);
    const hint = !datasets.includes(dataset)
      ? datasets.length ? `; ${task}'s datasets: ${datasets.join(", ")}` : `; tasks: ${[...new Set(files.map((f) => f.task))].sort().join(", ")}`
      : sizes.length ? `; its ${role} sizes: ${sizes.join(", ")}` : `; ${dataset} has no ${role} file`;
    throw new Error(`no file in the paper's data for ${what}${hint}`);
  }
  if (hits.length > 1 && role === "test") return hits[0];
  if (hits.length > 1) throw new Error(`several files match ${task}/${dataset} ${role}: give a size (${hits.map((h) => h.nominalSize).join(", ")})`);
  return hits[0];
}
