/**
 * Evaluating a causal LM on one test set at one (k, prompt map), as the paper does, by what the
 * test set's task declares (declarations/tasks/*.json):
 * - metric accuracy (output type label): the prediction is the label whose word's first token has the
 *   highest probability as the next token after the prompt (words written without a leading space);
 * - metric rougeL (output type text): greedy decoding of at most `generation.maxNewTokens` new tokens
 *   (the paper: 60), cut at the first `generation.cut` (the paper: "\n\n"); scored by ROUGE-L
 *   F-measure (ROUGE-1/2 and corpus BLEU alongside).
 * Every score comes with a seeded bootstrap CI and per-item records (prompt hash, output, gold, score).
 */
import { createHash } from "node:crypto";
import { labelWord } from "../data/tasks";
import type { AnyRecord } from "../data/records";
import { buildPrompt } from "../prompts/build";
import { TestSet, testSetOf, type EvalSpec } from "./test-set";
import { capFields, keepLast } from "../prompts/fit";
import type { CausalLM } from "./lm";
import { sequenceStart, type Encoder } from "../tokenizer/encoder";
import { meanCI } from "../metrics/bootstrap";
import { corpusRouge } from "../metrics/rouge";
import { corpusBleu } from "../metrics/bleu";
import { macroF1 } from "../metrics/classification";

export type { EvalSpec } from "./test-set";

export interface ItemResult {
  /** Row of the test file. */
  position: number;
  /** First 16 hex digits of the SHA-1 of the prompt text. */
  promptHash: string;
  gold: string;
  /** Predicted label, or generated text cut at the first blank line. */
  output: string;
  /** 1/0 for classification; ROUGE-L F for generation. */
  score: number;
  /** Classification: log-probabilities of each label's first token, in label order. */
  labelLogProbs?: number[];
}

export interface EvalResult {
  spec: EvalSpec;
  modelId: string;
  engine: string;
  metric: "accuracy" | "rougeL";
  value: number;
  ci: { low: number; mid: number; high: number };
  n: number;
  /** Rows left out ("-" labels, empty texts). */
  excluded: number;
  /** Prompts whose oldest tokens had to be dropped to fit the context. */
  truncatedPrompts: number;
  /** Other metrics: macroF1 for classification; rouge1, rouge2, bleu for generation. */
  extra: Record<string, number>;
  items: ItemResult[];
  seconds: number;
}

/** First token of each label, written without a leading space, as the paper scores them. */
export function labelFirstTokens(enc: Encoder, labels: readonly string[]): number[] {
  const ids = labels.map((l) => {
    const t = enc.encode(l);
    if (t.length === 0) throw new Error(`label "${l}" encodes to no tokens`);
    return t[0];
  });
  const seen = new Map<number, string>();
  ids.forEach((id, i) => {
    const other = seen.get(id);
    if (other !== undefined) throw new Error(`labels "${other}" and "${labels[i]}" share their first token (${id}): first-token scoring cannot tell them apart`);
    seen.set(id, labels[i]);
  });
  return ids;
}

/** Cut a generation at the first `at` (the paper's scripts: a blank line), trimmed. */
export function cutGeneration(text: string, at = "\n\n"): string {
  const cut = text.indexOf(at);
  return (cut < 0 ? text : text.slice(0, cut)).trim();
}

export function promptHash(prompt: string): string {
  return createHash("sha1").update(prompt).digest("hex").slice(0, 16);
}

/** The prompts of a test set at (k, map), as strings, with the records they ask about. */
export function buildPrompts(lm: { tokenizer: Encoder }, s: EvalSpec | TestSet): { records: AnyRecord[]; prompts: string[]; excluded: number } {
  const ts = testSetOf(s);
  const { task, spec } = ts;
  const demos = ts.demos.map((d) => capFields(task, d, lm.tokenizer, spec.fieldTokenCap));
  const records: AnyRecord[] = ts.dataset.records;
  const prompts = records.map((r) => buildPrompt(task, capFields(task, r, lm.tokenizer, spec.fieldTokenCap), demos, spec.map));
  return { records, prompts, excluded: ts.dataset.excluded.length };
}

