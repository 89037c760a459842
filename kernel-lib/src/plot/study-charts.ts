/**
 * The study's figures, drawn at print size (plot/style, plot/panels): each takes records and returns a
 * plain plotly figure to show or export.
 *
 * What every one of them keeps to:
 *  - one metric per axis: accuracy (classification test sets) and ROUGE-L (generation test sets) go
 *    into separate panels, each axis named after its metric and its range fitted to the data;
 *  - a 95% CI on every estimate, and the test set's majority-label or trivial-output baseline beside
 *    the scores (baselines.ts);
 *  - no more series than distinct colours: a figure with more is split into panels;
 *  - records whose prompts were cut to fit the context are marked (hatched bars, × markers, † in cells)
 *    and a note under the figure says so;
 *  - `facet` (a function of the record, e.g. the model a study ran on) puts each value in panels of its
 *    own, so that two subjects can stand side by side.
 */
import { TASKS, TASK_NAMES, type TaskKind, type TaskName } from "../data/tasks";
import type { Figure } from "./figure";
import { panelFigure, type Panel } from "./panels";
import { MIN_FONT_PX, PRINT, REFERENCE_COLOR, WHISKER_COLOR, fittedRange, scoreTickFormat, seriesColor, textWidth, wrapLines, type PrintWidth } from "./style";
import type { StudyRecord } from "../study/runner";
import { groupBy } from "../util/group";
import { bestBaseline } from "../study/baselines";
import { iclGains, type Pivot } from "../study/results";

/** The kind of a record's test set. */
const kindOf = (r: { spec: { task: TaskName } }): TaskKind => TASKS[r.spec.task].kind;

/** An axis title for a metric kind. */
export function metricTitle(kind: TaskKind): string {
  return kind === "classification" ? "accuracy" : "ROUGE-L";
}

/** The y-axis title of a set of records: their metric, or both where they mix. */
export function scoreAxisTitle(records: readonly { spec: { task: TaskName } }[]): string {
  const kinds = new Set(records.map(kindOf));
  return kinds.size === 1 ? metricTitle([...kinds][0]) : "accuracy (classification) / ROUGE-L (generation)";
}

/** What the baseline of a metric kind is called in a legend. */
export function baselineName(kinds: Iterable<TaskKind>): string {
  const k = new Set(kinds);
  return k.size === 2 ? "majority label / best trivial output" : k.has("classification") ? "majority label" : "best trivial output";
}

/** The note under a figure that marks records with truncated prompts. */
export const TRUNCATED_NOTE = {
  bars: "Hatched: some prompts were cut to fit the model's context (oldest tokens, i.e. demonstrations, dropped).",
  markers: "×: some prompts were cut to fit the model's context (oldest tokens, i.e. demonstrations, dropped).",
  cells: "†: some prompts were cut to fit the model's context.",
} as const;

/** The legend entry of the × marker. */
export const TRUNCATED_LEGEND = "prompts truncated to fit the context";

/** A legend entry with no data (what a marker or a line style means). */
export function legendOnly(name: string, style: Record<string, unknown>, mode = "markers"): Record<string, unknown> {
  return { type: "scatter", mode, name, x: [null], y: [null], hoverinfo: "skip", legendgroup: name, ...style };
}

/** Truncation, for hover text. */
const truncText = (r: StudyRecord): string => (r.truncatedPrompts > 0 ? `<br>prompts truncated: ${r.truncatedPrompts} of ${r.n}` : "");

/** Error bars of records' CIs. */
function whiskers(rs: readonly ({ value: number; ci: { low: number; high: number } } | undefined)[], color = WHISKER_COLOR): Record<string, unknown> {
  return {
    type: "data", symmetric: false, visible: true, color, thickness: 1.2, width: 3,
    array: rs.map((r) => (r ? r.ci.high - r.value : NaN)), arrayminus: rs.map((r) => (r ? r.value - r.ci.low : NaN)),
  };
}

