/**
 * The tasks and their datasets, declared as data (as a task is one YAML file in lm-evaluation-harness):
 * one JSON file a task, in `declarations/tasks/` for the paper's five and in the tasks/ folder of any
 * declarations folder given to `addDeclarations` (study/declarations.ts; or listed in FTGEN_DECLARATIONS) for a user's own;
 * a user's datasets in its datasets/ folder (dataset-declaration.ts), the paper's in data/manifest.json. A declaration holds everything the pipeline
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
import { DeclarationRegistry, declarationFiles, shownPath } from "../util/registry";
import { hexDigest } from "../util/hash";
import { parseTaskDeclaration, type TaskName, type TaskSpec } from "./task-declaration";
import { parseDatasetDeclaration, type DatasetDeclaration } from "./dataset-declaration";
import { loadManifest } from "./manifest";

export type { TaskName, TaskKind, PromptMapId, TaskSpec } from "./task-declaration";
export { PROMPT_MAP_IDS } from "./task-declaration";

const registry = new DeclarationRegistry<TaskSpec>("task", (t) => t.name);
/** Every declared task by name, in order (filled from the declarations when this module loads, and by addDeclarations). */
export const TASKS: Readonly<Record<TaskName, TaskSpec>> = registry.entries;
/** The declared tasks in order: by `order`, then those without one in the order they were added. */
export const TASK_NAMES: readonly TaskName[] = registry.keys;
const tasks = TASKS;

/** Every dataset a task names: in-domain, out-of-domain, unused. */
export function datasetsOf(t: TaskSpec): string[] {
  return [t.inDomain, ...t.outOfDomain, ...(t.unused ?? [])];
}

/** Refuses a task naming a dataset that one of `others` names already (a dataset belongs to one task). */
function checkDatasets(spec: TaskSpec, others: readonly TaskSpec[]): void {
  for (const ds of datasetsOf(spec)) {
    const other = others.find((o) => datasetsOf(o).includes(ds));
    if (other) throw new DeclarationError(`${spec.file}: dataset "${ds}" is already declared by task "${other.name}" (${other.file}); a dataset belongs to one task`);
  }
}

/** A user's datasets by name (declarations/datasets/*.json of a declarations folder). */
export const USER_DATASETS: Readonly<Record<string, DatasetDeclaration>> = {};
const userDatasets = USER_DATASETS as Record<string, DatasetDeclaration>;

/** Checks a declared dataset against the tasks and the data already known, and its files' hashes. */
function checkDataset(ds: DatasetDeclaration, pending: readonly TaskSpec[]): TaskSpec {
  const task = pending.find((t) => t.name === ds.task) ?? tasks[ds.task];
  if (!task) throw new DeclarationError(`${ds.file}: field "task": unknown task "${ds.task}" (known: ${[...TASK_NAMES, ...pending.map((t) => t.name)].join(", ")})`);
  const other = userDatasets[ds.name];
  if (other) throw new DeclarationError(`${ds.file}: dataset "${ds.name}" is already declared in ${other.file}`);
  if (loadManifest().files.some((f) => f.dataset === ds.name)) throw new DeclarationError(`${ds.file}: dataset "${ds.name}" is one of the paper's (data/manifest.json); give yours another name`);
  for (const t of [...Object.values(tasks), ...pending]) {
    const listed = datasetsOf(t).includes(ds.name);
    if (listed && t.name !== ds.task) throw new DeclarationError(`${ds.file}: dataset "${ds.name}" is declared by task "${t.name}" (${t.file}), not "${ds.task}"`);
  }
  if (ds.role === "in-domain") {
    if (task.inDomain !== ds.name) throw new DeclarationError(`${ds.file}: field "role": task "${task.name}" trains on "${task.inDomain}" (${task.file}), not "${ds.name}"`);
    const missing = task.trainSizes.find((n) => !ds.train[n]);
    if (missing !== undefined) throw new DeclarationError(`${ds.file}: field "files.train": no file of size ${missing} (task "${task.name}" trains at ${task.trainSizes.join(", ")})`);
  } else if (task.inDomain === ds.name) {
    throw new DeclarationError(`${ds.file}: field "role": "${ds.name}" is task "${task.name}"'s in-domain set (${task.file})`);
  }
  for (const f of [ds.test, ds.fewShot, ...Object.values(ds.train)]) {
    if (!fs.existsSync(f.path)) throw new DeclarationError(`${f.where}: ${f.written} does not exist (${f.path})`);
    const got = hexDigest("sha256", fs.readFileSync(f.path));
    if (got !== f.sha256) throw new DeclarationError(`${f.where}: ${f.written} has sha256 ${got}, not the declared ${f.sha256}`);
  }
  return task;
}

