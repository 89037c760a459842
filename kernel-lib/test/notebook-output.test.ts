/** HTML tables and plotly bundles, checked outside a kernel (where display falls back to text). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { toDataFrame, tableHtml, tableText, formatNumber } from "../src/notebook/table";
import { figureBundle, figureHtml } from "../src/plot/show";
import { figureText } from "../src/plot/figure";
import { escapeHtml, inKernel } from "../src/notebook/display";

test("tables render as HTML with escaping, number formatting, truncation and a row-count footer", () => {
  const df = toDataFrame([
    { name: "<b>bold</b> & co", score: 0.123456, n: 3 },
    { name: "x".repeat(300), score: 1, n: 4 },
    { name: "third", score: 2.5, n: 5 },
  ]);
  const html = tableHtml(df, { maxRows: 2, maxChars: 10, digits: 2, caption: "T<1>" });
  assert.match(html, /<caption>T&lt;1&gt;<\/caption>/);
  // Each header takes its column's alignment: text left, numbers right.
  assert.match(html, /<th style="text-align:left;white-space:pre-wrap">name<\/th><th style="text-align:right;white-space:nowrap">score<\/th><th style="text-align:right;white-space:nowrap">n<\/th>/);
  assert.match(html, />&lt;b&gt;bold&lt;\/…</); // first 9 chars "<b>bold</", then an ellipsis, escaped
  assert.match(html, />0\.12</);
  assert.match(html, />xxxxxxxxx…</);
  assert.doesNotMatch(html, /third/);
  assert.match(html, /… 1 more rows \(3 × 3\)/);
  assert.match(html, /^<div class="ftgen-table-wrap" style="overflow-x:auto;max-width:100%"><table/, "a wide table scrolls");
  const text = tableText(df, { maxRows: 3, digits: 1 });
  assert.equal(text.split("\n")[0].trim(), "name" + " ".repeat(38) + "score  n");
  assert.match(text, /2\.5/);
});

test("numbers have one format: fixed decimals, thousands separators, no negative zero", () => {
  assert.equal(formatNumber(12152867, 3), "12,152,867");
  assert.equal(formatNumber(0.12345, 3), "0.123");
  assert.equal(formatNumber(-0.0004, 3), "0.000");
  assert.equal(formatNumber(-0.0006, 3), "-0.001");
  assert.equal(formatNumber(1234.5, 3), "1,234.500");
  assert.equal(formatNumber(NaN, 3), "NaN");
  // A column mixing 0.5 and 1 shows both with the table's decimals, not 0.5000 beside 1.
  const df = toDataFrame([{ v: 0.5 }, { v: 1 }]);
  assert.match(tableHtml(df), />0\.500</);
  assert.match(tableHtml(df), />1\.000</);
});

test("escapeHtml escapes the characters that matter in text and attributes", () => {
  assert.equal(escapeHtml(`<a href="x">&</a>`), "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
});

test("a figure is one bundle of plotly JSON, offline HTML and text", () => {
  const fig = { data: [{ type: "bar", x: ["a"], y: [1], name: "</script><script>alert(1)</script>" }], layout: { title: { text: "T" }, height: 300 } };
  const bundle = figureBundle(fig, { embedLibrary: true });
  assert.deepEqual(Object.keys(bundle).sort(), ["application/vnd.plotly.v1+json", "text/html", "text/plain"]);
  assert.deepEqual((bundle["application/vnd.plotly.v1+json"] as { data: unknown }).data, fig.data);
  const html = bundle["text/html"] as string;
  assert.ok(html.includes("plotly.js v"), "library embedded");
  assert.ok(html.length > 1_000_000);
  assert.match(html, /style="width:100%;height:300px"/);
  // The trace name cannot close the script element.
  assert.equal(html.split("</script>").length - 1, 2);
  assert.ok(!figureHtml(fig, false).includes("plotly.js v"), "library left out when asked");
  assert.equal(figureText(fig), '<Figure "T": 1 trace(s) of bar>');
  assert.equal(inKernel(), false);
});

test("bar charts carry asymmetric CI whiskers as offsets from the bar", async () => {
  const { barChart } = await import("../src/plot/charts");
  const fig = barChart({ title: "acc", categories: ["a", "b"], series: [{ name: "FT", y: [0.5, 0.8], ci: [[0.4, 0.7], [0.75, 0.9]] }], yRange: [0, 1] });
  const errorY = fig.data[0].error_y as { array: number[]; arrayminus: number[] };
  assert.deepEqual(errorY.array.map((v) => +v.toFixed(6)), [0.2, 0.1]); // 0.7-0.5, 0.9-0.8
  assert.deepEqual(errorY.arrayminus.map((v) => +v.toFixed(6)), [0.1, 0.05]); // 0.5-0.4, 0.8-0.75
  assert.deepEqual((fig.layout?.yaxis as { range: number[] }).range, [0, 1]);
  assert.throws(() => barChart({ title: "bad", categories: ["a"], series: [{ name: "s", y: [1, 2] }] }), /series "s" has 2 values for 1 categories/);
});
