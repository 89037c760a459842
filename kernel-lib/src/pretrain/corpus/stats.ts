/** Corpus statistics: documents, characters and tokens per (split, source, kind), and a printed table. */
import type { CorpusDoc, DocKind } from "./types";

export interface StatRow { split: "train" | "heldout"; source: string; kind: DocKind; docs: number; chars: number; tokens: number }

export interface CorpusStats {
  rows: StatRow[];
  totals: { train: { docs: number; chars: number; tokens: number }; heldout: { docs: number; chars: number; tokens: number } };
  bySource: Record<string, { docs: number; chars: number; tokens: number }>;
  byKind: Record<string, { docs: number; chars: number; tokens: number }>;
}

/** Counts per (split, source, kind); `countTokens` gives a document's token count (e.g. the corpus tokenizer's). */
export function corpusStats(train: Iterable<CorpusDoc>, heldout: Iterable<CorpusDoc>, countTokens: (text: string) => number): CorpusStats {
  const rows = new Map<string, StatRow>();
  const add = (split: "train" | "heldout", d: CorpusDoc): void => {
    const key = `${split}\u0000${d.source}\u0000${d.kind}`;
    let r = rows.get(key);
    if (!r) { r = { split, source: d.source, kind: d.kind, docs: 0, chars: 0, tokens: 0 }; rows.set(key, r); }
    r.docs++; r.chars += d.text.length; r.tokens += countTokens(d.text);
  };
  for (const d of train) add("train", d);
  for (const d of heldout) add("heldout", d);
  const list = [...rows.values()].sort((a, b) => (a.split === b.split ? (a.kind === b.kind ? a.source.localeCompare(b.source) : a.kind.localeCompare(b.kind)) : a.split === "train" ? -1 : 1));
  const zero = (): { docs: number; chars: number; tokens: number } => ({ docs: 0, chars: 0, tokens: 0 });
  const totals = { train: zero(), heldout: zero() };
  const bySource: CorpusStats["bySource"] = {}, byKind: CorpusStats["byKind"] = {};
  for (const r of list) {
    const t = totals[r.split];
    t.docs += r.docs; t.chars += r.chars; t.tokens += r.tokens;
    if (r.split !== "train") continue;
    const s = (bySource[r.source] ??= zero()); s.docs += r.docs; s.chars += r.chars; s.tokens += r.tokens;
    const k = (byKind[r.kind] ??= zero()); k.docs += r.docs; k.chars += r.chars; k.tokens += r.tokens;
  }
  return { rows: list, totals, bySource, byKind };
}

/** The statistics as a fixed-width table: train rows by kind and source, then held-out, then totals. */
export function formatStats(stats: CorpusStats): string {
  const n = (x: number): string => x.toLocaleString("en-US");
  const lines = [`${"split".padEnd(8)} ${"kind".padEnd(14)} ${"source".padEnd(16)} ${"docs".padStart(9)} ${"chars".padStart(13)} ${"tokens".padStart(12)}`];
  for (const r of stats.rows) lines.push(`${r.split.padEnd(8)} ${r.kind.padEnd(14)} ${r.source.padEnd(16)} ${n(r.docs).padStart(9)} ${n(r.chars).padStart(13)} ${n(r.tokens).padStart(12)}`);
  lines.push("");
  for (const [k, v] of Object.entries(stats.byKind)) lines.push(`${"train".padEnd(8)} ${k.padEnd(14)} ${"(all)".padEnd(16)} ${n(v.docs).padStart(9)} ${n(v.chars).padStart(13)} ${n(v.tokens).padStart(12)}`);
  for (const s of ["train", "heldout"] as const) {
    const t = stats.totals[s];
    lines.push(`${s.padEnd(8)} ${"(all)".padEnd(14)} ${"(all)".padEnd(16)} ${n(t.docs).padStart(9)} ${n(t.chars).padStart(13)} ${n(t.tokens).padStart(12)}`);
  }
  return lines.join("\n");
}
