/**
 * Progress for long cells and commands: an updating bar in notebooks (one display, replaced in
 * place), a one-line bar on a terminal, and a line every 10% elsewhere (logs, CI).
 */
import { inKernel, LiveDisplay, escapeHtml } from "./display";

export interface ProgressBar {
  /** Report `done` of `total`, with a short status text (loss, tokens/s, ETA). */
  update(done: number, total: number, status?: string): void;
  /** Mark finished, with a closing text. */
  finish(status?: string): void;
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, "0")}m`;
}

export function progressBar(label: string): ProgressBar {
  if (inKernel()) {
    const live = new LiveDisplay();
    let last = 0;
    const show = (done: number, total: number, status: string, force: boolean): void => {
      const now = Date.now();
      if (!force && now - last < 250) return; // the frontend need not redraw more than 4×/s
      last = now;
      const pct = total > 0 ? (100 * done) / total : 0;
      live.update({
        "text/html": `<div style="font-family:monospace"><b>${escapeHtml(label)}</b> <progress value="${done}" max="${total}" style="width:240px"></progress> ${done}/${total} (${pct.toFixed(0)}%) ${escapeHtml(status)}</div>`,
        "text/plain": `${label} ${done}/${total} ${status}`,
      });
    };
    let lastDone = 0, lastTotal = 0;
    return {
      update: (done, total, status = "") => { lastDone = done; lastTotal = total; show(done, total, status, done === total); },
      finish: (status = "done") => show(lastTotal || lastDone, lastTotal || lastDone, status, true),
    };
  }
  if (process.stderr.isTTY) {
    return {
      update: (done, total, status = "") => {
        const width = 30, filled = total > 0 ? Math.round((width * done) / total) : 0;
        process.stderr.write(`\r${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total} ${status}\x1b[K`);
      },
      finish: (status = "done") => process.stderr.write(`  ${status}\n`),
    };
  }
  let lastDecile = -1;
  return {
    update: (done, total, status = "") => {
      const decile = total > 0 ? Math.floor((10 * done) / total) : 0;
      if (decile !== lastDecile) {
        lastDecile = decile;
        console.log(`${label}: ${done}/${total} ${status}`);
      }
    },
    finish: (status = "done") => console.log(`${label}: ${status}`),
  };
}
