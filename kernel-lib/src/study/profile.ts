/**
 * Run profiles: how big a study is. `npm run study -- --profile quick` sets FTGEN_PROFILE for the
 * kernel; a notebook reads it with one call, `profile()`. Each profile is stated here and only here.
 */

import type { TaskName } from "../data/tasks";
import { setting } from "../util/settings";

export type ProfileName = "quick" | "default" | "paper" | "smollm2";
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
  /**
   * The pretrained model every study of the profile fine-tunes and scores: "ftgen-base" (the shipped
   * data/base-model, fully fine-tuned on tfjs at the profile's lr) or a registry model
   * (data/models/<name>.json), fine-tuned by the recipes of train/recipes.ts.
   */
  model: "ftgen-base" | "smollm2-135m";
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
  shots?: Partial<Record<TaskName, readonly number[]>>;
  /**
   * What the profile leaves out to fit its time (no record's key changes, so a cut can be undone):
   * test sets dropped from every study, and map 1 scored only at these ks and in these scopes.
   */
  cut?: { testSets?: readonly string[]; map1?: MapCut };
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

export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  quick: {
    name: "quick", description: "CI: tiny slices, every notebook end to end in minutes", model: "ftgen-base", batchSize: 16, checkpointEvery: 0,
    testItems: 8, trainFraction: 0.008, mainTrainSize: 2000, trainSizes: [2000, 4000], seeds: [0], epochs: 1, fieldTokenCap: 32, fticlShots: "first", workers: 2,
  },
  default: {
    name: "default", description: "the committed results: a quarter of each train file, the paper's 250 test items, on 2 cores", model: "ftgen-base", batchSize: 16, checkpointEvery: 0,
    testItems: 250, trainFraction: 0.25, mainTrainSize: 2000, trainSizes: [2000, 4000, 6000], seeds: [0, 1, 2], epochs: 2, fieldTokenCap: 48, fticlShots: "first", workers: 2,
  },
  paper: {
    name: "paper", description: "the paper's sizes: 2k/4k/6k training sets, 250 test items, both FTICL ks", model: "ftgen-base", batchSize: 16, checkpointEvery: 0,
    testItems: 250, trainFraction: 1, mainTrainSize: 2000, trainSizes: [2000, 4000, 6000], seeds: [0, 1, 2], epochs: 2, lr: 3e-4, fieldTokenCap: 96, fticlShots: "paper", workers: 2,
  },
  smollm2: {
    name: "smollm2",
    description: "SmolLM2-135M, LoRA (and full FT in-domain): an eighth of each train file, 1 epoch, the paper's 250 test items, 3 seeds",
    model: "smollm2-135m", tuning: "lora", fullFtInDomain: true,
    testItems: 250, trainFraction: 0.125, mainTrainSize: 2000, seeds: [0, 1, 2], epochs: 1,
    // Cut to approach 8 hours of worker time (npm run study -- --profile smollm2 --plan), in this order
    // and before seeds: the 4000 train size (so notebook 04 has no SmolLM2 contrast), the CNN, SciQA and
    // PDFS out-of-domain sets (the longest prompts), and map 1 outside zero-shot in- and out-of-domain.
    trainSizes: [2000],
    cut: { testSets: ["cnn", "sciqa", "pdfs"], map1: { k: [0], scopes: ["base", "in", "out"] } },
    // The SmolLM2 grid's cap and batch (study/llm-grid.ts), so the base model's records are the grid's.
    fieldTokenCap: 1024, batchSize: 16, fticlShots: "first", workers: 2, checkpointEvery: 10,
    shots: { summary: [0, 1], question: [0, 1], sentiment: [0, 2], detection: [0, 2], inference: [0, 3] },
  },
};

/** The profiles' names, for messages. */
export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];

/** The profile of a name, or one line listing the names. */
export function profileNamed(name: string): Profile {
  if (!(name in PROFILES)) throw new Error(`unknown profile "${name}" (one of ${PROFILE_NAMES.join(", ")})`);
  return PROFILES[name as ProfileName];
}

/** The active profile: FTGEN_PROFILE, "default" when unset. */
export function profile(): Profile {
  const name = setting("profile") ?? "default";
  if (!(name in PROFILES)) throw new Error(`FTGEN_PROFILE="${name}" is not a profile (${PROFILE_NAMES.join(", ")})`);
  return PROFILES[name as ProfileName];
}
