/**
 * Demonstration formats for multitask documents. A document holds several demonstrations of one
 * task, all in one format drawn at random: a layout (### headers, "Label: value" lines, bracket
 * tags, a question line, or an arrow), field names, answer name, label words, an optional intro
 * line, and a separator. The paper's "### Input:" style is one layout among several; a format
 * whose skeleton contains one of the paper's exact prompt templates is never used.
 */
import { PROMPT_MAPS, PROMPT_MAP_IDS } from "../../prompts/maps";
import type { Rng } from "../../util/random";

export type MtKind = "sentiment" | "paraphrase" | "nli" | "summary" | "question";
export const MT_KINDS: readonly MtKind[] = ["sentiment", "paraphrase", "nli", "summary", "question"];

/** One demonstration's content: input fields in order, and the answer (a label index or a text). */
export interface MtItem {
  fields: string[];
  /** Index into the label words (classification kinds). */
  label?: number;
  /** The target text (generation kinds). */
  target?: string;
}

export type Layout = "hash" | "colon" | "bracket" | "question" | "arrow";

export interface DemoFormat {
  kind: MtKind;
  layout: Layout;
  fieldNames: string[];
  answerName: string;
  /** Label words (classification kinds), in label-index order. */
  labels?: string[];
  /** Text between the answer name's colon and the answer: "" (as the paper) or " ". */
  gap: string;
  /** Line put before the answer in the "question" layout. */
  question?: string;
  intro?: string;
  separator: string;
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)];

interface KindSpec {
  fields: string[][];
  answers: string[];
  /** Label-word sets; the first is the paper's own words. */
  labels?: string[][];
  questions: string[];
  intros: string[];
  /** Placeholder names of the paper's templates for this kind, to check skeletons against them. */
  paperFields: string[];
}

export const KIND_SPECS: Readonly<Record<MtKind, KindSpec>> = {
  sentiment: {
    fields: [["Text"], ["Review"], ["Sentence"], ["Passage"], ["Statement"], ["Input"], ["Comment"]],
    answers: ["Sentiment", "Polarity", "Tone", "Label", "Feeling", "Attitude", "Answer"],
    labels: [["positive", "negative"], ["Positive", "Negative"], ["good", "bad"], ["pos", "neg"], ["favorable", "unfavorable"], ["happy", "unhappy"], ["like", "dislike"]],
    questions: ["Is the tone {0} or {1}?", "Positive or negative?", "How does the writer feel?", "What is the sentiment?"],
    intros: ["Decide whether each text is {0} or {1}.", "Sentiment examples.", "Classify the polarity of every sentence.", "Each line is labelled {0} or {1}.", ""],
    paperFields: ["{input}"],
  },
  paraphrase: {
    fields: [["Sentence 1", "Sentence 2"], ["First", "Second"], ["A", "B"], ["Text A", "Text B"], ["Input_1", "Input_2"], ["Phrase 1", "Phrase 2"], ["Original", "Candidate"]],
    answers: ["Paraphrase", "Same meaning", "Equivalent", "Answer", "Label", "Match"],
    labels: [["yes", "no"], ["Yes", "No"], ["same", "different"], ["true", "false"], ["equivalent", "not equivalent"], ["paraphrase", "not paraphrase"]],
    questions: ["Do they mean the same thing?", "Is the second a paraphrase of the first?", "Same meaning?"],
    intros: ["Do the two texts say the same thing? Answer {0} or {1}.", "Paraphrase identification.", "Pairs of sentences, marked {0} if they mean the same and {1} otherwise.", ""],
    paperFields: ["{input_1}", "{input_2}"],
  },
  nli: {
    fields: [["Premise", "Hypothesis"], ["Text", "Claim"], ["Sentence 1", "Sentence 2"], ["Input_1", "Input_2"], ["Context", "Statement"], ["P", "H"]],
    answers: ["Relation", "Inference", "Label", "Answer", "Verdict", "Entailment"],
    labels: [["entailment", "neutral", "contradiction"], ["Entailment", "Neutral", "Contradiction"], ["yes", "maybe", "no"], ["true", "unknown", "false"], ["entails", "neutral", "contradicts"], ["follows", "undetermined", "contradicts"]],
    questions: ["Does the first imply the second?", "What is the relation between them?", "Is the claim supported?"],
    intros: ["Natural language inference: {0}, {1} or {2}.", "Does the premise entail the hypothesis?", "Label each pair as {0}, {1} or {2}.", ""],
    paperFields: ["{input_1}", "{input_2}"],
  },
  summary: {
    fields: [["Text"], ["Article"], ["Document"], ["Input"], ["Message"], ["Passage"], ["Story"]],
    answers: ["Summary", "TL;DR", "In short", "Headline", "Gist", "One-line summary"],
    questions: ["Summarize it in one sentence.", "What is it about?", "Give a short summary."],
    intros: ["Summaries.", "Each text is followed by a one-sentence summary.", "Write a short summary of each document.", ""],
    paperFields: ["{input}"],
  },
  question: {
    fields: [["Context", "Answer"], ["Passage", "Answer"], ["Text", "Response"], ["Input", "Answer"], ["Background", "Target answer"], ["Fact", "Reply"]],
    answers: ["Question", "Q", "Generated question", "Ask"],
    questions: ["Write a question with this answer.", "What question does the answer respond to?", "Ask about it."],
    intros: ["Question generation: write a question whose answer is given.", "Questions and their answers.", "Turn each context and answer into a question.", ""],
    paperFields: ["{input}", "{answer}"],
  },
};

