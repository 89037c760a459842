/**
 * The result store: one record per evaluation (model, test set, k, map, …), kept under a key that
 * is a content hash of everything that affects the result, so that a rerun reuses exactly the
 * records whose inputs did not change and recomputes the rest.
 *
 *   <dir>/<key>.json          metrics, CI, spec, model, engine, timings (no per-item rows)
 *   <dir>/<key>.items.jsonl   one line per test item: position, prompt hash, output, gold, score
 *
 * Both are written atomically, the items first: a record exists only once its items do, so a run
 * killed at any moment leaves whole records or none.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../util/atomic";
import { projectRoot } from "../util/paths";
import { findEntry } from "../data/manifest";
import { TASKS } from "../data/tasks";
import type { CausalLM } from "../evaluate/lm";
import { evaluate, type EvalResult, type EvalSpec, type ItemResult } from "../evaluate/evaluate";

/**
 * Bump when evaluate() changes what it computes (prompt building, scoring, metrics): every stored
 * record then misses and is recomputed.
 */
export const EVAL_CODE_VERSION = 1;

/** JSON with sorted keys, so equal objects hash equally whatever their key order. */
export function stableJson(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(stableJson).join(",")}]`;
  if (x && typeof x === "object") {
    const o = x as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`).join(",")}}`;
  }
  return JSON.stringify(x);
}

export function sha1(text: string | Uint8Array): string {
  return createHash("sha1").update(text).digest("hex");
}

/**
 * A model folder's identity: the hash of its weights, config and tokenizer files. A transformers.js
 * folder without model.safetensors (a Hub model in ONNX) is identified by its onnx/ files instead.
 */
export function folderHash(dir: string): string {
  const h = createHash("sha1");
  const onnxOnly = !fs.existsSync(path.join(dir, "model.safetensors")) && fs.existsSync(path.join(dir, "onnx"));
  const files = onnxOnly
    ? ["config.json", "tokenizer.json", ...fs.readdirSync(path.join(dir, "onnx")).sort().map((f) => path.join("onnx", f))]
    : ["config.json", "model.safetensors", "tokenizer.json"];
  for (const f of files) {
    const p = path.join(dir, f);
    if (!fs.existsSync(p)) throw new Error(`${dir}: not a model folder (no ${f})`);
    h.update(f).update(fs.readFileSync(p));
  }
  return h.digest("hex");
}

/** Stored without the per-item rows, which live in the .items.jsonl beside it. */
export type StoredResult = Omit<EvalResult, "items"> & { key: string; modelKey: string };

export class ResultStore {
  /** @param dir default: FTGEN_RESULTS_DIR, else results/ in the project (committed with the notebooks). */
  constructor(readonly dir: string = process.env.FTGEN_RESULTS_DIR ?? path.join(projectRoot(), "results")) {}

  /**
   * The key of evaluating the model `modelKey` on `spec`: hashes the model, the spec, the blob ids
   * of the test and few-shot files it reads, and the evaluation code version.
   */
  key(modelKey: string, spec: EvalSpec): string {
    const kind = TASKS[spec.task].kind;
    const files = [findEntry(spec.task, spec.dataset, "test").blob, spec.k > 0 ? findEntry(spec.task, spec.dataset, "few_shot").blob : null];
    const s = { ...spec, maxNewTokens: kind === "generation" ? spec.maxNewTokens ?? 60 : undefined, bootstrapSeed: spec.bootstrapSeed ?? 0 };
    return sha1(stableJson({ modelKey, spec: s, files, code: EVAL_CODE_VERSION })).slice(0, 24);
  }

  private file(key: string, ext: string): string {
    return path.join(this.dir, `${key}${ext}`);
  }

  /** The stored record, or undefined. A record whose file is unreadable is reported by name. */
  get(key: string): StoredResult | undefined {
    const f = this.file(key, ".json");
    if (!fs.existsSync(f)) return undefined;
    try {
      return JSON.parse(fs.readFileSync(f, "utf8")) as StoredResult;
    } catch (e) {
      throw new Error(`${f}: not a valid result record (${(e as Error).message}); delete it to recompute`);
    }
  }

  /** The per-item rows of a stored record. */
  items(key: string): ItemResult[] {
    const f = this.file(key, ".items.jsonl");
    return fs.readFileSync(f, "utf8").split("\n").filter(Boolean).map((line, i) => {
      try {
        return JSON.parse(line) as ItemResult;
      } catch {
        throw new Error(`${f}: line ${i + 1} is not JSON`);
      }
    });
  }

  put(key: string, modelKey: string, result: EvalResult): StoredResult {
    const { items, ...rest } = result;
    writeFileAtomic(this.file(key, ".items.jsonl"), items.map((x) => JSON.stringify(x)).join("\n") + "\n");
    const stored: StoredResult = { ...rest, key, modelKey };
    writeFileAtomic(this.file(key, ".json"), JSON.stringify(stored, null, 1) + "\n");
    return stored;
  }

  /** Every record in the store. */
  all(): StoredResult[] {
    if (!fs.existsSync(this.dir)) return [];
    return fs.readdirSync(this.dir).filter((f) => f.endsWith(".json")).sort().map((f) => this.get(f.slice(0, -5)) as StoredResult);
  }

  /** The index entry of a fine-tuned model folder (by the folder's name), or undefined. */
  model(folderKey: string): ModelRecord | undefined {
    const f = path.join(this.dir, "models", `${folderKey}.json`);
    if (!fs.existsSync(f)) return undefined;
    try {
      return JSON.parse(fs.readFileSync(f, "utf8")) as ModelRecord;
    } catch (e) {
      throw new Error(`${f}: not a valid model record (${(e as Error).message})`);
    }
  }

  /** The folder keys of every fine-tuned model in the index. */
  modelKeys(): string[] {
    const d = path.join(this.dir, "models");
    return fs.existsSync(d) ? fs.readdirSync(d).filter((f) => f.endsWith(".json")).sort().map((f) => f.slice(0, -5)) : [];
  }

  /** Records a fine-tuned folder's weights hash (one file a model: workers never write the same file). */
  putModel(folderKey: string, rec: ModelRecord): void {
    writeFileAtomic(path.join(this.dir, "models", `${folderKey}.json`), JSON.stringify(rec, null, 1) + "\n");
  }
}

/**
 * What the store keeps of a fine-tuned model, under its recipe key (runner.ts modelRecipe): the
 * recipe itself, and the hash of the weights it gave, a check rather than a key. Training the same
 * recipe on another CPU (other BLAS kernels) or thread count gives weights that differ in the last
 * bits: the records stay keyed by the recipe, and the runner says when the weights differ. Also the
 * training summary when the runner trained it.
 */
export interface ModelRecord {
  id: string;
  /** The recipe key: the modelKey of the model's records. */
  modelKey: string;
  /** What decides the weights (hashed into modelKey). */
  recipe?: Record<string, unknown>;
  /** folderHash of the weights this recipe gave when its records were computed. */
  weightsHash?: string;
  /** Where and how it was trained (CPU model, BLAS core type and threads). */
  machine?: Record<string, string | number>;
  examples?: number;
  steps?: number;
  finalLoss?: number;
  seconds?: number;
}

/**
 * Cached-only mode (FTGEN_CACHED_ONLY=1, set by `npm run figures`): nothing is trained or evaluated;
 * a missing model or record is an error that says to run the study.
 */
export function cachedOnly(): boolean {
  return process.env.FTGEN_CACHED_ONLY === "1";
}

/**
 * evaluate() through the store: the stored record when its key matches, else a fresh evaluation,
 * stored. `modelKey` identifies the model's weights (folderHash for a model folder). `lm` may be a
 * function that makes the model, called only on a miss (loading a model is then skipped on hits).
 */
export async function evaluateCached(lm: CausalLM | (() => CausalLM | Promise<CausalLM>), modelKey: string, spec: EvalSpec, store = new ResultStore()): Promise<StoredResult & { cached: boolean }> {
  const key = store.key(modelKey, spec);
  const hit = store.get(key);
  if (hit) return { ...hit, cached: true };
  if (cachedOnly()) throw new Error(`${path.join(store.dir, key + ".json")}: no stored result for ${spec.dataset} k=${spec.k} map ${spec.map} (model ${modelKey.slice(0, 12)}); run npm run study first`);
  return { ...store.put(key, modelKey, await evaluate(typeof lm === "function" ? await lm() : lm, spec)), cached: false };
}
