/**
 * Figure builders for the study's charts. Each returns a plain plotly figure (data + layout), so a
 * notebook can tweak it before `showFigure` or `exportFigure`.
 */
import type { Figure } from "./figure";

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
  /** y-axis range, e.g. [0, 1] for accuracy. */
  yRange?: readonly [number, number];
  height?: number;
  /** "group" (side by side, default) or "stack". */
  barmode?: "group" | "stack";
}

/** Grouped bars, one trace per series, with CI whiskers where given. */
export function barChart(opts: BarChartOptions): Figure {
  const data = opts.series.map((s) => {
    if (s.y.length !== opts.categories.length) throw new Error(`barChart "${opts.title}": series "${s.name}" has ${s.y.length} values for ${opts.categories.length} categories`);
    const trace: Record<string, unknown> = { type: "bar", name: s.name, x: [...opts.categories], y: [...s.y] };
    if (s.ci) {
      trace.error_y = {
        type: "data", symmetric: false, visible: true,
        array: s.ci.map(([, hi], i) => hi - s.y[i]),
        arrayminus: s.ci.map(([lo], i) => s.y[i] - lo),
      };
    }
    return trace;
  });
  return {
    data,
    layout: {
      title: { text: opts.title },
      barmode: opts.barmode ?? "group",
      height: opts.height ?? 420,
      xaxis: { title: { text: opts.xTitle ?? "" } },
      yaxis: { title: { text: opts.yTitle ?? "" }, ...(opts.yRange ? { range: [...opts.yRange] } : {}) },
      legend: { orientation: "h", y: -0.2 },
      margin: { t: 60, l: 60, r: 20, b: 80 },
    },
  };
}