function fill(template: string, labels: readonly string[] | undefined): string {
  return template.replace(/\{(\d)\}/g, (_, i: string) => labels?.[Number(i)] ?? "");
}

/** Renders one demonstration (or, with `answer` null, the prompt part only). */
export function renderDemo(fmt: DemoFormat, fields: readonly string[], answer: string | null): string {
  const ans = answer === null ? "" : answer;
  switch (fmt.layout) {
    case "hash":
      return `${fields.map((f, i) => `### ${fmt.fieldNames[i]}:\n${f}`).join("\n")}\n### ${fmt.answerName}:${fmt.gap}${ans}`;
    case "colon":
      return `${fields.map((f, i) => `${fmt.fieldNames[i]}: ${f}`).join("\n")}\n${fmt.answerName}:${fmt.gap}${ans}`;
    case "bracket":
      return `${fields.map((f, i) => `[${fmt.fieldNames[i]}] ${f}`).join("\n")}\n[${fmt.answerName}]${fmt.gap || " "}${ans}`;
    case "question":
      return `${fields.map((f, i) => `${fmt.fieldNames[i]}: ${f}`).join("\n")}\n${fmt.question ?? ""}\n${fmt.answerName}:${fmt.gap}${ans}`;
    case "arrow":
      return `${fields.join(" || ")} =>${fmt.gap || " "}${ans}`;
  }
}

/** The format's prompt with the paper's placeholders, to compare with the paper's templates. */
export function skeleton(fmt: DemoFormat): string {
  return renderDemo(fmt, KIND_SPECS[fmt.kind].paperFields, null);
}

/** Does the skeleton contain one of the paper's exact templates (either map, any task)? */
export function usesPaperTemplate(fmt: DemoFormat): boolean {
  const sk = skeleton(fmt);
  for (const id of PROMPT_MAP_IDS) for (const t of Object.values(PROMPT_MAPS[id])) if (sk.includes(t)) return true;
  return false;
}

/** A random format for `kind` (never one that reproduces a paper template). */
export function randomFormat(kind: MtKind, rng: Rng, opts: { longInputs?: boolean; paperLabelShare?: number } = {}): DemoFormat {
  const spec = KIND_SPECS[kind];
  // The paper's label words (each kind's first set) in this share of documents; drawn only when
  // asked for, so that corpora built without it stay byte-identical.
  const paperLabels = spec.labels && opts.paperLabelShare ? rng.next() < opts.paperLabelShare : false;
  const layouts: Layout[] = ["hash", "hash", "colon", "colon", "bracket", "question"];
  if (!opts.longInputs) layouts.push("arrow");
  for (;;) {
    const labels = spec.labels ? (paperLabels ? spec.labels[0] : pick(rng, spec.labels)) : undefined;
    const intro = fill(pick(rng, spec.intros), labels);
    const fmt: DemoFormat = {
      kind,
      layout: pick(rng, layouts),
      fieldNames: pick(rng, spec.fields),
      answerName: pick(rng, spec.answers),
      labels,
      gap: rng.next() < 0.5 ? "" : " ",
      question: fill(pick(rng, spec.questions), labels),
      intro: intro || undefined,
      separator: pick(rng, ["\n\n", "\n\n", "\n\n", "\n\n\n", "\n---\n"]),
    };
    if (!usesPaperTemplate(fmt)) return fmt;
  }
}

/** The answer text of an item under a format. */
export function answerText(fmt: DemoFormat, item: MtItem): string {
  if (item.target !== undefined) return item.target;
  if (!fmt.labels || item.label === undefined || item.label >= fmt.labels.length) throw new Error(`multitask ${fmt.kind}: item has no usable label`);
  return fmt.labels[item.label];
}

/** A whole document: optional intro line, then the demonstrations joined by the separator. */
export function renderDocument(fmt: DemoFormat, items: readonly MtItem[]): string {
  const demos = items.map((it) => renderDemo(fmt, it.fields, answerText(fmt, it)));
  return (fmt.intro ? `${fmt.intro}\n\n` : "") + demos.join(fmt.separator);
}
