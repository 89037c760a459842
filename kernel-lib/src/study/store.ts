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
import { removeStaleTemps, writeFileAtomic } from "../util/atomic";
import { projectRoot } from "../util/paths";
import { TestSet, testSetOf } from "../evaluate/test-set";
import type { CausalLM } from "../evaluate/lm";
import { evaluate, type EvalResult, type EvalSpec, type ItemResult } from "../evaluate/evaluate";
import { setting } from "../util/settings";

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
 * folder without model.safetensors (a Hub model in ONNX) is identified by its onnx/ files instead,
 * and a LoRA adapter folder by its adapter weights and settings.
 */
export function folderHash(dir: string): string {
  const h = createHash("sha1");
  // A LoRA adapter folder (PEFT's files): its weights and its settings, not the path to its base
  // (which names where the base lay; the base's identity is in the model's recipe key).
  const adapterConfig = path.join(dir, "adapter_config.json");
  if (fs.existsSync(adapterConfig)) {
    const weights = path.join(dir, "adapter_model.safetensors");
    if (!fs.existsSync(weights)) throw new Error(`${dir}: not an adapter folder (no adapter_model.safetensors)`);
    const { base_model_name_or_path: _base, ...config } = JSON.parse(fs.readFileSync(adapterConfig, "utf8")) as Record<string, unknown>;
    return h.update("adapter_config.json").update(stableJson(config)).update("adapter_model.safetensors").update(fs.readFileSync(weights)).digest("hex");
  }
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

/** What a record keeps of its items file, to know it is whole: its sha256 and its line count. */
export interface ItemsStamp {
  sha256: string;
  lines: number;
}

/** Stored without the per-item rows, which live in the .items.jsonl beside it (stamped in itemsFile). */
export type StoredResult = Omit<EvalResult, "items"> & { key: string; modelKey: string; itemsFile?: ItemsStamp };

/** The stamp of an items file's text. */
export function itemsStamp(text: string): ItemsStamp {
  return { sha256: createHash("sha256").update(text).digest("hex"), lines: text.split("\n").filter(Boolean).length };
}

/** A stored record, or why it cannot be used (its items file is missing, cut or changed). */
export type Lookup = { record: StoredResult; problem?: undefined } | { record?: undefined; problem: string } | { record?: undefined; problem?: undefined };

/** FTGEN_RESULTS_DIR, else the project's committed results/. */
function defaultResultsDir(): string {
  return setting("resultsDir") ?? path.join(projectRoot(), "results");
}

/**
 * A store of the default folder reads the committed results/ too where FTGEN_RESULTS_DIR points
 * elsewhere (a quick profile's folder): a notebook there still finds the committed records of the
 * other subject (SmolLM2's study). Keys are content hashes, so a record found there is the one the
 * folder itself would hold.
 */
function defaultReadFrom(dir: string): string[] {
  const committed = path.join(projectRoot(), "results");
  return dir === defaultResultsDir() && path.resolve(dir) !== path.resolve(committed) ? [committed] : [];
}

export class ResultStore {
  /**
   * @param dir default: FTGEN_RESULTS_DIR, else results/ in the project (committed with the notebooks).
   * @param readFrom folders read where `dir` lacks a record or model entry, never written (a shard
   *   writes its own folder and reuses the committed results/; merge.ts brings the shards together).
   */
  constructor(readonly dir: string = defaultResultsDir(), readonly readFrom: readonly string[] = defaultReadFrom(dir)) {}

  /** The folder that holds `key`'s record: dir, else the first of readFrom that has it (dir when none does). */
  private home(key: string): string {
    if (fs.existsSync(path.join(this.dir, `${key}.json`))) return this.dir;
    return this.readFrom.find((d) => fs.existsSync(path.join(d, `${key}.json`))) ?? this.dir;
  }

  /**
   * The key of evaluating the model `modelKey` on `spec`: hashes the model, the spec, the blob ids
   * of the test and few-shot files it reads, and the evaluation code version.
   */
  key(modelKey: string, set: EvalSpec | TestSet): string {
    const ts = testSetOf(set);
    const { spec, task } = ts;
    const files = [ts.test.id, ts.fewShot?.id ?? null];
    const s = { ...spec, maxNewTokens: task.generation ? spec.maxNewTokens ?? task.generation.maxNewTokens : undefined, bootstrapSeed: spec.bootstrapSeed ?? 0 };
    return sha1(stableJson({ modelKey, spec: s, files, code: EVAL_CODE_VERSION })).slice(0, 24);
  }

  private file(key: string, ext: string): string {
    return path.join(this.home(key), `${key}${ext}`);
  }

  /**
   * The stored record under `key`, checked against its items file: `problem` (one line naming the
   * file) when the items file is missing, or its line count or sha256 is not the one the record
   * was stored with; nothing when there is no record.
   */
  lookup(key: string): Lookup {
    const f = this.file(key, ".json");
    if (!fs.existsSync(f)) return {};
    let record: StoredResult;
    try {
      record = JSON.parse(fs.readFileSync(f, "utf8")) as StoredResult;
    } catch (e) {
      return { problem: `${f}: not a valid result record (${(e as Error).message})` };
    }
    const problem = this.checkItems(key, record);
    return problem ? { problem } : { record };
  }

  /** Verified items files (path → size and mtime when checked), so a process hashes each once. */
  private readonly verified = new Map<string, string>();

  private checkItems(key: string, record: StoredResult): string | undefined {
    const f = this.file(key, ".items.jsonl");
    if (!fs.existsSync(f)) return `${f}: missing (the record ${key}.json has no items file)`;
    const st = fs.statSync(f), seen = `${st.size}:${st.mtimeMs}`;
    if (this.verified.get(f) === seen) return undefined;
    const want = record.itemsFile;
    if (!want) return `${f}: the record carries no stamp of its items file (stored before stamps), so it cannot be checked`;
    const got = itemsStamp(fs.readFileSync(f, "utf8"));
    if (got.lines !== want.lines) return `${f}: ${got.lines} items where the record stored ${want.lines} (cut or changed)`;
    if (got.sha256 !== want.sha256) return `${f}: its sha256 is not the one the record stored (changed since it was written)`;
    this.verified.set(f, seen);
    return undefined;
  }

  /** The stored record, or undefined; a record whose items file fails its check is refused in one line. */
  get(key: string): StoredResult | undefined {
    const r = this.lookup(key);
    if (r.problem) throw new Error(`${r.problem}; the record is not used (delete it, or run the study, to recompute it)`);
    return r.record;
  }

  /** The per-item rows of a stored record (checked as get() checks them). */
  items(key: string): ItemResult[] {
    if (!this.get(key)) throw new Error(`${this.file(key, ".json")}: no such record`);
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
    const text = items.map((x) => JSON.stringify(x)).join("\n") + "\n";
    writeFileAtomic(path.join(this.dir, `${key}.items.jsonl`), text);
    const stored: StoredResult = { ...rest, key, modelKey, itemsFile: itemsStamp(text) };
    writeFileAtomic(path.join(this.dir, `${key}.json`), JSON.stringify(stored, null, 1) + "\n");
    return stored;
  }

  /** Every record in the store. */
  all(): StoredResult[] {
    if (!fs.existsSync(this.dir)) return [];
    return fs.readdirSync(this.dir).filter((f) => f.endsWith(".json")).sort().map((f) => this.get(f.slice(0, -5)) as StoredResult);
  }

  /** Removes the temp files of writers killed before their rename (here and in models/); returns their names. */
  removeStaleTemps(): string[] {
    return [...removeStaleTemps(this.dir), ...removeStaleTemps(path.join(this.dir, "models"))];
  }

  /** The index entry of a fine-tuned model folder (by the folder's name), or undefined. */
  model(folderKey: string): ModelRecord | undefined {
    const f = [this.dir, ...this.readFrom].map((d) => path.join(d, "models", `${folderKey}.json`)).find((x) => fs.existsSync(x));
    if (!f) return undefined;
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
  return setting("cachedOnly") === true;
}

/**
 * evaluate() through the store: the stored record when its key matches, else a fresh evaluation,
 * stored. `modelKey` identifies the model's weights (folderHash for a model folder). `lm` may be a
 * function that makes the model, called only on a miss (loading a model is then skipped on hits).
 */
export async function evaluateCached(lm: CausalLM | (() => CausalLM | Promise<CausalLM>), modelKey: string, set: EvalSpec | TestSet, store = new ResultStore()): Promise<StoredResult & { cached: boolean }> {
  const ts = testSetOf(set);
  const spec = ts.spec;
  const key = store.key(modelKey, ts);
  const hit = store.lookup(key);
  if (hit.record) return { ...hit.record, cached: true };
  if (hit.problem) {
    // Refused, never used: recomputed here, or an error where nothing may be computed.
    if (cachedOnly()) throw new Error(`${hit.problem}; the record is not used, and nothing is computed in cached-only mode: run npm run study`);
    console.warn(`ftgen: ${hit.problem}; recomputing the record`);
  } else if (cachedOnly()) throw new Error(`${path.join(store.dir, key + ".json")}: no stored result for ${spec.dataset} k=${spec.k} map ${spec.map} (model ${modelKey.slice(0, 12)}); run npm run study first`);
  return { ...store.put(key, modelKey, await evaluate(typeof lm === "function" ? await lm() : lm, ts)), cached: false };
}
