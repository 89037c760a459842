/**
 * The paper's two prompt maps. Map 0 is also the fine-tuning format; map 1 is a natural-language
 * variant used only at evaluation. Placeholders are {input}, {answer}, {input_1}, {input_2}.
 * `npm run data` checks these against the paper's own prompt_map.json at the pinned commit.
 */
import type { TaskName } from "../data/tasks";

export type PromptMapId = 0 | 1;

export const PROMPT_MAPS: Readonly<Record<PromptMapId, Readonly<Record<TaskName, string>>>> = {
  0: {
    summary: "### Input:\n{input}\n### Summary:",
    question: "### Input:\n{input}\n### Answer:\n{answer}\n### Question:",
    sentiment: "### Input:\n{input}\n### Sentiment:",
    inference: "### Input_1:\n{input_1}\n### Input_2:\n{input_2}\n### Inference:",
    detection: "### Input_1:\n{input_1}\n### Input_2:\n{input_2}\n### Paraphrase Classification:",
  },
  1: {
    summary: "Please read the following text:{input}\nProvide a summary:",
    question: "Given the context:{input}\nAnd the answer:{answer}\nGenerate a suitable question:",
    sentiment: "Analyze the sentiment of the following text:{input}\nSentiment:",
    // Ends in a space: the label follows it directly.
    inference: "Consider the following texts: Text 1:{input_1}\nText 2:{input_2}\nThe relation is ",
    detection: "Let's compare the two sentences: Sentence_1:{input_1}\nSentence_2:{input_2}\nAre they paraphrasing?:",
  },
};

export const PROMPT_MAP_IDS: readonly PromptMapId[] = [0, 1];

/**
 * Differences between our maps and a prompt_map.json (the paper's format: an array of two
 * task→template objects). Empty when they agree exactly.
 */
export function diffPromptMaps(paperMaps: unknown): string[] {
  const problems: string[] = [];
  if (!Array.isArray(paperMaps) || paperMaps.length !== 2) return ["expected an array of two maps"];
  for (const id of PROMPT_MAP_IDS) {
    const theirs = paperMaps[id] as Record<string, unknown>;
    const ours = PROMPT_MAPS[id];
    const keys = new Set([...Object.keys(theirs), ...Object.keys(ours)]);
    for (const k of keys) {
      if (theirs[k] !== (ours as Record<string, string>)[k]) problems.push(`map ${id}, task "${k}": templates differ`);
    }
  }
  return problems;
}
