/**
 * The print style of ftgen's figures: every figure is drawn at the size a two-column paper prints it,
 * so the PDF can go into a paper as it is (1 CSS px = 0.75 pt):
 *  - one column: 3.33 in = 240 pt = 320 px wide; the text width: 7 in = 504 pt = 672 px;
 *  - no text under 12 px = 9 pt;
 *  - DejaVu Sans (the font fontconfig itself depends on, so every Chromium here has it);
 *  - a palette of 7 colours told apart in print and by colour-blind readers (Okabe & Ito), and grey for
 *    reference lines.
 * `textWidth` estimates a string's width from DejaVu Sans' advance widths, so that builders can wrap
 * titles and size margins before Chromium draws anything (tests measure the drawn figure).
 */

/** Figure widths in CSS px. */
export const PRINT = {
  /** One column of a two-column paper: 3.33 in. */
  column: 320,
  /** The text width of a two-column paper (a figure* spanning both columns): 7 in. */
  page: 672,
} as const;
export type PrintWidth = keyof typeof PRINT;

/** The smallest text in a figure, px (9 pt once printed at 1 px = 0.75 pt). */
export const MIN_FONT_PX = 12;
/** Points per CSS px in the exported PDF (Chromium prints 96 px to the inch). */
export const PT_PER_PX = 0.75;

export const FONT_FAMILY = '"DejaVu Sans", Verdana, Arial, sans-serif';
export const FONT = { family: FONT_FAMILY, size: MIN_FONT_PX, color: "#222" } as const;
/** Figure titles. */
export const TITLE_FONT = { family: FONT_FAMILY, size: 13, color: "#222" } as const;

/** Series colours, in the order they are handed out (Okabe & Ito, without yellow and black). */
export const PALETTE: readonly string[] = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#332288"];
/** Reference lines (baselines, zero). */
export const REFERENCE_COLOR = "#555";
/** CI whiskers on bars. */
export const WHISKER_COLOR = "#222";

/** The i-th series colour; more series than colours is an error (facet instead). */
export function seriesColor(i: number, what = "series"): string {
  if (i >= PALETTE.length) throw new Error(`${what}: ${i + 1} series for ${PALETTE.length} distinct colours; split the figure into panels instead`);
  return PALETTE[i];
}

/** DejaVu Sans advance widths in em (2048 units), for the characters figures use. */
const WIDTHS: Record<string, number> = {
  " ": 0.318, "!": 0.401, "\"": 0.46, "#": 0.838, "%": 0.95, "&": 0.78, "'": 0.275, "(": 0.39, ")": 0.39, "*": 0.5, "+": 0.838,
  ",": 0.318, "-": 0.361, ".": 0.318, "/": 0.337, ":": 0.337, ";": 0.337, "<": 0.838, "=": 0.838, ">": 0.838, "?": 0.531,
  "[": 0.39, "]": 0.39, "_": 0.5, "|": 0.337, "−": 0.838, "→": 0.838, "×": 0.838, "·": 0.318, "–": 0.5, "—": 1, "Δ": 0.684,
  "≥": 0.838, "≤": 0.838, "†": 0.5, "✕": 0.838, "ρ": 0.635,
  A: 0.684, B: 0.686, C: 0.698, D: 0.77, E: 0.632, F: 0.575, G: 0.776, H: 0.752, I: 0.295, J: 0.295, K: 0.656, L: 0.557, M: 0.863,
  N: 0.748, O: 0.787, P: 0.603, Q: 0.787, R: 0.695, S: 0.635, T: 0.611, U: 0.732, V: 0.684, W: 0.989, X: 0.685, Y: 0.611, Z: 0.685,
  a: 0.613, b: 0.635, c: 0.55, d: 0.635, e: 0.615, f: 0.352, g: 0.635, h: 0.634, i: 0.278, j: 0.278, k: 0.579, l: 0.278, m: 0.974,
  n: 0.634, o: 0.612, p: 0.635, q: 0.635, r: 0.411, s: 0.521, t: 0.392, u: 0.634, v: 0.592, w: 0.818, x: 0.592, y: 0.592, z: 0.525,
};

/** Estimated width in px of one line of text (tags such as <b> ignored) at `size` px in DejaVu Sans. */
export function textWidth(text: string, size: number = MIN_FONT_PX): number {
  let em = 0;
  for (const ch of plainText(text)) em += WIDTHS[ch] ?? (/[0-9]/.test(ch) ? 0.636 : 0.65);
  return em * size;
}

/** The text without plotly's HTML-like tags (<b>, <i>, <sup>, <br>: a line break becomes a space). */
export function plainText(text: string): string {
  return text.replace(/<br\s*\/?>/gi, " ").replace(/<[^>]+>/g, "").replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">");
}

/** Greedy word wrap to lines no wider than `maxPx`; returns the lines (a word wider than the line stays whole). */
export function wrapLines(text: string, maxPx: number, size: number = MIN_FONT_PX): string[] {
  const lines: string[] = [];
  for (const para of text.split(/<br\s*\/?>/i)) {
    let line = "";
    for (const word of para.split(/\s+/).filter(Boolean)) {
      const next = line ? `${line} ${word}` : word;
      if (line && textWidth(next, size) > maxPx) { lines.push(line); line = word; } else line = next;
    }
    lines.push(line);
  }
  return lines;
}

/** `wrapLines` joined with plotly's line break. */
export function wrapText(text: string, maxPx: number, size: number = MIN_FONT_PX): string {
  return wrapLines(text, maxPx, size).join("<br>");
}

/** Line height in px of text at `size` px (plotly spaces lines at 1.3 em). */
export const lineHeight = (size: number = MIN_FONT_PX): number => Math.ceil(size * 1.3);

/** Axis settings every figure shares: ticks and titles at the minimum size, no automatic tick angle. */
export function baseAxis(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    tickfont: { size: MIN_FONT_PX }, title: { font: { size: MIN_FONT_PX } }, showline: true, linecolor: "#444", linewidth: 1,
    ticks: "outside", ticklen: 3, tickcolor: "#444", gridcolor: "#e6e6e6", zeroline: false, automargin: false, ...extra,
  };
}

/** Tick format of a score axis spanning `span`: two decimals below 0.3, one above. */
export function scoreTickFormat(span: number): string {
  return span < 0.3 ? ".2f" : ".1f";
}

/**
 * A y range fitted to `values` (CI ends, baselines): with `fromZero` (bars) it starts at 0, else a
 * little below the smallest; a little above the largest; clamped to [lo, hi] (default [0, 1]).
 */
export function fittedRange(values: readonly number[], opts: { fromZero?: boolean; clamp?: readonly [number, number]; pad?: number } = {}): [number, number] {
  const finite = values.filter((v) => Number.isFinite(v));
  const [cLo, cHi] = opts.clamp ?? [0, 1];
  if (finite.length === 0) return [cLo, cHi];
  let lo = Math.min(...finite), hi = Math.max(...finite);
  const pad = Math.max(opts.pad ?? 0.02, (hi - lo) * 0.08);
  lo = opts.fromZero ? Math.min(0, lo) : lo - pad;
  hi = hi + pad;
  return [Math.max(cLo, lo), Math.min(cHi, hi)];
}