/** A category label wrapped at spaces to `px` (a separator such as "·" or "→" ends its line). */
function wrapCategory(label: string, px: number): string {
  return textWidth(label) <= px ? label : wrapLines(label, px).join("<br>");
}

/** Keys in order of first appearance. */
function firstSeen<T>(items: readonly T[], key: (t: T) => string): string[] {
  const out: string[] = [];
  for (const t of items) { const k = key(t); if (!out.includes(k)) out.push(k); }
  return out;
}

export interface ScoreBarsOptions {
  title: string;
  category: (r: StudyRecord) => string;
  series: (r: StudyRecord) => string;
  /** Override of the y-axis title (default: the panel's metric). */
  yTitle?: string;
  /** Panels per value (e.g. the model studied); metrics are always split. */
  facet?: (r: StudyRecord) => string;
  /** Print width (default: a column when it fits, else the page). */
  width?: PrintWidth;
  panelHeight?: number;
  /** Lines under the figure (what a label means). */
  notes?: readonly string[];
  /** Panels a row (default: all in one row, or one a row when a column is too narrow for them). */
  cols?: number;
}

/**
 * Bars of scores with their CIs: one bar group per category, one series per `series` value (one colour
 * each), and each category's strongest baseline (majority label; first-N-words or best fixed output) as
 * a black line across its group. One panel per metric (and per `facet` value); bars too short to see
 * carry their value; records with truncated prompts are hatched.
 */
