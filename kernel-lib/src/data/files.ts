/**
 * Where a dataset's file is and how it is checked: a dataset of yours by its declaration (a path and
 * a sha256), the paper's by data/manifest.json (a path in data/paper and its git blob id). Its `id`
 * enters the keys of models and records, so the paper's files keep the blob ids they always had.
 */
import path from "node:path";
import { findEntry, type ManifestEntry } from "./manifest";
import { TASKS, TASK_NAMES, USER_DATASETS, type TaskName } from "./tasks";
import { paperDataDir } from "../util/paths";

export type FileRoleOf = "train" | "test" | "few_shot";

export interface DataFile {
  task: TaskName;
  dataset: string;
  role: FileRoleOf;
  /** The file's path as records and messages name it (data/ relative for the paper's, as declared for yours). */
  name: string;
  /** Absolute path. */
  path: string;
  /** The paper's git blob id, or "sha256:<hex>" for a declared file. */
  id: string;
  /** How its bytes are checked. */
  check: { kind: "git-blob"; blob: string } | { kind: "sha256"; sha256: string; where: string };
  format: "json" | "jsonl";
  /** A paper file known to be missing from the reference mirror. */
  optional?: boolean;
  /** The manifest entry of a paper file. */
  entry?: ManifestEntry;
}

/** The file of (task, dataset, role[, train size]). */
export function dataFile(task: TaskName, dataset: string, role: FileRoleOf, size?: number): DataFile {
  const own = USER_DATASETS[dataset];
  if (own) {
    if (own.task !== task) throw new Error(`dataset "${dataset}" belongs to task "${own.task}" (${own.file}), not "${task}"`);
    const f = role === "test" ? own.test : role === "few_shot" ? own.fewShot : size !== undefined ? own.train[size] : undefined;
    if (!f) {
      const sizes = Object.keys(own.train);
      throw new Error(`${own.file}: dataset "${dataset}" has no ${role}${size !== undefined ? ` file of size ${size}` : " file"}${role === "train" ? ` (its train sizes: ${sizes.join(", ") || "none"})` : ""}`);
    }
    return { task, dataset, role, name: f.written, path: f.path, id: `sha256:${f.sha256}`, check: { kind: "sha256", sha256: f.sha256, where: f.where }, format: f.format };
  }
  const entry = findEntry(task, dataset, role, size);
  return {
    task, dataset, role, name: entry.path, path: path.join(paperDataDir(), entry.path), id: entry.blob,
    check: { kind: "git-blob", blob: entry.blob }, format: "json", ...(entry.optional ? { optional: true } : {}), entry,
  };
}

/**
 * Where the paper's task declarations and its manifest disagree: a dataset without a test or (unless
 * unused) few-shot file, an in-domain set without a train file of a declared size (files the manifest marks optional
 * are allowed to be missing from the data, not from the manifest). Empty when they agree.
 */
export function paperDeclarationProblems(): string[] {
  const problems: string[] = [];
  for (const t of TASK_NAMES.filter((x) => TASKS[x].source === "paper")) {
    const spec = TASKS[t];
    const need: [string, FileRoleOf, number?][] = [
      ...[spec.inDomain, ...spec.outOfDomain].flatMap((d) => [[d, "test"], [d, "few_shot"]] as [string, FileRoleOf][]),
      ...(spec.unused ?? []).map((d) => [d, "test"] as [string, FileRoleOf]),
      ...spec.trainSizes.map((n) => [spec.inDomain, "train", n] as [string, FileRoleOf, number]),
    ];
    for (const [d, role, size] of need) {
      try {
        findEntry(t, d, role, size);
      } catch (e) {
        problems.push(`${spec.file}: ${(e as Error).message}`);
      }
    }
  }
  return problems;
}
