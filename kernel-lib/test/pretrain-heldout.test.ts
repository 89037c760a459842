/**
 * Held-out evaluation on a tiny model: each (kind, source) cell is packed as in training and
 * scored once per token; kinds, sources and the total are token-weighted means of the cells; the
 * batch size changes nothing; and a model trained on the text scores it better than a fresh one.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/model/backend";
import { LlamaModel } from "../src/model/llama";
import { heldoutLoss } from "../src/pretrain/run/heldout";
import { packDocuments } from "../src/pretrain/corpus/packing";
import type { Encoder } from "../src/tokenizer/encoder";
import type { CorpusDoc } from "../src/pretrain/corpus/types";
import { FINETUNE_DEFAULTS, train } from "../src/train/loop";
import { packedExamples } from "../src/pretrain/corpus/packing";

/** Characters a–z → ids 3–28; anything else → 29. */
const enc: Encoder = {
  encode: (t) => [...t].map((c) => (c >= "a" && c <= "z" ? c.charCodeAt(0) - 94 : 29)),
  decode: (ids) => Array.from(ids, (i) => String.fromCharCode(i + 94)).join(""),
  bosId: 0, eosId: 1, padId: 2,
};
const DOCS: CorpusDoc[] = [
  { source: "brown", kind: "general", text: "the cat sat on the mat and the dog sat on the log" },
  { source: "brown", kind: "general", text: "a bird in the hand" },
  { source: "sotu", kind: "general", text: "the state of the union is strong" },
  { source: "paper:amazon", kind: "paper-input", text: "great phone works well" },
  { source: "wordnet", kind: "mt-question", text: "what is a cat a small animal" },
];
const SEQ = 16;
const cfg = { vocab_size: 32, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, max_position_embeddings: SEQ };

/** Sum of losses and count over the packed windows of `docs`, one window at a time. */
function direct(model: LlamaModel, docs: CorpusDoc[]): { sum: number; tokens: number } {
  const seqs = packDocuments(docs.map((d) => enc.encode(d.text)), { seqLen: SEQ, bosId: 0, eosId: 1, keepPartial: true });
  let sum = 0, tokens = 0;
  for (const s of seqs) {
    const l = tf.tidy(() => model.loss([Array.from(s.slice(0, -1))], [Array.from(s.slice(1))]).dataSync()[0]);
    sum += l * (s.length - 1);
    tokens += s.length - 1;
  }
  return { sum, tokens };
}

test("held-out loss per cell, kind, source and in all, as computed window by window", async () => {
  await initBackend({ quiet: true });
  const model = LlamaModel.init(cfg, 3);
  const r = heldoutLoss(model, enc, DOCS, { seqLen: SEQ, batchSize: 2 });
  const cells = {
    "general/brown": direct(model, DOCS.slice(0, 2)), "general/sotu": direct(model, DOCS.slice(2, 3)),
    "paper-input/paper:amazon": direct(model, DOCS.slice(3, 4)), "mt-question/wordnet": direct(model, DOCS.slice(4, 5)),
  };
  // every token of a cell's stream but its first is scored: chars + 2 per document, minus 1
  assert.equal(cells["general/brown"].tokens, DOCS[0].text.length + DOCS[1].text.length + 4 - 1);
  const mean = (...cs: Array<{ sum: number; tokens: number }>): number => cs.reduce((s, c) => s + c.sum, 0) / cs.reduce((s, c) => s + c.tokens, 0);
  assert.deepEqual(Object.keys(r.byKind), ["general", "mt-question", "paper-input"]);
  assert.deepEqual(Object.keys(r.bySource), ["brown", "paper:amazon", "sotu", "wordnet"]);
  assert.equal(r.byKind.general.docs, 3);
  assert.equal(r.byKind.general.tokens, cells["general/brown"].tokens + cells["general/sotu"].tokens);
  assert.ok(Math.abs(r.byKind.general.loss - mean(cells["general/brown"], cells["general/sotu"])) < 1e-5);
  assert.ok(Math.abs(r.bySource.brown.loss - mean(cells["general/brown"])) < 1e-5);
  assert.ok(Math.abs(r.bySource["paper:amazon"].loss - mean(cells["paper-input/paper:amazon"])) < 1e-5);
  assert.ok(Math.abs(r.all.loss - mean(...Object.values(cells))) < 1e-5);
  assert.ok(Math.abs(r.all.perplexity - Math.exp(r.all.loss)) < 1e-6);
  assert.equal(r.all.docs, 5);
  // per character: the same summed loss over the text's characters (a char tokenizer: chars = tokens − 2 per doc + 1)
  const brown = cells["general/brown"], brownChars = DOCS[0].text.length + DOCS[1].text.length;
  assert.equal(r.bySource.brown.chars, brownChars);
  assert.ok(Math.abs(r.bySource.brown.lossPerChar - brown.sum / brownChars) < 1e-5);
  assert.ok(Math.abs(r.bySource.brown.lossPerChar - r.bySource.brown.loss * brown.tokens / brownChars) < 1e-5);
  assert.equal(r.all.chars, DOCS.reduce((s, d) => s + d.text.length, 0));
  // a fresh model is near uniform over 32 ids
  assert.ok(Math.abs(r.all.loss - Math.log(32)) < 0.2, `fresh loss ${r.all.loss}`);
  // batch size does not change the result
  const one = heldoutLoss(model, enc, DOCS, { seqLen: SEQ, batchSize: 1 });
  assert.ok(Math.abs(one.all.loss - r.all.loss) < 1e-5);
  model.dispose();
});

test("a model trained on the text scores it better; no documents is an error", async () => {
  await initBackend({ quiet: true });
  const model = LlamaModel.init(cfg, 4);
  const before = heldoutLoss(model, enc, DOCS, { seqLen: SEQ }).all.loss;
  const ex = packedExamples(packDocuments(DOCS.map((d) => enc.encode(d.text)), { seqLen: SEQ, bosId: 0, eosId: 1, seed: 1 }));
  await train(model, ex, { ...FINETUNE_DEFAULTS, epochs: 30, batchSize: 4, microBatchSize: 4, lr: 1e-2, seed: 1 });
  const after = heldoutLoss(model, enc, DOCS, { seqLen: SEQ }).all.loss;
  assert.ok(after < before - 0.5, `loss ${before} → ${after}`);
  assert.throws(() => heldoutLoss(model, enc, [], { seqLen: SEQ }), /no documents/);
  model.dispose();
});
