/**
 * Set-up steps shared by `npm run setup`, `npm run study`, `npm run notebook` and `npm test`.
 * Each step checks first and acts only when something is missing, so a second run is fast and
 * changes nothing. Where a step cannot act (not root, no apt), it stops with one message naming
 * the exact command to run.
 */
import fs from "node:fs";
import path from "node:path";
import { kernelDir, kernelPreload, kernelSpec, tslabBin } from "./jupyter";
import { projectRoot } from "../../kernel-lib/src/util/paths";
import { FetchFailures, fetchPaperData, type FetchOptions, type FileResult } from "../../kernel-lib/src/data/fetch";
import { ensureNativeAddon } from "./native";
import { SetupError, ensureAptPackages, run } from "./apt";
import { ensureLab } from "./lab";
import { setting } from "../../kernel-lib/src/util/settings";

export { SetupError, ensureAptPackages } from "./apt";

/** Debian packages for headless notebooks and `npm run notebook`, with the Python module each brings. */
export const JUPYTER_PACKAGES: Readonly<Record<string, string>> = {
  "jupyter-client": "jupyter_client",
  "python3-nbclient": "nbclient",
  "python3-nbformat": "nbformat",
  "jupyter-nbconvert": "nbconvert",
  "jupyter-notebook": "notebook",
};
/**
 * Headless Chromium for static plots: the image/png of every displayed figure and exportFigure's
 * PNG/SVG/PDF (driven by playwright-core; fonts come with its fontconfig dependency).
 */
export const CHROMIUM_PACKAGES: Readonly<Record<string, string>> = { chromium: "" };
/** ONNX's own checker, which the tests run on exported graphs (optional: without it that test skips). */
export const ONNX_CHECKER_PACKAGES: Readonly<Record<string, string>> = { "python3-onnx": "onnx" };

/** Register the tslab kernel under the project's .jupyter prefix (rewritten only when it changed). */
export function ensureKernel(log: (s: string) => void = console.log): void {
  const spec = kernelSpec();
  for (const file of [tslabBin(), kernelPreload()]) {
    if (!fs.existsSync(file)) throw new SetupError(`ftgen: ${file} is missing; run: npm ci`);
  }
  const file = path.join(kernelDir(), "kernel.json");
  const text = JSON.stringify(spec, null, 1) + "\n";
  if (fs.existsSync(file) && fs.readFileSync(file, "utf8") === text) return;
  fs.mkdirSync(kernelDir(), { recursive: true });
  fs.writeFileSync(file, text);
  log(`ftgen: registered the tslab kernel at ${path.relative(projectRoot(), file)}`);
}

/** Build kernel-lib/dist when any source is newer than the build (tslab imports the built library). */
export function ensureBuilt(log: (s: string) => void = console.log): void {
  const lib = path.join(projectRoot(), "kernel-lib");
  const stamp = path.join(lib, "dist", "index.js");
  const newest = (dir: string): number =>
    fs.readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
      const p = path.join(dir, e.name);
      return Math.max(m, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
    }, 0);
  if (fs.existsSync(stamp) && fs.statSync(stamp).mtimeMs >= newest(path.join(lib, "src"))) return;
  log("ftgen: building kernel-lib");
  const tsc = path.join(projectRoot(), "node_modules", "typescript", "bin", "tsc");
  const r = run(process.execPath, [tsc, "-p", lib]);
  if (r.status !== 0) throw new SetupError("ftgen: kernel-lib does not compile; see the errors above");
}

/** Fetch and verify the paper's data (mirror: the given folder, else FTGEN_DATA_MIRROR; else download). */
export async function ensureData(opts: Omit<FetchOptions, "log" | "dataDir"> = {}, log: (s: string) => void = console.log): Promise<FileResult[]> {
  const mirror = opts.mirror ?? setting("dataMirror");
  const resolved = mirror ? path.resolve(mirror) : undefined;
  if (resolved && !fs.existsSync(resolved)) throw new SetupError(`ftgen: data mirror ${resolved} does not exist (FTGEN_DATA_MIRROR or --mirror)`);
  try {
    return await fetchPaperData({ ...opts, mirror: resolved, log });
  } catch (e) {
    // The hint fits the failure: files refused for their blob ids, or missing from a given mirror, or no mirror at all.
    const hint = e instanceof FetchFailures && e.refused
      ? "Refused files differ from the paper's at the pinned commit (data/manifest.json lists their git blob ids): replace them with the originals"
      : resolved
        ? `The mirror ${resolved} lacks these files: copy them from the paper repository's data/ folder at the pinned commit`
        : "To use a local copy of the paper's data/ folder: FTGEN_DATA_MIRROR=/path/to/data npm run data";
    throw new SetupError(`ftgen: ${(e as Error).message}\n  ${hint}`);
  }
}

/**
 * Everything the notebooks need (Chromium included unless `chromium: false`), and JupyterLab for
 * `npm run notebook` unless `lab: false` (optional: where pip cannot install it, one line says so).
 */
export async function setupAll(opts: { chromium?: boolean; data?: boolean; lab?: boolean } = {}): Promise<void> {
  ensureAptPackages(JUPYTER_PACKAGES);
  if (opts.chromium !== false) ensureAptPackages(CHROMIUM_PACKAGES);
  try {
    ensureAptPackages(ONNX_CHECKER_PACKAGES);
  } catch (e) {
    console.log(`ftgen: the ONNX checker test will skip: ${(e as Error).message}`);
  }
  ensureKernel();
  ensureBuilt();
  ensureNativeAddon();
  if (opts.lab !== false) ensureLab();
  if (opts.data !== false) {
    const results = await ensureData();
    const unavailable = results.filter((r) => r.status === "unavailable");
    if (unavailable.length) console.log(`ftgen: paper data ready, except ${unavailable.map((r) => r.entry.path).join(", ")} (unavailable: ${unavailable[0].detail})`);
  }
}
