/**
 * `npm run study -- --profile quick` (what npm test runs): every notebook executed through the real
 * Jupyter protocol on tiny slices, each research notebook opening with the paper's claim and ending
 * with its verdict table, plots as full mime bundles, figures exported under the profile's folder
 * (never over the committed ones), records shared across notebooks; then `npm run figures` on the
 * same profile re-exports every figure from the stored records without computing any.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(__dirname, "..");
const tsx = path.join(root, "node_modules", ".bin", "tsx");
const quick = path.join(root, ".cache", "profiles", "quick");

interface Output { output_type: string; text?: string[] | string; data?: Record<string, unknown> }
interface Cell { cell_type: string; source: string[] | string; outputs?: Output[] }
const join = (t: unknown): string => (Array.isArray(t) ? t.join("") : typeof t === "string" ? t : "");
const cells = (file: string): Cell[] => (JSON.parse(fs.readFileSync(file, "utf8")) as { cells: Cell[] }).cells;
const study = (args: string[], env: Record<string, string> = {}) => spawnSync(tsx, [path.join(root, "scripts", "study.ts"), ...args], { cwd: root, encoding: "utf8", timeout: 900_000, env: { ...process.env, ...env } });

/** A transformers.js model folder made by our own export (a copy of the shipped base model): what 02's real-LLM section loads. */
function exportedLlm(): string {
  const dir = path.join(root, ".cache", "test-llm", "ftgen-base-onnx");
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ["config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors"]) fs.copyFileSync(path.join(root, "data", "base-model", f), path.join(dir, f));
  const r = spawnSync(tsx, ["-e", `require(${JSON.stringify(path.join(root, "kernel-lib", "src", "model", "onnx-export.ts"))}).exportOnnx(${JSON.stringify(dir)})`], { cwd: root, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  fs.rmSync(path.join(dir, "model.safetensors")); // as a Hub folder: config, tokenizer, onnx/ only
  return dir;
}

const NOTEBOOKS: Record<string, { claims: string[]; figures: string[] }> = {
  "01-generation-vs-classification": { claims: ["C1", "C2", "C3", "C4"], figures: ["01-in-domain", "01-delta-vs-base", "01-cross-task-generation"] },
  "02-icl-at-inference": { claims: ["C5"], figures: ["02-score-vs-k", "02-icl-gain"] },
  "03-fticl": { claims: ["C6"], figures: ["03-fticl-generation", "03-fticl-classification"] },
  "04-train-size": { claims: ["S1", "S2"], figures: ["04-train-size"] },
  "05-prompt-format": { claims: ["P1"], figures: ["05-map-delta", "05-generation-ft-on-classification"] },
};

function committedFigures(): string {
  const dir = path.join(root, "figures");
  return fs.readdirSync(dir).sort().map((f) => `${f}:${fs.statSync(path.join(dir, f)).mtimeMs}`).join("\n");
}

test("npm run study -- --profile quick: every notebook, claims first, verdicts last, figures exported, records shared", () => {
  fs.rmSync(quick, { recursive: true, force: true });
  const before = committedFigures();
  const llm = exportedLlm();
  const r = study(["--profile", "quick", "--no-setup"], { FTGEN_LLM_DIR: llm });
  assert.equal(r.status, 0, r.stdout.slice(-3000) + r.stderr.slice(-3000));
  assert.equal(committedFigures(), before, "the committed figures/ are untouched by a quick run");

  for (const [name, want] of Object.entries(NOTEBOOKS)) {
    const all = cells(path.join(quick, "notebooks", `${name}.ipynb`));
    assert.equal(all[0].cell_type, "markdown");
    assert.match(join(all[0].source), /\*\*The paper's (claim|claims|remark|remarks)/, `${name} opens with the paper's claim`);
    const code = all.filter((c) => c.cell_type === "code");
    // The last cell is the verdict table, one row per claim and one column per subject, then each subject's full table.
    const outs = (code[code.length - 1].outputs ?? []).filter((o) => o.output_type === "display_data").map((o) => join(o.data?.["text/html"]));
    const html = outs.find((h) => /Verdicts by subject/.test(h)) ?? "";
    assert.ok(html, `${name} ends with its verdict table`);
    for (const subject of ["ftgen base (2M)", "SmolLM2-135M"]) assert.match(html, new RegExp(`<th[^>]*>${subject.replace(/[()]/g, "\\$&")}</th>`), `${name}: a column for ${subject}`);
    for (const c of want.claims) assert.match(html, new RegExp(`<td[^>]*>${c}: `), `${name}: claim ${c}`);
    const ftgenTable = outs.find((h) => /ftgen base \(2M\): verdicts with their checks/.test(h)) ?? "";
    assert.equal((ftgenTable.match(/<td[^>]*>(reproduced|not reproduced|inconclusive at this scale)<\/td>/g) ?? []).length, want.claims.length);
    // Plots are one bundle each: plotly JSON, offline HTML, PNG, text.
    const plots = code.flatMap((c) => c.outputs ?? []).filter((o) => o.data?.["application/vnd.plotly.v1+json"]);
    assert.ok(plots.length >= want.figures.length, `${name}: ${plots.length} plots`);
    for (const p of plots) assert.deepEqual(Object.keys(p.data ?? {}).sort(), ["application/vnd.plotly.v1+json", "image/png", "text/html", "text/plain"]);
    for (const f of want.figures) for (const ext of ["png", "svg", "pdf"]) {
      const file = path.join(quick, "figures", `${f}.${ext}`);
      assert.ok(fs.existsSync(file) && fs.statSync(file).size > 1000, `${file}`);
    }
  }
  // 02's real-LLM section ran on the exported folder through transformers.js.
  const nb02 = cells(path.join(quick, "notebooks", "02-icl-at-inference.ipynb")).filter((c) => c.cell_type === "code");
  const llmCell = nb02[nb02.length - 2].outputs ?? [];
  assert.ok(llmCell.some((o) => o.data?.["application/vnd.plotly.v1+json"]), "the LLM's score-vs-k plot");
  const llmTable = join(llmCell.find((o) => join(o.data?.["text/html"]).includes("in-domain ICL grid"))?.data?.["text/html"]);
  assert.equal((llmTable.match(/onnxruntime-node \(transformers\.js\)/g) ?? []).length, 20, "5 tasks × 4 shots, each run by onnxruntime");

  // 05 reads 01's records: nothing computed again.
  const bar05 = cells(path.join(quick, "notebooks", "05-prompt-format.ipynb")).filter((c) => c.cell_type === "code")[1].outputs ?? [];
  assert.match(join(bar05[0]?.data?.["text/plain"]), /112 records \(0 computed, 112 reused\)$/);
  // The model index beside the records: one entry per fine-tuned model of the five studies.
  assert.equal(fs.readdirSync(path.join(quick, "results", "models")).length, 14);

  // npm run figures: the same notebooks from stored records only; the figures are written again.
  const t0 = Date.now();
  const f = study(["--profile", "quick", "--no-setup", "--cached-only", path.join(root, "notebooks", "01-generation-vs-classification.ipynb")]);
  assert.equal(f.status, 0, f.stdout.slice(-3000) + f.stderr.slice(-3000));
  assert.ok(fs.statSync(path.join(quick, "figures", "01-delta-vs-base.png")).mtimeMs > t0, "re-exported");
  // Cached-only, no subject computes: each is read from its stored records, with no progress bar.
  const bar01 = cells(path.join(quick, "notebooks", "01-generation-vs-classification.ipynb")).filter((c) => c.cell_type === "code")[1].outputs ?? [];
  assert.match(join(bar01[0]?.data?.["text/plain"]), /^Subjects\nftgen base \(2M\) \(profile "quick"\): 112 of 112 records stored\n/);

  // Computing nothing changes no byte: the same cached-only run again writes identical notebook and figures.
  const snapshot = (): Map<string, Buffer> => new Map([
    ...fs.readdirSync(path.join(quick, "figures")).filter((x) => x.startsWith("01-")).map((x) => [x, fs.readFileSync(path.join(quick, "figures", x))] as const),
    ["notebook", fs.readFileSync(path.join(quick, "notebooks", "01-generation-vs-classification.ipynb"))],
  ]);
  const first = snapshot();
  const g = study(["--profile", "quick", "--no-setup", "--cached-only", path.join(root, "notebooks", "01-generation-vs-classification.ipynb")]);
  assert.equal(g.status, 0, g.stdout.slice(-3000) + g.stderr.slice(-3000));
  const second = snapshot();
  assert.ok(first.size >= 10);
  for (const [name, bytes] of first) assert.ok(bytes.equals(second.get(name) as Buffer), `${name} changed on a rerun that computed nothing`);
});
