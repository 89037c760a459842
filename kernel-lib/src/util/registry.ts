/**
 * The registry of one kind of declaration (tasks, claims, profiles, studies): its entries by key in
 * order (by `order`, then as added), the declarations folders already read, and reading a folder in
 * two steps, check then commit, so that a bad declaration adds nothing.
 */
import fs from "node:fs";
import path from "node:path";
import { projectRoot } from "./paths";
import { readJsonFile } from "./json";
import { DeclarationError } from "./declaration";

/** What every declaration carries: the file it came from, and its place in lists. */
export interface Declared {
  readonly file: string;
  readonly order?: number;
}

/** The *.json files of a declarations folder's `sub` folder, in name order (none when it has no such folder). */
export function declarationFiles(dir: string, sub: string): string[] {
  const d = path.join(dir, sub);
  return fs.existsSync(d) ? fs.readdirSync(d).filter((f) => f.endsWith(".json")).sort().map((f) => path.join(d, f)) : [];
}

/** A file as messages name it: relative to the project where it lies inside it, else its full path. */
export function shownPath(file: string): string {
  const rel = path.relative(projectRoot(), file);
  return rel.startsWith("..") ? file : rel;
}

export class DeclarationRegistry<T extends Declared> {
  /** The entries by key, in order (an object callers export as it is: it is changed in place). */
  readonly entries: Record<string, T> = {};
  /** Their keys, in order (changed in place too). */
  readonly keys: string[] = [];
  private readonly folders = new Set<string>();

  /** `what` names an entry in messages ("claim"); `keyOf` gives its key. */
  constructor(private readonly what: string, readonly keyOf: (t: T) => string) {}

  /** Whether the declarations folder `dir` has been added. */
  added(dir: string): boolean {
    return this.folders.has(path.resolve(dir));
  }

  /** Refuses `t` when its key is declared already, here or among `pending`: one line naming both files. */
  checkNew(t: T, pending: readonly T[] = []): void {
    const key = this.keyOf(t);
    const dup = this.entries[key] ?? pending.find((p) => this.keyOf(p) === key);
    if (dup) throw new DeclarationError(`${t.file}: ${this.what} "${key}" is already declared in ${dup.file}`);
  }

  /**
   * Reads and checks the declarations in `dir`/`sub` with `parse` (given the file as messages name
   * it, its JSON and its path), each new by key; `commit()` adds them. Nothing is added before it.
   */
  prepare(dir: string, sub: string, parse: (shown: string, raw: unknown, file: string) => T): { entries: T[]; commit(): string[] } {
    if (this.added(dir)) return { entries: [], commit: () => [] };
    const entries: T[] = [];
    for (const file of declarationFiles(dir, sub)) {
      const t = parse(shownPath(file), readJsonFile(file), file);
      this.checkNew(t, entries);
      entries.push(t);
    }
    return { entries, commit: () => this.commit(dir, entries) };
  }

  /** Adds checked entries read from `dir` (once per folder), keeping the order; returns their keys. */
  commit(dir: string, items: readonly T[]): string[] {
    const abs = path.resolve(dir);
    if (this.folders.has(abs)) return [];
    this.folders.add(abs);
    const all = [...this.keys.map((k) => this.entries[k]), ...items];
    const sorted = all.map((t, i) => ({ t, i })).sort((a, b) => (a.t.order ?? Infinity) - (b.t.order ?? Infinity) || a.i - b.i).map((x) => x.t);
    for (const k of Object.keys(this.entries)) delete this.entries[k];
    for (const t of sorted) this.entries[this.keyOf(t)] = t;
    this.keys.splice(0, this.keys.length, ...sorted.map(this.keyOf));
    return items.map(this.keyOf);
  }

  /** Replaces the entry under `t`'s key, in its place. */
  replace(t: T): void {
    this.entries[this.keyOf(t)] = t;
  }
}
