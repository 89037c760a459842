/**
 * Merges results folders (shards of one study, computed on several machines) into one.
 *
 *   const report = mergeResults([".cache/shards/0", ".cache/shards/1"], "results");
 *
 * A record is <key>.json with <key>.items.jsonl, keyed by what decides it (store.ts), and a model's
 * index entry is models/<folder key>.json. A key found in several places must hold the same contents:
 * the same record (every field but the time it took, the engine line that names the thread count
 * and the model folder's path) with the same items file, or the same model recipe and weights hash. A key whose contents
 * differ is refused, and then nothing is written: the merge is checked whole before any file is copied.
 */
import fs from "node:fs";
import path from "node:path";
import { ResultStore, stableJson, type ModelRecord, type StoredResult } from "./store";
import { writeFileAtomic } from "../util/atomic";

/** Record fields that say how long, on what threads and from which folder a record was computed, not what it holds. */
const VOLATILE_RECORD = ["seconds", "engine", "modelId"] as const;
/** Model index fields that say where and how long a model trained, not what it is. */
const VOLATILE_MODEL = ["seconds", "machine"] as const;

export interface MergeReport {
  /** Records and model entries copied into the destination. */
  added: { records: number; models: number };
  /** Keys found with the same contents in more than one place (kept once). */
  identical: { records: number; models: number };
}

function omit(x: object, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...(x as Record<string, unknown>) };
  for (const f of fields) delete out[f];
  return out;
}

function readModel(file: string): ModelRecord {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as ModelRecord;
  } catch (e) {
    throw new Error(`${file}: not a valid model record (${(e as Error).message})`);
  }
}

/** The first field where two JSON objects differ, for the refusal's one line. */
function firstDifference(a: Record<string, unknown>, b: Record<string, unknown>): string {
  for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    if (stableJson(a[k]) !== stableJson(b[k])) return `${k}: ${JSON.stringify(a[k])?.slice(0, 80)} vs ${JSON.stringify(b[k])?.slice(0, 80)}`;
  }
  return "(none)";
}

/**
 * Copies every record and model entry of `sources` into `dest` (created if missing), checking first
 * that no key holds different contents anywhere (one line naming both files and the first field that
 * differs). Each source record must pass its items check. Nothing is written when the check fails.
 */
export function mergeResults(sources: readonly string[], dest: string): MergeReport {
  for (const s of sources) if (!fs.existsSync(s)) throw new Error(`merge: ${s}: no such results folder`);
  const target = new ResultStore(dest);
  const report: MergeReport = { added: { records: 0, models: 0 }, identical: { records: 0, models: 0 } };
  // Per kind, key → the file it was first found in, and what it holds (without the volatile fields).
  const seen = { record: new Map<string, { file: string; held: Record<string, unknown> }>(), model: new Map<string, { file: string; held: Record<string, unknown> }>() };
  /** true the first time `key` is seen; false when seen before with the same contents; refused when they differ. */
  const see = (kind: "record" | "model", key: string, file: string, value: object): boolean => {
    const held = omit(value, kind === "record" ? VOLATILE_RECORD : VOLATILE_MODEL);
    const first = seen[kind].get(key);
    if (!first) {
      seen[kind].set(key, { file, held });
      return true;
    }
    if (stableJson(first.held) !== stableJson(held)) {
      throw new Error(`merge: ${kind} ${key} differs between ${first.file} and ${file} (${firstDifference(first.held, held)}); nothing was merged`);
    }
    return false;
  };
  // A record must pass its items check (get() refuses one whose items file is missing or changed).
  const seeRecord = (store: ResultStore, key: string): boolean => see("record", key, path.join(store.dir, `${key}.json`), store.get(key) as StoredResult);
  const seeModel = (dir: string, folderKey: string): boolean => {
    const file = path.join(dir, "models", `${folderKey}.json`);
    return see("model", folderKey, file, readModel(file));
  };
  const keysOf = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort().map((f) => f.slice(0, -5)) : []);
  // What the destination holds first: a source may repeat it, never change it.
  for (const key of keysOf(dest)) seeRecord(target, key);
  for (const key of target.modelKeys()) seeModel(dest, key);
  const copies: { from: ResultStore; key: string }[] = [];
  const modelCopies: { file: string; folderKey: string }[] = [];
  for (const s of sources) {
    const store = new ResultStore(s);
    for (const key of keysOf(s)) {
      if (seeRecord(store, key)) copies.push({ from: store, key });
      else report.identical.records++;
    }
    for (const key of store.modelKeys()) {
      if (seeModel(s, key)) modelCopies.push({ file: path.join(s, "models", `${key}.json`), folderKey: key });
      else report.identical.models++;
    }
  }
  // Checked whole: now copy, items file before its record (a record is only ever seen with its items).
  for (const { from, key } of copies) {
    writeFileAtomic(path.join(dest, `${key}.items.jsonl`), fs.readFileSync(path.join(from.dir, `${key}.items.jsonl`)));
    writeFileAtomic(path.join(dest, `${key}.json`), fs.readFileSync(path.join(from.dir, `${key}.json`)));
    report.added.records++;
  }
  for (const { file, folderKey } of modelCopies) {
    writeFileAtomic(path.join(dest, "models", `${folderKey}.json`), fs.readFileSync(file));
    report.added.models++;
  }
  return report;
}
