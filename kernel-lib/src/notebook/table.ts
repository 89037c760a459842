/**
 * Tables: records → danfojs DataFrame, and DataFrame → an HTML table (danfojs has no renderer
 * for notebooks). Long cells are cut so that a table of documents stays readable.
 */
import type { DataFrame } from "danfojs-node";
import { displayBundle, escapeHtml } from "./display";

export interface TableOptions {
  /** Rows shown (head); the rest are counted in a footer. Default 20. */
  maxRows?: number;
  /** Characters kept per cell. Default 160. */
  maxChars?: number;
  caption?: string;
  /** Digits after the point for non-integer numbers. Default 4. */
  digits?: number;
}

/** The danfojs module, loaded on first use (it loads TensorFlow.js, which takes a moment). */
export function danfo(): typeof import("danfojs-node") {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return require("danfojs-node") as typeof import("danfojs-node");
}

/** A DataFrame of plain records (objects of strings, numbers, booleans). */
export function toDataFrame(records: readonly object[], columns?: string[]): DataFrame {
  if (records.length === 0) throw new Error("toDataFrame: no records");
  const cols = columns ?? Object.keys(records[0]);
  const rows = records.map((r) => cols.map((c) => (r as Record<string, unknown>)[c] as string | number | boolean));
  return new (danfo().DataFrame)(rows, { columns: cols });
}

function formatCell(v: unknown, maxChars: number, digits: number): string {
  let s: string;
  if (typeof v === "number") s = Number.isInteger(v) ? String(v) : v.toFixed(digits);
  else if (v === null || v === undefined) s = "";
  else s = String(v);
  return s.length > maxChars ? s.slice(0, maxChars - 1) + "…" : s;
}

interface Grid {
  columns: string[];
  rows: unknown[][];
  index: (string | number)[];
}

function gridOf(df: DataFrame): Grid {
  return { columns: df.columns.map(String), rows: df.values as unknown[][], index: df.index as (string | number)[] };
}

/** HTML for a DataFrame. */
export function tableHtml(df: DataFrame, opts: TableOptions = {}): string {
  const { maxRows = 20, maxChars = 160, digits = 4 } = opts;
  const g = gridOf(df);
  const shown = g.rows.slice(0, maxRows);
  const cell = (v: unknown, tag: "td" | "th"): string => {
    const align = typeof v === "number" ? ' style="text-align:right"' : ' style="text-align:left;white-space:pre-wrap"';
    return `<${tag}${align}>${escapeHtml(formatCell(v, maxChars, digits))}</${tag}>`;
  };
  const head = `<tr><th></th>${g.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr>`;
  const body = shown.map((row, i) => `<tr>${cell(g.index[i], "th")}${row.map((v) => cell(v, "td")).join("")}</tr>`).join("\n");
  const more = g.rows.length > shown.length ? `<p>… ${g.rows.length - shown.length} more rows (${g.rows.length} × ${g.columns.length})</p>` : "";
  const caption = opts.caption ? `<caption>${escapeHtml(opts.caption)}</caption>` : "";
  return `<table class="ftgen-table dataframe" border="1">${caption}\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody></table>${more}`;
}

/** Plain-text rendering (aligned columns) for consoles and the text/plain fallback. */
export function tableText(df: DataFrame, opts: TableOptions = {}): string {
  const { maxRows = 20, digits = 4 } = opts;
  const maxChars = Math.min(opts.maxChars ?? 40, 40);
  const g = gridOf(df);
  const rows = [["", ...g.columns], ...g.rows.slice(0, maxRows).map((r, i) => [String(g.index[i]), ...r.map((v) => formatCell(v, maxChars, digits))])];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const lines = rows.map((r) => r.map((s, c) => s.padEnd(widths[c])).join("  ").trimEnd());
  if (g.rows.length > maxRows) lines.push(`… ${g.rows.length - maxRows} more rows`);
  return (opts.caption ? `${opts.caption}\n` : "") + lines.join("\n");
}

/** Display a DataFrame as an HTML table (with a text fallback). */
export function showTable(df: DataFrame, opts: TableOptions = {}): void {
  displayBundle({ "text/html": tableHtml(df, opts), "text/plain": tableText(df, opts) });
}