export function scoreBars(records: readonly StudyRecord[], opts: ScoreBarsOptions): Figure {
  if (records.length === 0) throw new Error(`scoreBars "${opts.title}": no records`);
  const names = firstSeen(records, opts.series);
  const panelKey = (r: StudyRecord): string => `${opts.facet ? opts.facet(r) : ""}\u0000${kindOf(r)}`;
  const keys = firstSeen(records, panelKey);
  const groups = keys.map((k) => {
    const rs = records.filter((r) => panelKey(r) === k);
    return { key: k, facet: k.split("\u0000")[0], kind: k.split("\u0000")[1] as TaskKind, records: rs, cats: firstSeen(rs, opts.category), names: names.filter((n) => rs.some((r) => opts.series(r) === n)) };
  });
  // Width: a column when every category's bars and label fit in it, else the page.
  const catPx = (g: (typeof groups)[number]): number => Math.max(g.names.length * 11 + 14, ...g.cats.map((c) => Math.min(textWidth(c), 96) + 10));
  const need = groups.reduce((a, g) => a + g.cats.length * catPx(g) + 60, 0);
  const width: PrintWidth = opts.width ?? (need <= PRINT.column ? "column" : "page");
  const W = PRINT[width];
  const totalCats = groups.reduce((a, g) => a + g.cats.length, 0);
  const perCat = (W - 60 * groups.length) / totalCats;
  const truncatedAny = records.some((r) => r.truncatedPrompts > 0);
  const shown = new Set<string>();
  const panels: Panel[] = groups.map((g) => {
    const at = (name: string, cat: string): StudyRecord | undefined => g.records.find((r) => opts.series(r) === name && opts.category(r) === cat);
    const bases = g.cats.map((c) => { const r = g.records.find((x) => opts.category(x) === c) as StudyRecord; return bestBaseline(r.spec.task, r.spec.dataset, r.spec.limit); });
    const range = fittedRange([0, ...g.records.map((r) => r.ci.high), ...bases.map((b) => b.value)], { fromZero: true });
    // Labels wrap at spaces; a word wider than its category turns every label upright.
    const wrapped = g.cats.map((c) => wrapCategory(c, perCat - 6));
    const upright = wrapped.some((l) => l.split("<br>").some((line) => textWidth(line) > perCat - 4));
    const labels = upright ? [...g.cats] : wrapped;
    const traces: Record<string, unknown>[] = g.names.map((name) => {
      const rs = g.cats.map((c) => at(name, c));
      // Bars too short to see say their value, where a bar is wide enough for an upright label (else
      // the outline in its colour still draws a zero-height bar as a line).
      const barPx = (perCat * 0.84 * 0.96) / g.names.length;
      const tiny = rs.map((r) => (r && barPx >= MIN_FONT_PX * 1.25 ? r.value < 0.03 * (range[1] - range[0]) : false));
      const color = seriesColor(names.indexOf(name), `scoreBars "${opts.title}"`);
      const trace: Record<string, unknown> = {
        type: "bar", name, legendgroup: name, showlegend: !shown.has(name), x: labels, y: rs.map((r) => r?.value ?? null),
        marker: {
          color, line: { width: 1, color },
          ...(truncatedAny ? { pattern: { shape: rs.map((r) => (r && r.truncatedPrompts > 0 ? "/" : "")), fillmode: "overlay", fgcolor: "#fff", size: 6, solidity: 0.35 } } : {}),
        },
        error_y: whiskers(rs),
        text: rs.map((r, i) => (r && tiny[i] ? r.value.toFixed(2) : "")), textposition: "outside", textangle: -90, cliponaxis: false,
        textfont: { size: MIN_FONT_PX, color: "#222" }, constraintext: "none",
        customdata: rs.map((r) => (r ? `${r.ci.low.toFixed(3)}–${r.ci.high.toFixed(3)}${truncText(r)}` : "")),
        hovertemplate: `${name} · %{x}: %{y:.3f} [%{customdata}]<extra></extra>`,
      };
      shown.add(name);
      return trace;
    });
    // The baseline: a black line across each category's bar group (bargap 0.2: the group spans ±0.4).
    const shapes = bases.map((b, i) => ({ type: "line", x0: i - 0.42, x1: i + 0.42, y0: b.value, y1: b.value, line: { color: "#000", width: 2 }, layer: "above" }));
    traces.push({ type: "scatter", mode: "markers", name: "baseline", x: labels, y: bases.map((b) => b.value), marker: { size: 1, opacity: 0 }, showlegend: false, text: bases.map((b) => b.name), hovertemplate: "%{x}: %{text} %{y:.3f}<extra></extra>" });
    return {
      title: opts.facet ? g.facet : undefined, weight: g.cats.length, traces, shapes,
      yTitle: opts.yTitle ?? metricTitle(g.kind),
      xaxis: { type: "category", tickangle: upright ? -90 : 0, showgrid: false },
      yaxis: { range, tickformat: scoreTickFormat(range[1] - range[0]) },
      ...(upright ? { xLabelHeight: Math.max(...labels.map((l) => textWidth(l))) + 4 } : {}),
    };
  });
  const kinds = new Set(groups.map((g) => g.kind));
  panels[0].traces.push(legendOnly(`baseline: ${baselineName(kinds)}`, { line: { color: "#000", width: 2 } }, "lines"));
  return panelFigure(panels, {
    title: opts.title, width, panelHeight: opts.panelHeight ?? 170,
    cols: opts.cols ?? (width === "column" && groups.length > 1 && need > PRINT.column ? 1 : undefined),
    notes: [...(opts.notes ?? []), ...(truncatedAny ? [TRUNCATED_NOTE.bars] : [])],
    layout: { barmode: "group", bargap: 0.16, bargroupgap: 0.04, uniformtext: { minsize: MIN_FONT_PX, mode: "show" } },
  });
}

/** A line with CI whiskers and × markers where prompts were truncated. */
function scoreLine(name: string, rs: readonly StudyRecord[], x: readonly (number | string)[], style: { color: string; dash?: string }, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: "scatter", mode: "lines+markers", name, legendgroup: name, x: [...x], y: rs.map((r) => r.value),
    line: { color: style.color, dash: style.dash ?? "solid", width: 1.6 },
    marker: { color: style.color, size: rs.map((r) => (r.truncatedPrompts > 0 ? 9 : 6)), symbol: rs.map((r) => (r.truncatedPrompts > 0 ? "x" : "circle")), line: { width: 0 } },
    error_y: { ...whiskers(rs, style.color), thickness: 1, width: 2 },
    customdata: rs.map((r) => `${r.ci.low.toFixed(3)}–${r.ci.high.toFixed(3)}${truncText(r)}`),
    hovertemplate: `${name}: %{y:.3f} [%{customdata}]<extra></extra>`,
    ...extra,
  };
}

