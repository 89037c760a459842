/**
 * Static figures through headless Chromium (plot/export): the files exportFigure writes, the display
 * bundle with its PNG, and what happens without Chromium. Needs /usr/bin/chromium (set-up installs it).
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { barChart } from "../src/plot/charts";
import { figureBundle, renderFigureBundle } from "../src/plot/show";
import { exportFigure, closeRenderer, chromiumAvailable, chromiumPath, canonicalRootTag, figureSize, pdfTitle, pdfInfoTitle, textProblems, renderSvg } from "../src/plot/export";
import { panelFigure } from "../src/plot/panels";
import { PRINT, PT_PER_PX } from "../src/plot/style";

const fig = barChart({
  title: "Accuracy by model",
  categories: ["sst2", "amazon"],
  series: [{ name: "FT", y: [0.8, 0.7], ci: [[0.75, 0.85], [0.6, 0.76]] }, { name: "base", y: [0.6, 0.55] }],
  yRange: [0, 1],
  height: 420,
});
// barChart draws at print size: a column (320 px) when its categories fit.
const { width: WIDTH, height: HEIGHT } = figureSize(fig);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-export-"));
after(async () => {
  await closeRenderer();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Width and height from a PNG's IHDR chunk, after checking the signature. */
function pngSize(png: Buffer): { width: number; height: number } {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "PNG signature");
  assert.equal(png.subarray(12, 16).toString("latin1"), "IHDR");
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** Set-up installs Chromium (scripts/lib/setup.ts), so its absence is a failure, not a skip. */
function needChromium(): void {
  assert.ok(chromiumAvailable(), `no Chromium at ${chromiumPath()}: run npm run setup (it installs the Debian package chromium)`);
}

test("exportFigure writes a PNG at twice the figure's size, an SVG with the title and a one-page PDF", async () => {
  needChromium();
  const t0 = Date.now();
  const files = await exportFigure(fig, "accuracy-by-model", { dir: tmp });
  const first = Date.now() - t0;
  assert.deepEqual(files, { png: path.join(tmp, "accuracy-by-model.png"), svg: path.join(tmp, "accuracy-by-model.svg"), pdf: path.join(tmp, "accuracy-by-model.pdf") });
  assert.deepEqual(fs.readdirSync(tmp).sort(), ["accuracy-by-model.pdf", "accuracy-by-model.png", "accuracy-by-model.svg"], "no temp files left");

  assert.deepEqual(pngSize(fs.readFileSync(files.png)), { width: WIDTH * 2, height: HEIGHT * 2 });

  const svg = fs.readFileSync(files.svg, "utf8");
  const parsed = spawnSync("/usr/bin/python3", ["-c", [
    "import sys, json, xml.etree.ElementTree as E",
    "r = E.parse(sys.argv[1]).getroot()",
    "texts = [''.join(t.itertext()) for t in r.iter('{http://www.w3.org/2000/svg}text')]",
    "print(json.dumps({'tag': r.tag, 'width': r.get('width'), 'height': r.get('height'), 'texts': texts}))",
  ].join("\n"), files.svg], { encoding: "utf8" });
  assert.equal(parsed.status, 0, `the SVG parses as XML: ${parsed.stderr}`);
  const root = JSON.parse(parsed.stdout) as { tag: string; width: string; height: string; texts: string[] };
  assert.equal(root.tag, "{http://www.w3.org/2000/svg}svg");
  assert.deepEqual([Number(root.width), Number(root.height)], [WIDTH, HEIGHT]);
  assert.ok(root.texts.includes("Accuracy by model"), `title among the SVG's text elements: ${root.texts.join("|")}`);
  assert.ok(root.texts.includes("amazon") && root.texts.includes("FT"), "categories and legend drawn");
  assert.match(svg, /class="point"/, "bars drawn");

  const pdf = fs.readFileSync(files.pdf);
  assert.equal(pdf.subarray(0, 5).toString("latin1"), "%PDF-");
  assert.match(pdf.subarray(-32).toString("latin1"), /%%EOF\s*$/);
  const text = pdf.toString("latin1");
  assert.equal((text.match(/\/Type\s*\/Page\b/g) ?? []).length, 1, "one page");
  const box = /\/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]/.exec(text);
  assert.ok(box, "a MediaBox");
  // CSS pixels are 0.75 pt.
  assert.ok(Math.abs(Number(box[1]) - WIDTH * 0.75) < 1 && Math.abs(Number(box[2]) - HEIGHT * 0.75) < 1, `page ${box[1]} × ${box[2]} pt`);
  assert.equal(WIDTH, PRINT.column, "a column wide: 240 pt");
  assert.equal(pdfInfoTitle(pdf), "Accuracy by model", "the PDF's title is the figure's (not about:blank)");

  // The second export reuses the page that holds plotly.js: overwritten in place, and no browser start.
  const t1 = Date.now();
  await exportFigure({ ...fig, layout: { ...fig.layout, width: 500 } }, "accuracy-by-model", { dir: tmp, scale: 1 });
  const second = Date.now() - t1;
  assert.deepEqual(pngSize(fs.readFileSync(files.png)), { width: 500, height: HEIGHT });
  console.log(`exportFigure: first ${first} ms (browser start and plotly.js), second ${second} ms`);
});

