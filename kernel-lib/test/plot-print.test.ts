/**
 * The study's figures as a paper prints them (issue 20): built from records (with their items in a
 * store of their own) on the fixture data, then checked for what a printed figure needs: axes named
 * after their metric with ranges that hold the data, one metric per colour scale, no more series than
 * colours, CIs on every estimate, baselines, truncated prompts marked, text of at least 9 pt at a
 * paper's column or page width, and, drawn in Chromium, no text clipped or over other text.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fetchedFixture } from "./fixtures";
import { ResultStore } from "../src/study/store";
import type { StudyRecord } from "../src/study/runner";
import type { TaskName } from "../src/data/tasks";
import { TASKS } from "../src/data/tasks";
import { scoreBars, scoreVsKPanels, trainSizeChart, deltaHeatmap, iclGainChart, TRUNCATED_LEGEND } from "../src/plot/study-charts";
import { scoreVsKChart } from "../src/plot/score-vs-k";
import { pivot, mapDeltaPivot } from "../src/study/results";
import { bestBaseline } from "../src/study/baselines";
import type { Figure } from "../src/plot/figure";
import { PRINT, MIN_FONT_PX, PALETTE } from "../src/plot/style";
import { renderSvg, textProblems, closeRenderer, chromiumAvailable } from "../src/plot/export";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-print-"));
let store: ResultStore;
before(async () => {
  await fetchedFixture();
  process.env.FTGEN_RESULTS_DIR = path.join(tmp, "results");
  store = new ResultStore();
});
after(async () => {
  await closeRenderer();
  delete process.env.FTGEN_RESULTS_DIR;
  fs.rmSync(tmp, { recursive: true, force: true });
});

let counter = 0;
/** A record stored with its items: per-item scores given, labels and log-probabilities made up to match. */
function stored(model: string, task: TaskName, dataset: string, scores: readonly number[], o: { k?: number; map?: number; trainTask?: string; trainSize?: number; truncated?: number; seed?: number } = {}): StudyRecord {
  const labels = TASKS[task].labels ?? [];
  const value = scores.reduce((a, b) => a + b, 0) / scores.length;
  const items = scores.map((score, position) => ({
    position, promptHash: "0", gold: labels[position % Math.max(1, labels.length)] ?? "ref", output: "x", score,
    ...(labels.length ? { labelLogProbs: labels.map((_, j) => (j === position % labels.length) === (score === 1) ? -0.1 : -2) } : {}),
  }));
  const key = `k${++counter}`;
  const method = model === "base" ? "base" : "ft";
  store.put(key, model, {
    spec: { task, dataset, k: o.k ?? 0, map: (o.map ?? 0) as 0 | 1, limit: 250, fieldTokenCap: 64 }, modelId: model, engine: "test",
    metric: labels.length ? "accuracy" : "rougeL", value, ci: { low: Math.max(0, value - 0.05), mid: value, high: value + 0.05 }, n: scores.length, excluded: 0,
    truncatedPrompts: o.truncated ?? 0, extra: {}, items, seconds: 0,
  });
  return { ...(store.get(key) as StudyRecord), cached: true, model, method, scope: method === "base" ? "base" : "in", trainTask: o.trainTask ?? (method === "base" ? undefined : task), trainSize: o.trainSize, seed: o.seed };
}

const layoutOf = (fig: Figure): Record<string, unknown> => fig.layout as Record<string, unknown>;
const axisOf = (fig: Figure, key: string): { title?: { text?: string }; range?: [number, number] } => layoutOf(fig)[key] as { title?: { text?: string }; range?: [number, number] };
const yKey = (t: Record<string, unknown>): string => `yaxis${String(t.yaxis ?? "y").slice(1)}`;

/** Every y a trace draws (values, CI ends) and every baseline line, per y axis. */
function extentsByAxis(fig: Figure): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const t of fig.data) {
    if (t.type === "heatmap" || !Array.isArray(t.y)) continue;
    const ys = (t.y as (number | null)[]).map((v, i) => [v, i] as const).filter(([v]) => typeof v === "number" && Number.isFinite(v));
    const e = t.error_y as { array?: number[]; arrayminus?: number[] } | undefined;
    const vals = ys.flatMap(([v, i]) => [v as number, (v as number) + (e?.array?.[i] ?? 0), (v as number) - (e?.arrayminus?.[i] ?? 0)]).filter(Number.isFinite);
    out.set(yKey(t), [...(out.get(yKey(t)) ?? []), ...vals]);
  }
  return out;
}

