/**
 * Loading the paper's datasets from the local cache, by (task, dataset, split), with typed records.
 * Each file is verified against its manifest blob id once per process, so what a notebook loads
 * is byte for byte the paper's data.
 */
import fs from "node:fs";
import path from "node:path";
import { findEntry, type ManifestEntry } from "./manifest";
import { TASKS, type TaskName } from "./tasks";
import { validateRecords, type Validated } from "./validate";
import { gitBlobId } from "./gitBlob";
import type { Excluded, RecordOf } from "./records";
import { paperDataDir } from "../util/paths";

export type Split = "train" | "test";

export interface Dataset<T extends TaskName = TaskName> {
  task: T;
  dataset: string;
  split: Split | "few_shot";
  /** The file, relative to the paper's data/ folder. */
  file: string;
  /** Rows of the file that were considered (after `limit`). */
  rows: number;
  /** Usable records, in file order. */
  records: RecordOf[T][];
  /** Rows kept out ("-" labels, empty texts), by file position. */
  excluded: Excluded[];
}

export interface LoadOptions {
  /** Train-set size as named in the file (2000, 4000, 6000). Default: the smallest. */
  size?: number;
  /** Consider only the first `limit` rows of the file (the paper scores the first 250 test items). */
  limit?: number;
}

const parsed = new Map<string, Validated>();

function readVerified(entry: ManifestEntry): Validated {
  const hit = parsed.get(entry.path);
  if (hit) return hit;
  const file = path.join(paperDataDir(), entry.path);
  if (!fs.existsSync(file)) {
    const why = entry.optional ? " (it is not in the reference mirror either)" : "";
    throw new Error(`${file} is missing${why}: run "npm run data" first`);
  }
  const bytes = fs.readFileSync(file);
  if (gitBlobId(bytes) !== entry.blob) throw new Error(`${file}: content does not match the manifest's blob ${entry.blob}: run "npm run data" again`);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const v = validateRecords(file, entry.task as TaskName, json);
  parsed.set(entry.path, v);
  return v;
}

function toDataset<T extends TaskName>(task: T, dataset: string, split: Dataset["split"], entry: ManifestEntry, v: Validated, limit?: number): Dataset<T> {
  const rows = limit === undefined ? v.records.length + v.excluded.length : Math.min(limit, v.records.length + v.excluded.length);
  return {
    task, dataset, split, file: entry.path, rows,
    records: v.records.filter((r) => r.position < rows) as RecordOf[T][],
    excluded: v.excluded.filter((x) => x.position < rows),
  };
}

/** A dataset of the paper: `loadDataset("sentiment", "amazon", "test", { limit: 250 })`. */
export function loadDataset<T extends TaskName>(task: T, dataset: string, split: Split, opts: LoadOptions = {}): Dataset<T> {
  let size = opts.size;
  if (split === "train" && size === undefined) size = Math.min(...TASKS[task].trainSizes);
  const entry = findEntry(task, dataset, split, split === "train" ? size : undefined);
  return toDataset(task, dataset, split, entry, readVerified(entry), opts.limit);
}

/** The few-shot pool of a dataset, in file order (the paper uses its first k items). */
export function loadFewShot<T extends TaskName>(task: T, dataset: string): RecordOf[T][] {
  const entry = findEntry(task, dataset, "few_shot");
  return toDataset(task, dataset, "few_shot", entry, readVerified(entry)).records;
}

/** Is a (task, dataset, split[, size]) file in the local cache? */
export function isAvailable(task: TaskName, dataset: string, split: Split | "few_shot", size?: number): boolean {
  try {
    const entry = findEntry(task, dataset, split, size);
    return fs.existsSync(path.join(paperDataDir(), entry.path));
  } catch {
    return false;
  }
}
