/**
 * The contamination check: 13-gram overlap between the corpus and each test and few-shot file of
 * the paper (see ngrams.ts for the tokenization).
 *
 * For each file, all text fields of all its usable records (inputs and outputs alike) give a set of
 * distinct n-grams. The corpus is streamed once; every corpus n-gram that is in some file's set
 * marks it as found, separately for each group of corpus sources (general text, the paper's
 * train inputs, multitask documents). A file's overlap is found / distinct n-grams.
 *
 * The build fails when a file's overlap with the corpus *other than the paper's train inputs*
 * exceeds `maxOverlap` (default 1%): those sources must be independent of the paper's data. The
 * overlap that comes from the paper's own train inputs is reported on its own line, with its own
 * limit `maxPaperTrainOverlap` (default 1% as well). The paper's few-shot files are drawn from its
 * train files and PAWS train/test pairs share sentences (54–98% of those files' 13-grams before
 * decontamination), so the corpus build leaves out every paper train record that shares a 13-gram
 * with a test or few-shot file (paper-inputs.ts) and this limit then holds.
 */
import type { CorpusDoc } from "./types";
import { ngramHashes, ngramWords } from "./ngrams";

export type OverlapGroup = "general" | "paper-input" | "multitask";

export function overlapGroup(doc: CorpusDoc): OverlapGroup {
  return doc.kind === "general" ? "general" : doc.kind === "paper-input" ? "paper-input" : "multitask";
}

export interface CheckedFile {
  /** Name used in reports, e.g. "sentiment/amazon_test_500.json". */
  file: string;
  role: "test" | "few_shot";
  /** One entry a record: its text fields (inputs and output). */
  records: string[][];
}

export interface FileOverlap {
  file: string;
  role: "test" | "few_shot";
  records: number;
  /** Distinct n-grams of the file. */
  ngrams: number;
  /** Distinct n-grams found anywhere in the corpus. */
  found: number;
  /** Found by each group of corpus sources (an n-gram can count for several). */
  foundBy: Record<OverlapGroup, number>;
  /** Found by anything but the paper's train inputs. */
  foundOutsidePaper: number;
  /** found / ngrams (0 when the file has no n-gram). */
  overlap: number;
  /** foundOutsidePaper / ngrams. */
  overlapOutsidePaper: number;
  /** foundBy["paper-input"] / ngrams. */
  overlapPaperTrain: number;
  /** Records with at least one found n-gram. */
  recordsHit: number;
}

export interface ContaminationOptions {
  n?: number;
  /** Highest allowed overlapOutsidePaper of one file (a fraction). Default 0.01. */
  maxOverlap?: number;
  /** Highest allowed overlapPaperTrain of one file. Default 0.01. */
  maxPaperTrainOverlap?: number;
}

export interface ContaminationReport {
  n: number;
  tokenization: string;
  maxOverlap: number;
  maxPaperTrainOverlap: number;
  files: FileOverlap[];
  /** Files over a threshold, with the reason. */
  failures: string[];
}

export const TOKENIZATION_NOTE = "NFKC, lower-cased; words = maximal runs of Unicode letters/digits; n-grams within one text field or document";

const GROUPS: readonly OverlapGroup[] = ["general", "paper-input", "multitask"];
const BIT: Record<OverlapGroup, number> = { general: 1, "paper-input": 2, multitask: 4 };