/** Asserts each y axis with data is titled with one of `titles` and its range holds everything drawn on it. */
function assertAxes(fig: Figure, what: string, titles: readonly string[]): void {
  for (const [key, ys] of extentsByAxis(fig)) {
    const axis = axisOf(fig, key);
    assert.ok(axis.range, `${what}: ${key} has a range`);
    const [lo, hi] = axis.range as [number, number];
    for (const y of ys) assert.ok(y >= lo - 1e-9 && y <= hi + 1e-9, `${what}: ${key} [${lo}, ${hi}] holds ${y}`);
    assert.ok(hi - lo < 1 || Math.max(...ys) - Math.min(...ys) > 0.5, `${what}: ${key} is fitted, not a fixed 0–1 (${lo}, ${hi})`);
  }
  // Each titled y axis names one metric.
  const named = Object.entries(layoutOf(fig)).filter(([k]) => k.startsWith("yaxis")).map(([, v]) => (v as { title?: { text?: string } }).title?.text ?? "").filter(Boolean);
  assert.ok(named.length > 0, `${what}: a y axis is titled`);
  for (const t of named) assert.ok(titles.includes(t), `${what}: y axis title "${t}" is one of ${titles.join(", ")}`);
}

/** Legend entries (name → colour) of the traces that stand for a series. */
function seriesColours(fig: Figure, legend = "legend"): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of fig.data) {
    if (t.showlegend === false || t.type === "heatmap" || String(t.legend ?? "legend") !== legend) continue;
    if (Array.isArray(t.x) && (t.x as unknown[]).every((v) => v === null)) continue; // a legend-only entry (what a style means)
    const c = (t.marker as { color?: string } | undefined)?.color ?? (t.line as { color?: string } | undefined)?.color;
    out.set(String(t.name), String(c));
  }
  return out;
}

/** Every font size set anywhere in the figure, with where. */
function fontSizes(value: unknown, where = "fig", out: [string, number][] = []): [string, number][] {
  if (Array.isArray(value)) value.forEach((v, i) => fontSizes(v, `${where}[${i}]`, out));
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (/font$/i.test(k) && v && typeof v === "object" && typeof (v as { size?: unknown }).size === "number") out.push([`${where}.${k}`, (v as { size: number }).size]);
      fontSizes(v, `${where}.${k}`, out);
    }
  }
  return out;
}

/** What every printed figure keeps to, in its JSON and drawn. */
async function assertPrintable(fig: Figure, what: string): Promise<void> {
  const layout = layoutOf(fig);
  assert.ok(([PRINT.column, PRINT.page] as number[]).includes(layout.width as number), `${what}: a column or page wide (${layout.width})`);
  for (const [where, size] of fontSizes(fig)) assert.ok(size >= MIN_FONT_PX, `${what}: ${where} is ${size} px (under 9 pt)`);
  assert.ok(((layout.font as { size: number }).size) >= MIN_FONT_PX, `${what}: base font`);
  const json = JSON.stringify(fig);
  for (const internal of ["trainFraction", "accuracy / ROUGE-L", "fticl-", "undefined"]) assert.ok(!json.includes(internal), `${what}: no "${internal}"`);
  if (!chromiumAvailable()) return; // set-up installs it; plot-export.test.ts fails without it
  const problems = await textProblems(await renderSvg(fig), { minSize: MIN_FONT_PX });
  const show = (b: { text: string; group: string }) => `"${b.text}" (${b.group})`;
  assert.deepEqual(problems.small.map(show), [], `${what}: text under 12 px`);
  assert.deepEqual(problems.clipped.map(show), [], `${what}: text cut off`);
  assert.deepEqual(problems.overlapping.map(([a, b]) => `${show(a)} over ${show(b)}`), [], `${what}: text over text`);
}

const amazon = (model: string, ones: number, o: Parameters<typeof stored>[4] = {}): StudyRecord => stored(model, "sentiment", "amazon", Array.from({ length: 20 }, (_, i) => (i < ones ? 1 : 0)), o);
const xsum = (model: string, level: number, o: Parameters<typeof stored>[4] = {}): StudyRecord => stored(model, "summary", "xsum", Array.from({ length: 20 }, (_, i) => level + (i % 5) * 0.01), o);

