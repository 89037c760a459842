/**
 * Loading datasets by (task, dataset, split): the paper's from the local cache, each file verified
 * against its manifest blob id, and yours as declared, each file verified against its sha256 (once
 * per process), so what a notebook loads is byte for byte the declared data. JSON arrays and JSONL.
 */
import fs from "node:fs";
import { dataFile, type DataFile } from "./files";
import { hexDigest } from "../util/hash";
import { TASKS, type TaskName } from "./tasks";
import { validateRecords, type Validated } from "./validate";
import { gitBlobId } from "./gitBlob";
import type { Excluded, RecordOf } from "./records";

export type Split = "train" | "test";

export interface Dataset<T extends TaskName = TaskName> {
  task: T;
  dataset: string;
  split: Split | "few_shot";
  /** The file: relative to the paper's data/ folder, or as its declaration writes it. */
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

/** The records of a JSON array or a JSONL file, or one line naming the file (and the line). */
function parseRecords(file: string, text: string, format: DataFile["format"]): unknown {
  if (format === "json") {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
    }
  }
  return text.split("\n").flatMap((line, i) => {
    if (line.trim() === "") return [];
    try {
      return [JSON.parse(line)];
    } catch (e) {
      throw new Error(`${file}: line ${i + 1}: not valid JSON (${(e as Error).message})`);
    }
  });
}

function readVerified(f: DataFile): Validated {
  const hit = parsed.get(f.path);
  if (hit) return hit;
  if (!fs.existsSync(f.path)) {
    if (f.check.kind === "sha256") throw new Error(`${f.check.where}: ${f.path} is missing`);
    const why = f.optional ? " (it is not in the reference mirror either)" : "";
    throw new Error(`${f.path} is missing${why}: run "npm run data" first`);
  }
  const bytes = fs.readFileSync(f.path);
  if (f.check.kind === "git-blob" && gitBlobId(bytes) !== f.check.blob) throw new Error(`${f.path}: content does not match the manifest's blob ${f.check.blob}: run "npm run data" again`);
  if (f.check.kind === "sha256") {
    const got = hexDigest("sha256", bytes);
    if (got !== f.check.sha256) throw new Error(`${f.check.where}: ${f.path} has sha256 ${got}, not the declared ${f.check.sha256}`);
  }
  const v = validateRecords(f.path, f.task, parseRecords(f.path, bytes.toString("utf8"), f.format));
  parsed.set(f.path, v);
  return v;
}

function toDataset<T extends TaskName>(task: T, dataset: string, split: Dataset["split"], f: DataFile, v: Validated, limit?: number): Dataset<T> {
  const rows = limit === undefined ? v.records.length + v.excluded.length : Math.min(limit, v.records.length + v.excluded.length);
  return {
    task, dataset, split, file: f.name, rows,
    records: v.records.filter((r) => r.position < rows) as RecordOf[T][],
    excluded: v.excluded.filter((x) => x.position < rows),
  };
}

/** The records of a resolved file (dataFile): the first `limit` rows' usable records. */
export function loadFile(f: DataFile, limit?: number): Dataset {
  return toDataset(f.task, f.dataset, f.role, f, readVerified(f), limit);
}

/** A dataset of the paper: `loadDataset("sentiment", "amazon", "test", { limit: 250 })`. */
export function loadDataset<T extends TaskName>(task: T, dataset: string, split: Split, opts: LoadOptions = {}): Dataset<T> {
  let size = opts.size;
  if (split === "train" && size === undefined) size = Math.min(...TASKS[task].trainSizes);
  const f = dataFile(task, dataset, split, split === "train" ? size : undefined);
  return toDataset(task, dataset, split, f, readVerified(f), opts.limit);
}

/** The few-shot pool of a dataset, in file order (the paper uses its first k items). */
export function loadFewShot<T extends TaskName>(task: T, dataset: string): RecordOf[T][] {
  const f = dataFile(task, dataset, "few_shot");
  return toDataset(task, dataset, "few_shot", f, readVerified(f)).records;
}

/** Is a (task, dataset, split[, size]) file in the local cache? */
export function isAvailable(task: TaskName, dataset: string, split: Split | "few_shot", size?: number): boolean {
  try {
    return fs.existsSync(dataFile(task, dataset, split, size).path);
  } catch {
    return false;
  }
}
