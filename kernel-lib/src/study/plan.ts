/**
 * A study declared as data, and the jobs it needs.
 *
 *   const plan = planStudy({ name: "generalization", trainTasks: TASK_NAMES, trainSizes: [2000],
 *     methods: [{ kind: "ft" }], scopes: ["in", "out", "cross"], maps: [0, 1], seeds: [0], … });
 *
 * A model job fine-tunes one model (task, method, train size, seed) from the base model; the base
 * model itself is evaluated as the "base" method. An evaluation job scores one model on one test set
 * at one (k, map). Per the paper, the prompt follows the TEST set's task (cross-task rule), and
 * demonstrations come from the test set's own few-shot file.
 */
import { TASKS, TASK_NAMES, type TaskName } from "../data/tasks";
import type { PromptMapId } from "../prompts/maps";
import type { MapCut, TuningName } from "./profile";

/**
 * How a model comes to be. `tuning` names a recipe other than the study's own (a LoRA study's
 * full-FT models: method "ft-full"); `scopes` narrows where such a model is scored.
 */
export type Method =
  | { kind: "base" }
  | { kind: "ft"; tuning?: TuningName; scopes?: readonly Scope[] }
  | { kind: "fticl"; k: number; tuning?: TuningName; scopes?: readonly Scope[] };
/** in: the train task's in-domain test set; out: its out-of-domain test sets; cross: other tasks' in-domain test sets. */
export type Scope = "in" | "out" | "cross";

export interface StudySpec {
  name: string;
  /** Tasks whose in-domain train set fine-tunes a model. */
  trainTasks: readonly TaskName[];
  /** Train-set sizes (the paper: 2000, 4000, 6000), for every task or per task. */
  trainSizes: readonly number[] | Partial<Record<TaskName, readonly number[]>>;
  /** Fine-tuning methods; "base" adds the base model's own evaluations. FTICL's k is per task below when omitted. */
  methods: readonly Method[];
  scopes: readonly Scope[];
  /**
   * "paper": each test task's shot list; "fticl": 0 and the task's FTICL ks among the spec's FTICL
   * methods (to compare FT and FTICL with and without the demonstrations FTICL trained on); or fixed ks.
   */
  shots: "paper" | "fticl" | readonly number[];
  /** Where "paper" lists are cut: the ks kept per test task (a profile's \`shots\`). */
  shotsKept?: Partial<Record<TaskName, readonly number[]>>;
  /** Test sets left out of every scope, by dataset name (a profile's \`cut\`). */
  skipSets?: readonly string[];
  /** Where map 1 is scored when not wherever map 0 is (a profile's \`cut\`): only at these ks, in these scopes. */
  map1Only?: MapCut;
  maps: readonly PromptMapId[];
  seeds: readonly number[];
  /** Test items per set. */
  testItems: number;
  /** Cap on each input field, in tokens. */
  fieldTokenCap: number;
  /** Which of a task's FTICL ks its FTICL methods may train: all of the paper's list (default) or its first. */
  fticlShots?: "paper" | "first";
}

export interface ModelJob {
  /** "base" or e.g. "ft/sentiment/2000/s0", "fticl2/sentiment/2000/s0". */
  id: string;
  method: Method;
  /** Training task (absent for the base model). */
  task?: TaskName;
  trainSize?: number;
  seed?: number;
}

export interface EvalJob {
  model: string;
  /** The test set's task: it decides the prompt. */
  task: TaskName;
  dataset: string;
  scope: Scope | "base";
  k: number;
  map: PromptMapId;
}

export interface StudyPlan {
  spec: StudySpec;
  models: ModelJob[];
  evals: EvalJob[];
}

export function methodName(m: Method): string {
  const name = m.kind === "fticl" ? `fticl${m.k}` : m.kind;
  return m.kind !== "base" && m.tuning ? `${name}-${m.tuning}` : name;
}

