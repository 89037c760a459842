/**
 * The study's plotly figures: scores with CI whiskers, score vs k per task, score vs train size.
 * Heatmaps of Δ vs base are in results.ts. Each returns a plain figure to show or export.
 */
import { TASKS, TASK_NAMES, type TaskName } from "../data/tasks";
import { barChart } from "../plot/charts";
import type { Figure } from "../plot/figure";
import type { StudyRecord } from "./runner";
import { groupBy } from "../util/group";
import { bestBaseline } from "./baselines";

/** The y-axis title of a set of records: their metric, or both where they mix. */
export function scoreAxisTitle(records: readonly { spec: { task: TaskName } }[]): string {
  const kinds = new Set(records.map((r) => TASKS[r.spec.task].kind));
  return kinds.size === 1 ? (kinds.has("classification") ? "accuracy" : "ROUGE-L (F)") : "accuracy (classification) / ROUGE-L (generation)";
}

/** A dashed grey baseline trace (hover: its name and value). */
function baselineTrace(name: string, x: readonly (number | string)[], y: readonly number[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: "scatter", mode: "lines", name, x: [...x], y: [...y], line: { dash: "dash", width: 1.5, color: "#777" }, hovertemplate: `${name}: %{y:.3f}<extra></extra>`, ...extra };
}

/**
 * Bars of scores with their CIs: one bar group per category, one series per `series` value, and each
 * category's strongest baseline (majority label; first-N-words or best fixed output) as a grey tick.
 */
export function scoreBars(records: readonly StudyRecord[], opts: {
  title: string; category: (r: StudyRecord) => string; series: (r: StudyRecord) => string; yTitle?: string;
}): Figure {
  const cats: string[] = [], names: string[] = [];
  for (const r of records) {
    if (!cats.includes(opts.category(r))) cats.push(opts.category(r));
    if (!names.includes(opts.series(r))) names.push(opts.series(r));
  }
  const at = (name: string, cat: string): StudyRecord | undefined => records.find((r) => opts.series(r) === name && opts.category(r) === cat);
  const fig = barChart({
    title: opts.title, categories: cats, yTitle: opts.yTitle ?? scoreAxisTitle(records), yRange: [0, 1],
    series: names.map((name) => ({
      name,
      y: cats.map((c) => at(name, c)?.value ?? NaN),
      ci: cats.map((c) => { const r = at(name, c); return r ? [r.ci.low, r.ci.high] as const : [NaN, NaN] as const; }),
    })),
  });
  const first = cats.map((c) => records.find((r) => opts.category(r) === c) as StudyRecord);
  const bases = first.map((r) => bestBaseline(r.spec.task, r.spec.dataset, r.spec.limit));
  fig.data.push({
    type: "scatter", mode: "markers", name: "baseline (majority label / best trivial output)", x: cats, y: bases.map((b) => b.value),
    marker: { symbol: "line-ew-open", size: 36, line: { width: 2.5, color: "#333" } }, text: bases.map((b) => b.name), hovertemplate: "%{x}: %{text} %{y:.3f}<extra></extra>",
  });
  return fig;
}