/** A dashed reference line (a baseline) over [x0, x1]. */
function referenceLine(name: string, x: readonly (number | string)[], y: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: "scatter", mode: "lines", name, x: [...x], y: x.map(() => y), line: { dash: "dash", width: 1.3, color: REFERENCE_COLOR },
    hovertemplate: `${name}: %{y:.3f}<extra></extra>`, showlegend: false, legendgroup: "baseline", ...extra,
  };
}

/**
 * Score vs k, one panel per task (its in-domain set), one line per (model, map) with CI whiskers, the
 * set's baseline dashed. Panels of one metric share their y range (tick labels on the first); `facet`
 * adds a row of panels per value.
 */
export function scoreVsKPanels(records: readonly StudyRecord[], opts: { title?: string; dataset?: (task: TaskName) => string; facet?: (r: StudyRecord) => string; width?: PrintWidth } = {}): Figure {
  const tasks = TASK_NAMES.filter((t) => records.some((r) => r.spec.task === t));
  const facets = opts.facet ? firstSeen(records, opts.facet) : [""];
  const inFacet = (r: StudyRecord, f: string): boolean => !opts.facet || opts.facet(r) === f;
  const own = (task: TaskName): StudyRecord[] => {
    const dataset = opts.dataset?.(task) ?? TASKS[task].inDomain;
    // the base model and the FT model of this task (other FT models are cross-task here)
    return records.filter((r) => r.spec.task === task && r.spec.dataset === dataset && (r.method === "base" || r.trainTask === task));
  };
  const ranges = new Map<string, [number, number]>();
  for (const f of facets) {
    for (const kind of ["generation", "classification"] as const) {
      const rs = tasks.filter((t) => TASKS[t].kind === kind).flatMap((t) => own(t).filter((r) => inFacet(r, f)));
      if (!rs.length) continue;
      const bases = [...new Set(rs.map((r) => `${r.spec.task}|${r.spec.dataset}|${r.spec.limit}`))].map((k) => { const [t, d, l] = k.split("|"); return bestBaseline(t as TaskName, d, Number(l)).value; });
      ranges.set(`${f}|${kind}`, fittedRange([...rs.flatMap((r) => [r.ci.low, r.ci.high]), ...bases]));
    }
  }
  const color = (name: string): string => (name.startsWith("base") ? seriesColor(0) : seriesColor(1));
  const shown = new Set<string>();
  const panels: Panel[] = [];
  let truncatedAny = false;
  const kindsSeen = new Set<TaskKind>();
  for (const f of facets) {
    tasks.forEach((task, i) => {
      const mine = own(task).filter((r) => inFacet(r, f));
      const kind = TASKS[task].kind;
      kindsSeen.add(kind);
      const firstOfKind = i === 0 || TASKS[tasks[i - 1]].kind !== kind;
      const traces: Record<string, unknown>[] = [];
      const lines = groupBy(mine, (r) => `${r.method === "base" ? "base" : r.method.toUpperCase()} · map ${r.spec.map}`);
      // base first, then FT, FTICL…; map 0 before map 1
      for (const [name, rs] of [...lines].sort((a, b) => (a[0].startsWith("base") !== b[0].startsWith("base") ? (a[0].startsWith("base") ? -1 : 1) : a[0] < b[0] ? -1 : 1))) {
        const s = [...rs].sort((a, b) => a.spec.k - b.spec.k);
        truncatedAny ||= s.some((r) => r.truncatedPrompts > 0);
        traces.push(scoreLine(name, s, s.map((r) => r.spec.k), { color: color(name), dash: s[0].spec.map === 1 ? "dot" : "solid" }, { showlegend: !shown.has(name) }));
        shown.add(name);
      }
      const ks = TASKS[task].shots;
      if (mine.length) {
        const b = bestBaseline(task, mine[0].spec.dataset, mine[0].spec.limit);
        traces.push(referenceLine(`baseline: ${b.name}`, [Math.min(...ks), Math.max(...ks)], b.value));
      }
      const range = ranges.get(`${f}|${kind}`) ?? [0, 1];
      panels.push({
        title: `${f ? `${f} · ` : ""}${task}<br>${mine[0]?.spec.dataset ?? TASKS[task].inDomain}`, traces,
        xTitle: "k", xaxis: { tickvals: [...ks], range: [Math.min(...ks) - 0.5, Math.max(...ks) + 0.5], showgrid: false },
        yTitle: firstOfKind ? metricTitle(kind) : undefined,
        yaxis: { range, tickformat: scoreTickFormat(range[1] - range[0]), ...(firstOfKind ? {} : { showticklabels: false }) },
      });
    });
  }
  const extras = [legendOnly(`baseline: ${baselineName(kindsSeen)}`, { line: { dash: "dash", width: 1.3, color: REFERENCE_COLOR } }, "lines")];
  if (truncatedAny) extras.push(legendOnly(TRUNCATED_LEGEND, { marker: { symbol: "x", size: 9, color: "#444" } }));
  panels[0].traces.push(...extras);
  return panelFigure(panels, { title: opts.title ?? "Score vs number of in-context demonstrations", width: opts.width ?? "page", cols: tasks.length, panelHeight: 150 });
}

