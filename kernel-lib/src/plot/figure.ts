/**
 * Plotly figures as notebook outputs. One display is one mime bundle:
 *  - application/vnd.plotly.v1+json: JupyterLab (with its plotly renderer) and VS Code draw it natively;
 *  - text/html: a <div> and a script drawing it with plotly.js embedded from node_modules, so it works
 *    offline in Notebook 6. The library goes into the first figure of each kernel session only
 *    (it is 4.8 MB); later figures wait for window.Plotly;
 *  - text/plain: a one-line description for consoles.
 * PNG export comes with the static renderer (plot/export).
 */
import fs from "node:fs";
import { displayBundle, type MimeBundle } from "../notebook/display";

/** A plotly figure: traces, layout and config, as plotly.js takes them. */
export interface Figure {
  data: Record<string, unknown>[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

let libraryEmbedded = false;

/** plotly.js, minified, from node_modules. */
export function plotlyLibrary(): string {
  return fs.readFileSync(require.resolve("plotly.js-dist-min"), "utf8");
}

/** JSON that is safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/**
 * The library as a script that defines window.Plotly even where require.js is loaded (Notebook 6):
 * `module`, `exports` and `define` are shadowed so that plotly's UMD header takes the browser path.
 */
export function plotlyLibraryScript(): string {
  const src = plotlyLibrary().replace(/<\/script/gi, "<\\/script");
  return `<script type="text/javascript">if (!window.Plotly) { (function (module, exports, define) {\n${src}\n}).call(window); }</script>`;
}

/** The text/html representation of a figure. `withLibrary` embeds plotly.js itself. */
export function figureHtml(fig: Figure, withLibrary: boolean): string {
  const id = `ftgen-plot-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const height = typeof fig.layout?.height === "number" ? fig.layout.height : 450;
  const spec = scriptJson({ data: fig.data, layout: fig.layout ?? {}, config: { responsive: true, ...(fig.config ?? {}) } });
  const draw = `<div id="${id}" class="ftgen-plot" style="width:100%;height:${height}px"></div>
<script type="text/javascript">(function () {
  var spec = ${spec};
  function draw() { window.Plotly.newPlot("${id}", spec.data, spec.layout, spec.config); }
  if (window.Plotly) { draw(); } else {
    var tries = 0, timer = setInterval(function () {
      if (window.Plotly) { clearInterval(timer); draw(); }
      else if (++tries > 400) { clearInterval(timer); document.getElementById("${id}").textContent = "plotly.js did not load: rerun the notebook's first plot cell."; }
    }, 50);
  }
})();</script>`;
  return (withLibrary ? plotlyLibraryScript() + "\n" : "") + draw;
}

/** A one-line text description of a figure. */
export function figureText(fig: Figure): string {
  const title = fig.layout?.title;
  const t = typeof title === "string" ? title : (title as { text?: string } | undefined)?.text;
  const kinds = [...new Set(fig.data.map((d) => String(d.type ?? "scatter")))].join(", ");
  return `<Figure${t ? ` "${t}"` : ""}: ${fig.data.length} trace(s) of ${kinds}>`;
}

/** The mime bundle of a figure. */
export function figureBundle(fig: Figure, opts: { embedLibrary?: boolean } = {}): MimeBundle {
  const withLibrary = opts.embedLibrary ?? !libraryEmbedded;
  return {
    "application/vnd.plotly.v1+json": { data: fig.data, layout: fig.layout ?? {}, config: fig.config ?? {} },
    "text/html": figureHtml(fig, withLibrary),
    "text/plain": figureText(fig),
  };
}

/** Display a figure inline, as one bundle. */
export function showFigure(fig: Figure): void {
  displayBundle(figureBundle(fig, { embedLibrary: !libraryEmbedded }));
  libraryEmbedded = true;
}
