/**
 * GCIDE (GNU Collaborative International Dictionary of English, from Webster's 1913), as Debian's
 * dict-gcide ships it: a dictd database, /usr/share/dictd/gcide.dict.dz (gzip-compatible) whose
 * entries are separated by blank lines and start with "Word \pro*nun"ci*a`tion\, pos. [etym.]".
 * We keep the headword and the definitions; pronunciation, etymology and source tags go.
 */
import fs from "node:fs";
import zlib from "node:zlib";
import { oneLine } from "./text";

export interface GcideEntry { word: string; text: string }

/** GCIDE's ASCII codes for accented letters ("[=a]", "[a^]", "[imac]", "[ae]") as plain letters. */
export function gcideLetters(text: string): string {
  return text
    .replace(/\[(ae|oe|AE|OE)\]/g, "$1")
    .replace(/\[([a-zA-Z])mac\]/g, "$1")
    .replace(/\[[\^=.]?([a-zA-Z])[\^`'~"=.,:]*\]/g, "$1")
    .replace(/\[([a-zA-Z])(acute|grave|uml|cced|tilde|circ|breve|cir)\]/g, "$1");
}

/**
 * Entries of the decompressed dictionary text. An entry starts at a line that begins in column 0
 * with "Headword \pro*nun"ci*a`tion\"; its indented lines are senses. Quotations (lines indented
 * nine spaces or more, where a
 * sub-block starts), source tags ("[1913 Webster]"), "--Author." citations, pronunciations in
 * parentheses and etymologies in brackets right after the part of speech are dropped; "{X}"
 * cross-references become X. Info entries ("00-database-…") and entries under 20 characters go.
 */
export function parseGcide(text: string): GcideEntry[] {
  const out: GcideEntry[] = [];
  for (const block of text.split(/\n\s*\n(?=\S)/)) {
    const lines = block.split("\n");
    const m = /^([^\\\s][^\\]*?)\s*\\[^\\]*\\\s*(.*)$/.exec(lines[0]);
    if (!m) continue;
    const word = gcideLetters(m[1].trim());
    if (!word || /^00-/.test(word)) continue;
    // sub-blocks (split at blank lines) whose first line is indented nine spaces or more are quotations
    const body = lines.slice(1).join("\n").split(/\n\s*\n/).filter((sb) => !/^\s{9,}/.test(sb.replace(/^\n+/, "")));
    const kept = [m[2], ...body];
    let rest = kept.join(" ")
      .replace(/\[(1913 Webster|Webster 1913 Suppl\.|PJC|WordNet 1\.5|Century Dict\.|Chambers 1881|Stormonth|Goodrich|RN|[A-Z][a-z]+ \d{4})[^\]]*\]/g, " ")
      .replace(/--[A-Z][\w.]*(?: [A-Z][\w.]*)*\.?/g, " ");
    rest = oneLine(gcideLetters(rest))
      .replace(/^[,\s]+/, "")
      .replace(/^\([^)]*\),?\s*/, "") // pronunciation
      .replace(/^((?:[a-z]+\.\s*){1,3})\[[^\]]*\]\s*/i, "$1") // etymology after the part of speech
      .replace(/[{}]/g, "")
      .replace(/\s+([,.;:])/g, "$1");
    if (rest.length < 20) continue;
    out.push({ word, text: `${word}: ${rest}` });
  }
  return out;
}

/** Reads and decompresses a dictd .dict.dz file. */
export function readGcide(file: string): GcideEntry[] {
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: the Debian package dict-gcide is not installed (apt-get install dict-gcide)`);
  return parseGcide(zlib.gunzipSync(fs.readFileSync(file)).toString("utf8"));
}
