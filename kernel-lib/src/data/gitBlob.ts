/** Git blob ids: SHA-1 of "blob <size>\0" + content, what `git hash-object FILE` prints. */
import { createHash } from "node:crypto";

export function gitBlobId(content: Uint8Array): string {
  const h = createHash("sha1");
  h.update(`blob ${content.byteLength}\0`);
  h.update(content);
  return h.digest("hex");
}
