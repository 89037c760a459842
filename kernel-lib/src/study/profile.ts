/**
 * Run profiles: how big a study is. `npm run study -- --profile quick` sets FTGEN_PROFILE for the
 * kernel; a notebook reads it with one call, `profile()`. Each profile is stated here and only here.
 */

export type ProfileName = "quick" | "default" | "paper";

export interface Profile {
  name: ProfileName;
  /** What the profile is for. */
  description: string;
  /** Test items scored per test set (the first N of each file; the paper uses 250). */
  testItems: number;
  /** Train records used per fine-tuning run (the first N of the train file); undefined: all of it. */
  trainItems?: number;
  /** Train-file sizes fine-tuned on (the paper: 2000, 4000, 6000). */
  trainSizes: readonly number[];
  /** Seeds of every fine-tuning run. */
  seeds: readonly number[];
  /** Fine-tuning epochs (the paper: 2). */
  epochs: number;
  /** Cap on each input field of a prompt, in tokens, so that k-shot prompts fit the base model's context. */
  fieldTokenCap: number;
}

export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  // trainItems/epochs of "default" are first estimates, to be calibrated against its 90-minute budget.
  quick: { name: "quick", description: "CI: tiny slices, the whole study in minutes", testItems: 16, trainItems: 32, trainSizes: [2000], seeds: [0], epochs: 1, fieldTokenCap: 48 },
  default: { name: "default", description: "the committed results: scaled-down train sizes and test items", testItems: 100, trainItems: 400, trainSizes: [2000], seeds: [0], epochs: 2, fieldTokenCap: 48 },
  paper: { name: "paper", description: "the paper's sizes: 2k/4k/6k training sets, 250 test items", testItems: 250, trainSizes: [2000, 4000, 6000], seeds: [0], epochs: 2, fieldTokenCap: 96 },
};

/** The active profile: FTGEN_PROFILE (quick|default|paper), "default" when unset. */
export function profile(): Profile {
  const name = (process.env.FTGEN_PROFILE ?? "default").trim();
  if (!(name in PROFILES)) throw new Error(`FTGEN_PROFILE="${name}" is not a profile (quick, default, paper)`);
  return PROFILES[name as ProfileName];
}
