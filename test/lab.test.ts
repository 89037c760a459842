/**
 * JupyterLab 4, as `npm run notebook` runs it (scripts/lib/lab.ts), in a real browser: Debian's
 * Chromium, headless, opens an executed notebook served on 127.0.0.1. Its first figure must come
 * through plotly's mime renderer (jupyterlab-plotly, registered for application/vnd.plotly.v1+json),
 * not through the text/html or image/png fallbacks: the renderer first shows the figure's PNG and
 * draws the interactive plot when the pointer enters it, and both must be visible. Then a cell made
 * through the UI (typed, Shift+Enter) imports ftgen and shows a figure, whose plot must appear.
 * Without plotly's extension Lab picks the HTML output, whose PNG must show (no script runs in an
 * untrusted notebook). Screenshots go to .cache/test-artifacts/.
 *
 * Also: set-up and `npm run notebook` where Lab cannot be installed (PyPI unreachable) say so in one
 * line each and go on, to Jupyter Notebook 6.
 *
 * Where the Lab venv is not installed the browser tests skip, saying why in one line; with
 * FTGEN_REQUIRE_LAB=1 (CI) that is a failure.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { chromium, type Locator, type Page } from "playwright-core";
import { labPython, labStatus, PLOTLY_LAB_EXTENSION } from "../scripts/lib/lab";
import { chromiumAvailable, chromiumPath, CHROMIUM_ARGS } from "../kernel-lib/src/plot/export";
import { freePort, screenshot, startJupyter, type JupyterServer } from "./helpers/jupyter-server";

const root = path.resolve(__dirname, "..");
const NOTEBOOK = "01-generation-vs-classification.ipynb"; // a research notebook, executed with the default profile
const PLOTLY_MIME = "application/vnd.plotly.v1+json";
const artifacts = path.join(root, ".cache", "test-artifacts");
/** Scratch inside the project, so that a kernel started there resolves "ftgen" through node_modules. */
const scratchRoot = path.join(root, ".cache", "test-lab");
const tsx = path.join(root, "node_modules", ".bin", "tsx");
const REQUIRED = process.env.FTGEN_REQUIRE_LAB === "1";
/** No news or update checks from the test's Lab: nothing outside 127.0.0.1 is asked. */
const OFFLINE_LAB = ["--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"];

/** Skips (one line) where the Lab venv is not ready, unless FTGEN_REQUIRE_LAB=1, where it fails. */
function labUnavailable(t: { skip(message?: string): void }): boolean {
  const status = labStatus();
  if (status.ready) return false;
  assert.ok(!REQUIRED, `FTGEN_REQUIRE_LAB=1 but JupyterLab is not installed: ${status.why}; run: npm run setup`);
  console.log(`# JupyterLab tests skipped: ${status.why}; npm run setup installs it`);
  t.skip(status.why);
  return true;
}

/** The title of the first plotly figure stored in an executed notebook. */
function firstFigureTitle(file: string): string {
  const nb = JSON.parse(fs.readFileSync(file, "utf8")) as { cells: { outputs?: { data?: Record<string, unknown> }[] }[] };
  const fig = nb.cells.flatMap((c) => c.outputs ?? []).map((o) => o.data?.[PLOTLY_MIME]).find(Boolean) as { layout?: { title?: string | { text?: string } } } | undefined;
  assert.ok(fig, `${path.basename(file)} has an executed plot`);
  const title = fig.layout?.title;
  return typeof title === "string" ? title : title?.text ?? "";
}

/**
 * Serves a copy of notebooks/NOTEBOOK with Lab (page_config: written into the throwaway Jupyter
 * config, e.g. to disable an extension) and runs `fn` on a headless Chromium page that opened it.
 */