test("scoreBars: a panel per metric, each axis named after it and fitted; a colour per series; baselines; truncation hatched; CIs on every bar", async () => {
  const records = [amazon("base", 12), amazon("ft/sentiment/2000", 16, { truncated: 3 }), xsum("base", 0.06), xsum("ft/summary/2000", 0.12, { trainTask: "summary" })];
  const fig = scoreBars(records, { title: "In-domain, 0-shot: base vs FT", category: (r) => `${r.spec.task} · ${r.spec.dataset}`, series: (r) => (r.method === "base" ? "base" : "FT") });
  assertAxes(fig, "scoreBars", ["accuracy", "ROUGE-L"]);
  assert.deepEqual([axisOf(fig, "yaxis").title?.text, axisOf(fig, "yaxis2").title?.text], ["accuracy", "ROUGE-L"]);
  assert.ok(axisOf(fig, "yaxis2").range![1] < 0.3, "ROUGE of 0.1 is not squashed into 0–1");
  const colours = seriesColours(fig);
  assert.deepEqual([...colours.keys()], ["base", "FT"]);
  assert.equal(new Set(colours.values()).size, 2, "one colour a series");
  // The majority label (0.75 on the fixture's amazon) and xsum's best trivial output, as lines across each group.
  const lines = (layoutOf(fig).shapes as { y0: number; xref: string }[]).map((s) => [s.xref, +s.y0.toFixed(6)]);
  assert.deepEqual(lines, [["x", 0.75], ["x2", +bestBaseline("summary", "xsum", 250).value.toFixed(6)]]);
  // The truncated FT record's bar is hatched, and a note says what hatching means.
  const ft = fig.data.find((t) => t.name === "FT" && t.xaxis === "x") as { marker: { pattern: { shape: string[] } } };
  assert.deepEqual(ft.marker.pattern.shape, ["/"]);
  assert.ok((layoutOf(fig).annotations as { text: string }[]).some((a) => a.text.includes("Hatched")));
  for (const t of fig.data.filter((d) => d.type === "bar")) {
    const e = t.error_y as { array: number[]; arrayminus: number[] };
    (t.y as number[]).forEach((y, i) => assert.ok(Number.isFinite(e.array[i]) && Number.isFinite(e.arrayminus[i]), `CI of ${t.name} at ${i}`));
  }
  await assertPrintable(fig, "scoreBars");
});

test("scoreBars refuses more series than colours, naming the way out", () => {
  const records = Array.from({ length: PALETTE.length + 1 }, (_, i) => amazon(`ft/m${i}`, 10));
  assert.throws(() => scoreBars(records, { title: "too many", category: (r) => r.spec.dataset, series: (r) => r.model }), /8 series for 7 distinct colours; split the figure into panels/);
});

test("scoreVsKPanels: a panel per task, metrics never share an axis, baselines dashed, truncated points marked ×", async () => {
  const records = [0, 2, 4, 6].flatMap((k) => [amazon("base", 10 + k, { k }), amazon("ft/sentiment/2000", 15, { k, truncated: k === 6 ? 20 : 0 })])
    .concat([0, 1, 2, 4].flatMap((k) => [xsum("base", 0.05 + k / 100, { k }), xsum("ft/summary/2000", 0.12, { k, trainTask: "summary" })]));
  const fig = scoreVsKPanels(records, { title: "In-domain score vs k" });
  assertAxes(fig, "scoreVsKPanels", ["accuracy", "ROUGE-L"]);
  const titles = Object.entries(layoutOf(fig)).filter(([k]) => k.startsWith("yaxis")).map(([, v]) => (v as { title: { text: string } }).title.text);
  assert.deepEqual(titles, ["ROUGE-L", "accuracy"]);
  const ft = fig.data.find((t) => t.name === "FT · map 0" && t.xaxis === "x2") as { x: number[]; marker: { symbol: string[] } };
  assert.deepEqual(ft.marker.symbol, ["circle", "circle", "circle", "x"], "k = 6: every prompt truncated");
  assert.ok(fig.data.some((t) => t.name === TRUNCATED_LEGEND), "the × explained in the legend");
  assert.equal(fig.data.filter((t) => String(t.name).startsWith("baseline: ") && t.showlegend === false).length, 2, "a baseline in each panel");
  assert.equal(new Set(seriesColours(fig).values()).size, 2, "base and FT: two colours (maps by dash)");
  await assertPrintable(fig, "scoreVsKPanels");
});

