/**
 * General-text documents from the loaded sources. Long texts are cut at paragraph (or sentence)
 * boundaries into documents of at most `maxDocChars`; short records (WordNet glosses, dictionary
 * entries) are grouped into documents of about that size. A per-source character cap keeps one
 * large source (GCIDE) from dominating: a seeded subset of its documents is kept.
 */
import { shuffled, type Rng } from "../../util/random";
import type { LoadedSources } from "../sources/load-sources";
import type { SourceId } from "../sources/sources";
import { chunkText, tidy } from "../sources/text";
import type { CorpusDoc } from "./types";

function grouped(lines: readonly string[], maxChars: number): string[] {
  const out: string[] = [];
  let cur = "";
  for (const l of lines) {
    if (cur && cur.length + 1 + l.length > maxChars) { out.push(cur); cur = ""; }
    cur = cur ? `${cur}\n${l}` : l;
  }
  if (cur) out.push(cur);
  return out;
}

export function generalDocs(src: LoadedSources, maxDocChars: number, maxChars: Partial<Record<SourceId, number>>, rng: Rng): CorpusDoc[] {
  const by = new Map<SourceId, string[]>();
  const add = (id: SourceId, texts: string[]): void => { by.set(id, [...(by.get(id) ?? []), ...texts]); };
  for (const a of src.sotu ?? []) add("sotu", chunkText(`State of the Union Address by ${a.name}, ${a.year}\n\n${tidy(a.text)}`, maxDocChars));
  for (const b of src.brown ?? []) add("brown", chunkText(b.text, maxDocChars));
  for (const c of src.mobyDick ?? []) add("moby-dick", chunkText(`CHAPTER ${c.chapter}. ${c.title}\n\n${tidy(c.text)}`, maxDocChars));
  for (const e of src.emails ?? []) if (e.body.length >= 200) add("spam-assassin", chunkText(e.body, maxDocChars));
  if (src.wordnet) {
    const posName: Record<string, string> = { n: "noun", v: "verb", a: "adjective", r: "adverb" };
    const lines: string[] = [];
    for (const s of src.wordnet.synsets.values()) {
      if (!s.definition) continue;
      const ex = s.examples.length ? ` Example: ${s.examples.map((e) => `"${e}"`).join("; ")}.` : "";
      lines.push(`${s.words.join(", ")} (${posName[s.pos]}): ${s.definition}.${ex}`);
    }
    add("wordnet", grouped(lines, maxDocChars));
  }
  if (src.kjv) {
    const chapters = new Map<string, string[]>();
    for (const v of src.kjv) {
      const c = v.ref.slice(0, v.ref.lastIndexOf(":"));
      if (!chapters.has(c)) chapters.set(c, []);
      (chapters.get(c) as string[]).push(v.text);
    }
    for (const [c, vs] of chapters) add("kjv", chunkText(`${c}\n\n${vs.join(" ")}`, maxDocChars));
  }
  if (src.gcide) add("gcide", grouped(src.gcide.map((e) => e.text), maxDocChars));
  const out: CorpusDoc[] = [];
  for (const [id, texts] of by) {
    let keep = texts.filter((t) => t.trim().length > 0);
    const capChars = maxChars[id];
    if (capChars !== undefined) {
      let total = 0;
      const chosen = new Set<number>();
      for (const i of shuffled(keep.map((_, j) => j), rng.fork())) {
        if (total >= capChars) break;
        chosen.add(i); total += keep[i].length;
      }
      keep = keep.filter((_, i) => chosen.has(i));
    }
    for (const text of keep) out.push({ source: id, kind: "general", text });
  }
  return out;
}
