/**
 * Two English Bibles from Debian, verse by verse:
 * - King James Version (bible-kjv-text, read with the `bible` program of bible-kjv):
 *   `bible -l 100000 gen1:1-rev22:21` prints "Book N" chapter headers and "  V text" verses;
 * - World English Bible (sword-text-web, read with `diatheke` of the diatheke package):
 *   `diatheke -b engWEB2015eb -f plain -k …` prints "Book C:V: text" with poetry lines continued
 *   on the next lines, and a glossary after the last verse.
 * Verses are keyed "Book C:V" with the KJV's book names ("1 Samuel", "Revelation").
 */
import { spawnSync } from "node:child_process";
import { oneLine } from "./text";

export interface Verse { ref: string; text: string }

/** Verses of the `bible` program's output. */
export function parseKjv(out: string): Verse[] {
  const verses: Verse[] = [];
  let chapter = "";
  for (const line of out.split("\n")) {
    const h = /^(\S.*) (\d+)$/.exec(line);
    if (h) { chapter = `${h[1]} ${h[2]}`; continue; }
    const v = /^\s+(\d+) (.*)$/.exec(line);
    if (v && chapter) verses.push({ ref: `${chapter}:${v[1]}`, text: oneLine(v[2]) });
  }
  return verses;
}

const ROMAN: Record<string, string> = { I: "1", II: "2", III: "3", IV: "4" };

/** The KJV spelling of a WEB book name ("II Samuel" → "2 Samuel", "Revelation of John" → "Revelation"). */
export function webBookName(name: string): string {
  const m = /^(I{1,3}|IV) (.+)$/.exec(name);
  const n = m ? `${ROMAN[m[1]]} ${m[2]}` : name;
  return n === "Revelation of John" ? "Revelation" : n;
}

/** Verses of diatheke's plain output (continuation lines joined; indented lines and the module tag dropped). */
export function parseWeb(out: string): Verse[] {
  const verses: Verse[] = [];
  for (const line of out.split("\n")) {
    const v = /^\s*((?:I{1,3} |IV )?[A-Z][A-Za-z ]*?) (\d+):(\d+): ?(.*)$/.exec(line);
    if (v) { verses.push({ ref: `${webBookName(v[1])} ${v[2]}:${v[3]}`, text: v[4] }); continue; }
    if (/^\(\w+\)$/.test(line.trim()) || /^\s{3,}/.test(line) || !line.trim() || verses.length === 0) continue;
    verses[verses.length - 1].text += ` ${line}`;
  }
  return verses.map((v) => ({ ref: v.ref, text: oneLine(v.text) })).filter((v) => v.text.length > 0);
}

function runTool(cmd: string, args: string[], pkg: string): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`cannot run ${cmd} (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}): the Debian package ${pkg} is needed (apt-get install ${pkg})`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed with status ${r.status}: ${r.stderr.trim().split("\n").pop() ?? ""}`);
  return r.stdout;
}

/** The whole KJV, from Genesis 1:1 to Revelation 22:21. */
export function readKjv(): Verse[] {
  const verses = parseKjv(runTool("bible", ["-l", "100000", "gen1:1-rev22:21"], "bible-kjv"));
  if (verses.length < 31000) throw new Error(`bible: read only ${verses.length} KJV verses (expected 31102)`);
  return verses;
}

/** The WEB (with deuterocanon), Genesis 1:1 to Revelation 22:21, from the SWORD module engWEB2015eb. */
export function readWeb(module = "engWEB2015eb"): Verse[] {
  const verses = parseWeb(runTool("diatheke", ["-b", module, "-f", "plain", "-k", "Genesis 1:1-Revelation of John 22:21"], "diatheke"));
  if (verses.length < 31000) throw new Error(`diatheke: read only ${verses.length} verses of ${module} (is sword-text-web installed?)`);
  return verses;
}