test("scoreVsKChart: a panel per map, a colour per test set, each set's baseline in its colour", async () => {
  const records = [0, 1].flatMap((map) => [0, 2, 4].map((k) => stored("m", "sentiment", "amazon", Array.from({ length: 10 }, (_, i) => (i < 6 + k / 2 ? 1 : 0)), { k, map, truncated: k === 4 ? 2 : 0 })));
  const fig = scoreVsKChart(records, "Sentiment: accuracy vs k");
  assertAxes(fig, "scoreVsKChart", ["accuracy"]);
  const base = fig.data.filter((t) => t.mode === "lines" && t.showlegend === false) as { y: number[] }[];
  assert.deepEqual(base.map((b) => b.y[0]), [0.75, 0.75]);
  await assertPrintable(fig, "scoreVsKChart");
});

test("trainSizeChart: a panel per fine-tuning task with its own legend, never more lines than colours, no internal names", async () => {
  const records = [2000, 4000, 6000].flatMap((size) => [
    amazon(`ft/sentiment/${size}`, 10 + size / 1000, { trainSize: size }),
    xsum(`ft/summary/${size}`, 0.1 + size / 1e5, { trainTask: "summary", trainSize: size }),
  ]);
  const fig = trainSizeChart(records, { trainFraction: 0.25 });
  assertAxes(fig, "trainSizeChart", ["accuracy", "ROUGE-L"]);
  const legends = Object.keys(layoutOf(fig)).filter((k) => /^legend\d+$/.test(k));
  assert.equal(legends.length, 2, "one legend a panel");
  for (const l of legends) assert.equal(new Set(seriesColours(fig, l).values()).size, seriesColours(fig, l).size, `${l}: a colour a line`);
  assert.ok((layoutOf(fig).annotations as { text: string }[]).some((a) => a.text.includes("first 25%")), "the share fine-tuned on, said in words");
  await assertPrintable(fig, "trainSizeChart");
});

test("deltaHeatmap: one colour scale per metric with a titled colour bar, * where the CI excludes 0, † where prompts were truncated, blanks explained", async () => {
  const records = [
    amazon("base", 8), amazon("ft/sentiment/2000", 18, { truncated: 1 }), amazon("ft/summary/2000", 8, { trainTask: "summary" }),
    xsum("base", 0.05), xsum("ft/summary/2000", 0.3, { trainTask: "summary" }),
  ];
  const p = pivot(records, { rows: (r) => r.trainTask as string, cols: (r) => r.spec.dataset, title: "Δ vs base, 0-shot", blank: "not tested" });
  assert.ok(p.ci?.[0]?.some((c) => c !== null), "CIs from the stored items");
  const fig = deltaHeatmap(p);
  const heat = fig.data.filter((t) => t.type === "heatmap") as { y: string[]; text: string[][]; zmax: number; colorbar: { title: { text: string } } }[];
  assert.deepEqual(heat.map((h) => h.colorbar.title.text), ["Δ ROUGE-L (points)", "Δ accuracy (points)"]);
  assert.deepEqual(heat.map((h) => h.y), [["xsum"], ["amazon"]]);
  assert.notEqual(heat[0].zmax, heat[1].zmax, "separate scales");
  const cells = heat.flatMap((h) => h.text.flat());
  assert.ok(cells.includes("25*"), `ROUGE-L +0.25 with its CI above 0: ${cells}`);
  assert.ok(cells.includes("50*†"), `accuracy +0.50, truncated: ${cells}`);
  assert.ok(cells.includes(""), "a blank cell (the sentiment model on xsum)");
  const notes = (layoutOf(fig).annotations as { text: string }[]).map((a) => a.text).join(" ");
  for (const s of ["*: its 95% CI excludes 0", "†", "Blank: not tested"]) assert.ok(notes.replace(/<br>/g, " ").includes(s), `note: ${s}`);
  await assertPrintable(fig, "deltaHeatmap");

  const m = mapDeltaPivot([amazon("base", 8), amazon("base", 14, { map: 1 }), xsum("base", 0.05), xsum("base", 0.05, { map: 1 })]);
  await assertPrintable(deltaHeatmap(m, { modelTitle: "model" }), "deltaHeatmap of mapDeltaPivot");
});

