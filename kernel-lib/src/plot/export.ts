/**
 * Static rendering of plotly figures (PNG, SVG, PDF) in headless Chromium.
 *
 * Debian's `chromium` (/usr/bin/chromium, or FTGEN_CHROMIUM) is driven by playwright-core; no browser is
 * ever downloaded. Loading plotly.js into a page takes seconds, so each process keeps ONE renderer: one
 * browser with one page holding plotly.js (figures are drawn with Plotly.toImage) and one blank page for
 * printing PDFs. It is started on first use and lives until `closeRenderer()` or the end of the process.
 * The browser never keeps the process alive: its process and pipes are unref'd (only a pending render
 * holds the event loop), so a script ends after its last render and a kernel ends when Jupyter shuts it
 * down; playwright's exit handler then kills Chromium and removes its temporary profile.
 */
import childProcess, { type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import type { Figure } from "./figure";
import { plotlyLibrary, figureText } from "./figure";
import { writeFileAtomic } from "../util/atomic";
import { projectRoot } from "../util/paths";
import { setting } from "../util/settings";

/** Where Chromium is expected. */
export function chromiumPath(): string {
  return setting("chromium") ?? "/usr/bin/chromium";
}

/** How to install it, in one line. */
export const CHROMIUM_INSTALL_HINT = "npm run setup -- --chromium (or as root: apt-get install -y --no-install-recommends chromium)";

/** True when the Chromium executable is there (it may still fail to start: see `renderFigure`). */
export function chromiumAvailable(): boolean {
  try {
    fs.accessSync(chromiumPath(), fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The launch arguments (the profile is a fresh temporary user-data-dir that playwright creates and removes). */
export const CHROMIUM_ARGS: readonly string[] = [
  "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
  "--disable-sync", "--no-first-run",
];

export class RendererUnavailableError extends Error {}

interface Renderer {
  browser: Browser;
  plotPage: Page;
  printPage: Page;
}

let starting: Promise<Renderer> | null = null;
let current: Renderer | null = null;
let queue: Promise<unknown> = Promise.resolve();
let pending = 0;
let keepAlive: NodeJS.Timeout | null = null;

/**
 * Run `launch` noting the Chromium processes it spawns (playwright-core gives no handle on them), then
 * unref them and their pipes.
 */
async function unrefSpawned<T>(launch: () => Promise<T>): Promise<T> {
  const cp = childProcess as unknown as { spawn: (...args: unknown[]) => ChildProcess };
  const original = cp.spawn;
  const spawned: ChildProcess[] = [];
  cp.spawn = function (this: unknown, ...args: unknown[]): ChildProcess {
    const child = original.apply(this, args);
    if (args[0] === chromiumPath()) spawned.push(child);
    return child;
  };
  try {
    return await launch();
  } finally {
    cp.spawn = original;
    for (const child of spawned) {
      child.unref();
      for (const stream of child.stdio) (stream as { unref?: () => void } | null)?.unref?.();
    }
  }
}

async function launch(): Promise<Renderer> {
  if (!chromiumAvailable()) throw new RendererUnavailableError(`no Chromium at ${chromiumPath()}; install it: ${CHROMIUM_INSTALL_HINT}`);
  let chromium: typeof import("playwright-core").chromium;
  try {
    ({ chromium } = await import("playwright-core"));
  } catch {
    throw new RendererUnavailableError("playwright-core is not installed; run: npm ci");
  }
  const browser = await unrefSpawned(() => chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [...CHROMIUM_ARGS],
    // A notebook interrupt is SIGINT, and a SIGTERM handler would stop the default exit: leave signals to
    // the process. Playwright still kills the browser on process exit, and Chromium exits when its pipe closes.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    timeout: 60_000,
  }));
  try {
    const plotPage = await browser.newPage();
    await plotPage.setContent("<!doctype html><html><head><meta charset=\"utf-8\"></head><body></body></html>");
    await plotPage.addScriptTag({ content: plotlyLibrary() });
    const printPage = await browser.newPage();
    const renderer: Renderer = { browser, plotPage, printPage };
    // A crashed or killed browser is replaced on the next render.
    browser.on("disconnected", () => { if (current === renderer) { current = null; starting = null; } });
    current = renderer;
    return renderer;
  } catch (e) {
    await browser.close().catch(() => undefined);
    throw e;
  }
}

function renderer(): Promise<Renderer> {
  if (!starting) {
    starting = launch();
    starting.catch(() => { starting = null; });
  }
  return starting;
}

/** Close the browser (a later render starts a new one). */
export async function closeRenderer(): Promise<void> {
  const r = starting;
  starting = null;
  current = null;
  if (!r) return;
  try {
    await (await r).browser.close();
  } catch {
    // it did not start, or is gone already
  }
}

/** Run `job` on the renderer, one job at a time; the event loop is held while any job is pending. */
function withRenderer<T>(job: (r: Renderer) => Promise<T>): Promise<T> {
  if (pending++ === 0) keepAlive = setInterval(() => undefined, 1 << 30);
  const result = queue.then(async () => job(await renderer()));
  queue = result.catch(() => undefined).then(() => {
    if (--pending === 0 && keepAlive) { clearInterval(keepAlive); keepAlive = null; }
  });
  return result;
}

/** The size a figure is drawn at: its layout's width and height, else plotly's defaults (700 × 450). */
export function figureSize(fig: Figure): { width: number; height: number } {
  const w = fig.layout?.width, h = fig.layout?.height;
  return { width: typeof w === "number" && w > 0 ? Math.round(w) : 700, height: typeof h === "number" && h > 0 ? Math.round(h) : 450 };
}

function plotSpec(fig: Figure): Record<string, unknown> {
  return { data: fig.data, layout: fig.layout ?? {}, config: { ...(fig.config ?? {}), staticPlot: true } };
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} took over ${ms / 1000} s`)), ms); })]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

async function toImage(page: Page, fig: Figure, format: "png" | "svg", scale: number): Promise<string> {
  const { width, height } = figureSize(fig);
  const url = await withTimeout(
    page.evaluate(
      ([spec, opts]) => (globalThis as unknown as { Plotly: { toImage(f: unknown, o: unknown): Promise<string> } }).Plotly.toImage(spec, opts),
      // Each trace gets a fixed uid (plotly would draw a random one into its class names).
      [plotSpec({ ...fig, data: fig.data.map((t, i) => ({ uid: `t${i}`, ...t })) }), { format, width, height, scale }] as const,
    ),
    60_000, `rendering ${format}`,
  );
  return url;
}

/** PNG of a figure, as bytes (`scale` × the figure's size in pixels). */
export function renderPng(fig: Figure, scale = 2): Promise<Buffer> {
  return withRenderer(async (r) => {
    const url = await toImage(r.plotPage, fig, "png", scale);
    return Buffer.from(url.slice(url.indexOf(",") + 1), "base64");
  });
}

/** SVG of a figure, as text. */
export function renderSvg(fig: Figure): Promise<string> {
  return withRenderer(async (r) => stableSvgIds(svgOf(await toImage(r.plotPage, fig, "svg", 1))));
}

function svgOf(url: string): string {
  const comma = url.indexOf(",");
  const head = url.slice(0, comma);
  const body = url.slice(comma + 1);
  return head.endsWith(";base64") ? Buffer.from(body, "base64").toString("utf8") : decodeURIComponent(body);
}

/** The title a figure's PDF carries: its layout title as plain text, else `fallback`. */
export function pdfTitle(fig: Figure, fallback: string): string {
  const title = fig.layout?.title;
  const text = typeof title === "string" ? title : (title as { text?: string } | undefined)?.text;
  const plain = (text ?? "").replace(/<br\s*\/?>/gi, " ").replace(/<[^>]+>/g, "").replace(/\s+/g, " ").trim();
  return plain || fallback;
}

/** The /Title of a PDF's info dictionary: a literal string, or UTF-16BE hex as Chromium writes non-ASCII. */
export function pdfInfoTitle(pdf: Buffer): string | undefined {
  const text = pdf.toString("latin1");
  const lit = /\/Title\s*\(((?:\\.|[^\\)])*)\)/.exec(text);
  if (lit) return lit[1].replace(/\\([()\\])/g, "$1");
  const hex = /\/Title\s*<([0-9A-Fa-f\s]+)>/.exec(text);
  if (!hex) return undefined;
  const bytes = Buffer.from(hex[1].replace(/\s+/g, ""), "hex");
  if (bytes[0] === 0xfe && bytes[1] === 0xff) { const b = Buffer.from(bytes.subarray(2)); b.swap16(); return b.toString("utf16le"); }
  return bytes.toString("latin1");
}

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

async function printPdf(page: Page, svg: string, width: number, height: number, title: string): Promise<Buffer> {
  // Chromium writes the document's <title> as the PDF's /Title (without one, "about:blank").
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${escapeXml(title)}</title><style>@page { size: ${width}px ${height}px; margin: 0 }
html, body { margin: 0; padding: 0; width: ${width}px; height: ${height}px; overflow: hidden } svg { display: block }</style></head><body>${svg}</body></html>`;
  await page.setContent(html);
  return withTimeout(page.pdf({ width: `${width}px`, height: `${height}px`, printBackground: true, pageRanges: "1", preferCSSPageSize: true }), 60_000, "printing the PDF");
}

/**
 * The SVG with plotly's random uids (a fresh one per render and per colour bar: "clipe63b7cxy",
 * "defs-e63b7c", class "cba20ea6 colorbar") replaced, in order of appearance, inside id, class and
 * reference attributes, so that the same figure gives the same bytes.
 */
export function stableSvgIds(svg: string): string {
  svg = canonicalRootTag(svg);
  const uids: string[] = [];
  for (const m of svg.matchAll(/id="(?:top)?defs-([0-9a-f]{6})"|class="cb([0-9a-f]{6}) colorbar"/g)) {
    const u = m[1] ?? m[2];
    if (!uids.includes(u)) uids.push(u);
  }
  if (uids.length === 0) return svg;
  const swap = (v: string): string => uids.reduce((x, u, i) => x.split(u).join(`u${i}`), v);
  return svg.replace(/(\s(?:id|class|href|xlink:href|clip-path)=")([^"]*)(")/g, (_, a: string, v: string, b: string) => a + swap(v) + b)
    .replace(/url\((['"]?)#([^)'"]+)\1\)/g, (_, q: string, id: string) => `url(${q}#${swap(id)}${q})`);
}

/**
 * The root <svg> tag with its attributes in name order: plotly sets `style` on the root before or
 * after `viewBox` from one render to the next, so the same figure came out in two byte orders.
 */
export function canonicalRootTag(svg: string): string {
  const m = /^<svg\s([^>]*?)>/.exec(svg);
  if (!m) return svg;
  const attrs = [...m[1].matchAll(/([^\s=]+)="([^"]*)"/g)].map((a) => [a[1], a[2]] as const);
  attrs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return `<svg ${attrs.map(([k, v]) => `${k}="${v}"`).join(" ")}>` + svg.slice(m[0].length);
}

/**
 * The PDF with its creation and modification dates set to a fixed one of the same length (byte
 * offsets, and so the cross-reference table, stay valid), so that the same figure gives the same bytes.
 */
export function stablePdfDates(pdf: Buffer): Buffer {
  const text = pdf.toString("latin1").replace(/\/(CreationDate|ModDate) \(D:\d{14}([^)]*)\)/g, (m: string, key: string, zone: string) => {
    const fixed = `/${key} (D:20000101000000${zone.replace(/\d/g, "0")})`;
    return fixed.length === m.length ? fixed : m;
  });
  return Buffer.from(text, "latin1");
}

/** A text of a drawn figure: its string, font size (px) and box (px, from the figure's top left). */
export interface TextBox {
  text: string;
  size: number;
  x: number;
  y: number;
  width: number;
  height: number;
  /** The class of the nearest group with one (plotly's: "xtick", "legendtext", "annotation-text-g"…). */
  group: string;
}

/** Every non-empty text of an SVG (as exportFigure writes it), measured where Chromium draws it. */
export function svgTextBoxes(svg: string): Promise<TextBox[]> {
  return withRenderer(async (r) => {
    await r.printPage.setContent(`<!doctype html><html><head><meta charset="utf-8"><style>html, body { margin: 0; padding: 0 } svg { display: block }</style></head><body>${svg}</body></html>`);
    // Runs in the page (a string: the library is compiled without the DOM's types).
    return r.printPage.evaluate(`(() => {
      const root = document.querySelector("svg");
      const origin = root.getBoundingClientRect();
      return [...root.querySelectorAll("text")].flatMap((el) => {
        const text = (el.textContent || "").trim();
        const box = el.getBoundingClientRect();
        if (!text || box.width === 0 || box.height === 0) return [];
        const style = getComputedStyle(el);
        if (style.visibility === "hidden" || style.display === "none" || Number(style.opacity) === 0) return [];
        let g = el.parentElement, group = "";
        while (g && g !== root && !group) { group = g.getAttribute("class") || ""; g = g.parentElement; }
        return [{ text, size: parseFloat(style.fontSize), x: box.x - origin.x, y: box.y - origin.y, width: box.width, height: box.height, group }];
      });
    })()`) as Promise<TextBox[]>;
  });
}

/** What is wrong with a drawn figure's text: too small, outside the figure, or over other text. */
export interface TextProblems {
  small: TextBox[];
  clipped: TextBox[];
  overlapping: [TextBox, TextBox][];
}

/**
 * The text problems of an SVG of `width` × `height` px: texts under `minSize` px, texts not wholly
 * inside the figure, and pairs of texts whose boxes overlap by more than `tolerance` px each way.
 */
export async function textProblems(svg: string, opts: { minSize: number; tolerance?: number }): Promise<TextProblems> {
  const boxes = await svgTextBoxes(svg);
  const w = Number(/^<svg[^>]*\swidth="([\d.]+)"/.exec(svg)?.[1]), h = Number(/^<svg[^>]*\sheight="([\d.]+)"/.exec(svg)?.[1]);
  const tol = opts.tolerance ?? 1;
  const overlapping: [TextBox, TextBox][] = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      const dx = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
      const dy = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
      if (dx > tol && dy > tol) overlapping.push([a, b]);
    }
  }
  return {
    small: boxes.filter((b) => b.size < opts.minSize),
    clipped: boxes.filter((b) => b.x < -0.5 || b.y < -0.5 || b.x + b.width > w + 0.5 || b.y + b.height > h + 0.5),
    overlapping,
  };
}

/** The three static renderings of one figure. */
export interface StaticFigure {
  png: Buffer;
  svg: string;
  pdf: Buffer;
}

/**
 * Render a figure as PNG (at `scale`), SVG and PDF (vector, the SVG printed at the figure's size, 1 px =
 * 0.75 pt; its /Title the figure's title, else `title`, else "figure").
 */
export function renderStatic(fig: Figure, opts: { scale?: number; title?: string } = {}): Promise<StaticFigure> {
  return withRenderer(async (r) => {
    const pngUrl = await toImage(r.plotPage, fig, "png", opts.scale ?? 2);
    const svg = stableSvgIds(svgOf(await toImage(r.plotPage, fig, "svg", 1)));
    const { width, height } = figureSize(fig);
    const pdf = stablePdfDates(await printPdf(r.printPage, svg, width, height, pdfTitle(fig, opts.title ?? "figure")));
    return { png: Buffer.from(pngUrl.slice(pngUrl.indexOf(",") + 1), "base64"), svg, pdf };
  });
}

export interface ExportOptions {
  /** Folder to write to (default: FTGEN_FIGURES_DIR, else the project's figures/). */
  dir?: string;
  /** PNG pixels per figure pixel (default 2). */
  scale?: number;
}

/** The files `exportFigure` wrote. */
export interface ExportedFigure {
  png: string;
  svg: string;
  pdf: string;
}

function checkName(fig: Figure, name: unknown): string {
  const what = figureText(fig);
  if (typeof name !== "string" || name.trim() === "") throw new Error(`exportFigure: ${what} needs a file name, got ${JSON.stringify(name)}`);
  if (/[\\/]/.test(name)) throw new Error(`exportFigure "${name}": ${what}: the name must not contain path separators (use opts.dir for the folder)`);
  // eslint-disable-next-line no-control-regex
  if (name === "." || name === ".." || /[\u0000-\u001f]/.test(name)) throw new Error(`exportFigure "${name.replace(/[\u0000-\u001f]/g, "?")}": ${what}: not a usable file name`);
  return name;
}

/**
 * Write `figures/<name>.png`, `.svg` and `.pdf` (each atomically) and return their paths.
 * Needs Chromium; without it, the error says how to install it.
 */
export async function exportFigure(fig: Figure, name: string, opts: ExportOptions = {}): Promise<ExportedFigure> {
  checkName(fig, name);
  // FTGEN_FIGURES_DIR: where non-default profiles (npm run study -- --profile quick) put theirs.
  const dir = path.resolve(opts.dir ?? setting("figuresDir") ?? path.join(projectRoot(), "figures"));
  let out: StaticFigure;
  try {
    out = await renderStatic(fig, { scale: opts.scale, title: name });
  } catch (e) {
    throw new Error(`exportFigure "${name}": ${(e as Error).message.split("\n")[0]}`);
  }
  const files: ExportedFigure = { png: path.join(dir, `${name}.png`), svg: path.join(dir, `${name}.svg`), pdf: path.join(dir, `${name}.pdf`) };
  writeFileAtomic(files.png, out.png);
  writeFileAtomic(files.svg, out.svg);
  writeFileAtomic(files.pdf, out.pdf);
  return files;
}