/** Score vs k, one panel per task (its in-domain set), one line per (model, map), CI whiskers. */
export function scoreVsKPanels(records: readonly StudyRecord[], opts: { title?: string; dataset?: (task: TaskName) => string } = {}): Figure {
  const tasks = TASK_NAMES.filter((t) => records.some((r) => r.spec.task === t));
  const data: Record<string, unknown>[] = [];
  const layout: Record<string, unknown> = {
    title: { text: opts.title ?? "Score vs number of in-context demonstrations" }, height: 420,
    legend: { orientation: "h", y: -0.22 }, margin: { t: 80, l: 60, r: 20, b: 100 }, annotations: [] as unknown[],
  };
  const gap = 0.03, w = (1 - gap * (tasks.length - 1)) / tasks.length;
  const shown = new Set<string>();
  tasks.forEach((task, i) => {
    const ax = i === 0 ? "" : String(i + 1);
    const dataset = opts.dataset?.(task) ?? TASKS[task].inDomain;
    const mine = records.filter((r) => r.spec.task === task && r.spec.dataset === dataset);
    // the base model and the FT model of this task (other FT models are cross-task here)
    const own = mine.filter((r) => r.method === "base" || r.trainTask === task);
    const groups = groupBy(own, (r) => `${r.method === "base" ? "base" : r.method.toUpperCase()} · map ${r.spec.map}`);
    for (const [name, rs] of groups) {
      const s = [...rs].sort((a, b) => a.spec.k - b.spec.k);
      data.push({
        type: "scatter", mode: "lines+markers", name, legendgroup: name, showlegend: !shown.has(name), xaxis: `x${ax}`, yaxis: `y${ax}`,
        x: s.map((r) => r.spec.k), y: s.map((r) => r.value),
        line: { dash: s[0].spec.map === 1 ? "dot" : "solid", color: name.startsWith("base") ? "#636efa" : "#ef553b" },
        error_y: { type: "data", symmetric: false, array: s.map((r) => r.ci.high - r.value), arrayminus: s.map((r) => r.value - r.ci.low), thickness: 1 },
      });
      shown.add(name);
    }
    if (own.length) {
      const b = bestBaseline(task, dataset, own[0].spec.limit), ks = own.map((r) => r.spec.k);
      data.push(baselineTrace(`baseline: ${b.name}`, [Math.min(...ks), Math.max(...ks)], [b.value, b.value], { xaxis: `x${ax}`, yaxis: `y${ax}`, showlegend: false }));
    }
    layout[`xaxis${ax}`] = { domain: [i * (w + gap), i * (w + gap) + w], title: { text: "k" }, dtick: 1, anchor: `y${ax}` };
    layout[`yaxis${ax}`] = { range: [0, 1], anchor: `x${ax}`, ...(i === 0 ? { title: { text: scoreAxisTitle(records) } } : { showticklabels: false }) };
    (layout.annotations as unknown[]).push({ text: `${task} · ${dataset}`, x: i * (w + gap) + w / 2, y: 1.04, xref: "paper", yref: "paper", showarrow: false, xanchor: "center" });
  });
  return { data, layout };
}

/** Score vs train size: one line per (train task, test set) of FT records, each set's strongest baseline dashed in grey. */
export function trainSizeChart(records: readonly StudyRecord[], opts: { title?: string } = {}): Figure {
  const ft = records.filter((r) => r.method === "ft" && r.trainSize !== undefined);
  const lines = groupBy(ft, (r) => `${r.trainTask} → ${r.spec.dataset}`);
  const data: Record<string, unknown>[] = [];
  for (const [name, rs] of lines) {
    const s = [...rs].sort((a, b) => (a.trainSize as number) - (b.trainSize as number));
    data.push({
      type: "scatter", mode: "lines+markers", name, x: s.map((r) => r.trainSize), y: s.map((r) => r.value),
      line: { dash: s[0].scope === "in" ? "solid" : "dash" },
      error_y: { type: "data", symmetric: false, array: s.map((r) => r.ci.high - r.value), arrayminus: s.map((r) => r.value - r.ci.low), thickness: 1 },
      legendgroup: name,
    });
    const b = bestBaseline(s[0].spec.task, s[0].spec.dataset, s[0].spec.limit);
    data.push(baselineTrace(`${name}: ${b.name}`, [s[0].trainSize as number, s[s.length - 1].trainSize as number], [b.value, b.value], { legendgroup: name, showlegend: false, line: { dash: "dot", width: 1, color: "#999" } }));
  }
  return {
    data,
    layout: {
      title: { text: opts.title ?? "Score vs train-file size (solid: in-domain, dashed: out-of-domain)" }, height: 520,
      xaxis: { title: { text: "train file (records; the profile fine-tunes on its trainFraction of it)" }, type: "category" },
      yaxis: { title: { text: scoreAxisTitle(ft) }, range: [0, 1] },
      legend: { orientation: "v", x: 1.02 }, margin: { t: 60, l: 60, r: 20, b: 60 },
    },
  };
}
