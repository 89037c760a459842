/**
 * A Jupyter server for browser tests: on 127.0.0.1, a free port and a token, the project's kernel
 * registration, and every other Jupyter file (data, runtime, config, Lab settings and workspaces) in
 * a throwaway folder. Stopped with its kernels afterwards.
 */
import { spawn, type ChildProcess } from "node:child_process";
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { randomBytes } from "node:crypto";
import type { Locator } from "playwright-core";
import { jupyterServerArgs, labEnv, type JupyterApp } from "../../scripts/lib/lab";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface JupyterServer {
  base: string;
  token: string;
  /** What the server printed so far. */
  log(): string;
  /** Shuts the kernels down, then the server. */
  stop(): Promise<void>;
}

async function waitForServer(base: string, token: string, child: ChildProcess, log: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`jupyter exited with ${child.exitCode}:\n${log()}`);
    try {
      const res = await fetch(`${base}/api/status?token=${token}`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`jupyter did not answer within ${timeoutMs / 1000} s:\n${log()}`);
}

/**
 * Starts `app` (run by `python`) serving `dir`; its Jupyter state goes to `state` (a throwaway folder
 * the caller removes). The command line is npm run notebook's (jupyterServerArgs) plus `extra`.
 * `timeoutMs`: how long it may take to answer (default 90 s).
 */
export async function startJupyter(app: JupyterApp, python: string, dir: string, state: string, extra: readonly string[] = [], timeoutMs = 90_000): Promise<JupyterServer> {
  const env = labEnv({
    JUPYTER_DATA_DIR: path.join(state, "data"),
    JUPYTER_RUNTIME_DIR: path.join(state, "runtime"),
    JUPYTER_CONFIG_DIR: path.join(state, "config"),
    JUPYTERLAB_SETTINGS_DIR: path.join(state, "lab", "user-settings"),
    JUPYTERLAB_WORKSPACES_DIR: path.join(state, "lab", "workspaces"),
  });
  env.JUPYTER_PATH = `${env.JUPYTER_PATH}${path.delimiter}${path.join(state, "data")}`;
  const port = await freePort();
  const token = randomBytes(16).toString("hex");
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(python, jupyterServerArgs(app, { port, dir, token, extra: ["--port-retries=0", ...extra] }), { env, stdio: ["ignore", "pipe", "pipe"] });
  let serverLog = "";
  server.stdout!.on("data", (b: Buffer) => { serverLog += b.toString(); });
  server.stderr!.on("data", (b: Buffer) => { serverLog += b.toString(); });
  const stop = async (): Promise<void> => {
    try {
      if (server.exitCode === null) {
        const sessions = (await (await fetch(`${base}/api/sessions?token=${token}`)).json()) as { id: string }[];
        for (const s of sessions) await fetch(`${base}/api/sessions/${s.id}?token=${token}`, { method: "DELETE" });
      }
    } catch {
      // the server is gone already
    }
    if (server.exitCode === null) {
      const exited = new Promise((r) => server.once("exit", r));
      server.kill("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => { timer = setTimeout(r, 10_000); })]);
      clearTimeout(timer);
      if (server.exitCode === null) server.kill("SIGKILL");
    }
  };
  try {
    await waitForServer(base, token, server, () => serverLog, timeoutMs);
  } catch (e) {
    await stop();
    throw e;
  }
  return { base, token, log: () => serverLog, stop };
}

/** Saves a screenshot of `el` into `dir` and checks it is a real image of some size. */
export async function screenshot(el: Locator, dir: string, name: string): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const shot = path.join(dir, name);
  await el.scrollIntoViewIfNeeded();
  await el.screenshot({ path: shot });
  const png = fs.readFileSync(shot);
  assert.equal(png.subarray(1, 4).toString("latin1"), "PNG");
  assert.ok(png.length > 5_000, `screenshot of ${png.length} bytes`);
  return shot;
}
