/**
 * Score vs k: one line per test set with CI whiskers and its baseline dotted in its colour, a panel
 * per prompt map (notebook 00's ICL grids, an LLM's grid per task).
 */
import { TASKS, type TaskName } from "../data/tasks";
import type { Figure } from "./figure";
import { panelFigure, type Panel } from "./panels";
import { REFERENCE_COLOR, fittedRange, scoreTickFormat, seriesColor, type PrintWidth } from "./style";
import { TRUNCATED_LEGEND, legendOnly } from "./study-charts";
import type { StoredResult } from "../study/store";
import { bestBaseline } from "../study/baselines";
import type { GridRow } from "../study/llm-grid";

/** A horizontal reference line on a chart (a majority or trivial baseline). */
export interface BaselineLine {
  name: string;
  y: number;
  /** The test set it belongs to ("task/dataset"): drawn in that set's colour. */
  set?: string;
}

/**
 * Score vs k at print size: one line per test set (one colour each) with CI whiskers, one panel per
 * prompt map (and per metric, where generation and classification sets mix), the y axis named after
 * the metric and fitted to the data; each set's strongest baseline (majority label, or the better of
 * first-N-words and the best fixed output) dotted in its colour, unless `baselines` gives others or
 * `false`; × where prompts were truncated.
 */
export function scoreVsKChart(results: readonly StoredResult[], title = "Score vs number of demonstrations", opts: { baselines?: readonly BaselineLine[] | false; yTitle?: string; width?: PrintWidth } = {}): Figure {
  if (results.length === 0) throw new Error(`scoreVsKChart "${title}": no records`);
  const setOf = (r: StoredResult): string => `${r.spec.task}/${r.spec.dataset}`;
  const sets = [...new Set(results.map(setOf))];
  const tasks = new Set(results.map((r) => r.spec.task));
  const oneSetPerTask = sets.length === tasks.size;
  const label = (set: string): string => { const [t, d] = set.split("/"); return tasks.size === 1 ? d : oneSetPerTask ? `${t} (${d})` : `${t} · ${d}`; };
  const maps = [...new Set(results.map((r) => r.spec.map))].sort((a, b) => a - b);
  const kinds = (["generation", "classification"] as const).filter((k) => results.some((r) => TASKS[r.spec.task].kind === k));
  const baselines: BaselineLine[] = opts.baselines === false ? [] : opts.baselines ? [...opts.baselines] : sets.map((set) => {
    const r = results.find((x) => setOf(x) === set) as StoredResult;
    const b = bestBaseline(r.spec.task, r.spec.dataset, r.spec.limit);
    return { name: `${label(set)}: ${b.name}`, y: b.value, set };
  });
  const truncatedAny = results.some((r) => r.truncatedPrompts > 0);
  const shown = new Set<string>();
  const panels: Panel[] = [];
  for (const kind of kinds) {
    const ofKind = results.filter((r) => TASKS[r.spec.task].kind === kind);
    const kindSets = sets.filter((set) => ofKind.some((r) => setOf(r) === set));
    const kindBases = baselines.filter((b) => !b.set || kindSets.includes(b.set));
    const range = fittedRange([...ofKind.flatMap((r) => [r.ci.low, r.ci.high]), ...kindBases.map((b) => b.y)]);
    const ks = [...new Set(ofKind.map((r) => r.spec.k))].sort((a, b) => a - b);
    maps.forEach((map, mi) => {
      const traces: Record<string, unknown>[] = [];
      for (const set of kindSets) {
        const s = ofKind.filter((r) => setOf(r) === set && r.spec.map === map).sort((a, b) => a.spec.k - b.spec.k);
        if (!s.length) continue;
        const color = seriesColor(sets.indexOf(set), `scoreVsKChart "${title}"`);
        traces.push({
          type: "scatter", mode: "lines+markers", name: label(set), legendgroup: set, showlegend: !shown.has(set), x: s.map((r) => r.spec.k), y: s.map((r) => r.value),
          line: { color, width: 1.6 },
          marker: { color, size: s.map((r) => (r.truncatedPrompts > 0 ? 9 : 6)), symbol: s.map((r) => (r.truncatedPrompts > 0 ? "x" : "circle")) },
          error_y: { type: "data", symmetric: false, color, thickness: 1, width: 2, array: s.map((r) => r.ci.high - r.value), arrayminus: s.map((r) => r.value - r.ci.low) },
          customdata: s.map((r) => `${r.ci.low.toFixed(3)}–${r.ci.high.toFixed(3)}${r.truncatedPrompts > 0 ? `<br>prompts truncated: ${r.truncatedPrompts} of ${r.n}` : ""}`),
          hovertemplate: `${label(set)}, k=%{x}: %{y:.3f} [%{customdata}]<extra></extra>`,
        });
        shown.add(set);
      }
      for (const b of kindBases) {
        const color = b.set ? seriesColor(sets.indexOf(b.set)) : REFERENCE_COLOR;
        traces.push({ type: "scatter", mode: "lines", name: b.name, legendgroup: b.set ?? b.name, showlegend: false, x: [ks[0], ks[ks.length - 1]], y: [b.y, b.y], line: { dash: "dot", width: 1.3, color }, hovertemplate: `${b.name}: %{y:.3f}<extra></extra>` });
      }
      panels.push({
        title: maps.length > 1 ? `prompt map ${map}` : undefined, traces,
        xTitle: "k (demonstrations)", xaxis: { tickvals: ks, range: [ks[0] - 0.5, ks[ks.length - 1] + 0.5], showgrid: false },
        yTitle: mi === 0 ? opts.yTitle ?? (kind === "classification" ? "accuracy" : "ROUGE-L") : undefined,
        yaxis: { range, tickformat: scoreTickFormat(range[1] - range[0]), ...(mi === 0 ? {} : { showticklabels: false }) },
      });
    });
  }
  const bName = kinds.length === 2 ? "majority label / best trivial output" : kinds[0] === "classification" ? "majority label" : "best trivial output";
  if (baselines.length) panels[0].traces.push(legendOnly(`baseline: ${bName}`, { line: { dash: "dot", width: 1.3, color: REFERENCE_COLOR } }, "lines"));
  if (truncatedAny) panels[0].traces.push(legendOnly(TRUNCATED_LEGEND, { marker: { symbol: "x", size: 9, color: "#444" } }));
  return panelFigure(panels, { title, width: opts.width ?? (panels.length <= 2 ? "column" : "page"), cols: maps.length, panelHeight: 150 });
}

/**
 * One task's score vs k on each of its test sets (a panel per prompt map), with each set's baseline
 * dotted in its colour, the y axis fitted and named after the metric.
 */
export function taskChart(results: readonly StoredResult[], rows: readonly GridRow[], task: TaskName, title: string): Figure {
  const rs = results.filter((r) => r.spec.task === task);
  const baselines = [...new Map(rows.filter((r) => r.task === task).map((r) => [r.dataset, { name: `${r.dataset}: ${r.baselineName}`, y: r.baseline, set: `${task}/${r.dataset}` }])).values()];
  return scoreVsKChart(rs, title, { baselines });
}
