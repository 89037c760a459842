/**
 * The tasks, declared as data (as a task is one YAML file in lm-evaluation-harness): one JSON file a
 * task, in `declarations/tasks/` for the paper's five and in any folder given to `addDeclarations`
 * (or listed in FTGEN_DECLARATIONS) for a user's own. A declaration holds everything the pipeline
 * needs of its task: input fields, labels and their words, a template per prompt map, the output
 * type, metric and generation limits, shot lists, FTICL shots, train sizes and datasets
 * (task-declaration.ts reads and checks one). Everything else (loading, prompting, scoring, plans)
 * reads these objects.
 */
import fs from "node:fs";
import path from "node:path";
import { projectRoot } from "../util/paths";
import { setting } from "../util/settings";
import { readJsonFile } from "../util/json";
import { DeclarationError } from "../util/declaration";
import { parseTaskDeclaration, type TaskName, type TaskSpec } from "./task-declaration";

export type { TaskName, TaskKind, PromptMapId, TaskSpec } from "./task-declaration";
export { PROMPT_MAP_IDS } from "./task-declaration";

/** Every declared task by name (filled from the declarations when this module loads, and by addDeclarations). */
export const TASKS: Readonly<Record<TaskName, TaskSpec>> = {};
/** The declared tasks in order: by `order`, then those without one in the order they were added. */
export const TASK_NAMES: readonly TaskName[] = [];

const tasks = TASKS as Record<TaskName, TaskSpec>;
const names = TASK_NAMES as TaskName[];
const folders: string[] = [];

/** The task declarations of a folder (its tasks/ subfolder, *.json in name order). */
function taskFiles(dir: string): string[] {
  const sub = path.join(dir, "tasks");
  if (!fs.existsSync(sub)) return [];
  return fs.readdirSync(sub).filter((f) => f.endsWith(".json")).sort().map((f) => path.join(sub, f));
}

/** The dataset → task index, refusing a dataset claimed twice. */
function checkDatasets(spec: TaskSpec): void {
  for (const ds of [spec.inDomain, ...spec.outOfDomain, ...(spec.unused ?? [])]) {
    for (const other of Object.values(tasks)) {
      if ([other.inDomain, ...other.outOfDomain, ...(other.unused ?? [])].includes(ds)) {
        throw new DeclarationError(`${spec.file}: dataset "${ds}" is already declared by task "${other.name}" (${other.file}); a dataset belongs to one task`);
      }
    }
  }
}

/** Adds the task declarations in `dir`/tasks (a user's own declarations folder). Returns the tasks added. */
export function addTaskDeclarations(dir: string, source: "paper" | "user" = "user"): TaskName[] {
  const abs = path.resolve(dir);
  if (folders.includes(abs)) return [];
  const added: TaskSpec[] = [];
  for (const file of taskFiles(abs)) {
    const rel = path.relative(projectRoot(), file);
    const spec = parseTaskDeclaration(rel.startsWith("..") ? file : rel, readJsonFile(file), source);
    const dup = tasks[spec.name] ?? added.find((t) => t.name === spec.name);
    if (dup) throw new DeclarationError(`${spec.file}: task "${spec.name}" is already declared in ${dup.file}`);
    checkDatasets(spec);
    for (const t of added) {
      const clash = [spec.inDomain, ...spec.outOfDomain].find((d) => [t.inDomain, ...t.outOfDomain, ...(t.unused ?? [])].includes(d));
      if (clash) throw new DeclarationError(`${spec.file}: dataset "${clash}" is already declared by task "${t.name}" (${t.file}); a dataset belongs to one task`);
    }
    added.push(spec);
  }
  folders.push(abs);
  for (const spec of added) tasks[spec.name] = spec;
  const order = (t: TaskName): number => tasks[t].order ?? Number.POSITIVE_INFINITY;
  const sorted = [...names, ...added.map((t) => t.name)].map((t, i) => ({ t, i })).sort((a, b) => order(a.t) - order(b.t) || a.i - b.i).map((x) => x.t);
  names.splice(0, names.length, ...sorted);
  return added.map((t) => t.name);
}

// The paper's tasks, then the folders FTGEN_DECLARATIONS lists.
addTaskDeclarations(path.join(projectRoot(), "declarations"), "paper");
for (const dir of setting("declarations") ?? []) addTaskDeclarations(dir);

/** The spec of `name`, or a clear error listing the known tasks. */
export function taskSpec(name: string): TaskSpec {
  if (!(name in TASKS)) throw new Error(`unknown task "${name}" (known: ${TASK_NAMES.join(", ")})`);
  return TASKS[name];
}

/** Every test set of a task: in-domain first, then out-of-domain. */
export function testSets(task: TaskName): string[] {
  const spec = taskSpec(task);
  return [spec.inDomain, ...spec.outOfDomain];
}

/** The task that owns `dataset` (each dataset belongs to exactly one task). */
export function taskOfDataset(dataset: string): TaskName {
  for (const t of TASK_NAMES) {
    const s = TASKS[t];
    if (s.inDomain === dataset || s.outOfDomain.includes(dataset) || (s.unused ?? []).includes(dataset)) return t;
  }
  throw new Error(`unknown dataset "${dataset}"`);
}

/** The word a task's label is written as (the label itself where the task gives none). */
export function labelWord(task: TaskSpec, label: string): string {
  return task.labelWords?.[label] ?? label;
}

/** The paper's five tasks, in order (declarations whose source is "paper"). */
export function paperTasks(): TaskName[] {
  return TASK_NAMES.filter((t) => TASKS[t].source === "paper");
}
