/**
 * Tables: records → danfojs DataFrame, and DataFrame → an HTML table (danfojs has no renderer
 * for notebooks). Long cells are cut so that a table of documents stays readable. Numbers have one
 * format per table: a fixed number of decimals, thousands separators, no "−0.000"; a column of
 * numbers is right-aligned, header included; a table wider than the output scrolls.
 */
import type { DataFrame } from "danfojs-node";
import { displayBundle, escapeHtml } from "./display";

export interface TableOptions {
  /** Rows shown (head); the rest are counted in a footer. Default 20. */
  maxRows?: number;
  /** Characters kept per cell. Default 160. */
  maxChars?: number;
  caption?: string;
  /** Digits after the point for non-integer numbers. Default 3. */
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

/** A number as the table shows it: integers with thousands separators, others with `digits` decimals (and no negative zero). */
export function formatNumber(v: number, digits: number, fractional = !Number.isInteger(v)): string {
  if (!Number.isFinite(v)) return String(v);
  if (!fractional) return v.toLocaleString("en-US");
  const s = v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return /^-[0.,]+$/.test(s) ? s.slice(1) : s;
}

function formatCell(v: unknown, maxChars: number, digits: number, fractional = false): string {
  let s: string;
  if (typeof v === "number") s = formatNumber(v, digits, fractional || !Number.isInteger(v));
  else if (v === null || v === undefined) s = "";
  else s = String(v);
  return s.length > maxChars ? s.slice(0, maxChars - 1) + "…" : s;
}

/** Whether a column holds a non-integer number: then all its numbers get the same decimals. */
function fractionalColumn(rows: readonly unknown[][], c: number): boolean {
  return rows.some((r) => typeof r[c] === "number" && Number.isFinite(r[c]) && !Number.isInteger(r[c]));
}

/** Whether a column holds numbers (its non-empty cells all do). */
function numericColumn(rows: readonly unknown[][], c: number): boolean {
  const cells = rows.map((r) => r[c]).filter((v) => v !== null && v !== undefined && v !== "");
  return cells.length > 0 && cells.every((v) => typeof v === "number");
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
  const { maxRows = 20, maxChars = 160, digits = 3 } = opts;
  const g = gridOf(df);
  const shown = g.rows.slice(0, maxRows);
  const numeric = g.columns.map((_, c) => numericColumn(g.rows, c));
  const fractional = g.columns.map((_, c) => fractionalColumn(g.rows, c));
  const style = (num: boolean): string => (num ? ' style="text-align:right;white-space:nowrap"' : ' style="text-align:left;white-space:pre-wrap"');
  const cell = (v: unknown, tag: "td" | "th", num: boolean, frac = false): string => `<${tag}${style(num)}>${escapeHtml(formatCell(v, maxChars, digits, frac))}</${tag}>`;
  // Headers take their column's alignment: a right-aligned header over right-aligned numbers, left over text.
  const head = `<tr><th></th>${g.columns.map((c, i) => `<th${style(numeric[i])}>${escapeHtml(c)}</th>`).join("")}</tr>`;
  const body = shown.map((row, i) => `<tr>${cell(g.index[i], "th", true)}${row.map((v, c) => cell(v, "td", numeric[c], fractional[c])).join("")}</tr>`).join("\n");
  const more = g.rows.length > shown.length ? `<p>… ${(g.rows.length - shown.length).toLocaleString("en-US")} more rows (${g.rows.length.toLocaleString("en-US")} × ${g.columns.length})</p>` : "";
  const caption = opts.caption ? `<caption>${escapeHtml(opts.caption)}</caption>` : "";
  // A wide table scrolls inside the output instead of being cut at its edge.
  return `<div class="ftgen-table-wrap" style="overflow-x:auto;max-width:100%"><table class="ftgen-table dataframe" border="1">${caption}\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody></table></div>${more}`;
}

/** Plain-text rendering (aligned columns) for consoles and the text/plain fallback. */
export function tableText(df: DataFrame, opts: TableOptions = {}): string {
  const { maxRows = 20, digits = 3 } = opts;
  const maxChars = Math.min(opts.maxChars ?? 40, 40);
  const g = gridOf(df);
  const numeric = [true, ...g.columns.map((_, c) => numericColumn(g.rows, c))];
  const fractional = g.columns.map((_, c) => fractionalColumn(g.rows, c));
  const rows = [["", ...g.columns], ...g.rows.slice(0, maxRows).map((r, i) => [String(g.index[i]), ...r.map((v, c) => formatCell(v, maxChars, digits, fractional[c]))])];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const lines = rows.map((r) => r.map((s, c) => (numeric[c] ? s.padStart(widths[c]) : s.padEnd(widths[c]))).join("  ").trimEnd());
  if (g.rows.length > maxRows) lines.push(`… ${g.rows.length - maxRows} more rows`);
  return (opts.caption ? `${opts.caption}\n` : "") + lines.join("\n");
}

/** Display a DataFrame as an HTML table (with a text fallback). */
export function showTable(df: DataFrame, opts: TableOptions = {}): void {
  displayBundle({ "text/html": tableHtml(df, opts), "text/plain": tableText(df, opts) });
}