/**
 * Score vs train-file size: one panel per fine-tuning task (and `facet` value), one line per test set
 * (in-domain solid, out-of-domain dashed; at most four, each its own colour, named in the panel's own
 * legend), each set's baseline dotted in its colour. `trainFraction` (the share of each file a model is
 * fine-tuned on) goes into a note.
 */
export function trainSizeChart(records: readonly StudyRecord[], opts: { title?: string; trainFraction?: number; facet?: (r: StudyRecord) => string; width?: PrintWidth } = {}): Figure {
  const ft = records.filter((r) => r.method === "ft" && r.trainSize !== undefined);
  const facets = opts.facet ? firstSeen(ft, opts.facet) : [""];
  const sizes = [...new Set(ft.map((r) => r.trainSize as number))].sort((a, b) => a - b);
  const sizeLabel = (n: number): string => n.toLocaleString("en-US");
  const panels: Panel[] = [];
  let truncatedAny = false;
  for (const f of facets) {
    for (const task of TASK_NAMES) {
      const mine = ft.filter((r) => r.trainTask === task && (!opts.facet || opts.facet(r) === f));
      if (!mine.length) continue;
      const sets = firstSeen(mine, (r) => r.spec.dataset);
      const traces: Record<string, unknown>[] = [];
      const ys: number[] = [];
      sets.forEach((dataset, j) => {
        const s = mine.filter((r) => r.spec.dataset === dataset).sort((a, b) => (a.trainSize as number) - (b.trainSize as number));
        const inDomain = dataset === TASKS[task].inDomain;
        const c = seriesColor(j, `trainSizeChart (${task})`);
        truncatedAny ||= s.some((r) => r.truncatedPrompts > 0);
        const name = `${dataset}${inDomain ? " (in-domain)" : ""}`;
        traces.push(scoreLine(name, s, s.map((r) => sizeLabel(r.trainSize as number)), { color: c, dash: inDomain ? "solid" : "dash" }, { legendgroup: `${f}|${task}|${dataset}` }));
        const b = bestBaseline(s[0].spec.task, dataset, s[0].spec.limit);
        traces.push(referenceLine(`${dataset}: ${b.name}`, sizes.map(sizeLabel), b.value, { line: { dash: "dot", width: 1.2, color: c }, legendgroup: `${f}|${task}|${dataset}` }));
        ys.push(...s.flatMap((r) => [r.ci.low, r.ci.high]), b.value);
      });
      const range = fittedRange(ys);
      panels.push({
        title: `${f ? `${f} · ` : ""}fine-tuned on ${task}${sizes.some((n) => !mine.some((r) => r.trainSize === n)) ? " (one file size)" : ""}`, traces,
        xTitle: "train file (records)",
        xaxis: { type: "category", categoryorder: "array", categoryarray: sizes.map(sizeLabel), range: [-0.4, sizes.length - 0.6], showgrid: false },
        yTitle: metricTitle(TASKS[task].kind), yaxis: { range, tickformat: scoreTickFormat(range[1] - range[0]) },
      });
    }
  }
  return trainSizePanels(panels, opts.title ?? "Score vs train-file size", truncatedAny, opts.trainFraction, opts.width);
}

