/**
 * Stopping a run stops everything it started. `npm run study` runs a notebook whose kernel forks a
 * study worker (the real one, kernel-lib's study/worker) and then stays busy; the test stops the
 * run (kill -9 of its process group, or Ctrl-C's SIGINT to the group) and checks by PID that neither
 * the kernel (Jupyter starts it in a session of its own) nor the worker lives on, and that Ctrl-C
 * prints one line, not a Python traceback.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { writeNotebook } from "../scripts/lib/notebook-json";

const root = path.resolve(__dirname, "..");
const tsx = path.join(root, "node_modules", ".bin", "tsx");

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stopRun(signal: "SIGKILL" | "SIGINT" | "SIGTERM", target: "group" | "leader" = "group"): Promise<{ stderr: string; pids: { kernel: number; worker: number } }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-stop-"));
  const pidFile = path.join(dir, "pids.json");
  const nb = path.join(dir, "busy.ipynb");
  const worker = path.join(root, "kernel-lib", "dist", "study", "worker.js");
  writeNotebook(nb, [{ code: `const { fork } = require("node:child_process");
const fs = require("node:fs");
const w = fork(${JSON.stringify(worker)}, [], { stdio: "ignore" });
fs.writeFileSync(${JSON.stringify(pidFile)}, JSON.stringify({ kernel: process.pid, worker: w.pid }));
await new Promise((r) => setTimeout(r, 120000));` }]);
  // Its own process group, as a terminal gives a command: the group is what kill -9 and Ctrl-C reach.
  const run = spawn(tsx, [path.join(root, "scripts", "study.ts"), "--no-setup", "--profile", "quick", "--out", path.join(dir, "out"), nb], { cwd: root, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  run.stderr.on("data", (d) => { stderr += String(d); });
  // Closed when every process writing to it (the run's Node and Python) has gone.
  const closed = new Promise((r) => run.stderr.on("close", r));
  for (let i = 0; i < 240 && !fs.existsSync(pidFile); i++) await sleep(500);
  assert.ok(fs.existsSync(pidFile), `the notebook started its worker: ${stderr}`);
  const pids = JSON.parse(fs.readFileSync(pidFile, "utf8")) as { kernel: number; worker: number };
  assert.ok(alive(pids.kernel) && alive(pids.worker));
  process.kill(target === "group" ? -(run.pid as number) : (run.pid as number), signal);
  await closed;
  for (let i = 0; i < 20 && (alive(pids.kernel) || alive(pids.worker)); i++) await sleep(250);
  return { stderr, pids };
}

test("kill -9 of npm run study's process group: the kernel and the study's worker do not outlive it", async () => {
  const { pids } = await stopRun("SIGKILL");
  assert.ok(!alive(pids.kernel), `kernel ${pids.kernel} survived`);
  assert.ok(!alive(pids.worker), `worker ${pids.worker} survived`);
});

test("Ctrl-C (SIGINT to the group): everything stops, with one line and no Python traceback", async () => {
  const { stderr, pids } = await stopRun("SIGINT");
  assert.ok(!alive(pids.kernel), `kernel ${pids.kernel} survived`);
  assert.ok(!alive(pids.worker), `worker ${pids.worker} survived`);
  assert.doesNotMatch(stderr, /Traceback/);
  assert.match(stderr, /ftgen: stopped by SIGINT/);
});

test("SIGTERM to the run's Node process alone: Python follows its parent, then the kernel and the worker", async () => {
  const { pids } = await stopRun("SIGTERM", "leader");
  assert.ok(!alive(pids.kernel), `kernel ${pids.kernel} survived`);
  assert.ok(!alive(pids.worker), `worker ${pids.worker} survived`);
});