test("iclGainChart: gains with their bootstrap CIs, a panel per metric, the zero line", async () => {
  const records = [0, 2, 4].flatMap((k) => [amazon("base", 8 + k, { k }), amazon("ft/sentiment/2000", 15 - k, { k, truncated: k === 4 ? 5 : 0 })])
    .concat([0, 1, 2].flatMap((k) => [xsum("base", 0.05 + k / 50, { k }), xsum("ft/summary/2000", 0.12, { k, trainTask: "summary" })]));
  const fig = iclGainChart(records);
  assertAxes(fig, "iclGainChart", ["gain in accuracy", "gain in ROUGE-L"]);
  const bars = fig.data.filter((t) => t.type === "bar");
  assert.equal(bars.length, 4);
  for (const t of bars) {
    const e = t.error_y as { array: number[]; arrayminus: number[] };
    assert.ok(e.array.every(Number.isFinite) && e.arrayminus.every(Number.isFinite), `CIs on ${t.name}`);
  }
  const base = bars.find((t) => t.name === "base" && t.xaxis === "x2") as { y: number[] };
  assert.ok(Math.abs(base.y[0] - ((0.5 + 0.6) / 2 - 0.4)) < 1e-9, `base on amazon: the mean of 10/20 and 12/20 minus 8/20, not ${base.y[0]}`);
  assert.equal((layoutOf(fig).shapes as { y0: number }[]).filter((s) => s.y0 === 0).length, 2, "a zero line in each panel");
  await assertPrintable(fig, "iclGainChart");
});

test("a second subject goes into panels of its own (facet): scoreBars side by side, scoreVsKPanels a row each", async () => {
  const subject = (r: StudyRecord): string => (r.model.startsWith("llm") ? "SmolLM2-135M" : "ftgen base");
  const bars = [amazon("base", 12), amazon("ft/sentiment/2000", 16), amazon("llm", 14), amazon("llm-ft/sentiment", 18)];
  const fig = scoreBars(bars, { title: "In-domain: two subjects", category: (r) => r.spec.dataset, series: (r) => (r.model.includes("ft") ? "FT" : "base"), facet: subject });
  const titles = (layoutOf(fig).annotations as { text: string }[]).map((a) => a.text);
  assert.deepEqual(titles.filter((t) => !t.startsWith("Hatched")), ["ftgen base", "SmolLM2-135M"]);
  assert.equal(new Set(seriesColours(fig).values()).size, 2, "a series keeps its colour across subjects");
  await assertPrintable(fig, "scoreBars by subject");
  const ks = [0, 2].flatMap((k) => [amazon("base", 10, { k }), amazon("llm", 12, { k }), amazon("ft/sentiment/2000", 15, { k }), amazon("llm-ft/sentiment", 16, { k, trainTask: "sentiment" })]);
  const panels = scoreVsKPanels(ks, { facet: subject });
  const rows = new Set(Object.entries(layoutOf(panels)).filter(([k]) => k.startsWith("yaxis")).map(([, v]) => (v as { domain: number[] }).domain.join()));
  assert.equal(rows.size, 2, "a row of panels a subject");
  await assertPrintable(panels, "scoreVsKPanels by subject");
});

test("scoreBars: bars too short to see are outlined in their colour, and labelled only where the label fits", async () => {
  const series = ["FT · 0-shot", "FT · k-shot", "FTICL · 0-shot", "FTICL · k-shot"];
  // Narrow bars (4 series in each of 12 categories): no labels, which would run into each other.
  const narrow = Array.from({ length: 12 }, (_, c) => series.map((s) => amazon(`ft/${s}`, c === 3 ? 0 : 10, { seed: c }))).flat();
  const cat = (r: StudyRecord): string => `set ${r.seed}`;
  const fig = scoreBars(narrow, { title: "Narrow bars", category: cat, series: (r) => r.model.slice(3) });
  for (const t of fig.data.filter((d) => d.type === "bar")) {
    assert.deepEqual((t.text as string[]).filter(Boolean), [], `${t.name}: no value labels on narrow bars`);
    assert.equal((t.marker as { line: { width: number; color: string } }).line.color, (t.marker as { color: string }).color, "outlined in its own colour");
  }
  await assertPrintable(fig, "scoreBars, narrow bars");
  // Wide bars: the zero ones say so.
  const wide = scoreBars([amazon("base", 10), amazon("ft/x", 0)], { title: "Wide bars", category: (r) => r.spec.dataset, series: (r) => r.model });
  assert.deepEqual(wide.data.filter((d) => d.type === "bar").map((t) => (t.text as string[])[0]), ["", "0.00"]);
  await assertPrintable(wide, "scoreBars, wide bars");
});
