/**
 * Run profiles: how big a study is, declared as data (declarations/profiles/*.json; yours in a
 * declarations folder). `npm run study -- --profile quick` sets FTGEN_PROFILE for the kernel; a
 * notebook reads it with one call, `profile()`. profile-declaration.ts reads and checks one.
 */
import fs from "node:fs";
import path from "node:path";
import { setting } from "../util/settings";
import { projectRoot } from "../util/paths";
import { readJsonFile } from "../util/json";
import { DeclarationError } from "../util/declaration";
import { parseProfileDeclaration, type Profile, type ProfileName } from "./profile-declaration";

export type { Profile, ProfileName, TuningName, MapCut } from "./profile-declaration";

/** Every declared profile by name (declarations/profiles/*.json, then a declarations folder of yours). */
export const PROFILES: Readonly<Record<ProfileName, Profile>> = {};
const profiles = PROFILES as Record<ProfileName, Profile>;
const profileFolders: string[] = [];

/** Reads and checks a folder's profiles/ without adding them; `commit()` adds them. */
export function prepareProfileDeclarations(dir: string, source: "paper" | "user" = "user", pending?: { tasks: readonly string[]; datasets: readonly string[] }): { commit(): ProfileName[] } {
  const abs = path.resolve(dir, "profiles");
  if (profileFolders.includes(abs) || !fs.existsSync(abs)) return { commit: () => [] };
  const added: Profile[] = [];
  for (const f of fs.readdirSync(abs).filter((x) => x.endsWith(".json")).sort()) {
    const file = path.join(abs, f);
    const rel = path.relative(projectRoot(), file);
    const p = parseProfileDeclaration(rel.startsWith("..") ? file : rel, readJsonFile(file), source, pending);
    const dup = profiles[p.name] ?? added.find((x) => x.name === p.name);
    if (dup) throw new DeclarationError(`${p.file}: profile "${p.name}" is already declared in ${dup.file}`);
    added.push(p);
  }
  return {
    commit: (): ProfileName[] => {
      if (profileFolders.includes(abs)) return [];
      profileFolders.push(abs);
      for (const p of added) profiles[p.name] = p;
      // The names in order: by `order`, then as added.
      const all = Object.values(profiles).map((p, i) => ({ p, i })).sort((x, y) => (x.p.order ?? Infinity) - (y.p.order ?? Infinity) || x.i - y.i).map((x) => x.p);
      for (const k of Object.keys(profiles)) delete profiles[k];
      for (const p of all) profiles[p.name] = p;
      return added.map((p) => p.name);
    },
  };
}

prepareProfileDeclarations(path.join(projectRoot(), "declarations"), "paper").commit();
for (const dir of setting("declarations") ?? []) prepareProfileDeclarations(dir).commit();

/** The profiles' names, in order. */
export function profileNames(): ProfileName[] {
  return Object.keys(PROFILES);
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
