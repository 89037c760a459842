/**
 * Progress for long cells and commands: an updating bar in notebooks (one display, replaced in
 * place), a one-line bar on a terminal, and a line every 10% elsewhere (logs, CI).
 *
 *   const bar = ftgen.progressBar("FT sentiment");
 *   await ftgen.finetune({ ...spec, onProgress: bar.onProgress });   // step, loss, tokens/s, ETA
 *   bar.finish();
 *
 * In tslab the bar is one output with a display_id: the first report sends display_data, later
 * ones update_display_data with the same id, which the frontend (and nbclient, in the saved
 * notebook) folds into that one output. Updates are limited to 4 a second; one that comes sooner is
 * kept and sent when the interval is up (or by finish), so the last state is always what shows.
 */
import { inKernel, LiveDisplay, escapeHtml } from "./display";
import type { Progress } from "../train/loop";

export interface ProgressBar {
  /** Report `done` of `total`, with a short status text (loss, tokens/s, ETA). */
  update(done: number, total: number, status?: string): void;
  /** A training loop's progress callback (`onProgress: bar.onProgress`): step, loss, tokens/s, ETA. */
  readonly onProgress: (p: Progress) => void;
  /** Mark finished, with a closing text (appended to the last status). */
  finish(status?: string): void;
}

export interface ProgressBarOptions {
  /** Word before the count, e.g. "step" (onProgress uses "step" when this is not given). */
  unit?: string;
  /** Where the terminal and log forms write (default process.stderr; a TTY gets the one-line bar). */
  stream?: { write(s: string): unknown; isTTY?: boolean };
  /** Force the form instead of detecting it. */
  mode?: "kernel" | "tty" | "log";
  /** Least milliseconds between two redraws (default 250 in a kernel, 100 on a terminal). */
  minIntervalMs?: number;
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** "loss 2.3456 · 1,234 tokens/s · ETA 1m05s": the status of a training step. */
export function trainingStatus(p: Progress): string {
  const rate = Number.isFinite(p.tokensPerSecond) ? Math.round(p.tokensPerSecond).toLocaleString("en-US") : "?";
  return `loss ${p.loss.toFixed(4)} · ${rate} tokens/s · ETA ${formatSeconds(p.etaSeconds)}`;
}

interface BarState {
  done: number;
  total: number;
  status: string;
}

function countText(s: BarState, unit: string): string {
  const pct = s.total > 0 ? (100 * s.done) / s.total : 0;
  return `${unit ? unit + " " : ""}${s.done}/${s.total} (${pct.toFixed(0)}%)`;
}

function textBar(s: BarState, width = 30): string {
  const filled = s.total > 0 ? Math.min(width, Math.max(0, Math.round((width * s.done) / s.total))) : 0;
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
}

/** The one line the terminal and text/plain forms show. */
function lineText(label: string, s: BarState, unit: string): string {
  return `${label} ${textBar(s)} ${countText(s, unit)}${s.status ? " " + s.status : ""}`;
}

function html(label: string, s: BarState, unit: string): string {
  return `<div style="font-family:monospace"><b>${escapeHtml(label)}</b> <progress value="${s.done}" max="${s.total}" style="width:240px"></progress> ${escapeHtml(countText(s, unit))} ${escapeHtml(s.status)}</div>`;
}

export function progressBar(label: string, opts: ProgressBarOptions = {}): ProgressBar {
  const stream = opts.stream ?? process.stderr;
  const mode = opts.mode ?? (inKernel() ? "kernel" : stream.isTTY ? "tty" : "log");
  let unit = opts.unit ?? "";
  const state: BarState = { done: 0, total: 0, status: "" };
  let finished = false;

  // How one state is drawn, by form; `final` is the finishing draw.
  let draw: (final: boolean) => void;
  let minInterval = opts.minIntervalMs ?? 100;
  if (mode === "kernel") {
    minInterval = opts.minIntervalMs ?? 250; // the frontend need not redraw more than 4×/s
    const live = new LiveDisplay();
    draw = () => live.update({ "text/html": html(label, state, unit), "text/plain": lineText(label, state, unit) });
  } else if (mode === "tty") {
    draw = (final) => { stream.write(`\r${lineText(label, state, unit)}\x1b[K${final ? "\n" : ""}`); };
  } else {
    minInterval = opts.minIntervalMs ?? 0;
    let lastDecile = -1;
    draw = (final) => {
      const decile = state.total > 0 ? Math.floor((10 * state.done) / state.total) : 0;
      if (!final && decile === lastDecile) return;
      lastDecile = decile;
      stream.write(`${label}: ${countText(state, unit)}${state.status ? " " + state.status : ""}\n`);
    };
  }

  let lastDraw = -Infinity;
  let pending: ReturnType<typeof setTimeout> | undefined;
  const flush = (final: boolean): void => {
    if (pending !== undefined) { clearTimeout(pending); pending = undefined; }
    lastDraw = Date.now();
    draw(final);
  };

  const update = (done: number, total: number, status = ""): void => {
    if (finished) return;
    state.done = done; state.total = total; state.status = status;
    const wait = minInterval - (Date.now() - lastDraw);
    if (wait <= 0 || done >= total) flush(false);
    else if (pending === undefined) {
      // Too soon: draw the latest state when the interval is up (unless a later draw comes first).
      pending = setTimeout(() => { pending = undefined; lastDraw = Date.now(); draw(false); }, wait);
      pending.unref?.();
    }
  };

  return {
    update,
    onProgress: (p: Progress) => {
      if (opts.unit === undefined) unit = "step";
      update(p.step, p.totalSteps, trainingStatus(p));
    },
    finish: (status = "done") => {
      if (finished) return;
      finished = true;
      state.status = [state.status, status].filter((s) => s).join(" · ");
      flush(true);
    },
  };
}
