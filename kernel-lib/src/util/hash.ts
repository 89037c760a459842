import crypto from "node:crypto";

/** Hex digest of `data` (algo: "sha1", "sha256", …). */
export function hexDigest(algo: string, data: string | Buffer): string {
  return crypto.createHash(algo).update(data).digest("hex");
}