/** Lays out trainSizeChart's panels: three a row, each with its legend of test sets under it. */
function trainSizePanels(panels: Panel[], title: string, truncatedAny: boolean, trainFraction: number | undefined, width: PrintWidth | undefined): Figure {
  const notes = [
    `Train file: the paper's, by its size; ${trainFraction !== undefined && trainFraction < 1 ? `each model is fine-tuned on the first ${Math.round(trainFraction * 100)}% of its file` : "each model is fine-tuned on all of its file"}. Solid: in-domain test set; dashed: out of domain; dotted: each set's baseline (majority label / best trivial output).`,
    ...(truncatedAny ? [TRUNCATED_NOTE.markers] : []),
  ];
  return panelFigure(panels.map((p) => ({ ...p, ownLegend: true })), { title, width: width ?? "page", cols: 3, panelHeight: 130, notes });
}

/** Red for a loss, white for none, blue for a gain (plotly's named "RdBu" runs the other way). */
export const DIVERGING: [number, string][] = [[0, "#b2182b"], [0.25, "#ef8a62"], [0.5, "#f7f7f7"], [0.75, "#67a9cf"], [1, "#2166ac"]];

export interface DeltaHeatmapOptions {
  /** Title over the model columns (default "fine-tuned on"). */
  modelTitle?: string;
  /** What a blank cell means (default: the pivot's, else "not evaluated"). */
  blank?: string;
  width?: PrintWidth;
  title?: string;
}

/** Height of a heatmap row, px. */
const ROW_PX = 18;

/** A difference in points as a heatmap cell shows it: whole points, a true minus sign, no "−0". */
export function formatPoints(v: number): string {
  const n = Math.round(100 * v);
  return n < 0 ? `−${-n}` : String(n);
}

/**
 * A heatmap of a Δ pivot (rows: models, columns: test sets, as `pivot` makes them), drawn with the test
 * sets down the side so that it fits a column: one block of rows per metric (accuracy and ROUGE-L
 * differences never share a colour scale), each with its own titled colour bar under the figure, red
 * below zero and blue above, symmetric around 0. Cells show the difference in whole points (× 100);
 * "*" marks a difference whose 95% CI excludes 0, "†" one whose prompts were truncated; a note says what
 * a blank cell means.
 */
