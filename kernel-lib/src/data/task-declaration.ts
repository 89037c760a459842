/**
 * One task declaration (declarations/tasks/<name>.json), read and checked. A generation task:
 *
 *   { "name": "summary", "title": "Summarization", "fields": ["input"], "output": { "type": "text" },
 *     "templates": { "0": "### Input:\n{input}\n### Summary:", "1": "…{input}…" },
 *     "metric": "rougeL", "generation": { "maxNewTokens": 60, "cut": "\n\n" },
 *     "shots": [0, 1, 2, 4], "fticlShots": [1, 2], "trainSizes": [2000],
 *     "datasets": { "inDomain": "xsum", "outOfDomain": ["xlsum"] } }
 *
 * A classification task has `"output": { "type": "label", "labels": [...], "words": { label: word } }`
 * and `"metric": "accuracy"`. Every fault is one line naming the file and the field.
 */
import { Fields } from "../util/declaration";

/** A task's name: a declaration's `name` ("summary", …, or a user's own). */
export type TaskName = string;
export type TaskKind = "generation" | "classification";
/** A prompt map: 0 is the paper's fine-tuning format, 1 its natural-language variant. */
export type PromptMapId = 0 | 1;
export const PROMPT_MAP_IDS: readonly PromptMapId[] = [0, 1];

export interface TaskSpec {
  /** The declaration's name (for the paper's tasks: the folder name in its data/ and the key in its prompt maps). */
  readonly name: TaskName;
  /** Human-readable name. */
  readonly title: string;
  /** "generation" (output type text) or "classification" (output type label). */
  readonly kind: TaskKind;
  /** "paper": checked against the paper's prompt_map.json and files; "user": against its own files only. */
  readonly source: "paper" | "user";
  /** The declaration file. */
  readonly file: string;
  /** Place in tables and plots (the paper's tasks: 1–5; a task without one comes after them, by name). */
  readonly order?: number;
  /** Text fields a record carries besides `output` (the target). */
  readonly inputFields: readonly string[];
  /** Allowed values of `output` for classification tasks. */
  readonly labels?: readonly string[];
  /** The word a label is written as in prompts and scored by (the paper's: the label itself). */
  readonly labelWords?: Readonly<Record<string, string>>;
  /** Gold labels that mark an unlabelled row (MNLI/SNLI "-"): counted, reported, kept out of scoring. */
  readonly unlabelled?: readonly string[];
  /** The template of each prompt map: fields as {name}; the answer follows it directly. */
  readonly templates: Readonly<Record<PromptMapId, string>>;
  /** accuracy (the label whose word's first token is likeliest) or rougeL (greedy generation). */
  readonly metric: "accuracy" | "rougeL";
  /** Generation tasks: the budget of new tokens and the text a generation is cut at. */
  readonly generation?: { readonly maxNewTokens: number; readonly cut: string };
  /** Dataset trained on and tested in-domain. */
  readonly inDomain: string;
  /** Out-of-domain test sets (same task, other dataset), in order. */
  readonly outOfDomain: readonly string[];
  /** Test sets present in the data but not used by the study. */
  readonly unused?: readonly string[];
  /** The shot list (numbers of in-context demonstrations). */
  readonly shots: readonly number[];
  /** FTICL's k values (demonstrations prefixed during fine-tuning). */
  readonly fticlShots: readonly number[];
  /** Train-set sizes (the paper's file names say 2000/4000/6000). */
  readonly trainSizes: readonly number[];
}


const TOP = ["name", "title", "order", "source", "fields", "output", "templates", "metric", "generation", "shots", "fticlShots", "trainSizes", "datasets"];

/** The placeholders of a template, in order ("{input}" → "input"). */
export function placeholders(template: string): string[] {
  return [...template.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]);
}

