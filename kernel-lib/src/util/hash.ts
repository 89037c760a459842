import crypto from "node:crypto";
import fs from "node:fs";

/** Hex digest of `data` (algo: "sha1", "sha256", …). */
export function hexDigest(algo: string, data: string | Buffer): string {
  return crypto.createHash(algo).update(data).digest("hex");
}

/** Hex digest of a file's bytes, read in 4 MiB pieces (for files too large to hold twice). */
export function fileDigest(file: string, algo = "sha256"): string {
  const h = crypto.createHash(algo);
  const fd = fs.openSync(file, "r");
  const buf = Buffer.alloc(1 << 22);
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest("hex");
}
