/**
 * Small multiples at print size: a grid of panels, each with its own axes, laid out in pixels so that
 * nothing collides or is clipped: the figure title on top, each panel's title above it, tick labels
 * and axis titles in the gaps reserved for them, one legend and the figure's notes (what a marker or a
 * blank cell means) at the bottom. Sizes are estimated from DejaVu Sans' widths (plot/style); tests draw
 * the figures in Chromium and check that no text leaves the figure or overlaps other text.
 *
 * Builders use it for one panel too, so every figure has the same margins, fonts and legend.
 */
import type { Figure } from "./figure";
import { FONT, MIN_FONT_PX, PRINT, TITLE_FONT, baseAxis, lineHeight, textWidth, wrapLines, type PrintWidth } from "./style";

export interface Panel {
  /** Drawn above the panel, wrapped to its width. */
  title?: string;
  /** Width relative to the other panels of its row (default 1): bar panels pass their category count. */
  weight?: number;
  /** Traces; each is put on this panel's axes. */
  traces: Record<string, unknown>[];
  xTitle?: string;
  yTitle?: string;
  /** More x- and y-axis settings (range, type, tickformat, ticktext…). */
  xaxis?: Record<string, unknown>;
  yaxis?: Record<string, unknown>;
  /** Shapes drawn in this panel's coordinates (xref/yref are set). */
  shapes?: Record<string, unknown>[];
  /** Width of the y tick labels in px (default: estimated from the range or the category labels). */
  yLabelWidth?: number;
  /** Lines of the x tick labels (default: the most <br>-separated lines among the categories, else 1). */
  xLabelLines?: number;
  /** Room kept to the right of the panel, px (a colour bar). */
  rightSpace?: number;
  /** Height of the panel's plot area, px (default: the figure's panelHeight; a row takes its tallest). */
  height?: number;
  /** Tick labels of the x axis above the panel instead of below. */
  xSide?: "top" | "bottom";
  /** The panel's traces get a legend of their own, under the panel (its entries one a line). */
  ownLegend?: boolean;
  /** The heatmap traces' colour bars are placed beside the panel, as tall as it (in rightSpace). */
  colorbar?: boolean;
  /** Room kept under the panel beyond its labels, px (horizontal colour bars). */
  belowSpace?: number;
  /** Text width of the x tick labels when they are rotated by ±90° (their height then), px. */
  xLabelHeight?: number;
}

export interface PanelFigureOptions {
  title?: string;
  /** Figure width: a column (320 px) or the page's text width (672 px), or px. */
  width: PrintWidth | number;
  /** Panels per row (default: all in one row). */
  cols?: number;
  /** Height of each panel's plot area, px. */
  panelHeight: number;
  /** Lines of explanation under the legend (what markers, hatching, blank cells mean). */
  notes?: readonly string[];
  /** Extra layout settings (merged last). */
  layout?: Record<string, unknown>;
}

const SUFFIX = (i: number): string => (i === 0 ? "" : String(i + 1));
/** Gap between panels beyond what their labels need, px. */
const PANEL_GAP = 10;
/** Around the figure, px. */
const EDGE = 6;
/** Height of one legend row, px. */
const LEGEND_ROW = 19;

/** Estimated width of a numeric axis' tick labels. */
function numericLabelWidth(axis: Record<string, unknown> | undefined): number {
  const range = axis?.range as [number, number] | undefined;
  const fmt = String(axis?.tickformat ?? "");
  const decimals = /\.(\d)f/.exec(fmt)?.[1];
  const pct = fmt.endsWith("%");
  const show = (v: number): string => {
    const s = decimals !== undefined ? (pct ? (v * 100).toFixed(Number(decimals)) + "%" : v.toFixed(Number(decimals))) : String(+v.toPrecision(3));
    return (v < 0 ? "−" : "") + s.replace(/^-/, "");
  };
  if (axis?.ticktext) return Math.max(...(axis.ticktext as string[]).map((t) => textWidth(String(t))));
  if (!range) return textWidth("0.00");
  const prefix = String(axis?.tickprefix ?? ""), suffix = String(axis?.ticksuffix ?? "");
  return Math.max(...[range[0], range[1], (range[0] + range[1]) / 2].map((v) => textWidth(prefix + show(v) + suffix)));
}