async function withLab(name: string, pageConfig: Record<string, unknown> | null, fn: (page: Page, server: JupyterServer, notebookCopy: string) => Promise<void>): Promise<void> {
  assert.ok(chromiumAvailable(), `no Chromium at ${chromiumPath()}: npm run setup installs it`);
  fs.mkdirSync(scratchRoot, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(scratchRoot, `${name}-`));
  const nbDir = path.join(tmp, "notebooks");
  const state = path.join(tmp, "jupyter");
  fs.mkdirSync(nbDir);
  const copy = path.join(nbDir, NOTEBOOK);
  fs.copyFileSync(path.join(root, "notebooks", NOTEBOOK), copy);
  // No "get notified about Jupyter news?" toast over the notebook.
  const notification = path.join(state, "lab", "user-settings", "@jupyterlab", "apputils-extension", "notification.jupyterlab-settings");
  fs.mkdirSync(path.dirname(notification), { recursive: true });
  fs.writeFileSync(notification, JSON.stringify({ checkForUpdates: false, fetchNews: "false" }));
  if (pageConfig) {
    fs.mkdirSync(path.join(state, "config", "labconfig"), { recursive: true });
    fs.writeFileSync(path.join(state, "config", "labconfig", "page_config.json"), JSON.stringify(pageConfig));
  }
  const server = await startJupyter("jupyterlab", labPython(), nbDir, state, OFFLINE_LAB);
  const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: [...CHROMIUM_ARGS] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${server.base}/lab/tree/${NOTEBOOK}?token=${server.token}`, { waitUntil: "domcontentloaded" });
    await page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first().waitFor({ state: "visible", timeout: 90_000 });
    await fn(page, server, copy);
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Any output that shows a figure, whichever renderer Lab chose for it. */
const FIGURE_OUTPUT = ".jp-OutputArea-output.jp-RenderedPlotly, .jp-OutputArea-output:has(.ftgen-plot), .jp-OutputArea-output.jp-RenderedImage";

/** Which renderer Lab used for a figure's output. */
async function rendererOf(output: Locator): Promise<string> {
  return output.evaluate((el) => {
    if (el.classList.contains("jp-RenderedPlotly")) return "plotly mime renderer";
    if (el.querySelector(".ftgen-plot")) return "text/html fallback";
    if (el.classList.contains("jp-RenderedImage")) return "image/png fallback";
    return `unknown (${el.className})`;
  });
}

/** The still picture inside an output: loaded, shown, laid out. */
async function stillPicture(output: Locator, selector: string): Promise<{ loaded: boolean; shown: boolean; width: number; height: number }> {
  const img = output.locator(selector).first();
  await img.waitFor({ state: "visible", timeout: 60_000 });
  const { loaded, width, height } = await img.evaluate((el) => {
    const im = el as unknown as { complete: boolean; naturalWidth: number; getBoundingClientRect(): { width: number; height: number } };
    const r = im.getBoundingClientRect();
    return { loaded: im.complete && im.naturalWidth > 0, width: r.width, height: r.height };
  });
  return { loaded, shown: await img.isVisible(), width, height };
}

/** Moves the pointer into a plotly-rendered output and waits for plotly.js to draw it; what it drew. */
async function drawInteractive(output: Locator): Promise<{ svgs: number; bars: number; title: string; imgShown: boolean; width: number; height: number }> {
  await output.scrollIntoViewIfNeeded();
  await output.hover();
  await output.locator(".plot-container svg.main-svg").first().waitFor({ state: "visible", timeout: 60_000 });
  const drawn = await output.evaluate((el) => {
    const box = el.querySelector(".plot-container")!.getBoundingClientRect();
    return {
      svgs: el.querySelectorAll("svg.main-svg").length,
      bars: el.querySelectorAll(".barlayer .point path").length,
      title: el.querySelector(".gtitle")?.textContent ?? "",
      width: box.width,
      height: box.height,
    };
  });
  return { ...drawn, imgShown: await output.locator("img.plot-img").isVisible() };
}

test("JupyterLab shows an executed notebook's plot through plotly's mime renderer, and a cell typed in the UI imports ftgen and shows a figure", async (t) => {
  if (labUnavailable(t)) return;
  await withLab("ui", null, async (page, server, copy) => {
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));

    // The stored figure: which renderer Lab picked, the still PNG it shows first, then plotly's drawing.
    const stored = page.locator(FIGURE_OUTPUT).first();
    await stored.waitFor({ state: "attached", timeout: 60_000 });
    const renderer = await rendererOf(stored);
    console.log(`lab test: the executed notebook's first figure is rendered by the ${renderer}`);
    assert.equal(renderer, "plotly mime renderer", `Lab rendered the figure through the ${renderer}, not plotly's extension (${PLOTLY_LAB_EXTENSION})`);
    const still = await stillPicture(stored, "img.plot-img");
    assert.ok(still.loaded && still.shown, "the renderer shows the figure's PNG before any interaction");
    assert.ok(still.width > 300 && still.height > 200, `the PNG is laid out at ${still.width}×${still.height}`);
    await screenshot(stored, artifacts, "lab-plot-still.png");
    const drawn = await drawInteractive(stored);
    assert.ok(drawn.svgs >= 1 && drawn.bars > 0, `plotly.js drew the plot (${drawn.svgs} svg, ${drawn.bars} bars)`);
    assert.equal(drawn.title, firstFigureTitle(copy));
    assert.equal(drawn.imgShown, false, "the interactive plot replaced the still PNG");
    assert.ok(drawn.width > 300 && drawn.height > 200, `plot laid out at ${drawn.width}×${drawn.height}`);
    const shotStored = await screenshot(stored, artifacts, "lab-plot-interactive.png");

    // A new cell through the UI: select the first cell, Escape (command mode), B (insert below),
    // Enter (edit), type, Shift+Enter (run). One statement per line: the editor indents nothing.
    const title = "Typed in JupyterLab";
    await page.locator(".jp-Notebook .jp-Cell").first().locator(".jp-InputPrompt").click();
    await page.keyboard.press("Escape");
    await page.keyboard.press("b");
    await page.keyboard.press("Enter");
    await page.keyboard.type(`import * as ftgen from "ftgen";\n`);
    await page.keyboard.type(`await ftgen.showFigure(ftgen.barChart({ title: "${title}", categories: ["a", "b", "c"], series: [{ name: "s", y: [0.2, 0.5, 0.8] }] }));`);
    await page.keyboard.press("Shift+Enter");
    const cell = page.locator(".jp-Notebook .jp-CodeCell").filter({ hasText: title });
    assert.equal(await cell.count(), 1, "the typed cell is in the notebook");
    const output = cell.locator(".jp-OutputArea-output.jp-RenderedPlotly");
    try {
      // The kernel starts, compiles the cell, loads ftgen and renders the PNG in Chromium: allow minutes.
      await output.waitFor({ state: "attached", timeout: 180_000 });
    } catch (e) {
      const text = await cell.locator(".jp-OutputArea").innerText().catch(() => "");
      throw new Error(`the typed cell showed no plotly output: ${(e as Error).message.split("\n")[0]}; its outputs: ${text.slice(0, 2000) || "none"}\n${server.log().slice(-3000)}`);
    }
    const prompt = (await cell.locator(".jp-InputPrompt").innerText()).trim();
    assert.match(prompt, /^\[\d+\]:$/, `the cell ran (prompt ${prompt})`);
    const newStill = await stillPicture(output, "img.plot-img");
    assert.ok(newStill.loaded && newStill.shown, "the new figure's PNG is shown");
    const newDrawn = await drawInteractive(output);
    assert.equal(newDrawn.title, title);
    assert.equal(newDrawn.bars, 3, "three bars drawn");
    const errors = await cell.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').allInnerTexts();
    assert.deepEqual(errors.filter((e) => /error/i.test(e)), [], "no error output");
    const shotCell = await screenshot(cell, artifacts, "lab-ui-cell.png");
    await page.screenshot({ path: path.join(artifacts, "lab-page.png") });

    // The project's kernel ran it.
    const sessions = (await (await fetch(`${server.base}/api/sessions?token=${server.token}`)).json()) as { kernel: { name: string } }[];
    assert.deepEqual(sessions.map((s) => s.kernel.name), ["tslab"]);
    assert.deepEqual(pageErrors.filter((e) => /plotly/i.test(e)), [], "no plotly errors");
    console.log(`lab test: screenshots ${path.relative(root, shotStored)}, ${path.relative(root, shotCell)}`);
  });
});