/** Runs the check (see the file comment). `docs` may be any iterable, e.g. a stream over shards. */
export function checkContamination(files: readonly CheckedFile[], docs: Iterable<CorpusDoc>, opts: ContaminationOptions = {}): ContaminationReport {
  const n = opts.n ?? 13;
  const maxOverlap = opts.maxOverlap ?? 0.01;
  const maxPaperTrainOverlap = opts.maxPaperTrainOverlap ?? 0.01;
  // n-gram hash → bit set of groups that contain it (0 until found)
  const seen = new Map<number, number>();
  const perFile: { hashes: Set<number>; recordHashes: number[][] }[] = files.map((f) => {
    const hashes = new Set<number>();
    const recordHashes = f.records.map((fields) => {
      const hs: number[] = [];
      for (const field of fields) for (const h of ngramHashes(field, n)) { hs.push(h); hashes.add(h); }
      return hs;
    });
    for (const h of hashes) seen.set(h, 0);
    return { hashes, recordHashes };
  });
  for (const doc of docs) {
    const bit = BIT[overlapGroup(doc)];
    for (const h of ngramHashes(doc.text, n)) {
      const v = seen.get(h);
      if (v !== undefined) seen.set(h, v | bit);
    }
  }
  const out: FileOverlap[] = files.map((f, i) => {
    const { hashes, recordHashes } = perFile[i];
    const foundBy: Record<OverlapGroup, number> = { general: 0, "paper-input": 0, multitask: 0 };
    let found = 0, outside = 0;
    for (const h of hashes) {
      const v = seen.get(h) as number;
      if (v === 0) continue;
      found++;
      if (v & ~BIT["paper-input"]) outside++;
      for (const g of GROUPS) if (v & BIT[g]) foundBy[g]++;
    }
    const recordsHit = recordHashes.filter((hs) => hs.some((h) => (seen.get(h) as number) !== 0)).length;
    const total = hashes.size;
    const frac = (x: number): number => (total === 0 ? 0 : x / total);
    return {
      file: f.file, role: f.role, records: f.records.length, ngrams: total, found, foundBy, foundOutsidePaper: outside,
      overlap: frac(found), overlapOutsidePaper: frac(outside), overlapPaperTrain: frac(foundBy["paper-input"]), recordsHit,
    };
  });
  const failures: string[] = [];
  for (const f of out) {
    if (f.overlapOutsidePaper > maxOverlap) {
      failures.push(`${f.file}: ${(100 * f.overlapOutsidePaper).toFixed(2)}% of its ${n}-grams are in the corpus outside the paper's train inputs (limit ${(100 * maxOverlap).toFixed(2)}%)`);
    }
    if (f.overlapPaperTrain > maxPaperTrainOverlap) {
      failures.push(`${f.file}: ${(100 * f.overlapPaperTrain).toFixed(2)}% of its ${n}-grams are in the paper's train inputs in the corpus (limit ${(100 * maxPaperTrainOverlap).toFixed(2)}%)`);
    }
  }
  return { n, tokenization: TOKENIZATION_NOTE, maxOverlap, maxPaperTrainOverlap, files: out, failures };
}

export class ContaminationError extends Error {}

/** Throws a one-line error naming the first file over a threshold (and how many more there are). */
export function assertClean(report: ContaminationReport): void {
  if (report.failures.length === 0) return;
  const more = report.failures.length > 1 ? ` (and ${report.failures.length - 1} more, see contamination.json)` : "";
  throw new ContaminationError(`contamination check failed: ${report.failures[0]}${more}`);
}

/** A fixed-width table of the report, one line a file. */
export function formatContamination(report: ContaminationReport): string {
  const pct = (x: number): string => `${(100 * x).toFixed(2)}%`.padStart(8);
  const lines = [`${"file".padEnd(44)} ${"records".padStart(7)} ${`${report.n}-grams`.padStart(9)} ${"any".padStart(8)} ${"non-paper".padStart(9)} ${"paper-tr".padStart(8)} ${"rec.hit".padStart(7)}`];
  for (const f of report.files) {
    lines.push(`${f.file.padEnd(44)} ${String(f.records).padStart(7)} ${String(f.ngrams).padStart(9)} ${pct(f.overlap)} ${pct(f.overlapOutsidePaper).padStart(9)} ${pct(f.overlapPaperTrain)} ${String(f.recordsHit).padStart(7)}`);
  }
  return lines.join("\n");
}

/** Words of a text, re-exported for callers that report n-gram counts by hand. */
export { ngramWords };
