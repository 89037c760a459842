/**
 * The project's Jupyter: which Python runs it, where the project's kernel is registered, and the
 * environment every Jupyter process of ours gets. Registration lives under .jupyter/ inside the
 * project, so no global or per-user Jupyter state is touched.
 */
import fs from "node:fs";
import path from "node:path";
import { projectRoot } from "../../kernel-lib/src/util/paths";
import { setting } from "../../kernel-lib/src/util/settings";

/** Debian's Python, which has Debian's Jupyter packages (a pyenv `python3` on PATH does not). */
export function jupyterPython(): string {
  const python = setting("python");
  if (python) return python;
  return fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

export function jupyterPrefix(): string {
  return path.join(projectRoot(), ".jupyter");
}

/** Where the kernelspec goes: {prefix}/share/jupyter/kernels/tslab. */
export function kernelDir(): string {
  return path.join(jupyterPrefix(), "share", "jupyter", "kernels", "tslab");
}

/** Environment for Jupyter processes: our kernel first, runtime and data files inside the project. */
export function jupyterEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const data = path.join(jupyterPrefix(), "share", "jupyter");
  return {
    ...process.env,
    JUPYTER_PATH: data,
    JUPYTER_DATA_DIR: data,
    JUPYTER_RUNTIME_DIR: path.join(jupyterPrefix(), "runtime"),
    FTGEN_ROOT: projectRoot(),
    ...extra,
  };
}

/** tslab from the project's own node_modules. */
export function tslabBin(): string {
  return path.join(projectRoot(), "node_modules", "tslab", "bin", "tslab");
}

/** Preloaded into the kernel: queues each zeromq socket's sends (tslab's overlap and lose the shell). */
export function kernelPreload(): string {
  return path.join(projectRoot(), "scripts", "kernel", "zmq-send-queue.cjs");
}

/** Preloaded into the kernel: it exits when the process that started it is gone (no orphaned kernels). */
export function kernelParentWatch(): string {
  return path.join(projectRoot(), "scripts", "kernel", "parent-watch.cjs");
}

/** Preloaded into the kernel: it logs the FTGEN_* settings it starts with (kernel-lib/src/util/settings.ts). */
export function kernelSettingsLog(): string {
  return path.join(projectRoot(), "scripts", "kernel", "log-settings.cjs");
}

/** The kernelspec the project registers: tslab with the send queue, the parent watch and the settings log preloaded, run by this Node. */
export function kernelSpec(): Record<string, unknown> {
  return {
    argv: [process.execPath, "--require", kernelPreload(), "--require", kernelParentWatch(), "--require", kernelSettingsLog(), tslabBin(), "kernel", "--config-path", "{connection_file}"],
    display_name: "TypeScript (ftgen)",
    language: "typescript",
  };
}