test("JupyterLab without plotly's extension shows the figure through the text/html fallback, as the PNG", async (t) => {
  if (labUnavailable(t)) return;
  // The extension's plugin disabled in the throwaway Lab config: Lab then ranks text/html first.
  await withLab("no-plotly", { disabledExtensions: { "@jupyterlab/plotly-extension:factory": true } }, async (page) => {
    const stored = page.locator(FIGURE_OUTPUT).first();
    await stored.waitFor({ state: "attached", timeout: 60_000 });
    assert.equal(await rendererOf(stored), "text/html fallback");
    const still = await stillPicture(stored, ".ftgen-plot img");
    assert.ok(still.loaded && still.shown, "the HTML output's PNG loaded and shows (the notebook is untrusted: no script ran)");
    assert.ok(still.width > 300 && still.height > 200, `the PNG is laid out at ${still.width}×${still.height}`);
    assert.equal(await page.locator(".jp-RenderedPlotly").count(), 0);
    await screenshot(stored, artifacts, "lab-html-fallback-plot.png");
  });
});

/** A port nothing listens on: pip's index there refuses at once. */
async function closedPort(): Promise<number> {
  const port = await freePort();
  await new Promise<void>((resolve) => {
    const probe = net.connect(port, "127.0.0.1");
    probe.once("error", () => resolve());
    probe.once("connect", () => { probe.destroy(); resolve(); });
  });
  return port;
}

