/**
 * Figure builders for the study's charts. Each returns a plain plotly figure (data + layout), so a
 * notebook can tweak it before `showFigure` or `exportFigure`.
 */
import type { Figure } from "./figure";
import { panelFigure } from "./panels";
import { PRINT, WHISKER_COLOR, seriesColor, textWidth } from "./style";

export interface BarSeries {
  name: string;
  /** One value per category. */
  y: readonly number[];
  /** Confidence interval per category, drawn as asymmetric whiskers. */
  ci?: readonly (readonly [number, number])[];
}

export interface BarChartOptions {
  title: string;
  categories: readonly string[];
  series: readonly BarSeries[];
  xTitle?: string;
  yTitle?: string;
  /** y-axis range, e.g. [0, 1] for accuracy (default: from 0 to a little above the largest value or CI end). */
  yRange?: readonly [number, number];
  /** Height hint, px (the panel gets this less the title, legend and labels). */
  height?: number;
  /** "group" (side by side, default) or "stack". */
  barmode?: "group" | "stack";
}

/**
 * Grouped bars at print size (plot/style): one trace per series, each its own colour, with CI whiskers
 * where given; a column wide when the categories fit, else the page's width.
 */
export function barChart(opts: BarChartOptions): Figure {
  const data = opts.series.map((s, i) => {
    if (s.y.length !== opts.categories.length) throw new Error(`barChart "${opts.title}": series "${s.name}" has ${s.y.length} values for ${opts.categories.length} categories`);
    const trace: Record<string, unknown> = { type: "bar", name: s.name, x: [...opts.categories], y: [...s.y], marker: { color: seriesColor(i, `barChart "${opts.title}"`) } };
    if (s.ci) {
      trace.error_y = {
        type: "data", symmetric: false, visible: true, color: WHISKER_COLOR, thickness: 1.2, width: 3,
        array: s.ci.map(([, hi], i) => hi - s.y[i]),
        arrayminus: s.ci.map(([lo], i) => s.y[i] - lo),
      };
    }
    return trace;
  });
  const ends = opts.series.flatMap((s) => [...s.y, ...(s.ci ?? []).flat()]).filter(Number.isFinite);
  const range = opts.yRange ? [...opts.yRange] : [Math.min(0, ...ends), Math.max(0, ...ends) * 1.08 || 1];
  const need = opts.categories.reduce((a, c) => a + Math.max(textWidth(c) + 10, opts.series.length * 12 + 14), 70);
  const width = need <= PRINT.column ? "column" : "page";
  // Category labels wider than their category stand upright.
  const perCat = (PRINT[width] - 80) / Math.max(1, opts.categories.length);
  const widest = Math.max(0, ...opts.categories.map((c) => textWidth(c)));
  const upright = widest > perCat - 4;
  return panelFigure([{
    traces: data.map((t) => ({ ...t, showlegend: opts.series.length > 1 })), xTitle: opts.xTitle, yTitle: opts.yTitle,
    xaxis: { type: "category", showgrid: false, tickangle: upright ? -90 : 0 }, yaxis: { range },
    ...(upright ? { xLabelHeight: widest + 4 } : {}),
  }], {
    title: opts.title, width, panelHeight: opts.height ? Math.max(120, opts.height - 160) : 180,
    layout: { barmode: opts.barmode ?? "group" },
  });
}