/**
 * Adds a declarations folder: its tasks/*.json, then its datasets/*.json (an out-of-domain set of
 * yours joins its task's out-of-domain sets). Everything is checked before anything is added, so a
 * bad declaration changes nothing. Returns the names added.
 */
export function addTaskDeclarations(dir: string, source: "paper" | "user" = "user"): { tasks: TaskName[]; datasets: string[] } {
  return prepareTaskDeclarations(dir, source).commit();
}

/** A folder's task and dataset declarations, checked; `commit()` adds them (addTaskDeclarations in two steps). */
export interface PreparedTasks {
  tasks: readonly TaskSpec[];
  /** The names of the datasets it declares. */
  datasets: readonly string[];
  commit(): { tasks: TaskName[]; datasets: string[] };
}

/** Reads and checks a folder's tasks/ and datasets/ without adding them. */
export function prepareTaskDeclarations(dir: string, source: "paper" | "user" = "user"): PreparedTasks {
  if (registry.added(dir)) return { tasks: [], datasets: [], commit: () => ({ tasks: [], datasets: [] }) };
  const added: TaskSpec[] = [];
  for (const file of declarationFiles(dir, "tasks")) {
    const spec = parseTaskDeclaration(shownPath(file), readJsonFile(file), source);
    registry.checkNew(spec, added);
    checkDatasets(spec, [...Object.values(tasks), ...added]);
    added.push(spec);
  }
  const datasets: DatasetDeclaration[] = [];
  const joined = new Map<TaskName, string[]>();
  const parsed = declarationFiles(dir, "datasets").map((file) => parseDatasetDeclaration(shownPath(file), readJsonFile(file), path.dirname(file)));
  for (const [i, ds] of parsed.entries()) {
    const first = parsed.findIndex((d) => d.name === ds.name);
    if (first < i) throw new DeclarationError(`${ds.file}: dataset "${ds.name}" is already declared in ${parsed[first].file}`);
  }
  for (const ds of parsed) {
    const task = checkDataset(ds, added);
    if (ds.role === "out-of-domain" && !task.outOfDomain.includes(ds.name)) joined.set(task.name, [...(joined.get(task.name) ?? []), ds.name]);
    datasets.push(ds);
  }
  // A user task's datasets must all be declared (the paper's are in the manifest).
  for (const t of added.filter((x) => x.source === "user")) {
    for (const d of [t.inDomain, ...t.outOfDomain]) {
      if (!datasets.some((x) => x.name === d)) throw new DeclarationError(`${t.file}: dataset "${d}" has no declaration in ${shownPath(path.join(path.resolve(dir), "datasets"))} (a file ${d}.json naming its files)`);
    }
  }
  const commit = (): { tasks: TaskName[]; datasets: string[] } => {
    if (registry.added(dir)) return { tasks: [], datasets: [] };
    const names = registry.commit(dir, added);
    for (const [t, ds] of joined) registry.replace({ ...tasks[t], outOfDomain: [...tasks[t].outOfDomain, ...ds] });
    for (const ds of datasets) userDatasets[ds.name] = ds;
    return { tasks: names, datasets: datasets.map((d) => d.name) };
  };
  return { tasks: added, datasets: datasets.map((d) => d.name), commit };
}

// The paper's tasks, then the folders FTGEN_DECLARATIONS lists.
addTaskDeclarations(path.join(projectRoot(), "declarations"), "paper");
for (const dir of setting("declarations") ?? []) addTaskDeclarations(dir);

/** A task by name, or the task itself (resolved once, passed on as the object). */
export type TaskRef = TaskName | TaskSpec;

/** The task a reference names (an object is returned as it is). */
export function resolveTask(t: TaskRef): TaskSpec {
  return typeof t === "string" ? taskSpec(t) : t;
}

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
    if (datasetsOf(s).includes(dataset)) return t;
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
