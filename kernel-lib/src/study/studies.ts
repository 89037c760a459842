/**
 * The studies behind the research notebooks, declared as data (declarations/studies/*.json, read by
 * study-declaration.ts) and planned under a profile. They share one set of models: an FT model of a
 * task at the profile's main train size is the same folder (the same content key) in every notebook
 * that uses it, so it is trained once and its records are reused.
 *
 *   01 generalization: base + FT of every task; in-domain, out-of-domain, cross-task; 0-shot; both maps.
 *   02 icl:            base + FT; in-domain and out-of-domain; the paper's shot lists; both maps.
 *   03 fticl:          FT + FTICL (the paper's k per task); in-domain and out-of-domain; 0-shot and
 *                      the FTICL k; map 0 (the training format).
 *   04 train size:     base + FT at each train size; in-domain and out-of-domain; 0-shot; map 0.
 *   05 prompt format:  the records of 01 read the other way: map 0 vs map 1.
 */
import path from "node:path";
import { projectRoot } from "../util/paths";
import { setting } from "../util/settings";
import { DeclarationRegistry } from "../util/registry";
import { parseStudyDeclaration, type StudyDeclaration } from "./study-declaration";
import { TASKS, TASK_NAMES, type TaskName } from "../data/tasks";
import { isAvailable } from "../data/load";
import type { Method, StudySpec } from "./plan";
import type { Profile } from "./profile";
import type { RunOptions } from "./runner";
import { registryEntry, registryModelDir, registryModelKey } from "../model/registry";

/** A study's name: a declaration's `name` (generalization, icl, fticl, trainSize, or one of yours). */
export type NotebookStudy = string;

const registry = new DeclarationRegistry<StudyDeclaration>("study", (s) => s.name);
/** Every declared study by name, in order. */
export const STUDIES: Readonly<Record<NotebookStudy, StudyDeclaration>> = registry.entries;
const studies = STUDIES;

/** Reads and checks a folder's studies/ without adding them; `commit()` adds them. */
export function prepareStudyDeclarations(dir: string, source: "paper" | "user" = "user"): { commit(): NotebookStudy[] } {
  return registry.prepare(dir, "studies", (file, raw) => parseStudyDeclaration(file, raw, source));
}

prepareStudyDeclarations(path.join(projectRoot(), "declarations"), "paper").commit();
for (const dir of setting("declarations") ?? []) prepareStudyDeclarations(dir).commit();

/** The declaration of a study, or one line listing the known ones. */
export function studyDeclaration(name: NotebookStudy): StudyDeclaration {
  const s = studies[name];
  if (!s) throw new Error(`unknown study "${name}" (known: ${Object.keys(studies).join(", ")})`);
  return s;
}

function common(p: Profile): Pick<StudySpec, "seeds" | "testItems" | "fieldTokenCap" | "shotsKept" | "skipSets" | "map1Only"> {
  return {
    seeds: p.seeds, testItems: p.testItems, fieldTokenCap: p.fieldTokenCap, ...(p.shots ? { shotsKept: p.shots } : {}),
    ...(p.cut?.testSets ? { skipSets: p.cut.testSets } : {}), ...(p.cut?.map1 ? { map1Only: p.cut.map1 } : {}),
  };
}

/** FTICL methods of a profile: one per k of the paper's lists (every task's k), or the first k of each. */
export function fticlMethods(p: Profile): Method[] {
  const ks = new Set<number>();
  for (const t of TASK_NAMES) for (const k of p.fticlShots === "paper" ? TASKS[t].fticlShots : TASKS[t].fticlShots.slice(0, 1)) ks.add(k);
  return [...ks].sort((a, b) => a - b).map((k) => ({ kind: "fticl", k }));
}

/** Train-file sizes of a task that the local data has (xsum's 4000 and 6000 are missing from the paper's repository). */
export function availableTrainSizes(task: TaskName, sizes: readonly number[]): number[] {
  return sizes.filter((s) => isAvailable(task, TASKS[task].inDomain, "train", s));
}

/** Each task's train size outside the train-size study: the profile's main size, or a task's own first where it has no file of that size (a task of yours). */
function mainSizes(p: Profile): Record<TaskName, readonly number[]> {
  return Object.fromEntries(TASK_NAMES.map((t) => [t, [TASKS[t].trainSizes.includes(p.mainTrainSize) ? p.mainTrainSize : TASKS[t].trainSizes[0]]]));
}

/** The study of one research notebook under profile `p`: its declaration, with the profile's methods, sizes and cuts. */
export function notebookStudy(name: NotebookStudy, p: Profile): StudySpec {
  const s = studyDeclaration(name);
  const methods: Method[] = s.methods.flatMap((m): Method[] => {
    switch (m) {
      case "base": return [{ kind: "base" }];
      case "ft": return [{ kind: "ft" }];
      case "fticl": return fticlMethods(p);
      // A LoRA profile's FT models again with every weight trained, scored in-domain: LoRA vs full FT.
      case "ft-full-in-domain": return p.fullFtInDomain && p.tuning !== "full" ? [{ kind: "ft", tuning: "full", scopes: ["in"] }] : [];
    }
  });
  const trainSizes = s.trainSizes === "main" ? mainSizes(p) : Object.fromEntries(TASK_NAMES.map((t) => [t, availableTrainSizes(t, p.trainSizes)]));
  const unknown = s.tasks?.find((t) => !TASK_NAMES.includes(t));
  if (unknown) throw new Error(`${s.file}: field "tasks": unknown task "${unknown}" (known: ${TASK_NAMES.join(", ")})`);
  return {
    name, trainTasks: s.tasks ?? TASK_NAMES, trainSizes, methods, scopes: s.scopes, shots: s.shots, maps: s.maps, ...common(p),
    ...(s.methods.includes("fticl") ? { fticlShots: p.fticlShots } : {}),
  };
}

/** The base model of profile `p`: its folder and, for a registry model, its key (known before it is fetched). */
export function profileBase(p: Profile): Pick<RunOptions, "base" | "baseKey"> {
  if (p.model === "ftgen-base") return {};
  const e = registryEntry(p.model);
  return { base: registryModelDir(e), baseKey: registryModelKey(e) };
}

/** The runner's options under profile `p`: its base model and recipe, epochs, the share of each train file, workers. */
export function runOptions(p: Profile, extra: Partial<RunOptions> = {}): RunOptions {
  const train = { epochs: p.epochs, ...(p.lr !== undefined ? { lr: p.lr } : {}), ...(p.checkpointEvery ? { checkpointEvery: p.checkpointEvery } : {}) };
  // A registry model evaluates on the native runtime (its adapters apply there without a merged copy).
  const engine = p.model === "ftgen-base" ? {} : { engine: "native" as const };
  return { ...profileBase(p), ...engine, ...(p.tuning ? { tuning: p.tuning } : {}), train, trainFraction: p.trainFraction, workers: p.workers, batchSize: p.batchSize, ...extra };
}