export function deltaHeatmap(p: Pivot, opts: DeltaHeatmapOptions = {}): Figure {
  const kindOfCol = p.cols.map((_, j) => p.kinds?.map((row) => row[j]).find((k) => k) ?? null);
  const groups = (["generation", "classification", null] as const)
    .map((kind) => ({ kind, cols: p.cols.map((c, j) => ({ c, j })).filter(({ j }) => kindOfCol[j] === kind) }))
    .filter((g) => g.cols.length > 0);
  const W = PRINT[opts.width ?? "column"];
  const anyStar = p.ci?.some((row) => row.some((c) => c && (c.low > 0 || c.high < 0))) ?? false;
  const anyTrunc = p.truncated?.some((row) => row.some(Boolean)) ?? false;
  const anyBlank = groups.some((g) => g.cols.some(({ j }) => p.values.some((row) => row[j] === null)));
  const labelH = Math.max(...p.rows.map((r) => textWidth(r))) + 4;
  const colorbarH = 58;
  const panels: Panel[] = groups.map((g, gi) => {
    // z[i][j]: test set i (this block's), model j; in points.
    const z = g.cols.map(({ j }) => p.rows.map((_, i) => (p.values[i][j] === null ? null : 100 * (p.values[i][j] as number))));
    const span = Math.max(1, ...z.flat().filter((v): v is number => v !== null).map(Math.abs));
    const text = g.cols.map(({ j }) => p.rows.map((_, i) => {
      const v = p.values[i][j];
      if (v === null) return "";
      const c = p.ci?.[i][j];
      return `${formatPoints(v)}${c && (c.low > 0 || c.high < 0) ? "*" : ""}${p.truncated?.[i][j] ? "†" : ""}`;
    }));
    const metric = g.kind === null ? "score" : metricTitle(g.kind);
    const last = gi === groups.length - 1;
    return {
      traces: [{
        type: "heatmap", x: [...p.rows], y: g.cols.map(({ c }) => c), z, zmin: -span, zmax: span, zmid: 0, colorscale: DIVERGING, xgap: 1, ygap: 1,
        text, texttemplate: "%{text}", textfont: { size: MIN_FONT_PX }, hoverongaps: false,
        hovertemplate: "%{x} on %{y}: %{z:.1f} points<extra></extra>",
        colorbar: {
          title: { text: `Δ ${metric} (points)`, side: "top", font: { size: MIN_FONT_PX } }, tickfont: { size: MIN_FONT_PX },
          orientation: "h", thickness: 10, outlinewidth: 0, tickformat: "d", nticks: 5,
        },
      }],
      title: gi === 0 ? opts.modelTitle ?? "fine-tuned on" : undefined,
      xSide: "top", height: g.cols.length * ROW_PX, xLabelHeight: labelH,
      // Transparent ticks keep the rotated labels off the cells.
      xaxis: { side: "top", type: "category", tickangle: -90, showgrid: false, showline: false, ticks: "outside", ticklen: 4, tickcolor: "rgba(0,0,0,0)", ...(gi === 0 ? {} : { showticklabels: false }) },
      yaxis: { type: "category", autorange: "reversed", showgrid: false, showline: false, ticks: "" },
      // The block's name down its side, where it fits (the colour bar's title names the metric anyway).
      yTitle: [g.kind ? `${g.kind} sets` : "test sets", g.kind ?? ""].find((t) => t && textWidth(t) <= g.cols.length * ROW_PX),
      xLabelLines: gi === 0 ? 1 : 0,
      belowSpace: last ? colorbarH : 0,
    };
  });
  const blank = opts.blank ?? p.blank ?? "not evaluated";
  const notes = [
    `Cells: ${p.title.replace(/\s*\(.*\)$/, "")}, in points (× 100)${anyStar ? "; *: its 95% CI excludes 0" : ""}.`,
    ...(anyTrunc ? [TRUNCATED_NOTE.cells] : []),
    ...(anyBlank ? [`Blank: ${blank}.`] : []),
  ];
  const fig = panelFigure(panels, { title: opts.title ?? p.title, width: W, cols: 1, panelHeight: ROW_PX, notes });
  // The colour bars side by side under the last block, across the figure's width (in paper
  // coordinates: a colour bar placed by the container shifts plotly's y-axis titles).
  const layout = fig.layout as { height: number; width: number; margin: { l: number; r: number; t: number; b: number } } & Record<string, unknown>;
  const plotW = layout.width - layout.margin.l - layout.margin.r, plotH = layout.height - layout.margin.t - layout.margin.b;
  const n = fig.data.length, gap = 48, len = (W - 2 * 18 - gap * (n - 1)) / n;
  fig.data.forEach((tr, i) => {
    Object.assign(tr.colorbar as Record<string, unknown>, {
      x: (18 + i * (len + gap) - layout.margin.l) / plotW, xanchor: "left", xref: "paper", len, lenmode: "pixels", y: -(colorbarH - 4) / plotH, yanchor: "bottom", yref: "paper", ypad: 0, xpad: 0,
    });
  });
  return fig;
}

