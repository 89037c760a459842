/**
 * Notebooks executed through the real Jupyter protocol: nbclient and the project's tslab kernel,
 * started by `npm run study`'s script. Checks the smoke notebook's outputs, a progress bar updated in
 * place (test/notebooks/progress.ipynb), failure reporting,
 * the profile reaching the kernel, nbformat validity, and that set-up is idempotent.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { writeNotebook } from "../scripts/lib/notebook-json";
import { jupyterPython } from "../scripts/lib/jupyter";

const root = path.resolve(__dirname, "..");
const scratch = path.join(root, ".cache", "test-notebooks");
const tsx = path.join(root, "node_modules", ".bin", "tsx");

interface Output { output_type: string; name?: string; text?: string[] | string; data?: Record<string, unknown> }
interface Cell { cell_type: string; source: string[] | string; outputs?: Output[] }

function study(args: string[], env: Record<string, string> = {}): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(tsx, [path.join(root, "scripts", "study.ts"), ...args], { cwd: root, encoding: "utf8", timeout: 300_000, env: { ...process.env, ...env } });
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

function readCells(file: string): Cell[] {
  return (JSON.parse(fs.readFileSync(file, "utf8")) as { cells: Cell[] }).cells.filter((c) => c.cell_type === "code");
}

const join = (t: string[] | string | undefined): string => (Array.isArray(t) ? t.join("") : t ?? "");

fs.rmSync(scratch, { recursive: true, force: true });
fs.mkdirSync(scratch, { recursive: true });

test("the smoke notebook runs in tslab and its outputs are in the executed file", () => {
  const out = path.join(scratch, "out");
  const r = study([path.join(root, "test", "notebooks", "smoke.ipynb"), "--profile", "quick", "--out", out]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const file = path.join(out, "smoke.ipynb");
  const [importCell, tableCell, promptCell, plotCell] = readCells(file);

  assert.match(join(importCell.outputs?.[0]?.text), /^ftgen \d+\.\d+\.\d+, profile quick\n$/);

  const table = tableCell.outputs?.find((o) => o.output_type === "display_data");
  assert.ok(table?.data, "table display");
  assert.match(join(table.data["text/html"] as string[]), /<table class="ftgen-table dataframe"[\s\S]*<caption>sst2 test, first 8 rows<\/caption>[\s\S]*<th style="text-align:left;white-space:pre-wrap">input<\/th>/);
  assert.equal((join(table.data["text/html"] as string[]).match(/<tr>/g) ?? []).length, 9, "header + 8 rows");

  const prompt = promptCell.outputs?.find((o) => o.output_type === "display_data");
  const promptText = join(prompt?.data?.["text/plain"] as string[]);
  assert.equal((promptText.match(/### Sentiment:(positive|negative)\n\n/g) ?? []).length, 2, "two demonstrations");
  assert.ok(promptText.endsWith("### Sentiment:"), "ends where the answer goes");

  // One display: plotly JSON, offline HTML, a PNG rendered in headless Chromium (awaited in the cell), text.
  const plots = plotCell.outputs?.filter((o) => o.output_type === "display_data") ?? [];
  assert.equal(plots.length, 1, JSON.stringify(plotCell.outputs?.map((o) => o.output_type)));
  const plot = plots[0] as Output & { metadata?: Record<string, unknown> };
  assert.deepEqual(Object.keys(plot?.data ?? {}).sort(), ["application/vnd.plotly.v1+json", "image/png", "text/html", "text/plain"]);
  const png = Buffer.from(join(plot.data!["image/png"] as string[] | string), "base64");
  assert.equal(png.subarray(1, 4).toString("latin1"), "PNG");
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [1400, 600], "700 × 300 at scale 2");
  assert.deepEqual(plot.metadata?.["image/png"], { width: 700, height: 300 }, "shown at the figure's size");
  const spec = plot?.data?.["application/vnd.plotly.v1+json"] as { data: { type: string }[] };
  assert.equal(spec.data[0].type, "bar");
  assert.ok(join(plot?.data?.["text/html"] as string[]).includes("window.Plotly"), "plotly.js embedded for offline use");

  const v = spawnSync(jupyterPython(), ["-c", "import sys, nbformat; nbformat.validate(nbformat.read(sys.argv[1], as_version=4)); print('valid')", file], { encoding: "utf8" });
  assert.equal(v.stdout.trim(), "valid", v.stderr);
});

test("a progress bar in tslab is one display, updated in place by its display_id, ending on the last step", () => {
  const out = path.join(scratch, "progress-out");
  const log = path.join(scratch, "progress-displays.jsonl");
  const r = study([path.join(root, "test", "notebooks", "progress.ipynb"), "--profile", "quick", "--out", out], { FTGEN_DISPLAY_LOG: log });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  // What the kernel sent (scripts/run_notebooks.py logs it): per bar, one display_data, then updates of the same id.
  const sent = fs.readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { msg_type: string; display_id: string | null; text: string });
  const ids = [...new Set(sent.map((m) => m.display_id))];
  assert.equal(ids.length, 2, "two bars, two display ids");
  assert.ok(ids.every((id) => typeof id === "string" && id.length > 0));
  const [simulated, training] = ids.map((id) => sent.filter((m) => m.display_id === id));
  for (const msgs of [simulated, training]) {
    assert.deepEqual(msgs.map((m) => m.msg_type), ["display_data", ...msgs.slice(1).map(() => "update_display_data")]);
    assert.ok(msgs.length >= 3, `${msgs.length} messages`);
  }
  // Reports 300 ms apart are all drawn, in order, then finish().
  assert.deepEqual(simulated.map((m) => /step (\d)\/5/.exec(m.text)?.[1]), ["1", "2", "3", "4", "5", "5"]);

  // The executed notebook: nbclient folded the updates into the one output, which shows the end.
  const [, simCell, trainCell] = readCells(path.join(out, "progress.ipynb"));
  for (const cell of [simCell, trainCell]) {
    assert.equal(cell.outputs?.length, 1, JSON.stringify(cell.outputs));
    assert.equal(cell.outputs?.[0].output_type, "display_data");
  }
  const simData = simCell.outputs![0].data!;
  assert.equal(join(simData["text/plain"] as string[]), "simulated run [##############################] step 5/5 (100%) loss 0.4000 · 5,000 tokens/s · ETA 0s · done");
  assert.match(join(simData["text/html"] as string[]), /<progress value="5" max="5"[^>]*><\/progress> step 5\/5 \(100%\) loss 0\.4000 · 5,000 tokens\/s · ETA 0s · done/);
  // A real training run (ftgen.train on a tiny Llama, onProgress: bar.onProgress).
  assert.match(join(trainCell.outputs![0].data!["text/plain"] as string[]), /^tiny Llama \[#{30}\] step 12\/12 \(100%\) loss \d+\.\d{4} · [\d,]+ tokens\/s · ETA 0s · 12 steps$/);
});

test("a failing cell makes the run exit non-zero, naming the notebook and cell with the kernel's stderr", () => {
  const nb = path.join(scratch, "failing.ipynb");
  writeNotebook(nb, [
    { md: "# fails in its second code cell" },
    { code: `import * as ftgen from "ftgen";\nconsole.log("profile=" + ftgen.profile().name);` },
    { code: `function explode(): never { throw new Error("boom in cell two"); }\nexplode();` },
    { code: `console.log("never runs");` },
  ]);
  const out = path.join(scratch, "failing-out");
  const r = study([nb, "--profile", "paper", "--out", out, "--no-setup"]);
  assert.notEqual(r.status, 0);
  assert.match(r.stdout, /failing\.ipynb: code cell 1\/3 ok/);
  assert.match(r.stderr, /FAILED .*failing\.ipynb: cell 3 \(code cell 2\), reply status "error"/);
  assert.match(r.stderr, /--- kernel stderr ---\n[\s\S]*boom in cell two/);
  assert.ok(!fs.existsSync(path.join(out, "failing.ipynb")), "no output notebook for a failed run");
  const partial = readCells(path.join(root, ".cache", "failed", "failing.ipynb"));
  assert.equal(join(partial[0].outputs?.[0]?.text), "profile=paper\n", "the profile reached the kernel");
});

test("a type error is a failure too (tslab compiles each cell)", () => {
  const nb = path.join(scratch, "typeerror.ipynb");
  writeNotebook(nb, [{ code: `const n: number = "not a number";` }]);
  const r = study([nb, "--out", path.join(scratch, "te-out"), "--no-setup"]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /cell 1 \(code cell 1\)[\s\S]*not assignable to type 'number'/);
});

test("set-up is idempotent: a second run installs, registers and copies nothing", () => {
  const run = (): string => {
    const r = spawnSync(tsx, [path.join(root, "scripts", "setup.ts")], { cwd: root, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  run();
  const second = run();
  assert.doesNotMatch(second, /installing|registered|building|copied|downloaded/);
  assert.match(second, /set-up complete/);
  const spec = JSON.parse(fs.readFileSync(path.join(root, ".jupyter", "share", "jupyter", "kernels", "tslab", "kernel.json"), "utf8")) as { argv: string[] };
  assert.deepEqual(spec.argv.slice(1), ["--require", path.join(root, "scripts", "kernel", "zmq-send-queue.cjs"), "--require", path.join(root, "scripts", "kernel", "parent-watch.cjs"),
    "--require", path.join(root, "scripts", "kernel", "log-settings.cjs"), path.join(root, "node_modules", "tslab", "bin", "tslab"), "kernel", "--config-path", "{connection_file}"]);
});

test("npm run notebook serves Jupyter on 127.0.0.1 with the project's kernel and prints the URL", async () => {
  const { spawn } = await import("node:child_process");
  const port = String(18000 + (process.pid % 1000));
  const child = spawn(tsx, [path.join(root, "scripts", "notebook.ts"), "--port", port, "--no-setup"], { cwd: root, detached: true });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no URL within 60 s")), 60_000);
      let out = "";
      child.stdout.on("data", (b: Buffer) => {
        out += b.toString();
        const m = /ftgen: Jupyter is at (http:\/\/127\.0\.0\.1:\d+\/\S+)/.exec(out);
        if (m) { clearTimeout(timer); resolve(m[1]); }
      });
      child.on("exit", (code) => reject(new Error(`jupyter exited with ${code}`)));
    });
    const token = new URL(url).searchParams.get("token");
    const res = await fetch(`http://127.0.0.1:${port}/api/kernelspecs?token=${token}`);
    const specs = (await res.json()) as { kernelspecs: Record<string, { spec: { display_name: string } }> };
    assert.equal(specs.kernelspecs.tslab?.spec.display_name, "TypeScript (ftgen)");
  } finally {
    if (child.pid) process.kill(-child.pid, "SIGTERM");
  }
});
