/**
 * A real browser: Jupyter Notebook 6 serves an executed notebook on 127.0.0.1 (the project's kernel
 * registration, a free port, a token), headless Chromium opens it, and the plotly plot of its text/html
 * output must render: its SVG is in the page. A screenshot of the plot is kept in .cache/test-artifacts/.
 *
 * Notebook 6 runs an output's scripts only when the notebook is trusted, so the copy it serves is
 * signed first (`jupyter trust`), with a throwaway Jupyter data dir holding the notary's secret.
 * Where no script runs (an untrusted copy; nbconvert's HTML opened with JavaScript off) every plot
 * must still show: its HTML holds the PNG until the script replaces it (plot/show.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Locator, type Page } from "playwright-core";
import { screenshot, startJupyter } from "./helpers/jupyter-server";
import { jupyterEnv, jupyterPython } from "../scripts/lib/jupyter";
import { chromiumAvailable, chromiumPath, CHROMIUM_ARGS } from "../kernel-lib/src/plot/export";

const root = path.resolve(__dirname, "..");
const NOTEBOOK = "01-generation-vs-classification.ipynb"; // a research notebook, executed with the default profile
const artifacts = path.join(root, ".cache", "test-artifacts");

/**
 * Serves a copy of notebooks/NOTEBOOK with Jupyter Notebook 6 (signed first when `trusted`) and runs
 * `fn` on a headless Chromium page that opened it; shuts the kernel, the browser and the server after.
 */