/** Estimated width of a panel's y tick labels. */
function yLabelWidth(p: Panel): number {
  if (p.yaxis?.showticklabels === false) return 0;
  if (p.yLabelWidth !== undefined) return p.yLabelWidth;
  if (p.yaxis?.type === "category" || p.traces.some((t) => t.type === "heatmap")) {
    const cats = (p.yaxis?.ticktext as string[] | undefined) ?? p.traces.flatMap((t) => (Array.isArray(t.y) ? (t.y as unknown[]).map(String) : []));
    return Math.max(0, ...cats.map((c) => Math.max(...c.split(/<br>/).map((l) => textWidth(l)))));
  }
  return numericLabelWidth(p.yaxis);
}

/** Lines of a panel's x tick labels. */
function xLabelLines(p: Panel): number {
  if (p.xaxis?.showticklabels === false) return 0;
  if (p.xLabelLines !== undefined) return p.xLabelLines;
  const cats = (p.xaxis?.ticktext as string[] | undefined) ?? p.traces.flatMap((t) => (Array.isArray(t.x) ? (t.x as unknown[]).filter((v) => typeof v === "string").map(String) : []));
  return Math.max(1, ...cats.map((c) => c.split(/<br>/).length));
}

/** Room left of a panel's plot area: its y tick labels and y title. */
function leftRoom(p: Panel): number {
  const labels = yLabelWidth(p);
  return (labels > 0 ? labels + 8 : 0) + (p.yTitle ? lineHeight() * wrapLines(p.yTitle, 1e9).length + 4 : 0);
}

/** Room under a panel's plot area: its x tick labels, x title and own legend. */
function belowRoom(p: Panel, width: number): number {
  const lines = p.xSide === "top" ? 0 : xLabelLines(p);
  const titleLines = p.xTitle ? wrapLines(p.xTitle, width).length : 0;
  return (lines > 0 ? xLabelsHeight(p) + 8 : 2) + (titleLines ? titleLines * lineHeight() + 4 : 0) + ownLegendHeight(p) + (p.belowSpace ?? 0);
}

/** Height of a panel's x tick labels, px. */
function xLabelsHeight(p: Panel): number {
  return p.xLabelHeight ?? xLabelLines(p) * lineHeight();
}

/** Room above a panel's plot area (besides its title): its x tick labels when they are on top. */
function aboveRoom(p: Panel): number {
  return p.xSide === "top" && xLabelLines(p) > 0 ? xLabelsHeight(p) + 6 : 0;
}

/** Height of a panel's own legend, px. */
function ownLegendHeight(p: Panel): number {
  return p.ownLegend ? legendHeight(legendEntries(p.traces).length) : 0;
}

/** The legend entries of a set of traces (those shown in the legend), in order. */
export function legendEntries(traces: readonly Record<string, unknown>[]): string[] {
  return traces.filter((t) => t.showlegend !== false && t.name !== undefined && String(t.name) !== "" && t.type !== "heatmap").map((t) => String(t.name));
}

/**
 * Rows a horizontal legend of these entries takes within `maxWidth` px, as plotly lays out a legend of
 * groups (panelFigure gives every trace a legend group): each entry is 40 px of symbol and gap plus its
 * text, 5 px apart, packed greedily.
 */
export function legendRows(entries: readonly string[], maxWidth: number): number {
  if (entries.length === 0) return 0;
  let rows = 1, x = 0;
  for (const e of entries) {
    const w = 40 + textWidth(e) + 5;
    if (x > 0 && x + w > maxWidth) { rows++; x = 0; }
    x += w;
  }
  return rows;
}

/** Height of a legend of `rows` rows, px (plotly: 19 px a row at 12 px, 10 px of padding). */
export const legendHeight = (rows: number): number => (rows ? rows * LEGEND_ROW + 10 : 0);

