/**
 * The answer boundary: does a prompt tokenize as a prefix of prompt + answer?
 *
 * The paper writes the answer right after the template ("### Sentiment:positive"). A model reads
 * its demonstrations (and its pretraining text) tokenized as one string, but it is scored and
 * decodes from the prompt alone, with the label tokenized on its own. When the two disagree at the
 * boundary, the model is asked for a token sequence it never saw there. A Llama-3-style
 * pre-tokenizer joins one punctuation mark to the next word (":positive" is one piece), so every
 * map-0 prompt, ending in ":", disagrees; a GPT-2-style one keeps ":" apart and agrees. A prompt
 * that ends in a space (map 1's inference, "The relation is ") disagrees with both, as it does with
 * most BPE tokenizers.
 */
import { TASKS, labelWord, type TaskName } from "../data/tasks";
import type { Encoder } from "../tokenizer/encoder";
import { PROMPT_MAPS, PROMPT_MAP_IDS, type PromptMapId } from "./maps";
import { ZERO_SHOT_PREFIX, fillTemplate } from "./build";

/** Field values for the check: plain sentences, as the paper's inputs are. */
const SAMPLE_FIELDS: Readonly<Record<string, string>> = {
  input: "The new library opened on Monday and was full by noon.",
  answer: "the library",
  input_1: "The library opened on Monday.",
  input_2: "On Monday the library opened.",
};
/** Generation answers start with a word, as the paper's targets do. */
const SAMPLE_TARGETS: Readonly<Record<string, string>> = {
  summary: "A new library opened.",
  question: "What opened on Monday?",
};

export interface BoundaryMismatch {
  task: TaskName;
  map: PromptMapId;
  answer: string;
  /** Token pieces of the prompt's end, then of the answer, each tokenized on its own. */
  apart: string[];
  /** Token pieces of the same text tokenized as one string. */
  together: string[];
}

/** "map/task/answer": how the model card and the corpus build name a case. */
export function boundaryCase(m: Pick<BoundaryMismatch, "map" | "task" | "answer">): string {
  return `${m.map}/${m.task}/${m.answer}`;
}

/** The prompt's and the answer's ids tokenized apart, and their text tokenized as one string. */
function tokenizeBoth(enc: Pick<Encoder, "encode">, prompt: string, answer: string): { prompt: number[]; answer: number[]; together: number[] } {
  return { prompt: enc.encode(prompt), answer: enc.encode(answer), together: enc.encode(prompt + answer) };
}

function agrees(t: { prompt: number[]; answer: number[]; together: number[] }): boolean {
  const apart = [...t.prompt, ...t.answer];
  return apart.length === t.together.length && apart.every((id, i) => id === t.together[i]);
}

/** Does `prompt` tokenize as a prefix of `prompt + answer`, with the answer's tokens after it? */
export function boundaryAgrees(enc: Pick<Encoder, "encode">, prompt: string, answer: string): boolean {
  return agrees(tokenizeBoth(enc, prompt, answer));
}

/**
 * Every (task, map, answer) of the paper's prompt maps (its five tasks) whose boundary disagrees under `enc`: each
 * classification label, and a sample target for generation tasks. Empty when all agree.
 */
export function answerBoundaryMismatches(enc: Pick<Encoder, "encode" | "decode">): BoundaryMismatch[] {
  const out: BoundaryMismatch[] = [];
  const pieces = (ids: readonly number[]): string[] => ids.map((id) => enc.decode([id]));
  for (const map of PROMPT_MAP_IDS) {
    for (const task of Object.keys(PROMPT_MAPS[map])) {
      const prompt = ZERO_SHOT_PREFIX + fillTemplate(PROMPT_MAPS[map][task], SAMPLE_FIELDS);
      const answers = TASKS[task].labels?.map((l) => labelWord(TASKS[task], l)) ?? [SAMPLE_TARGETS[task]];
      for (const answer of answers) {
        const t = tokenizeBoth(enc, prompt, answer);
        if (agrees(t)) continue;
        // the prompt's last two tokens and what follows, enough to show where the cut differs
        const from = Math.max(0, t.prompt.length - 2);
        out.push({ task, map, answer, apart: [...pieces(t.prompt.slice(from)), ...pieces(t.answer)], together: pieces(t.together.slice(from)) });
      }
    }
  }
  return out;
}
