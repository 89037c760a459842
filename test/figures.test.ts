/**
 * The committed figures/ as a two-column paper would print them (issue 20, point 3): each SVG a column
 * (320 px = 240 pt) or the text width (672 px = 504 pt) wide, its PDF the same page at 0.75 pt a px and
 * titled with the figure's title (not "about:blank"), and, drawn in Chromium, no text under 12 px
 * (9 pt), none cut off at the edge and none over other text.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { textProblems, closeRenderer, chromiumAvailable, chromiumPath, pdfInfoTitle } from "../kernel-lib/src/plot/export";
import { MIN_FONT_PX, PRINT, PT_PER_PX } from "../kernel-lib/src/plot/style";

const dir = path.join(__dirname, "..", "figures");
const names = fs.readdirSync(dir).filter((f) => f.endsWith(".svg")).map((f) => f.slice(0, -4)).sort();

after(async () => { await closeRenderer(); });

test("every committed figure has its three files, a print width, and a PDF page of that size titled like the figure", () => {
  assert.ok(names.length >= 18, `${names.length} figures`);
  for (const name of names) {
    for (const ext of ["png", "pdf"]) assert.ok(fs.existsSync(path.join(dir, `${name}.${ext}`)), `${name}.${ext}`);
    const svg = fs.readFileSync(path.join(dir, `${name}.svg`), "utf8");
    const w = Number(/^<svg[^>]*\swidth="([\d.]+)"/.exec(svg)?.[1]), h = Number(/^<svg[^>]*\sheight="([\d.]+)"/.exec(svg)?.[1]);
    assert.ok(w === PRINT.column || w === PRINT.page, `${name}: ${w} px wide, not a column (${PRINT.column}) or the page (${PRINT.page})`);
    const pdf = fs.readFileSync(path.join(dir, `${name}.pdf`));
    const box = /\/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]/.exec(pdf.toString("latin1"));
    assert.ok(box && Math.abs(Number(box[1]) - w * PT_PER_PX) < 1 && Math.abs(Number(box[2]) - h * PT_PER_PX) < 1, `${name}: PDF page ${box?.[1]} × ${box?.[2]} pt for ${w} × ${h} px`);
    const title = [...svg.matchAll(/<text class="gtitle"[^>]*>(.*?)<\/text>/g)].map((m) => m[1].replace(/<[^>]+>/g, " ")).join(" ").replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n))).replace(/&#x([0-9a-f]+);/gi, (_, n: string) => String.fromCodePoint(parseInt(n, 16)))
      .replace(/&gt;/g, ">").replace(/&lt;/g, "<").replace(/&quot;/g, '"').replace(/&amp;/g, "&").replace(/\s+/g, " ").trim();
    assert.equal(pdfInfoTitle(pdf), title || name, `${name}: the PDF's title`);
    assert.ok(!svg.includes("/work/") && !svg.includes("/root/") && !svg.includes("trainFraction"), `${name}: no path or internal name`);
  }
});

test("no committed figure has text under 9 pt, cut off, or over other text", async () => {
  assert.ok(chromiumAvailable(), `no Chromium at ${chromiumPath()}: run npm run setup`);
  const found: string[] = [];
  for (const name of names) {
    const p = await textProblems(fs.readFileSync(path.join(dir, `${name}.svg`), "utf8"), { minSize: MIN_FONT_PX });
    const show = (b: { text: string; group: string; size: number }) => `"${b.text}" (${b.group}, ${b.size} px)`;
    found.push(...p.small.map((b) => `${name}: small ${show(b)}`), ...p.clipped.map((b) => `${name}: cut off ${show(b)}`), ...p.overlapping.map(([a, b]) => `${name}: ${show(a)} over ${show(b)}`));
  }
  assert.deepEqual(found, []);
});
