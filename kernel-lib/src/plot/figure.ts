/**
 * A plotly figure as ftgen builds it (traces, layout, config), the plotly.js library that draws it, and
 * its one-line text. Showing it in a notebook is plot/show.ts; rendering and files, plot/export.ts.
 */
import fs from "node:fs";

/** A plotly figure: traces, layout and config, as plotly.js takes them. */
export interface Figure {
  data: Record<string, unknown>[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

/** plotly.js, minified, from node_modules. */
export function plotlyLibrary(): string {
  return fs.readFileSync(require.resolve("plotly.js-dist-min"), "utf8");
}

/**
 * The library as a script that defines window.Plotly even where require.js is loaded (Notebook 6):
 * `module`, `exports` and `define` are shadowed so that plotly's UMD header takes the browser path.
 */
export function plotlyLibraryScript(): string {
  const src = plotlyLibrary().replace(/<\/script/gi, "<\\/script");
  return `<script type="text/javascript">if (!window.Plotly) { (function (module, exports, define) {\n${src}\n}).call(window); }</script>`;
}

/** A one-line text description of a figure. */
export function figureText(fig: Figure): string {
  const title = fig.layout?.title;
  const t = typeof title === "string" ? title : (title as { text?: string } | undefined)?.text;
  const kinds = [...new Set(fig.data.map((d) => String(d.type ?? "scatter")))].join(", ");
  return `<Figure${t ? ` "${t}"` : ""}: ${fig.data.length} trace(s) of ${kinds}>`;
}
