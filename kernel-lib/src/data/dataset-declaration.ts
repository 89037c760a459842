/**
 * One dataset of your own (declarations/datasets/<name>.json in a declarations folder): its task, its
 * role for that task, and its files, each a path (relative to the declaration) and the sha256 of
 * its bytes. A file is a JSON array of records or JSONL (one record a line), with the task's fields
 * and `output`.
 *
 *   { "name": "imdb", "task": "sentiment", "role": "out-of-domain",
 *     "files": { "test": { "path": "imdb/test.jsonl", "sha256": "…" },
 *                "few_shot": { "path": "imdb/few_shot.jsonl", "sha256": "…" } } }
 *
 * An in-domain dataset (the one a task trains on) also gives `"train": { "<size>": { … } }`, one file a
 * train size of its task. The paper's datasets are not declared here: data/manifest.json pins them
 * by git blob id.
 */
import path from "node:path";
import { Fields } from "../util/declaration";

/** What a dataset is to its task: the set it trains on and tests in-domain, or an out-of-domain test set. */
export type DatasetRole = "in-domain" | "out-of-domain";

export interface DeclaredFile {
  /** Absolute path. */
  path: string;
  /** The path as written, relative to the declaration. */
  written: string;
  sha256: string;
  format: "json" | "jsonl";
  /** Where it is declared: "<declaration file>: files.test". */
  where: string;
}

export interface DatasetDeclaration {
  name: string;
  task: string;
  role: DatasetRole;
  /** The declaration file. */
  file: string;
  test: DeclaredFile;
  fewShot: DeclaredFile;
  /** Train files by size (in-domain only). */
  train: Readonly<Record<number, DeclaredFile>>;
}

function declaredFile(f: Fields, key: string, dir: string): DeclaredFile {
  const o = f.object(key, 'a file: { "path": "...", "sha256": "..." }');
  o.only(["path", "sha256"]);
  const written = o.string("path", "the file's path, relative to the declaration");
  const sha256 = o.string("sha256", "the sha256 of the file's bytes (64 hex digits)");
  if (!/^[0-9a-f]{64}$/.test(sha256)) o.fail("sha256", `expected 64 lower-case hex digits, got "${sha256}"`);
  const format = written.endsWith(".jsonl") ? "jsonl" : written.endsWith(".json") ? "json" : o.fail("path", `"${written}": a dataset file is .json (an array of records) or .jsonl (one record a line)`);
  return { path: path.resolve(dir, written), written, sha256, format, where: `${f.file}: field "${f.path(key)}"` };
}

/** A dataset declaration read from `file`; its paths resolve against `baseDir` (the declaration's folder). */
export function parseDatasetDeclaration(file: string, raw: unknown, baseDir: string): DatasetDeclaration {
  const d = Fields.of(file, raw);
  d.only(["name", "task", "role", "files"]);
  const name = d.string("name", "the dataset's name");
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) d.fail("name", `"${name}": use lower-case letters, digits, "-" and "_"`);
  const task = d.string("task", "the task it belongs to");
  const role = d.oneOf("role", ["in-domain", "out-of-domain"] as const);
  const files = d.object("files", 'its files: { "test": {...}, "few_shot": {...}, "train": { "<size>": {...} } }');
  files.only(role === "in-domain" ? ["test", "few_shot", "train"] : ["test", "few_shot"]);
  const test = declaredFile(files, "test", baseDir);
  const fewShot = declaredFile(files, "few_shot", baseDir);
  const train: Record<number, DeclaredFile> = {};
  if (role === "in-domain") {
    const t = files.object("train", 'its train files by size: { "2000": { "path": ..., "sha256": ... } }');
    for (const k of t.keys()) {
      if (!/^[1-9][0-9]*$/.test(k)) t.fail(k, "a train size is a whole number");
      train[Number(k)] = declaredFile(t, k, baseDir);
    }
  }
  return { name, task, role, file, test, fewShot, train };
}
