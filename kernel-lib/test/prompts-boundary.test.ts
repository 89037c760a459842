/**
 * The answer boundary of the paper's prompts under each pre-tokenizer, with tokenizers trained here
 * on demonstrations written the paper's way ("### Sentiment:positive").
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { trainTokenizer, type PreTokenizerKind } from "../src/tokenizer/tokenizer";
import { answerBoundaryMismatches, boundaryAgrees, boundaryCase } from "../src/prompts/boundary";

const LINES = [
  "### Input:\nThe lamp works well.\n### Sentiment:positive",
  "### Input:\nIt broke at once.\n### Sentiment:negative",
  "### Input_1:\nA man sings.\n### Input_2:\nA person makes music.\n### Inference:entailment",
  "### Input_1:\nHe sleeps.\n### Input_2:\nHe runs.\n### Inference:contradiction",
  "### Input_1:\nShe reads.\n### Input_2:\nShe reads a novel.\n### Inference:neutral",
  "### Input_1:\nHe left.\n### Input_2:\nHe went away.\n### Paraphrase Classification:yes",
  "### Input_1:\nA cat.\n### Input_2:\nA dog.\n### Paraphrase Classification:no",
  "The relation is entailment. The relation is neutral. The relation is contradiction.",
];
const TEXTS = Array.from({ length: 30 }, () => LINES.join("\n\n"));
const tokenizer = (kind: PreTokenizerKind) => trainTokenizer(TEXTS, { vocabSize: 420, pretokenizer: kind });

test("llama3 pre-tokenizer: ':' joins the label after it, so map-0 classification prompts are not a prefix", () => {
  const tok = tokenizer("llama3");
  assert.equal(boundaryAgrees(tok, "### Sentiment:", "positive"), false);
  const m = answerBoundaryMismatches(tok);
  const sentiment = m.find((x) => x.map === 0 && x.task === "sentiment" && x.answer === "positive");
  assert.ok(sentiment, JSON.stringify(m.map(boundaryCase)));
  // apart: the prompt's lone ":" then the label; together: one ":positive"-led piece
  assert.equal(sentiment.apart.at(-1 - tok.encode("positive").length), ":");
  assert.ok(sentiment.together.at(-1)?.startsWith(":"), JSON.stringify(sentiment.together));
  for (const task of ["sentiment", "detection", "inference"]) assert.ok(m.some((x) => x.map === 0 && x.task === task), task);
});

test("gpt2 pre-tokenizer: every prompt is a prefix of prompt + answer except map 1's trailing space", () => {
  const tok = tokenizer("gpt2");
  assert.equal(boundaryAgrees(tok, "### Sentiment:", "positive"), true);
  const m = answerBoundaryMismatches(tok);
  assert.deepEqual(m.map(boundaryCase), ["1/inference/entailment", "1/inference/neutral", "1/inference/contradiction"]);
  // "The relation is " + "neutral": a lone " " apart, " neutral"-led together
  assert.deepEqual(m[1].apart.slice(0, 2), [" is", " "]);
  assert.equal(m[1].together[1].startsWith(" n"), true);
});

test("a bytes-only tokenizer agrees everywhere", () => {
  assert.deepEqual(answerBoundaryMismatches(trainTokenizer(TEXTS, { vocabSize: 259 })), []);
});
