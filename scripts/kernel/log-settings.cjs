"use strict";
/**
 * Preloaded into the tslab kernel (`node --require`, see kernelSpec in scripts/lib/jupyter.ts): logs the
 * FTGEN_* settings the kernel starts with (kernel-lib/src/util/settings.ts) to its stderr, which is the
 * Jupyter server's log, not a notebook's output. Without a built kernel-lib it logs nothing.
 */
const path = require("node:path");
try {
  const { settingsReport } = require(path.join(__dirname, "..", "..", "kernel-lib", "dist", "util", "settings.js"));
  const set = settingsReport();
  process.stderr.write(set.length ? `ftgen kernel: settings:\n${set.map((l) => `  ${l}\n`).join("")}` : "ftgen kernel: no FTGEN_* settings; every default holds (kernel-lib/src/util/settings.ts)\n");
} catch {
  // kernel-lib not built yet: npm run setup builds it.
}
