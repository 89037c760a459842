/** Where things live. Both src/util and dist/util sit two levels below kernel-lib/. */
import path from "node:path";
import { setting } from "./settings";

/** The project root (the folder holding package.json, notebooks/, data/). FTGEN_ROOT overrides. */
export function projectRoot(): string {
  return setting("root") ?? path.resolve(__dirname, "..", "..", "..");
}

/** Cache of the paper's data files, laid out as the paper repository's data/ folder. */
export function paperDataDir(): string {
  return setting("dataDir") ?? path.join(projectRoot(), "data", "paper");
}

/** The committed manifest of the paper's data files (FTGEN_MANIFEST overrides, for tests). */
export function manifestPath(): string {
  return setting("manifest") ?? path.join(projectRoot(), "data", "manifest.json");
}

/** The base model folder the study starts from (FTGEN_BASE_MODEL overrides the shipped one). */
export function baseModelDir(): string {
  return setting("baseModel") ?? path.join(projectRoot(), "data", "base-model");
}

/** Models fetched or converted for the study (SmolLM2, GGUF conversions): FTGEN_MODELS_DIR, else .cache/models. */
export function modelsCacheDir(): string {
  return setting("modelsDir") ?? path.join(projectRoot(), ".cache", "models");
}

/**
 * A path as stored in committed outputs (records' model ids): relative to the project root when it
 * lies inside it, so a clone elsewhere does not show this machine's folders; absolute otherwise.
 */
export function projectRelative(p: string): string {
  const rel = path.relative(projectRoot(), path.resolve(p));
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : path.resolve(p);
}
