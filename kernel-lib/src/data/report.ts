/** A summary of the paper's data as cached: counts, exclusions and label balance per file. */
import fs from "node:fs";
import path from "node:path";
import { loadManifest } from "./manifest";
import { loadDataset, loadFewShot, type Dataset } from "./load";
import { TASKS, TASK_NAMES, testSets, type TaskName } from "./tasks";
import { labelBalance } from "./validate";
import { paperDataDir } from "../util/paths";

export interface DataReportRow {
  task: TaskName;
  dataset: string;
  /** "train 2000", "test", "few_shot". */
  split: string;
  /** Rows in the file. */
  rows: number;
  /** Rows usable for training/scoring. */
  usable: number;
  /** Rows labelled "-" (kept out of accuracy). */
  unlabelled: number;
  /** Rows with an empty text field (kept out). */
  emptyText: number;
  /** "positive 260 / negative 240", or "" for generation tasks. */
  balance: string;
  /** False where the file is not in the cache (e.g. the two large XSum train files). */
  available: boolean;
}

export function dataReport(): DataReportRow[] {
  const rows: DataReportRow[] = [];
  for (const e of loadManifest().files) {
    if (e.role === "prompt_map" || !e.task || !e.dataset) continue;
    const split = e.role === "train" ? `train ${e.nominalSize}` : e.role;
    const base = { task: e.task, dataset: e.dataset, split };
    if (!fs.existsSync(path.join(paperDataDir(), e.path))) {
      rows.push({ ...base, rows: 0, usable: 0, unlabelled: 0, emptyText: 0, balance: "", available: false });
      continue;
    }
    let ds: Pick<Dataset, "rows" | "records" | "excluded">;
    if (e.role === "few_shot") {
      const recs = loadFewShot(e.task, e.dataset);
      ds = { rows: recs.length, records: recs, excluded: [] };
    } else {
      ds = loadDataset(e.task, e.dataset, e.role === "train" ? "train" : "test", { size: e.nominalSize ?? undefined });
    }
    const bal = TASKS[e.task].labels ? Object.entries(labelBalance(e.task, ds.records)).map(([l, n]) => `${l} ${n}`).join(" / ") : "";
    rows.push({
      ...base, rows: ds.rows, usable: ds.records.length,
      unlabelled: ds.excluded.filter((x) => x.reason === "unlabelled").length,
      emptyText: ds.excluded.filter((x) => x.reason === "empty-text").length,
      balance: bal, available: true,
    });
  }
  // Task order, then in-domain first, then train < test < few-shot.
  const datasetRank = (r: DataReportRow): number => {
    const i = [...testSets(r.task), ...(TASKS[r.task].unused ?? [])].indexOf(r.dataset);
    return i < 0 ? 99 : i;
  };
  const splitRank = (s: string): number => (s.startsWith("train") ? Number(s.slice(6)) / 1e5 : s === "test" ? 1 : 2);
  return rows.sort((a, b) => TASK_NAMES.indexOf(a.task) - TASK_NAMES.indexOf(b.task) || datasetRank(a) - datasetRank(b) || splitRank(a.split) - splitRank(b.split));
}

/** The report as an aligned text table. */
export function formatDataReport(rows: readonly DataReportRow[]): string {
  const header = ["task", "dataset", "split", "count", "usable", "'-'", "empty", "label balance"];
  const cells = rows.map((r) => r.available
    ? [r.task, r.dataset, r.split, String(r.rows), String(r.usable), String(r.unlabelled), String(r.emptyText), r.balance]
    : [r.task, r.dataset, r.split, "—", "—", "", "", "unavailable"]);
  const all = [header, ...cells];
  const widths = header.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  return all.map((r) => r.map((s, c) => (c >= 3 && c <= 6 ? s.padStart(widths[c]) : s.padEnd(widths[c]))).join("  ").trimEnd()).join("\n");
}