/** A figure of panels laid out in px (see the file comment). */
export function panelFigure(panels: readonly Panel[], opts: PanelFigureOptions): Figure {
  if (panels.length === 0) throw new Error("panelFigure: no panels");
  const W = typeof opts.width === "number" ? opts.width : PRINT[opts.width];
  const cols = Math.min(opts.cols ?? panels.length, panels.length);
  const nRows = Math.ceil(panels.length / cols);
  const rowOf = (i: number): number => Math.floor(i / cols), colOf = (i: number): number => i % cols;

  // Horizontal: per column, the room its panels need on the left; the panels' right space.
  const colLeft = Array.from({ length: cols }, (_, c) => Math.max(...panels.filter((_, i) => colOf(i) === c).map(leftRoom)));
  const colRight = Array.from({ length: cols }, (_, c) => Math.max(0, ...panels.filter((_, i) => colOf(i) === c).map((p) => p.rightSpace ?? 0)));
  // Whole px: plotly rounds the margins.
  const l = Math.ceil(colLeft[0] + EDGE), r = Math.ceil(colRight[cols - 1] + EDGE + 4);
  const plotW = W - l - r;
  const gaps = Array.from({ length: cols - 1 }, (_, c) => colRight[c] + PANEL_GAP + colLeft[c + 1]);
  const free = plotW - gaps.reduce((a, b) => a + b, 0);
  if (free < 40 * cols) throw new Error(`panelFigure "${opts.title ?? ""}": ${cols} panels do not fit in ${W} px`);
  // Column widths from the first row's weights (rows below use the same columns).
  const weights = Array.from({ length: cols }, (_, c) => panels[c].weight ?? 1);
  const wsum = weights.reduce((a, b) => a + b, 0);
  const colW = weights.map((w) => (free * w) / wsum);
  const colX0 = colW.map((_, c) => colW.slice(0, c).reduce((a, b) => a + b, 0) + gaps.slice(0, c).reduce((a, b) => a + b, 0));

  // Vertical: title, then per row: panel titles, plot, tick labels and x titles.
  const titleLines = opts.title ? wrapLines(opts.title, W - 2 * EDGE, TITLE_FONT.size) : [];
  const titleH = titleLines.length ? titleLines.length * lineHeight(TITLE_FONT.size) + 8 : 0;
  const panelTitleLines = panels.map((p, i) => (p.title ? wrapLines(p.title, colW[colOf(i)] + 4) : []));
  const rowTitleH = Array.from({ length: nRows }, (_, rr) => Math.max(0, ...panels.map((_, i) => (rowOf(i) === rr ? panelTitleLines[i].length : 0))) * lineHeight());
  const rowAbove = Array.from({ length: nRows }, (_, rr) => Math.max(...panels.filter((_, i) => rowOf(i) === rr).map(aboveRoom)));
  const rowTop = rowTitleH.map((h, rr) => (h ? h + 8 : 4) + rowAbove[rr]);
  const rowBelow = Array.from({ length: nRows }, (_, rr) => Math.max(...panels.filter((_, i) => rowOf(i) === rr).map((p, j) => belowRoom(p, colW[j]))));
  const rowH = Array.from({ length: nRows }, (_, rr) => Math.max(...panels.filter((_, i) => rowOf(i) === rr).map((p) => p.height ?? opts.panelHeight)));
  const allTraces = panels.flatMap((p) => (p.ownLegend ? [] : p.traces));
  const entries = legendEntries(allTraces);
  // Below the plot and left of it, plotly lets a legend run to the right margin (less a few px for our estimate's error).
  const legendH = legendHeight(legendRows(entries, W - r - 2));
  const noteLines = (opts.notes ?? []).flatMap((n) => wrapLines(n, W - 2 * EDGE));
  const notesH = noteLines.length * lineHeight();
  const t = Math.ceil(EDGE + titleH + rowTop[0]);
  const b = Math.ceil(rowBelow[nRows - 1] + (legendH ? legendH + 2 : 0) + (notesH ? notesH + 4 : 0) + EDGE);
  const plotH = Math.ceil(rowH.reduce((a, h) => a + h, 0) + rowBelow.slice(0, -1).reduce((a, x) => a + x, 0) + rowTop.slice(1).reduce((a, x) => a + x, 0) + 6 * (nRows - 1));
  const H = t + plotH + b;

  const layout: Record<string, unknown> = {
    width: W, height: H, font: { ...FONT }, showlegend: entries.length > 0 || panels.some((p) => p.ownLegend),
    margin: { l, r, t, b, pad: 0, autoexpand: false },
    paper_bgcolor: "#fff", plot_bgcolor: "#fff",
    hoverlabel: { font: { size: MIN_FONT_PX } },
  };
  if (opts.title) {
    // Anchored by its middle: plotly places a multi-line title anchored "top" by its first line's baseline.
    layout.title = { text: titleLines.join("<br>"), font: { ...TITLE_FONT }, xref: "container", x: 0.5, xanchor: "center", yref: "container", y: 1 - (EDGE + (titleH - 8) / 2) / H, yanchor: "middle" };
  }
  // Legends are placed in paper coordinates: one placed by the container makes plotly shift the
  // y-axis titles (as a colour bar so placed does).
  const paperX = (px: number): number => (px - l) / plotW;
  const paperY = (pxFromTop: number): number => (H - b - pxFromTop) / plotH;
  if (entries.length) {
    layout.legend = {
      orientation: "h", x: paperX(EDGE), xanchor: "left", y: paperY(H - EDGE - (notesH ? notesH + 4 : 0)), yanchor: "bottom",
      font: { size: MIN_FONT_PX }, bgcolor: "rgba(0,0,0,0)", tracegroupgap: 0, itemclick: false, itemdoubleclick: false,
    };
  }
  const shapes: Record<string, unknown>[] = [];
  const annotations: Record<string, unknown>[] = [];
  const data: Record<string, unknown>[] = [];
  let cursor = 0; // px from the plot area's top
  const rowY: [number, number][] = [];
  for (let rr = 0; rr < nRows; rr++) {
    if (rr > 0) cursor += rowBelow[rr - 1] + rowTop[rr] + 6;
    rowY.push([cursor, cursor + rowH[rr]]);
    cursor += rowH[rr];
  }
  panels.forEach((p, i) => {
    const s = SUFFIX(i), c = colOf(i), [y0, y1] = rowY[rowOf(i)];
    const xDomain = [colX0[c] / plotW, (colX0[c] + colW[c]) / plotW];
    const yDomain = [1 - y1 / plotH, 1 - y0 / plotH];
    layout[`xaxis${s}`] = baseAxis({ domain: xDomain, anchor: `y${s}`, title: { text: p.xTitle ? wrapLines(p.xTitle, colW[c]).join("<br>") : "", font: { size: MIN_FONT_PX }, standoff: 4 }, ...p.xaxis });
    layout[`yaxis${s}`] = baseAxis({ domain: yDomain, anchor: `x${s}`, title: { text: p.yTitle ?? "", font: { size: MIN_FONT_PX }, standoff: 4 }, ...p.yaxis });
    const legendId = p.ownLegend ? `legend${i + 2}` : undefined;
    for (const tr of p.traces) {
      // Every trace in a legend group (its name where it has none): plotly then packs a horizontal legend entry by entry.
      const trace: Record<string, unknown> = { xaxis: `x${s}`, yaxis: `y${s}`, legendgroup: tr.name !== undefined ? String(tr.name) : undefined, ...tr, ...(legendId ? { legend: legendId } : {}) };
      if (p.colorbar && trace.type === "heatmap") {
        trace.colorbar = { ...(trace.colorbar as Record<string, unknown> | undefined), x: xDomain[1], xref: "paper", xanchor: "left", xpad: 8, y: yDomain[0], yref: "paper", yanchor: "bottom", len: yDomain[1] - yDomain[0], lenmode: "fraction" };
      }
      data.push(trace);
    }
    if (legendId) {
      // Under the panel's tick labels and x title, its left edge under the panel's.
      const top = t + y1 + belowRoom(p, colW[c]) - ownLegendHeight(p);
      layout[legendId] = {
        orientation: "v", x: paperX(l + colX0[c] - 4), xanchor: "left", y: paperY(top), yanchor: "top",
        font: { size: MIN_FONT_PX }, bgcolor: "rgba(0,0,0,0)", tracegroupgap: 0, itemclick: false, itemdoubleclick: false,
      };
    }
    // A shape may span the panel ("x domain"): that is this panel's x domain.
    for (const sh of p.shapes ?? []) {
      shapes.push({ ...sh, xref: sh.xref === "x domain" ? `x${s} domain` : `x${s}`, yref: sh.yref === "y domain" ? `y${s} domain` : `y${s}` });
    }
    if (p.title) {
      annotations.push({
        text: panelTitleLines[i].join("<br>"), xref: `x${s} domain`, yref: `y${s} domain`, x: 0.5, y: 1, xanchor: "center", yanchor: "bottom", yshift: 6 + aboveRoom(p),
        showarrow: false, font: { size: MIN_FONT_PX },
      });
    }
  });
  if (noteLines.length) {
    annotations.push({
      text: noteLines.join("<br>"), xref: "paper", yref: "paper", x: -(l - EDGE) / plotW, y: -(b - EDGE - notesH) / plotH, xanchor: "left", yanchor: "top",
      align: "left", showarrow: false, font: { size: MIN_FONT_PX, color: "#333" },
    });
  }
  layout.shapes = shapes;
  layout.annotations = annotations;
  return { data, layout: { ...layout, ...(opts.layout ?? {}) } };
}
