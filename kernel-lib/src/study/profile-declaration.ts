/**
 * One profile (declarations/profiles/<name>.json): the base model, how it is fine-tuned, and how
 * big every study is (test items, share of each train file, train sizes, seeds, epochs, caps, shot
 * cuts). Every fault is one line naming the file and the field.
 */
import { Fields } from "../util/declaration";
import { TASKS, datasetsOf, type TaskName } from "../data/tasks";
import { registryEntries } from "../model/registry";
import { LLM_GRID } from "./llm-grid";

/** A profile's name: a declaration's `name` (quick, default, paper, smollm2, or one of yours). */
export type ProfileName = string;
/** How a fine-tuned model's weights train (LLM_FINETUNE_RECIPES in train/recipes.ts). */
export type TuningName = "lora" | "full";

/** Where a prompt map is scored: at these ks, in these scopes (plan.ts's Scope, or the base model's "base"). */
export interface MapCut {
  readonly k: readonly number[];
  readonly scopes: readonly ("base" | "in" | "out" | "cross")[];
}

export interface Profile {
  name: ProfileName;
  /** What the profile is for. */
  description: string;
  /** The declaration file, its source, and its place in lists. */
  file: string;
  source: "paper" | "user";
  order?: number;
  /**
   * The pretrained model every study of the profile fine-tunes and scores: "ftgen-base" (the shipped
   * data/base-model, fully fine-tuned on tfjs at the profile's lr) or a registry model
   * (data/models/<name>.json), fine-tuned by the recipes of train/recipes.ts.
   */
  model: string;
  /**
   * A registry model's FT and FTICL recipe (LLM_FINETUNE_RECIPES: LoRA, or full fine-tuning); its
   * learning rate is the recipe's. Absent for ftgen's base (full fine-tuning at \`lr\`).
   */
  tuning?: TuningName;
  /**
   * Also fine-tune each task's FT model fully (the paper's way) where \`tuning\` is LoRA, scored on its
   * in-domain set, so notebook 01 can set full fine-tuning beside LoRA.
   */
  fullFtInDomain?: boolean;
  /**
   * k values scored per test task where the paper's shot list is cut (0 and the FTICL ks are always
   * kept where a study needs them); absent: the paper's lists.
   */
  shots?: Readonly<Record<TaskName, readonly number[]>>;
  /**
   * What the profile leaves out to fit its time (no record's key changes, so a cut can be undone):
   * test sets dropped from every study, and map 1 scored only at these ks and in these scopes.
   */
  cut?: { readonly testSets?: readonly string[]; readonly map1?: MapCut };
  /** Prompts per forward pass in evaluation (part of each record's key). */
  batchSize: number;
  /** Steps between fine-tuning checkpoints (0: none), so a run killed mid-model resumes there. */
  checkpointEvery: number;
  /** Test items scored per test set (the first N of each file; the paper uses 250). */
  testItems: number;
  /**
   * Share of each train file fine-tuned on: a model "of size 2000" sees the first
   * round(2000 × trainFraction) records of the 2000-record file (the paper: 1, all of them).
   */
  trainFraction: number;
  /** Train-file size of every model outside the train-size notebook (the paper's main setting: 2000). */
  mainTrainSize: number;
  /** Train-file sizes of the train-size notebook (the paper: 2000, 4000, 6000). */
  trainSizes: readonly number[];
  /**
   * Seeds of every fine-tuning run. Claims resample them with the test items, so the spread between
   * seeds is in every CI (one seed leaves it out). The quick profile keeps one seed so that CI stays
   * within minutes.
   */
  seeds: readonly number[];
  /** Fine-tuning epochs (the paper: 2). */
  epochs: number;
  /** Fine-tuning learning rate of ftgen's base model where it differs from FINETUNE_DEFAULTS.lr (train/loop.ts, with its measurements). */
  lr?: number;
  /** Cap on each input field of a prompt, in tokens, so that k-shot prompts fit the base model's context. */
  fieldTokenCap: number;
  /** FTICL models per task: the paper trains one per k of its list (1 and 2 for generation, …); "first" trains the first k only. */
  fticlShots: "paper" | "first";
  /** Worker processes for the study's jobs (each with one BLAS thread). */
  workers: number;
}


const SCOPES = ["base", "in", "out", "cross"] as const;