/** The test sets a model of `trainTask` is scored on in `scope`. */
export function testSetsFor(trainTask: TaskName, scope: Scope): { task: TaskName; dataset: string }[] {
  const spec = TASKS[trainTask];
  if (scope === "in") return [{ task: trainTask, dataset: spec.inDomain }];
  if (scope === "out") return spec.outOfDomain.map((dataset) => ({ task: trainTask, dataset }));
  return TASK_NAMES.filter((t) => t !== trainTask).map((t) => ({ task: t, dataset: TASKS[t].inDomain }));
}

function shotsFor(spec: StudySpec, task: TaskName): readonly number[] {
  if (spec.shots === "paper") return spec.shotsKept?.[task] ?? TASKS[task].shots;
  if (spec.shots === "fticl") {
    const ks = spec.methods.flatMap((m) => (m.kind === "fticl" && fticlShotsOf(spec, task).includes(m.k) ? [m.k] : []));
    return [0, ...new Set(ks)];
  }
  return spec.shots;
}

/** The FTICL ks a spec trains for `task`. */
export function fticlShotsOf(spec: StudySpec, task: TaskName): readonly number[] {
  return spec.fticlShots === "first" ? TASKS[task].fticlShots.slice(0, 1) : TASKS[task].fticlShots;
}

/** The train sizes of `task` in a spec. */
export function trainSizesFor(spec: StudySpec, task: TaskName): readonly number[] {
  return Array.isArray(spec.trainSizes) ? spec.trainSizes : (spec.trainSizes as Partial<Record<TaskName, readonly number[]>>)[task] ?? [];
}

/** Every model to fine-tune and every evaluation, without duplicates, in a stable order. */
export function planStudy(spec: StudySpec): StudyPlan {
  const bad = spec.trainTasks.find((t) => !(t in TASKS));
  if (bad) throw new Error(`study "${spec.name}": unknown task "${bad}" (tasks: ${TASK_NAMES.join(", ")})`);
  const models: ModelJob[] = [];
  const evals: EvalJob[] = [];
  const seen = new Set<string>();
  const addEval = (e: EvalJob): void => {
    if (spec.skipSets?.includes(e.dataset)) return;
    if (e.map === 1 && spec.map1Only && !(spec.map1Only.k.includes(e.k) && spec.map1Only.scopes.includes(e.scope))) return;
    const key = `${e.model}|${e.dataset}|${e.k}|${e.map}`;
    if (seen.has(key)) return;
    seen.add(key);
    evals.push(e);
  };
  const scoreModel = (model: string, trainTask: TaskName | undefined, scopes: readonly (Scope | "base")[]): void => {
    for (const scope of scopes) {
      const sets = scope === "base" || !trainTask
        ? spec.trainTasks.flatMap((t) => spec.scopes.flatMap((s) => (s === "cross" ? [] : testSetsFor(t, s))))
        : testSetsFor(trainTask, scope);
      for (const s of sets) for (const map of spec.maps) for (const k of shotsFor(spec, s.task)) addEval({ model, task: s.task, dataset: s.dataset, scope: trainTask ? (scope as Scope) : "base", k, map });
    }
  };
  for (const m of spec.methods) {
    if (m.kind === "base") {
      if (!models.some((x) => x.id === "base")) models.push({ id: "base", method: m });
      scoreModel("base", undefined, ["base"]);
      continue;
    }
    for (const task of spec.trainTasks) {
      if (m.kind === "fticl" && !fticlShotsOf(spec, task).includes(m.k)) continue; // the paper's k per task
      for (const size of trainSizesFor(spec, task)) {
        for (const seed of spec.seeds) {
          const id = `${methodName(m)}/${task}/${size}/s${seed}`;
          models.push({ id, method: m, task, trainSize: size, seed });
          scoreModel(id, task, m.scopes ? spec.scopes.filter((s) => m.scopes!.includes(s)) : spec.scopes);
        }
      }
    }
  }
  return { spec, models, evals };
}
