/**
 * Writing .ipynb files from cell sources, for notebooks that the project generates
 * (the smoke notebook of the tests). nbformat 4.5, tslab kernelspec.
 */
import fs from "node:fs";

export type CellSpec = { md: string } | { code: string };

function lines(src: string): string[] {
  const parts = src.replace(/^\n+|\s+$/g, "").split("\n");
  return parts.map((l, i) => (i < parts.length - 1 ? l + "\n" : l));
}

export function notebookJson(cells: CellSpec[]): Record<string, unknown> {
  return {
    cells: cells.map((c, i) => ("md" in c
      ? { cell_type: "markdown", id: `cell-${i}`, metadata: {}, source: lines(c.md) }
      : { cell_type: "code", id: `cell-${i}`, metadata: {}, execution_count: null, outputs: [], source: lines(c.code) })),
    metadata: {
      kernelspec: { name: "tslab", display_name: "TypeScript (ftgen)", language: "typescript" },
      language_info: { name: "typescript", file_extension: ".ts", mimetype: "text/typescript", codemirror_mode: { name: "javascript", typescript: true } },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

export function writeNotebook(file: string, cells: CellSpec[]): void {
  fs.writeFileSync(file, JSON.stringify(notebookJson(cells), null, 1) + "\n");
}