/** A profile declaration read from `file`; `pending`: tasks and datasets added with it (a folder of yours). */
export function parseProfileDeclaration(file: string, raw: unknown, source: "paper" | "user", pending: { tasks: readonly string[]; datasets: readonly string[] } = { tasks: [], datasets: [] }): Profile {
  const d = Fields.of(file, raw);
  d.only(["name", "order", "description", "model", "tuning", "fullFtInDomain", "shots", "cut", "batchSize", "checkpointEvery", "testItems", "trainFraction", "mainTrainSize", "trainSizes", "seeds", "epochs", "lr", "fieldTokenCap", "fticlShots", "workers"]);
  const name = d.string("name", "the profile's name");
  if (!/^[a-z][a-z0-9_-]*$/.test(name)) d.fail("name", `"${name}": use lower-case letters, digits, "-" and "_"`);
  const model = d.string("model", '"ftgen-base" or a registry model (data/models/*.json)');
  const registry = [...registryEntries().keys()];
  if (model !== "ftgen-base" && !registry.includes(model)) d.fail("model", `"${model}" is neither "ftgen-base" nor a registry model (${registry.join(", ")})`);
  const tuning = d.has("tuning") ? d.oneOf("tuning", ["lora", "full"] as const) : undefined;
  if (tuning && model === "ftgen-base") d.fail("tuning", "ftgen's base model is fully fine-tuned at the profile's lr; tuning is for a registry model");
  if (!tuning && model !== "ftgen-base") d.fail("tuning", `a registry model needs its recipe: "lora" or "full"`);
  let shots: Record<TaskName, number[]> | undefined;
  if (d.has("shots")) {
    const sh = d.object("shots", "the ks kept per test task");
    sh.only([...Object.keys(TASKS), ...pending.tasks]);
    shots = Object.fromEntries(sh.keys().map((t) => [t, sh.integers(t, 0)]));
  }
  let cut: Profile["cut"];
  if (d.has("cut")) {
    const c = d.object("cut", "what the profile leaves out");
    c.only(["testSets", "map1"]);
    const sets = c.optionalStrings("testSets", "test sets left out");
    const known = [...Object.values(TASKS).flatMap(datasetsOf), ...pending.datasets];
    const unknown = sets?.find((x) => !known.includes(x));
    if (unknown) c.fail("testSets", `"${unknown}" is no task's dataset`);
    let map1: MapCut | undefined;
    if (c.has("map1")) {
      const m = c.object("map1", "where map 1 is scored");
      m.only(["k", "scopes"]);
      const scopes = m.strings("scopes", "scopes (base, in, out, cross)");
      const bad = scopes.find((x) => !(SCOPES as readonly string[]).includes(x));
      if (bad) m.fail("scopes", `"${bad}" is not one of ${SCOPES.join(", ")}`);
      map1 = { k: m.integers("k", 0), scopes: scopes as MapCut["scopes"] };
    }
    cut = { ...(sets ? { testSets: sets } : {}), ...(map1 ? { map1 } : {}) };
  }
  // "llm-grid": the LLM grid's own setting (study/llm-grid.ts), so that its base-model records are the grid's (one source).
  const gridOr = (key: "fieldTokenCap" | "batchSize"): number => ((raw as Record<string, unknown>)[key] === "llm-grid" ? LLM_GRID[key] : d.integer(key, 1));
  return {
    name, description: d.string("description", "what the profile is for"), file, source, ...(d.has("order") ? { order: d.integer("order", 1) } : {}),
    model, ...(tuning ? { tuning } : {}), ...(d.has("fullFtInDomain") ? { fullFtInDomain: d.boolean("fullFtInDomain") } : {}),
    ...(shots ? { shots } : {}), ...(cut ? { cut } : {}),
    batchSize: gridOr("batchSize"), checkpointEvery: d.integer("checkpointEvery", 0), testItems: d.integer("testItems", 1),
    trainFraction: d.number("trainFraction", { above: 0, max: 1 }), mainTrainSize: d.integer("mainTrainSize", 1), trainSizes: d.integers("trainSizes", 1),
    seeds: d.integers("seeds", 0), epochs: d.integer("epochs", 1), ...(d.has("lr") ? { lr: d.number("lr", { above: 0 }) } : {}),
    fieldTokenCap: gridOr("fieldTokenCap"), fticlShots: d.oneOf("fticlShots", ["paper", "first"] as const), workers: d.integer("workers", 1),
  };
}
