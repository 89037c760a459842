/**
 * The layout reads like the pipeline: no import cycles among files (kernel-lib, scripts, experiments,
 * tests) or among folders, and each kernel-lib folder imports only folders before it in PIPELINE. Imports are read with TypeScript's own pre-processor (static, dynamic, require and
 * type-only imports alike: a type-only cycle is a cycle for the reader too).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";
import { projectRoot } from "../kernel-lib/src/util/paths";

/** kernel-lib's folders in pipeline order: a folder may import only the folders before it. */
const PIPELINE = ["util", "data", "metrics", "tokenizer", "prompts", "model", "train", "notebook", "evaluate", "pretrain", "study", "plot"];

const root = projectRoot();

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return ["node_modules", "dist", "build"].includes(e.name) ? [] : tsFiles(p);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [p] : [];
  });
}

/** Each file's project-local imports (resolved to files). */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const resolve = (from: string, spec: string): string | undefined => {
    const b = path.resolve(path.dirname(from), spec);
    return [`${b}.ts`, path.join(b, "index.ts"), b].find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
  };
  return new Map(files.map((f) => {
    const info = ts.preProcessFile(fs.readFileSync(f, "utf8"), true, true);
    return [f, info.importedFiles.flatMap((i) => (i.fileName.startsWith(".") ? [resolve(f, i.fileName)].filter((x): x is string => !!x) : []))];
  }));
}

/** Strongly connected components with more than one node (Tarjan): the cycles. */
function cycles<T>(graph: ReadonlyMap<T, readonly T[]>): T[][] {
  let next = 0;
  const index = new Map<T, number>(), low = new Map<T, number>(), onStack = new Set<T>(), stack: T[] = [], out: T[][] = [];
  const visit = (v: T): void => {
    index.set(v, next); low.set(v, next++); stack.push(v); onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: T[] = [];
    let w: T;
    do { w = stack.pop()!; onStack.delete(w); scc.push(w); } while (w !== v);
    if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.reverse());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

const files = ["kernel-lib/src", "kernel-lib/test", "scripts", "test", "experiments"].flatMap((d) => tsFiles(path.join(root, d)));
const graph = importGraph(files);
const rel = (f: string): string => path.relative(root, f);

test("cycles() finds a cycle and only a cycle (hand-made graphs)", () => {
  assert.deepEqual(cycles(new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]])), [["a", "b", "c"]]);
  assert.deepEqual(cycles(new Map([["a", ["b"]], ["b", []], ["c", ["a", "b"]]])), []);
  assert.deepEqual(cycles(new Map([["a", ["a"]]])), [["a"]]);
});

test("no import cycle among files", () => {
  assert.ok(graph.size > 100, `read ${graph.size} files`);
  assert.deepEqual(cycles(graph).map((c) => c.map(rel).join(" → ")), []);
});

test("no import cycle among folders, subfolders counted (model/kernels apart from model)", () => {
  const folders = new Map<string, string[]>();
  for (const [f, deps] of graph) {
    const from = rel(path.dirname(f));
    const tos = deps.map((d) => rel(path.dirname(d))).filter((d) => d !== from);
    folders.set(from, [...new Set([...(folders.get(from) ?? []), ...tos])]);
  }
  assert.deepEqual(cycles(folders).map((c) => c.join(" → ")), []);
});

test("kernel-lib's folders follow the pipeline: each imports only folders before it, and nothing from scripts or tests", () => {
  const src = path.join(root, "kernel-lib/src");
  const folderOf = (f: string): string => path.relative(src, path.dirname(f)).split(path.sep)[0] || ".";
  const wrong: string[] = [];
  for (const [f, deps] of graph) {
    if (!f.startsWith(src + path.sep)) continue;
    const from = folderOf(f);
    for (const d of deps) {
      if (!d.startsWith(src + path.sep)) { wrong.push(`${rel(f)} imports ${rel(d)}, outside kernel-lib/src`); continue; }
      const to = folderOf(d);
      if (from === "." || to === from) continue; // index.ts gathers every folder
      if (!PIPELINE.includes(from) || !PIPELINE.includes(to)) wrong.push(`${rel(f)}: folder ${!PIPELINE.includes(from) ? from : to} is not in PIPELINE`);
      else if (PIPELINE.indexOf(to) > PIPELINE.indexOf(from)) wrong.push(`${rel(f)} (${from}) imports ${rel(d)} (${to}), a later stage`);
    }
  }
  assert.deepEqual(wrong, []);
});