test("figure displays are one bundle: plotly JSON, HTML, a PNG of the figure and text", async () => {
  needChromium();
  const bundle = await renderFigureBundle(fig, { embedLibrary: false });
  assert.deepEqual(Object.keys(bundle).sort(), ["application/vnd.plotly.v1+json", "image/png", "text/html", "text/plain"]);
  const png = Buffer.from(bundle["image/png"] as string, "base64");
  assert.deepEqual(pngSize(png), { width: WIDTH * 2, height: HEIGHT * 2 });
  assert.equal(bundle["text/plain"], '<Figure "Accuracy by model": 2 trace(s) of bar>');
  const html = bundle["text/html"] as string;
  assert.ok(html.includes('class="ftgen-plot"'));
  // The HTML holds the same PNG in the plot's place (at the figure's width), which the script clears before drawing.
  assert.ok(html.includes(`<img src="data:image/png;base64,${bundle["image/png"] as string}" width="${WIDTH}"`), "the PNG inside the plot's <div>");
  assert.match(html, /el\.innerHTML = ""; window\.Plotly\.newPlot\(el,/);
  // Without a rendered PNG, figureBundle gives the other three, and an empty <div>.
  const bare = figureBundle(fig, { embedLibrary: false });
  assert.deepEqual(Object.keys(bare).sort(), ["application/vnd.plotly.v1+json", "text/html", "text/plain"]);
  assert.doesNotMatch(bare["text/html"] as string, /<img/);
});

test("bad figure names are refused in one line naming the figure, and nothing is written", async () => {
  const dir = path.join(tmp, "bad");
  for (const [name, pattern] of [
    ["", /^exportFigure: <Figure "Accuracy by model": 2 trace\(s\) of bar> needs a file name, got ""$/],
    ["  ", /needs a file name/],
    ["sub/dir", /^exportFigure "sub\/dir": <Figure "Accuracy by model"[^\n]*must not contain path separators/],
    ["..\\up", /must not contain path separators/],
    ["..", /not a usable file name/],
  ] as const) {
    await assert.rejects(exportFigure(fig, name, { dir }), (e: Error) => {
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes("\n"), "one line");
      return true;
    });
  }
  assert.ok(!fs.existsSync(dir));
});

test("without Chromium, displays keep their other types with one warning, and exportFigure says how to install it", async () => {
  const saved = process.env.FTGEN_CHROMIUM;
  const warn = console.warn;
  const warnings: string[] = [];
  await closeRenderer(); // a running browser would still serve
  process.env.FTGEN_CHROMIUM = path.join(tmp, "no-such-chromium");
  console.warn = (...a: unknown[]) => { warnings.push(a.join(" ")); };
  try {
    for (let i = 0; i < 2; i++) {
      const bundle = await renderFigureBundle(fig, { embedLibrary: false });
      assert.deepEqual(Object.keys(bundle).sort(), ["application/vnd.plotly.v1+json", "text/html", "text/plain"]);
    }
    assert.equal(warnings.length, 1, "one warning per session");
    assert.match(warnings[0], /no Chromium at .*no-such-chromium; install it: npm run setup -- --chromium .*apt-get install -y --no-install-recommends chromium/);
    await assert.rejects(exportFigure(fig, "x", { dir: tmp }), /^Error: exportFigure "x": no Chromium at .*; install it: npm run setup -- --chromium/);
  } finally {
    console.warn = warn;
    if (saved === undefined) delete process.env.FTGEN_CHROMIUM; else process.env.FTGEN_CHROMIUM = saved;
  }
});

