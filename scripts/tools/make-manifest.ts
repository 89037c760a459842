/**
 * Builds data/manifest.json from a TREE.tsv listing of the paper repository's data/ folder
 * (columns: blob id, size or "BAD", path, present-in-mirror). Run once; the output is committed.
 *   npx tsx scripts/tools/make-manifest.ts ../shared/paper-data/TREE.tsv
 */
import fs from "node:fs";
import { describePath, rawUrl, PAPER_REPO, PAPER_COMMIT, type Manifest, type ManifestEntry } from "../../kernel-lib/src/data/manifest";
import { manifestPath } from "../../kernel-lib/src/util/paths";

const treeFile = process.argv[2];
if (!treeFile) {
  console.error("usage: tsx scripts/tools/make-manifest.ts PATH/TO/TREE.tsv");
  process.exit(2);
}
const files: ManifestEntry[] = [];
for (const [n, line] of fs.readFileSync(treeFile, "utf8").split("\n").entries()) {
  if (line.startsWith("#") || line.trim() === "") continue;
  const [blob, size, relPath, present] = line.split("\t");
  if (!/^[0-9a-f]{40}$/.test(blob) || !relPath) throw new Error(`${treeFile}: line ${n + 1}: not "blob<TAB>size<TAB>path<TAB>present"`);
  const bytes = /^\d+$/.test(size) ? Number(size) : null;
  files.push({ path: relPath, ...describePath(relPath), bytes, blob, url: rawUrl(relPath), ...(present === "no" ? { optional: true } : {}) });
}
const manifest: Manifest = { repo: PAPER_REPO, commit: PAPER_COMMIT, files };
fs.writeFileSync(manifestPath(), JSON.stringify(manifest, null, 1) + "\n");
console.log(`wrote ${manifestPath()}: ${files.length} files`);