/**
 * The gain from in-context demonstrations on every test set: the mean score over k > 0 minus the
 * 0-shot score, for the base model and each set's own FT model, with 95% CIs (paired bootstrap over
 * items and seeds); one panel per metric, the zero line marking "no gain".
 */
export function iclGainChart(records: readonly StudyRecord[], opts: { title?: string; map?: number; width?: PrintWidth; facet?: (r: StudyRecord) => string } = {}): Figure {
  const map = opts.map ?? 0;
  const facets = opts.facet ? firstSeen(records, opts.facet) : [""];
  const panels: Panel[] = [];
  let truncatedAny = false;
  const shown = new Set<string>();
  const seriesOf = (method: string): string => (method === "base" ? "base" : "FT (own task)");
  for (const f of facets) {
    const gains = iclGains(records.filter((r) => r.spec.map === map && (!opts.facet || opts.facet(r) === f) && (r.method === "base" || r.trainTask === r.spec.task)), { ci: true });
    for (const kind of ["generation", "classification"] as const) {
      const mine = gains.filter((g) => TASKS[g.task].kind === kind);
      if (!mine.length) continue;
      const sets = TASK_NAMES.flatMap((t) => [TASKS[t].inDomain, ...TASKS[t].outOfDomain]).filter((d) => mine.some((g) => g.dataset === d));
      const series = firstSeen(mine, (g) => seriesOf(g.method)).sort((a, b) => (a === "base" ? -1 : b === "base" ? 1 : 0));
      const traces = series.map((name, si) => {
        const gs = sets.map((d) => mine.find((g) => g.dataset === d && seriesOf(g.method) === name));
        truncatedAny ||= gs.some((g) => g?.truncated);
        const tr: Record<string, unknown> = {
          type: "bar", name, legendgroup: name, showlegend: !shown.has(name), x: sets, y: gs.map((g) => g?.gain ?? null),
          marker: { color: seriesColor(si), line: { width: 0 }, pattern: { shape: gs.map((g) => (g?.truncated ? "/" : "")), fillmode: "overlay", fgcolor: "#fff", size: 6, solidity: 0.35 } },
          error_y: {
            type: "data", symmetric: false, visible: true, color: WHISKER_COLOR, thickness: 1.2, width: 2,
            array: gs.map((g) => (g?.high !== undefined ? g.high - g.gain : NaN)), arrayminus: gs.map((g) => (g?.low !== undefined ? g.gain - g.low : NaN)),
          },
          hovertemplate: `${name} · %{x}: %{y:+.3f}<extra></extra>`,
        };
        shown.add(name);
        return tr;
      });
      const ends = mine.flatMap((g) => [g.low ?? g.gain, g.high ?? g.gain, 0]);
      const range = fittedRange(ends, { clamp: [-1, 1] });
      panels.push({
        title: f || undefined, weight: sets.length, traces,
        shapes: [{ type: "line", xref: "x domain", x0: 0, x1: 1, y0: 0, y1: 0, line: { color: "#000", width: 1 } }],
        yTitle: `gain in ${metricTitle(kind)}`, xaxis: { type: "category", tickangle: -90, showgrid: false },
        yaxis: { range, tickformat: "+.2f", nticks: 6 },
        yLabelWidth: textWidth("+0.00"),
      });
    }
  }
  if (panels.length === 0) throw new Error("iclGainChart: no test set has both 0-shot and k-shot records");
  // Rotated set names: room for the longest.
  const longest = Math.max(...panels.flatMap((p) => (p.traces[0].x as string[]).map((s) => textWidth(s))));
  for (const p of panels) p.xLabelHeight = longest + 4;
  return panelFigure(panels, {
    title: opts.title ?? `ICL gain: mean score over k > 0 minus 0-shot (map ${map})`, width: opts.width ?? "page", panelHeight: 160,
    notes: [`Whiskers: 95% CIs (bootstrap over test items and fine-tuning seeds).${truncatedAny ? " Hatched: some k-shot prompts were cut to fit the context." : ""}`],
    layout: { barmode: "group", bargap: 0.2, bargroupgap: 0.05 },
  });
}
