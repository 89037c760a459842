/**
 * Plotly figures as notebook outputs. One display is one mime bundle:
 *  - application/vnd.plotly.v1+json: JupyterLab (with its plotly renderer) and VS Code draw it natively;
 *  - text/html: a <div> and a script drawing it with plotly.js embedded from node_modules, so it works
 *    offline in Notebook 6. The library goes into the first figure of each kernel session only
 *    (it is 4.8 MB); later figures wait for window.Plotly. The <div> holds the PNG until the script
 *    replaces it with the interactive plot, so front ends that show the HTML but run no script (an
 *    untrusted notebook, nbconvert's HTML with JavaScript off, JupyterLab without the plotly
 *    extension) still show the plot;
 *  - image/png: rendered in headless Chromium (plot/export), so GitHub and other static viewers show
 *    the plot; left out, with one warning per session, when Chromium is not installed;
 *  - text/plain: a one-line description for consoles.
 * Rendering is asynchronous, so cells `await ftgen.showFigure(fig)`. The figure itself is plot/figure.ts.
 */
import { createHash } from "node:crypto";
import { inspect } from "node:util";
import { displayBundle, escapeHtml, type MimeBundle } from "../notebook/display";
import { renderPng, figureSize, chromiumAvailable, chromiumPath, CHROMIUM_INSTALL_HINT } from "./export";
import { figureText, plotlyLibraryScript, type Figure } from "./figure";

let libraryEmbedded = false;

/** JSON that is safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

let figureCount = 0;

/**
 * The text/html representation of a figure. `withLibrary` embeds plotly.js itself; `png` (base64)
 * is shown in the plot's place until the script draws it (and stays where no script runs).
 */
export function figureHtml(fig: Figure, withLibrary: boolean, png?: string): string {
  const { width, height } = figureSize(fig);
  const spec = scriptJson({ data: fig.data, layout: fig.layout ?? {}, config: { responsive: true, ...(fig.config ?? {}) } });
  // The figure's content and its place among this process's figures: unique on a page, and the
  // same on every run, so re-executing a notebook changes no byte.
  const id = `ftgen-plot-${createHash("sha1").update(spec).digest("hex").slice(0, 12)}-${++figureCount}`;
  // Untrusted HTML loses its styles and scripts, but keeps <img> with its width and data: source.
  const still = png ? `<img src="data:image/png;base64,${png}" width="${width}" alt="${escapeHtml(figureText(fig))}">` : "";
  const draw = `<div id="${id}" class="ftgen-plot" style="width:100%;height:${height}px">${still}</div>
<script type="text/javascript">(function () {
  var spec = ${spec};
  function draw() { var el = document.getElementById("${id}"); el.innerHTML = ""; window.Plotly.newPlot(el, spec.data, spec.layout, spec.config); }
  if (window.Plotly) { draw(); } else {
    var tries = 0, timer = setInterval(function () {
      if (window.Plotly) { clearInterval(timer); draw(); }
      else if (++tries > 400) { clearInterval(timer); var el = document.getElementById("${id}"); if (!el.firstChild) el.textContent = "plotly.js did not load: rerun the notebook's first plot cell."; }
    }, 50);
  }
})();</script>`;
  return (withLibrary ? plotlyLibraryScript() + "\n" : "") + draw;
}

export interface BundleOptions {
  /** Embed plotly.js in the text/html part (default: only in the session's first figure). */
  embedLibrary?: boolean;
  /** A rendered PNG (base64) for the image/png part. */
  png?: string;
}

/** The mime bundle of a figure (with image/png when `opts.png` is given). */
export function figureBundle(fig: Figure, opts: BundleOptions = {}): MimeBundle {
  const withLibrary = opts.embedLibrary ?? !libraryEmbedded;
  return {
    "application/vnd.plotly.v1+json": { data: fig.data, layout: fig.layout ?? {}, config: fig.config ?? {} },
    "text/html": figureHtml(fig, withLibrary, opts.png),
    ...(opts.png ? { "image/png": opts.png } : {}),
    "text/plain": figureText(fig),
  };
}

/** Display metadata: the PNG is shown at the figure's size, not at its pixel size (it is drawn at scale 2). */
function bundleMetadata(bundle: MimeBundle, fig: Figure): Record<string, unknown> {
  return bundle["image/png"] ? { "image/png": figureSize(fig) } : {};
}

let warned = false;
function warnOnce(reason: string): void {
  if (warned) return;
  warned = true;
  console.warn(`ftgen: plots carry no image/png (static viewers such as GitHub will not show them): ${reason}`);
}

/** The PNG scale of displayed figures. */
export const DISPLAY_PNG_SCALE = 2;

/**
 * The full bundle of a figure: plotly JSON, HTML, text and, where Chromium is installed, a PNG. Without
 * Chromium (or when rendering fails) the PNG is left out and one warning per session says why.
 */
export async function renderFigureBundle(fig: Figure, opts: { embedLibrary?: boolean } = {}): Promise<MimeBundle> {
  let png: string | undefined;
  if (!chromiumAvailable()) {
    warnOnce(`no Chromium at ${chromiumPath()}; install it: ${CHROMIUM_INSTALL_HINT}`);
  } else {
    try {
      png = (await renderPng(fig, DISPLAY_PNG_SCALE)).toString("base64");
    } catch (e) {
      warnOnce(`rendering failed: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  return figureBundle(fig, { embedLibrary: opts.embedLibrary, png });
}

/**
 * Display a figure inline, as one bundle. Returns a Promise: `await ftgen.showFigure(fig)` in the cell,
 * so that the output belongs to it.
 */
export function showFigure(fig: Figure): Promise<void> {
  const embed = !libraryEmbedded;
  libraryEmbedded = true;
  const shown = renderFigureBundle(fig, { embedLibrary: embed }).then((bundle) => displayBundle(bundle, bundleMetadata(bundle, fig)));
  // A cell that forgets the await prints the Promise: say what to do instead.
  Object.defineProperty(shown, inspect.custom, { value: () => "(showFigure returns a Promise: write `await ftgen.showFigure(fig)` so the plot is shown in this cell)" });
  return shown;
}