async function withServedNotebook(trusted: boolean, fn: (page: Page, t0: number) => Promise<void>): Promise<void> {
  assert.ok(chromiumAvailable(), `no Chromium at ${chromiumPath()}: npm run setup installs it`);
  const t0 = Date.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-browser-"));
  const nbDir = path.join(tmp, "notebooks");
  fs.mkdirSync(nbDir);
  fs.copyFileSync(path.join(root, "notebooks", NOTEBOOK), path.join(nbDir, NOTEBOOK));
  const executed = JSON.parse(fs.readFileSync(path.join(nbDir, NOTEBOOK), "utf8")) as { cells: { outputs?: { data?: Record<string, unknown> }[] }[] };
  const plotOutputs = executed.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.data?.["application/vnd.plotly.v1+json"]);
  assert.ok(plotOutputs.length > 0, `${NOTEBOOK} has an executed plot`);

  if (trusted) {
    // The notary's secret in the throwaway data dir, which the server below uses too (startJupyter's state folder).
    const env = jupyterEnv({ JUPYTER_DATA_DIR: path.join(tmp, "data"), JUPYTER_RUNTIME_DIR: path.join(tmp, "runtime"), JUPYTER_CONFIG_DIR: path.join(tmp, "config") });
    const trust = spawnSync(jupyterPython(), ["-c", "from nbformat.sign import TrustNotebookApp; TrustNotebookApp.launch_instance()", path.join(nbDir, NOTEBOOK)], { env, encoding: "utf8" });
    assert.equal(trust.status, 0, trust.stderr);
    assert.match(trust.stdout + trust.stderr, /Signing notebook/);
  }

  // Our kernel registration (JUPYTER_PATH), everything else in the throwaway folder.
  const server = await startJupyter("notebook", jupyterPython(), nbDir, tmp, [], 60_000);
  const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: [...CHROMIUM_ARGS] }).catch(async (e: Error) => { await server.stop(); throw e; });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${server.base}/notebooks/${NOTEBOOK}?token=${server.token}`, { waitUntil: "domcontentloaded" });
    await fn(page, t0);
  } finally {
    await browser.close();
    await server.stop(); // the kernel the page started, then the server
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** The first plot output's picture where no script ran: its <img>, loaded and laid out. */
async function stillImage(plot: Locator): Promise<{ loaded: boolean; width: number; height: number; svgs: number }> {
  const img = plot.locator("img").first();
  await img.waitFor({ state: "visible", timeout: 60_000 });
  return plot.evaluate((el) => {
    const im = el.querySelector("img") as unknown as { complete: boolean; naturalWidth: number; getBoundingClientRect(): { width: number; height: number } } | null;
    const r = im?.getBoundingClientRect();
    return { loaded: !!im && im.complete && im.naturalWidth > 0, width: r?.width ?? 0, height: r?.height ?? 0, svgs: el.querySelectorAll("svg.main-svg").length };
  });
}

test("an executed notebook served by Jupyter Notebook shows its plotly plot in headless Chromium", async () => {
  await withServedNotebook(true, async (page, t0) => {
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    const plot = page.locator(".output_html .ftgen-plot").first();
    await plot.locator("svg.main-svg").first().waitFor({ state: "attached", timeout: 60_000 });
    const tRendered = Date.now() - t0;

    // The figure plotly drew, in the page: SVG with bars and the figure's title, the still image gone.
    const drawn = await plot.evaluate((el) => ({
      svgs: el.querySelectorAll("svg.main-svg").length,
      imgs: el.querySelectorAll("img").length,
      bars: el.querySelectorAll(".barlayer .point path").length,
      title: el.querySelector(".gtitle")?.textContent ?? "",
      width: el.getBoundingClientRect().width,
      height: el.getBoundingClientRect().height,
    }));
    assert.ok(drawn.svgs >= 1, "plotly's SVG is in the page");
    assert.equal(drawn.imgs, 0, "the interactive plot replaced the still image");
    assert.ok(drawn.bars > 0, `bars drawn (${drawn.bars})`);
    assert.equal(drawn.title, "In-domain, 0-shot, map 0: base vs FT");
    // Figures are drawn at print size (a column or the page's width; this one is 282 px tall).
    assert.ok(drawn.width > 300 && drawn.height > 200, `plot laid out at ${drawn.width}×${drawn.height}`);
    assert.equal(await page.locator(".output_html .ftgen-plot", { hasText: "plotly.js did not load" }).count(), 0);
    assert.deepEqual(pageErrors.filter((e) => /plotly/i.test(e)), [], "no plotly errors");
    const shot = await screenshot(plot, artifacts, "browser-notebook-plot.png");
    console.log(`browser test: plot rendered ${tRendered} ms after start; screenshot ${path.relative(root, shot)}`);
  });
});

test("an untrusted notebook in Jupyter Notebook 6 (its scripts not run) still shows every plot, as the PNG", async () => {
  await withServedNotebook(false, async (page) => {
    const plot = page.locator(".output_html .ftgen-plot").first();
    const still = await stillImage(plot);
    assert.ok(still.loaded, "the PNG loaded");
    assert.equal(still.svgs, 0, "no script ran: no interactive plot");
    assert.ok(still.width > 300 && still.height > 200, `the PNG is laid out at ${still.width}×${still.height}`);
    const plots = await page.locator(".output_html .ftgen-plot").count();
    const imgs = await page.locator(".output_html .ftgen-plot img").count();
    assert.equal(imgs, plots, `every plot has its picture (${imgs} of ${plots})`);
    await screenshot(plot, artifacts, "browser-untrusted-plot.png");
  });
});

test("nbconvert's HTML of an executed notebook, opened with JavaScript off, shows every plot as the PNG", async () => {
  assert.ok(chromiumAvailable(), `no Chromium at ${chromiumPath()}: npm run setup installs it`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-nbconvert-"));
  try {
    fs.copyFileSync(path.join(root, "notebooks", NOTEBOOK), path.join(tmp, NOTEBOOK));
    const r = spawnSync(jupyterPython(), ["-m", "nbconvert", "--to", "html", path.join(tmp, NOTEBOOK)], { env: jupyterEnv({ JUPYTER_DATA_DIR: path.join(tmp, "data") }), encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const html = path.join(tmp, NOTEBOOK.replace(/\.ipynb$/, ".html"));
    const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: [...CHROMIUM_ARGS] });
    try {
      const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      await page.goto(`file://${html}`, { waitUntil: "load" });
      const plot = page.locator(".ftgen-plot").first();
      const still = await stillImage(plot);
      assert.ok(still.loaded, "the PNG loaded");
      assert.ok(still.width > 300 && still.height > 200, `the PNG is laid out at ${still.width}×${still.height}`);
      assert.equal(await page.locator(".ftgen-plot img").count(), await page.locator(".ftgen-plot").count(), "every plot has its picture");
      await screenshot(plot, artifacts, "nbconvert-nojs-plot.png");
    } finally {
      await browser.close();
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
