/**
 * Exact prompt strings for one item of each task, both maps, zero-shot and k-shot.
 * The items are fixtures of our own; the expected strings are written out by hand.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildPrompt, demonstration, trainingText, fillTemplate, randomDemos, ZERO_SHOT_PREFIX } from "../src/prompts/build";
import { PROMPT_MAPS, diffPromptMaps } from "../src/prompts/maps";
import type { RecordOf } from "../src/data/records";

const summary: RecordOf["summary"] = { position: 0, input: "The council voted to close the old bridge.", output: "Bridge to close." };
const summaryDemo: RecordOf["summary"] = { position: 0, input: "Rain fell all week in the north.", output: "A wet week." };
const question: RecordOf["question"] = { position: 0, input: "Kai baked bread for Sam.", answer: "thank Kai", output: "What will Sam want to do next?" };
const questionDemo: RecordOf["question"] = { position: 0, input: "Lee lost the keys.", answer: "upset", output: "How will Lee feel?" };
const sentiment: RecordOf["sentiment"] = { position: 0, input: "Great little lamp.", output: "positive" };
const sentimentDemos: RecordOf["sentiment"][] = [
  { position: 0, input: "Broke in a day.", output: "negative" },
  { position: 1, input: "Works as promised.", output: "positive" },
];
const paraphrase: RecordOf["detection"] = { position: 0, input_1: "He left at noon.", input_2: "At noon he left.", output: "yes" };
const paraphraseDemo: RecordOf["detection"] = { position: 0, input_1: "A cat sat.", input_2: "A dog ran.", output: "no" };
const nli: RecordOf["inference"] = { position: 0, input_1: "A man plays guitar.", input_2: "A person makes music.", output: "entailment" };
const nliDemos: RecordOf["inference"][] = [
  { position: 0, input_1: "It is raining.", input_2: "The sun is out.", output: "contradiction" },
  { position: 1, input_1: "She reads.", input_2: "She reads a novel.", output: "neutral" },
  { position: 2, input_1: "Two dogs run.", input_2: "Animals move.", output: "entailment" },
];

test("zero-shot prompts start with the literal '<s> ' and end where the answer goes (map 0)", () => {
  assert.equal(ZERO_SHOT_PREFIX, "<s> ");
  assert.equal(buildPrompt("summary", summary, [], 0), "<s> ### Input:\nThe council voted to close the old bridge.\n### Summary:");
  assert.equal(buildPrompt("question", question, [], 0), "<s> ### Input:\nKai baked bread for Sam.\n### Answer:\nthank Kai\n### Question:");
  assert.equal(buildPrompt("sentiment", sentiment, [], 0), "<s> ### Input:\nGreat little lamp.\n### Sentiment:");
  assert.equal(buildPrompt("detection", paraphrase, [], 0), "<s> ### Input_1:\nHe left at noon.\n### Input_2:\nAt noon he left.\n### Paraphrase Classification:");
  assert.equal(buildPrompt("inference", nli, [], 0), "<s> ### Input_1:\nA man plays guitar.\n### Input_2:\nA person makes music.\n### Inference:");
});

test("zero-shot prompts in map 1", () => {
  assert.equal(buildPrompt("summary", summary, [], 1), "<s> Please read the following text:The council voted to close the old bridge.\nProvide a summary:");
  assert.equal(buildPrompt("question", question, [], 1), "<s> Given the context:Kai baked bread for Sam.\nAnd the answer:thank Kai\nGenerate a suitable question:");
  assert.equal(buildPrompt("sentiment", sentiment, [], 1), "<s> Analyze the sentiment of the following text:Great little lamp.\nSentiment:");
  assert.equal(buildPrompt("detection", paraphrase, [], 1), "<s> Let's compare the two sentences: Sentence_1:He left at noon.\nSentence_2:At noon he left.\nAre they paraphrasing?:");
  assert.equal(buildPrompt("inference", nli, [], 1), "<s> Consider the following texts: Text 1:A man plays guitar.\nText 2:A person makes music.\nThe relation is ");
});

test("k-shot prompts: demonstrations with the answer right after the colon, '\\n\\n' after each, no '<s> '", () => {
  assert.equal(buildPrompt("summary", summary, [summaryDemo], 0),
    "### Input:\nRain fell all week in the north.\n### Summary:A wet week.\n\n### Input:\nThe council voted to close the old bridge.\n### Summary:");
  assert.equal(buildPrompt("question", question, [questionDemo], 1),
    "Given the context:Lee lost the keys.\nAnd the answer:upset\nGenerate a suitable question:How will Lee feel?\n\n" +
    "Given the context:Kai baked bread for Sam.\nAnd the answer:thank Kai\nGenerate a suitable question:");
  assert.equal(buildPrompt("sentiment", sentiment, sentimentDemos, 0),
    "### Input:\nBroke in a day.\n### Sentiment:negative\n\n### Input:\nWorks as promised.\n### Sentiment:positive\n\n### Input:\nGreat little lamp.\n### Sentiment:");
  assert.equal(buildPrompt("sentiment", sentiment, sentimentDemos, 1),
    "Analyze the sentiment of the following text:Broke in a day.\nSentiment:negative\n\n" +
    "Analyze the sentiment of the following text:Works as promised.\nSentiment:positive\n\n" +
    "Analyze the sentiment of the following text:Great little lamp.\nSentiment:");
  assert.equal(buildPrompt("detection", paraphrase, [paraphraseDemo], 0),
    "### Input_1:\nA cat sat.\n### Input_2:\nA dog ran.\n### Paraphrase Classification:no\n\n" +
    "### Input_1:\nHe left at noon.\n### Input_2:\nAt noon he left.\n### Paraphrase Classification:");
  assert.equal(buildPrompt("detection", paraphrase, [paraphraseDemo], 1),
    "Let's compare the two sentences: Sentence_1:A cat sat.\nSentence_2:A dog ran.\nAre they paraphrasing?:no\n\n" +
    "Let's compare the two sentences: Sentence_1:He left at noon.\nSentence_2:At noon he left.\nAre they paraphrasing?:");
  assert.equal(buildPrompt("inference", nli, nliDemos, 1),
    "Consider the following texts: Text 1:It is raining.\nText 2:The sun is out.\nThe relation is contradiction\n\n" +
    "Consider the following texts: Text 1:She reads.\nText 2:She reads a novel.\nThe relation is neutral\n\n" +
    "Consider the following texts: Text 1:Two dogs run.\nText 2:Animals move.\nThe relation is entailment\n\n" +
    "Consider the following texts: Text 1:A man plays guitar.\nText 2:A person makes music.\nThe relation is ");
  assert.equal(buildPrompt("inference", nli, nliDemos.slice(0, 1), 0),
    "### Input_1:\nIt is raining.\n### Input_2:\nThe sun is out.\n### Inference:contradiction\n\n" +
    "### Input_1:\nA man plays guitar.\n### Input_2:\nA person makes music.\n### Inference:");
});

test("a demonstration is template + output + blank line", () => {
  assert.equal(demonstration("sentiment", sentimentDemos[0], 0), "### Input:\nBroke in a day.\n### Sentiment:negative\n\n");
});

test("templates are filled in one pass: braces inside a text stay as they are", () => {
  const tricky: RecordOf["question"] = { position: 0, input: "Type {answer} here.", answer: "{input}", output: "?" };
  assert.equal(buildPrompt("question", tricky, [], 0), "<s> ### Input:\nType {answer} here.\n### Answer:\n{input}\n### Question:");
  assert.throws(() => fillTemplate("{input_1}", {}, ["input_1"]), /needs field "input_1"/);
  assert.equal(fillTemplate("{input} {other}", { input: "x" }), "x {other}", "only the named fields are placeholders");
});

test("training texts: FT is template(x) with target y; FTICL prefixes map-0 demonstrations, loss target unchanged", () => {
  assert.deepEqual(trainingText("sentiment", sentiment), { prompt: "### Input:\nGreat little lamp.\n### Sentiment:", target: "positive" });
  const fticl = trainingText("sentiment", sentiment, sentimentDemos);
  assert.equal(fticl.prompt, "### Input:\nBroke in a day.\n### Sentiment:negative\n\n### Input:\nWorks as promised.\n### Sentiment:positive\n\n### Input:\nGreat little lamp.\n### Sentiment:");
  assert.equal(fticl.target, "positive");
});

test("seeded random demonstrations are reproducible and distinct", () => {
  const pool = ["a", "b", "c", "d", "e", "f", "g", "h"];
  const a = randomDemos(pool, 3, 11);
  assert.deepEqual(a, randomDemos(pool, 3, 11));
  assert.equal(new Set(a).size, 3);
  const draws = new Set([11, 12, 13, 14].map((seed) => randomDemos(pool, 3, seed).join()));
  assert.ok(draws.size > 1, "different seeds should give different demonstrations");
});

test("the prompt-map check catches any difference", () => {
  const same = [{ ...PROMPT_MAPS[0] }, { ...PROMPT_MAPS[1] }];
  assert.deepEqual(diffPromptMaps(same), []);
  const changed = [{ ...PROMPT_MAPS[0], sentiment: "### Input:\n{input}\n### Sentiment: " }, { ...PROMPT_MAPS[1] }];
  assert.deepEqual(diffPromptMaps(changed), ['map 0, task "sentiment": templates differ (declarations/tasks/sentiment.json)']);
  assert.deepEqual(diffPromptMaps({}), ["expected an array of two maps"]);
});