/** The environment of a machine where pip finds no index: a throwaway Lab venv, no pip configuration. */
async function noPypiEnv(venv: string): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = { ...process.env, FTGEN_LAB_VENV: venv, PIP_CONFIG_FILE: os.devNull, PIP_INDEX_URL: `http://127.0.0.1:${await closedPort()}/simple` };
  for (const k of ["PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_NO_INDEX"]) delete env[k];
  return env;
}

test("where pip cannot reach PyPI, set-up says in one line that JupyterLab is not installed, and completes", async () => {
  fs.mkdirSync(scratchRoot, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(scratchRoot, "no-pypi-"));
  try {
    const r = spawnSync(tsx, [path.join(root, "scripts", "setup.ts"), "--no-data"], { cwd: root, encoding: "utf8", env: await noPypiEnv(path.join(tmp, "venv")) });
    assert.equal(r.status, 0, r.stderr);
    const lines = `${r.stdout}${r.stderr}`.split("\n").filter((l) => /JupyterLab not installed/.test(l));
    assert.equal(lines.length, 1, r.stdout + r.stderr);
    assert.match(lines[0], /^ftgen: JupyterLab not installed \(pip: .+\); npm run notebook opens Jupyter Notebook 6 instead; npm run setup tries again$/);
    assert.match(r.stdout, /set-up complete/);
    assert.ok(!fs.existsSync(path.join(tmp, "venv", "ftgen-lab.sha256")), "no stamp for a failed install");
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

/** The URL `npm run notebook` (child) prints once its server answers; everything it printed collects in `log.out`. */
function announcedUrl(child: ChildProcessWithoutNullStreams, log: { out: string }, timeoutMs: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within ${timeoutMs / 1000} s:\n${log.out}`)), timeoutMs);
    const take = (b: Buffer): void => {
      log.out += b.toString();
      const m = /ftgen: Jupyter is at (http:\/\/127\.0\.0\.1:\d+\/\S+)/.exec(log.out);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("exit", (code) => reject(new Error(`npm run notebook exited with ${code}:\n${log.out}`)));
  });
}

test("npm run notebook falls back to Jupyter Notebook 6 where JupyterLab cannot be installed, saying why in one line", async () => {
  fs.mkdirSync(scratchRoot, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(scratchRoot, "fallback-"));
  const port = String(await freePort());
  const child = spawn(tsx, [path.join(root, "scripts", "notebook.ts"), "--port", port, "--dir", tmp], { cwd: root, detached: true, env: await noPypiEnv(path.join(tmp, "venv")) });
  const log = { out: "" };
  try {
    const url = await announcedUrl(child, log, 120_000);
    const out = log.out;
    const lines = out.split("\n").filter((l) => /JupyterLab (is )?not/.test(l));
    assert.equal(lines.length, 1, out);
    assert.match(lines[0], /^ftgen: JupyterLab is not available \(pip: .+; npm run setup tries again\); opening Jupyter Notebook 6 instead$/);
    assert.match(out, /starting Jupyter Notebook with the tslab kernel/);
    const token = new URL(url).searchParams.get("token");
    const res = await fetch(`${new URL(url).origin}/api/kernelspecs?token=${token}`);
    const specs = (await res.json()) as { kernelspecs: Record<string, { spec: { display_name: string } }> };
    assert.equal(specs.kernelspecs.tslab?.spec.display_name, "TypeScript (ftgen)");
    assert.equal((await fetch(`${new URL(url).origin}/tree?token=${token}`)).status, 200);
    assert.equal((await fetch(`${new URL(url).origin}/lab?token=${token}`)).status, 404, "Notebook 6 answers, not Lab");
  } finally {
    if (child.pid) process.kill(-child.pid, "SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test("npm run notebook opens JupyterLab 4, which loads plotly's mime extension", async (t) => {
  if (labUnavailable(t)) return;
  fs.mkdirSync(scratchRoot, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(scratchRoot, "notebook-"));
  const port = String(await freePort());
  const child = spawn(tsx, [path.join(root, "scripts", "notebook.ts"), "--port", port, "--dir", tmp, "--no-setup"], { cwd: root, detached: true });
  const log = { out: "" };
  try {
    const url = await announcedUrl(child, log, 90_000);
    const out = log.out;
    assert.match(out, /starting JupyterLab with the tslab kernel/);
    assert.doesNotMatch(out, /not available/);
    assert.match(new URL(url).pathname, /^\/lab/);
    const token = new URL(url).searchParams.get("token");
    // Lab's page config lists the federated extensions it loads: plotly's, as a mime extension.
    const html = await (await fetch(`${new URL(url).origin}/lab?token=${token}`)).text();
    const m = /<script id="jupyter-config-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html);
    assert.ok(m, "Lab's page carries its config");
    const config = JSON.parse(m[1]) as { appVersion: string; federated_extensions: { name: string; mimeExtension?: string }[]; disabledExtensions?: Record<string, boolean> };
    assert.match(config.appVersion, /^4\./);
    const plotly = config.federated_extensions.find((e) => e.name === PLOTLY_LAB_EXTENSION);
    assert.ok(plotly?.mimeExtension, `${PLOTLY_LAB_EXTENSION} is loaded as a mime extension`);
    const res = await fetch(`${new URL(url).origin}/api/kernelspecs?token=${token}`);
    const specs = (await res.json()) as { kernelspecs: Record<string, { spec: { display_name: string } }> };
    assert.equal(specs.kernelspecs.tslab?.spec.display_name, "TypeScript (ftgen)");
  } finally {
    if (child.pid) process.kill(-child.pid, "SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
