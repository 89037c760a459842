/**
 * Run profiles: how big a study is, declared as data (declarations/profiles/*.json; yours in a
 * declarations folder). `npm run study -- --profile quick` sets FTGEN_PROFILE for the kernel; a
 * notebook reads it with one call, `profile()`. profile-declaration.ts reads and checks one.
 */
import path from "node:path";
import { setting } from "../util/settings";
import { projectRoot } from "../util/paths";
import { DeclarationRegistry } from "../util/registry";
import { parseProfileDeclaration, type Profile, type ProfileName } from "./profile-declaration";

export type { Profile, ProfileName, TuningName, MapCut } from "./profile-declaration";

const registry = new DeclarationRegistry<Profile>("profile", (p) => p.name);
/** Every declared profile by name, in order (declarations/profiles/*.json, then a declarations folder of yours). */
export const PROFILES: Readonly<Record<ProfileName, Profile>> = registry.entries;

/** Reads and checks a folder's profiles/ without adding them; `commit()` adds them. */
export function prepareProfileDeclarations(dir: string, source: "paper" | "user" = "user", pending?: { tasks: readonly string[]; datasets: readonly string[] }): { commit(): ProfileName[] } {
  return registry.prepare(dir, "profiles", (file, raw) => parseProfileDeclaration(file, raw, source, pending));
}

prepareProfileDeclarations(path.join(projectRoot(), "declarations"), "paper").commit();
for (const dir of setting("declarations") ?? []) prepareProfileDeclarations(dir).commit();

/** The profiles' names, in order. */
export function profileNames(): ProfileName[] {
  return [...registry.keys];
}

/** The profile of a name, or one line listing the names. */
export function profileNamed(name: string): Profile {
  if (!(name in PROFILES)) throw new Error(`unknown profile "${name}" (one of ${profileNames().join(", ")})`);
  return PROFILES[name as ProfileName];
}

/** The active profile: FTGEN_PROFILE, "default" when unset. */
export function profile(): Profile {
  const name = setting("profile") ?? "default";
  if (!(name in PROFILES)) throw new Error(`FTGEN_PROFILE="${name}" is not a profile (${profileNames().join(", ")})`);
  return PROFILES[name as ProfileName];
}