export function parseTaskDeclaration(file: string, raw: unknown, source: "paper" | "user"): TaskSpec {
  const d = Fields.of(file, raw);
  d.only(TOP);
  const name = d.string("name", "the task's name");
  if (!/^[a-z][a-z0-9_-]*$/.test(name)) d.fail("name", `"${name}": use lower-case letters, digits, "-" and "_"`);
  const fields = d.strings("fields", "the input fields of a record");
  for (const f of fields) if (f === "output" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(f)) d.fail("fields", `"${f}" cannot be a field name ("output" is the target; letters, digits and "_")`);

  const out = d.object("output", 'the output: { "type": "text" } or { "type": "label", "labels": [...], "words": {...} }');
  const type = out.oneOf("type", ["text", "label"] as const);
  let labels: string[] | undefined, labelWords: Record<string, string> | undefined, unlabelled: string[] | undefined;
  if (type === "label") {
    out.only(["type", "labels", "words", "unlabelled"]);
    labels = out.strings("labels", "the labels");
    if (labels.length < 2) out.fail("labels", "a classification task needs at least two labels");
    const words = out.object("words", "the word each label is written as");
    words.only(labels);
    labelWords = Object.fromEntries(labels.map((l) => {
      if (!words.has(l)) words.fail(undefined, `label "${l}" has no word`);
      return [l, words.string(l, `the word of label "${l}"`)];
    }));
    const seen = new Map<string, string>();
    for (const [l, w] of Object.entries(labelWords)) {
      if (seen.has(w)) words.fail(l, `"${w}" is also the word of label "${seen.get(w)}"`);
      seen.set(w, l);
    }
    unlabelled = out.optionalStrings("unlabelled", "gold labels that mark an unlabelled row");
    const both = unlabelled?.find((u) => labels!.includes(u));
    if (both) out.fail("unlabelled", `"${both}" is also a label`);
  } else {
    out.only(["type"]);
  }

  const tpl = d.object("templates", 'a template for each prompt map: { "0": "...", "1": "..." }');
  tpl.only(PROMPT_MAP_IDS.map(String));
  const templates = Object.fromEntries(PROMPT_MAP_IDS.map((id) => {
    const t = tpl.string(String(id), `the template of prompt map ${id}`);
    for (const p of placeholders(t)) if (!fields.includes(p)) tpl.fail(String(id), `{${p}} is not a field of the task (fields: ${fields.join(", ")})`);
    const missing = fields.find((f) => !placeholders(t).includes(f));
    if (missing) tpl.fail(String(id), `field "${missing}" appears nowhere in the template (write {${missing}})`);
    return [id, t];
  })) as unknown as TaskSpec["templates"];

  const metric = d.oneOf("metric", ["accuracy", "rougeL"] as const);
  if ((metric === "accuracy") !== (type === "label")) d.fail("metric", `${metric} does not score output type "${type}" (label: accuracy; text: rougeL)`);
  let generation: TaskSpec["generation"];
  if (type === "text") {
    const g = d.object("generation", 'the generation limits: { "maxNewTokens": 60, "cut": "\\n\\n" }');
    g.only(["maxNewTokens", "cut"]);
    generation = { maxNewTokens: g.integer("maxNewTokens", 1), cut: g.string("cut", "the text a generation is cut at") };
  } else if (d.has("generation")) d.fail("generation", "only a text-output task generates");

  const shots = d.integers("shots", 0);
  if (shots[0] !== 0) d.fail("shots", "the shot list starts at 0 (zero-shot)");
  const fticlShots = d.integers("fticlShots", 1);
  const trainSizes = d.integers("trainSizes", 1);
  const ds = d.object("datasets", 'the datasets: { "inDomain": "...", "outOfDomain": [...] }');
  ds.only(["inDomain", "outOfDomain", "unused"]);
  const inDomain = ds.string("inDomain", "the dataset trained on and tested in-domain");
  const outOfDomain = ds.has("outOfDomain") ? ds.strings("outOfDomain", "the out-of-domain test sets") : [];
  const unused = ds.optionalStrings("unused", "test sets left out of the study");
  const all = [inDomain, ...outOfDomain, ...(unused ?? [])];
  const twice = all.find((x, i) => all.indexOf(x) !== i);
  if (twice) ds.fail(undefined, `dataset "${twice}" is listed twice`);
  const declaredSource = d.has("source") ? d.oneOf("source", ["paper", "user"] as const) : source;
  if (declaredSource === "paper" && source !== "paper") d.fail("source", 'only the project\'s own declarations are the paper\'s; a user task is "user"');

  return {
    name, title: d.string("title", "a human-readable name"), kind: type === "label" ? "classification" : "generation", source: declaredSource, file,
    ...(d.has("order") ? { order: d.integer("order", 1) } : {}),
    inputFields: fields, ...(labels ? { labels, labelWords } : {}), ...(unlabelled ? { unlabelled } : {}),
    templates, metric, ...(generation ? { generation } : {}),
    inDomain, outOfDomain, ...(unused ? { unused } : {}), shots, fticlShots, trainSizes,
  };
}