/**
 * Token ids of a prompt: BOS (when the tokenizer starts sequences with one), then the text. With
 * ftgen's tokenizer, as with Llama's, a literal "<s> " becomes a second BOS; SmolLM2 reads it as text.
 */
export function promptIds(enc: Encoder, prompt: string): number[] {
  return [...sequenceStart(enc), ...enc.encode(prompt)];
}

/** Run in batches of prompts of similar length (less padding), returning results in input order. */
async function inLengthOrder<R>(items: readonly number[][], batchSize: number, run: (batch: number[][]) => Promise<R[]>): Promise<R[]> {
  const order = items.map((_, i) => i).sort((a, b) => items[a].length - items[b].length || a - b);
  const out = new Array<R>(items.length);
  for (let i = 0; i < order.length; i += batchSize) {
    const idx = order.slice(i, i + batchSize);
    const res = await run(idx.map((j) => items[j]));
    idx.forEach((j, n) => { out[j] = res[n]; });
  }
  return out;
}

export async function evaluate(lm: CausalLM, s: EvalSpec | TestSet): Promise<EvalResult> {
  const t0 = Date.now();
  const ts = testSetOf(s);
  const { spec, task: taskSpec } = ts;
  const { records, prompts, excluded } = buildPrompts(lm, ts);
  if (records.length === 0) throw new Error(`${spec.task}/${spec.dataset}: no test items to score`);
  const maxNew = spec.maxNewTokens ?? taskSpec.generation?.maxNewTokens ?? 0;
  const budget = lm.contextLength - (taskSpec.generation ? maxNew : 1);
  let truncated = 0;
  const ids = prompts.map((p) => {
    const fit = keepLast(promptIds(lm.tokenizer, p), budget, lm.tokenizer.bosId);
    if (fit.dropped > 0) truncated++;
    return fit.ids;
  });
  const batchSize = spec.batchSize ?? 8;
  const items: ItemResult[] = [];
  const extra: Record<string, number> = {};
  if (taskSpec.metric === "accuracy") {
    const labels = taskSpec.labels as readonly string[];
    const cands = labelFirstTokens(lm.tokenizer, labels.map((l) => labelWord(taskSpec, l)));
    const lps = await inLengthOrder(ids, batchSize, (b) => lm.nextTokenLogProbs(b, cands));
    records.forEach((r: AnyRecord, i) => {
      const best = lps[i].reduce((bi, v, j, a) => (v > a[bi] ? j : bi), 0);
      items.push({ position: r.position, promptHash: promptHash(prompts[i]), gold: r.output, output: labels[best], score: labels[best] === r.output ? 1 : 0, labelLogProbs: lps[i] });
    });
    extra.macroF1 = macroF1(items.map((x) => x.output), items.map((x) => x.gold), labels).value;
  } else {
    const cut = taskSpec.generation?.cut ?? "\n\n";
    const stopAtCut = (newIds: readonly number[]): boolean => lm.tokenizer.decode(newIds).includes(cut);
    const outs = await inLengthOrder(ids, batchSize, (b) => lm.generate(b, maxNew, stopAtCut));
    const texts = outs.map((o) => cutGeneration(lm.tokenizer.decode(o), cut));
    const scores = corpusRouge(texts, records.map((r: AnyRecord) => r.output));
    records.forEach((r: AnyRecord, i) => {
      items.push({ position: r.position, promptHash: promptHash(prompts[i]), gold: r.output, output: texts[i], score: scores.items[i].rougeL.fmeasure });
    });
    extra.rouge1 = scores.mean.rouge1.fmeasure;
    extra.rouge2 = scores.mean.rouge2.fmeasure;
    extra.bleu = corpusBleu(texts.map((t) => t || " "), items.map((x) => x.gold)).score;
  }
  const ci = meanCI(items.map((x) => x.score), { seed: spec.bootstrapSeed ?? 0 });
  return {
    spec, modelId: lm.id, engine: lm.engine,
    metric: taskSpec.metric,
    value: ci.estimate, ci: { low: ci.low, mid: ci.mid, high: ci.high },
    n: items.length, excluded, truncatedPrompts: truncated, extra, items,
    seconds: (Date.now() - t0) / 1000,
  };
}
