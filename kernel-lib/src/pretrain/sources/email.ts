/**
 * Plain-text e-mail (the SpamAssassin public corpus): headers, subject and a cleaned body.
 * Only single-part text/plain messages in 7bit/8bit (or unstated) encoding are used; everything
 * else (HTML, multipart, base64, quoted-printable, encoded subjects) is skipped, not repaired.
 */
import { tidy } from "./text";

export interface Email { subject: string; body: string }

/** Header fields of a raw message (continuation lines folded in), names lower-cased. */
export function emailHeaders(raw: string): { headers: Map<string, string>; body: string } {
  const text = raw.replace(/\r\n?/g, "\n");
  const cut = text.indexOf("\n\n");
  const head = cut < 0 ? text : text.slice(0, cut);
  const body = cut < 0 ? "" : text.slice(cut + 2);
  const headers = new Map<string, string>();
  let last = "";
  for (const line of head.split("\n")) {
    if (/^\s/.test(line) && last) { headers.set(last, `${headers.get(last)} ${line.trim()}`); continue; }
    const m = /^([!-9;-~]+):\s*(.*)$/.exec(line);
    if (!m) continue; // the mbox "From " line and junk
    last = m[1].toLowerCase();
    if (!headers.has(last)) headers.set(last, m[2]);
  }
  return { headers, body };
}

/** Subject without "Re:"/"Fwd:" prefixes and mailing-list tags like "[SAdev]". */
export function cleanSubject(subject: string): string {
  let s = subject.trim();
  for (;;) {
    const t = s.replace(/^(re|fw|fwd|aw)\s*(\[\d+\])?\s*:\s*/i, "").replace(/^\[[^\]]{1,40}\]\s*/, "");
    if (t === s) break;
    s = t;
  }
  return s.replace(/\s+/g, " ").trim();
}

/**
 * The author's own text of a body: quoted lines (">"), attribution lines ("... wrote:"), forwarded
 * or original-message blocks, signatures ("-- ") and mailing-list footers (a line of "_" or "-")
 * are dropped; so are lines with a URL or an e-mail address, and lines with few letters.
 */
export function cleanBody(body: string): string {
  const kept: string[] = [];
  for (const line of body.replace(/\r\n?/g, "\n").split("\n")) {
    const t = line.trim();
    if (/^(-- ?|_{10,}|-{10,}|={10,})$/.test(t) || /^-+\s*(original message|forwarded message)/i.test(t) || /^begin pgp signature/i.test(t)) break;
    if (/^[>|:]/.test(t) || /wrote:\s*$/.test(t) || /^on .* (at|,) .*$/i.test(t) && /wrote|said/i.test(t)) continue;
    if (/(https?:\/\/|www\.|\S@\S)/i.test(t)) continue;
    if (t && (t.match(/\p{L}/gu)?.length ?? 0) < t.length * 0.6) continue;
    kept.push(t);
  }
  return tidy(kept.join("\n"));
}

/** Subject and cleaned body of a plain-text message, or null when it is not plain text. */
export function parseEmail(raw: string): Email | null {
  const { headers, body } = emailHeaders(raw);
  const type = (headers.get("content-type") ?? "text/plain").toLowerCase();
  if (!type.startsWith("text/plain")) return null;
  const enc = (headers.get("content-transfer-encoding") ?? "7bit").toLowerCase().trim();
  if (!/^(7bit|8bit)$/.test(enc)) return null;
  const subject = headers.get("subject") ?? "";
  if (/=\?/.test(subject)) return null;
  return { subject: cleanSubject(subject), body: cleanBody(body) };
}