test("the same figure exported twice gives the same bytes (plotly's random ids and the PDF's dates made stable)", async () => {
  needChromium();
  const heat = { data: [{ type: "heatmap", z: [[1, -1], [0.5, 0]], x: ["a", "b"], y: ["c", "d"], colorbar: { title: { text: "Δ" } } }, { type: "scatter", x: ["a", "b"], y: ["c", "d"] }], layout: { title: { text: "heat" } } };
  const read = (f: string) => fs.readFileSync(f);
  const a = await exportFigure(heat, "twice-a", { dir: tmp });
  const b = await exportFigure(heat, "twice-b", { dir: tmp });
  for (const ext of ["png", "svg", "pdf"] as const) assert.ok(read(a[ext]).equals(read(b[ext])), `${ext} bytes equal`);
  const svg = read(a.svg).toString("utf8");
  assert.match(svg, /id="defs-u0"/);
  assert.match(svg, /class="cbt0 colorbar"/);
  assert.doesNotMatch(svg, /clip[0-9a-f]{6}|trace[0-9a-f]{6}/, "no random uid left");
  // Every reference points at an element that exists.
  const ids = new Set([...svg.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]));
  for (const m of svg.matchAll(/url\(['"]?#([^)'"]+)['"]?\)|href="#([^"]+)"/g)) assert.ok(ids.has(m[1] ?? m[2]), `reference #${m[1] ?? m[2]}`);
  assert.match(read(a.pdf).toString("latin1"), /\/CreationDate \(D:20000101000000\+00'00'\)/);
});

test("the root <svg> tag comes out with its attributes in one order, whichever order plotly set them in", () => {
  const tail = `<rect x="0"/></svg>`;
  const a = canonicalRootTag(`<svg class="main-svg" width="700" height="420" style="" viewBox="0 0 700 420">${tail}`);
  const b = canonicalRootTag(`<svg class="main-svg" width="700" height="420" viewBox="0 0 700 420" style="">${tail}`);
  assert.equal(a, b);
  assert.equal(a, `<svg class="main-svg" height="420" style="" viewBox="0 0 700 420" width="700">${tail}`);
  assert.equal(canonicalRootTag("not an svg"), "not an svg");
});

test("a PDF's title is the figure's title (Unicode too), else the export's name, never about:blank", async () => {
  needChromium();
  assert.equal(pdfTitle({ data: [], layout: { title: { text: "Δ vs base<br>0-shot" } } }, "n"), "Δ vs base 0-shot");
  assert.equal(pdfTitle({ data: [] }, "my-figure"), "my-figure");
  const a = await exportFigure({ data: [{ type: "bar", x: ["a"], y: [1] }], layout: { title: { text: "Δ accuracy <b>by</b> set" }, width: 320, height: 200 } }, "titled", { dir: tmp });
  assert.equal(pdfInfoTitle(fs.readFileSync(a.pdf)), "Δ accuracy by set");
  const b = await exportFigure({ data: [{ type: "bar", x: ["a"], y: [1] }], layout: { width: 320, height: 200 } }, "untitled-figure", { dir: tmp });
  assert.equal(pdfInfoTitle(fs.readFileSync(b.pdf)), "untitled-figure");
});

test("textProblems finds text under 9 pt, text cut off at the edge and text over text; a panelFigure has none", async () => {
  needChromium();
  const bad = {
    data: [{ type: "bar", x: ["a long category name", "another long category name", "third"], y: [1, 2, 3] }],
    layout: { width: 320, height: 200, title: { text: "A title far too long to fit in one column of a two-column paper", font: { size: 14 } }, font: { size: 9 }, xaxis: { tickangle: 0 }, margin: { t: 20, l: 20, r: 0, b: 30 } },
  };
  const p = await textProblems(await renderSvg(bad), { minSize: 12 });
  assert.ok(p.small.length > 0, "9 px ticks are under 12 px (9 pt)");
  assert.ok(p.clipped.some((b) => b.text.startsWith("A title")), "the title runs off the figure");
  assert.ok(p.overlapping.length > 0, "the category labels run into each other");

  const good = panelFigure([0, 1].map((i) => ({
    title: `panel ${i}: a title that wraps to the width of its panel`, traces: [{ type: "scatter", mode: "lines+markers", name: `series ${i}`, x: [0, 2, 4], y: [0.1, 0.5, 0.3] }],
    xTitle: "k (demonstrations)", yTitle: i === 0 ? "accuracy" : undefined, yaxis: { range: [0, 0.6] },
  })), { title: "A title far too long to fit in one column of a two-column paper, wrapped", width: "column", panelHeight: 120, notes: ["A note under the figure that is long enough to need two lines at this width."] });
  const svg = await renderSvg(good);
  assert.deepEqual(await textProblems(svg, { minSize: 12 }), { small: [], clipped: [], overlapping: [] });
  // 12 px is 9 pt in the PDF: the page is the figure at 0.75 pt a px.
  assert.equal(12 * PT_PER_PX, 9);
});
