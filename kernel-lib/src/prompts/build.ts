/**
 * Prompt construction exactly as the paper's evaluation scripts do it:
 *  - a demonstration is template(demo) + demo.output + "\n\n" (no space before the answer);
 *  - a k-shot prompt is the k demonstrations, then template(test item);
 *  - a zero-shot prompt starts with the literal text "<s> "; few-shot prompts do not;
 *  - demonstrations are the first k items of the *test* dataset's few-shot file;
 *  - cross-task: the prompt follows the test set's task, whatever the model was trained on.
 */
import { labelWord, resolveTask, type TaskName, type TaskRef } from "../data/tasks";
import type { TaskRecord } from "../data/records";
import { loadFewShot } from "../data/load";
import type { PromptMapId } from "./maps";
import { makeRng, sampleIndices } from "../util/random";

/** The literal text the paper puts before zero-shot prompts. */
export const ZERO_SHOT_PREFIX = "<s> ";
/** What separates demonstrations (and ends each one). */
export const DEMO_SEPARATOR = "\n\n";

/**
 * Fill a template in one pass, so that a "{answer}" inside a text is never substituted. Only
 * `names` are placeholders (a task's input fields; default: the fields given); any other {…} stays as written.
 */
export function fillTemplate(template: string, fields: Readonly<Record<string, unknown>>, names: readonly string[] = Object.keys(fields)): string {
  return template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => {
    if (!names.includes(name)) return whole;
    const v = fields[name];
    if (typeof v !== "string") throw new Error(`template needs field "${name}"`);
    return v;
  });
}

/** template(item) in map `map`: the prompt for one item, ending right where the answer goes. */
export function templateFor(task: TaskRef, item: TaskRecord, map: PromptMapId = 0): string {
  const spec = resolveTask(task);
  return fillTemplate(spec.templates[map], item, spec.inputFields);
}

/** The answer a record's gold output is written as: its label's word (classification), or the text. */
export function answerText(task: TaskRef, item: TaskRecord): string {
  return labelWord(resolveTask(task), item.output);
}

/** One demonstration: template(demo) + its answer + "\n\n". */
export function demonstration(task: TaskRef, demo: TaskRecord, map: PromptMapId = 0): string {
  return templateFor(task, demo, map) + answerText(task, demo) + DEMO_SEPARATOR;
}

/** A prompt with the given demonstrations (none: zero-shot, with the "<s> " prefix). */
export function buildPrompt(task: TaskRef, item: TaskRecord, demos: readonly TaskRecord[], map: PromptMapId = 0): string {
  const spec = resolveTask(task);
  if (demos.length === 0) return ZERO_SHOT_PREFIX + templateFor(spec, item, map);
  return demos.map((d) => demonstration(spec, d, map)).join("") + templateFor(spec, item, map);
}

/** The paper's demonstrations: the first k items of `dataset`'s few-shot file. */
export function paperDemos(task: TaskName, dataset: string, k: number): TaskRecord[] {
  if (k === 0) return [];
  const pool = loadFewShot(task, dataset);
  if (k > pool.length) throw new Error(`${task}/${dataset}: asked for ${k} demonstrations, the few-shot file has ${pool.length}`);
  return pool.slice(0, k);
}

/** Seeded random demonstrations from a pool (an alternative to the paper's fixed first-k). */
export function randomDemos<R>(pool: readonly R[], k: number, seed: number | string): R[] {
  return sampleIndices(pool.length, k, makeRng(seed)).map((i) => pool[i]);
}

/** The k-shot evaluation prompt of the paper for an item of `dataset`. */
export function kShotPrompt(task: TaskName, dataset: string, item: TaskRecord, k: number, map: PromptMapId = 0): string {
  return buildPrompt(task, item, paperDemos(task, dataset, k), map);
}

/** The paper's shot list for a task. */
export function shotList(task: TaskRef): readonly number[] {
  return resolveTask(task).shots;
}

/** A fine-tuning example: the prompt part (loss-masked) and the target (EOS is appended by the tokenizer step). */
export interface TrainingText {
  prompt: string;
  target: string;
}

/**
 * FT: template(x) in map 0, target y. FTICL: the first k demonstrations of the same dataset's
 * few-shot file, in map 0, prefixed to the prompt; the loss stays on y alone.
 */
export function trainingText(task: TaskRef, item: TaskRecord, demos: readonly TaskRecord[] = []): TrainingText {
  const spec = resolveTask(task);
  const prefix = demos.map((d) => demonstration(spec, d, 0)).join("");
  return { prompt: prefix + templateFor(spec, item, 0), target: answerText(spec, item) };
}
