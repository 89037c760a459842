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
}

export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  quick: { name: "quick", description: "CI: tiny slices, the whole study in minutes", testItems: 16 },
  default: { name: "default", description: "the committed results: scaled-down train sizes and test items", testItems: 100 },
  paper: { name: "paper", description: "the paper's sizes: 2k/4k/6k training sets, 250 test items", testItems: 250 },
};

/** The active profile: FTGEN_PROFILE (quick|default|paper), "default" when unset. */
export function profile(): Profile {
  const name = (process.env.FTGEN_PROFILE ?? "default").trim();
  if (!(name in PROFILES)) throw new Error(`FTGEN_PROFILE="${name}" is not a profile (quick, default, paper)`);
  return PROFILES[name as ProfileName];
}
