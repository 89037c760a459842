/**
 * Rich display in the tslab kernel. tslab's public `display.*` sends one mime type per call;
 * a bundle (several representations of one output, the frontend picking the richest it can
 * render) needs its internal `lastWriteDisplayData`. Outside a kernel we print the text/plain part.
 */

/** Mime type → content. JSON mime types carry objects; text ones strings; images base64 strings. */
export type MimeBundle = Record<string, unknown>;

interface DisplayPayload {
  data: MimeBundle;
  metadata: Record<string, unknown>;
  transient: { display_id?: string };
}
type WriteDisplayData = (payload: DisplayPayload, update: boolean) => void;

function kernelWriter(): WriteDisplayData | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const jupyter = require("tslab/dist/jupyter") as { lastWriteDisplayData: WriteDisplayData | null };
    return jupyter.lastWriteDisplayData;
  } catch {
    return null;
  }
}

/** True inside a running tslab kernel (a cell is executing). */
export function inKernel(): boolean {
  return kernelWriter() !== null;
}

/** Display one output with several mime types at once. */
export function displayBundle(data: MimeBundle, metadata: Record<string, unknown> = {}): void {
  const write = kernelWriter();
  if (!write) {
    const text = data["text/plain"];
    console.log(typeof text === "string" ? text : JSON.stringify(text));
    return;
  }
  write({ data, metadata, transient: {} }, false);
}

/** An output that can be replaced in place (progress bars, live tables). */
export class LiveDisplay {
  private readonly id = `ftgen-${Math.random().toString(16).slice(2)}-${Date.now().toString(16)}`;
  private shown = false;

  /** Show `data`, replacing what this display showed before. */
  update(data: MimeBundle): void {
    const write = kernelWriter();
    if (!write) return;
    write({ data, metadata: {}, transient: { display_id: this.id } }, this.shown);
    this.shown = true;
  }
}

/** Escape text for HTML. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Display pre-formatted text in a box: prompts, with their newlines and spaces kept visible. */
export function showText(text: string, title?: string): void {
  const head = title ? `<div style="font-weight:bold;margin-bottom:4px">${escapeHtml(title)}</div>` : "";
  const html = `${head}<pre style="white-space:pre-wrap;border:1px solid #ccc;padding:6px;background:#fafafa">${escapeHtml(text)}</pre>`;
  displayBundle({ "text/html": html, "text/plain": (title ? `${title}\n` : "") + text });
}
