/** Plain-text helpers shared by the corpus readers: whitespace, sentences, paragraphs, chunks. */

/** Collapses runs of spaces/tabs, trims every line, and keeps at most one blank line in a row. */
export function tidy(text: string): string {
  return text
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((l) => l.replace(/[ \t\u00a0]+/g, " ").trim())
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

/** Joins the lines of a paragraph into one line. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** Paragraphs: blocks separated by blank lines, each as one line, empty ones dropped. */
export function paragraphs(text: string): string[] {
  return text.split(/\n\s*\n/).map(oneLine).filter((p) => p.length > 0);
}

const ABBREV = /(?:\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|Gen|Gov|Rev|Prof|Col|Capt|Lt|Sen|Rep|Hon|Co|Inc|Ltd|No|vs|etc|i\.e|e\.g|U\.S|U\.S\.A)\.|\b[A-Z]\.)$/;

/**
 * Sentences of one paragraph: a split after ".", "!" or "?" (optionally followed by a closing quote
 * or bracket) and whitespace, before an upper-case letter, a digit or an opening quote, except after
 * common abbreviations and single initials. Good enough for building demonstrations.
 */
export function sentences(paragraph: string): string[] {
  const text = oneLine(paragraph);
  const out: string[] = [];
  const re = /[.!?]["'”’)\]]*\s+(?=["“‘(]?[A-Z0-9])/g;
  let start = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const end = m.index + m[0].trimEnd().length;
    const candidate = text.slice(start, end);
    if (ABBREV.test(candidate)) continue;
    out.push(candidate.trim());
    start = m.index + m[0].length;
  }
  const rest = text.slice(start).trim();
  if (rest) out.push(rest);
  return out;
}

/** Number of whitespace-separated words. */
export function wordCount(text: string): number {
  const m = text.match(/\S+/g);
  return m ? m.length : 0;
}

/**
 * Splits a long text into pieces of at most `maxChars` characters at paragraph boundaries (or, for
 * a paragraph longer than that, at sentence boundaries). Pieces keep their blank-line separators.
 */
export function chunkText(text: string, maxChars: number): string[] {
  if (text.length <= maxChars) return [text];
  const units: string[] = [];
  for (const p of text.split(/\n\s*\n/)) {
    if (p.length <= maxChars) { units.push(p.trim()); continue; }
    let cur = "";
    for (const s of sentences(p)) {
      if (cur && cur.length + 1 + s.length > maxChars) { units.push(cur); cur = ""; }
      cur = cur ? `${cur} ${s}` : s;
    }
    if (cur) units.push(cur);
  }
  const out: string[] = [];
  let cur = "";
  for (const u of units) {
    if (!u) continue;
    if (cur && cur.length + 2 + u.length > maxChars) { out.push(cur); cur = ""; }
    cur = cur ? `${cur}\n\n${u}` : u;
  }
  if (cur) out.push(cur);
  return out;
}
