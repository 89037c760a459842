/** Packing documents into training sequences, checked by hand on a small fixture. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cutStream as cutViews, documentStream, packDocuments as packViews, packedExamples, type PackOptions } from "../src/pretrain/corpus/packing";
import { collate } from "../src/train/examples";

const B = 0, E = 1, PAD = 2;
// the windows are Int32Array views; compared here as plain arrays
const packDocuments = (docs: number[][], opts: PackOptions): number[][] => packViews(docs, opts).map((s) => Array.from(s));
const cutStream = (stream: number[], seqLen: number, keepPartial = false): number[][] => cutViews(Int32Array.from(stream), seqLen, keepPartial).map((s) => Array.from(s));
const DOCS = [[5, 6, 7], [8], [9, 10]];

test("documents become BOS + ids + EOS, concatenated", () => {
  assert.deepEqual(Array.from(documentStream(DOCS, B, E)), [B, 5, 6, 7, E, B, 8, E, B, 9, 10, E]);
  assert.deepEqual(Array.from(documentStream([[]], B, E)), [B, E]);
});

test("windows of seqLen + 1 with stride seqLen: every token but the first is a target once", () => {
  // stream (12 tokens): B 5 6 7 E B 8 E B 9 10 E
  const seqs = packDocuments(DOCS, { seqLen: 4, bosId: B, eosId: E });
  assert.deepEqual(seqs, [[B, 5, 6, 7, E], [E, B, 8, E, B]]); // the last 3 tokens do not fill a window
  const all = packDocuments(DOCS, { seqLen: 4, bosId: B, eosId: E, keepPartial: true });
  assert.deepEqual(all, [[B, 5, 6, 7, E], [E, B, 8, E, B], [B, 9, 10, E]]);
  const targets = all.flatMap((s) => s.slice(1));
  assert.deepEqual(targets, [5, 6, 7, E, B, 8, E, B, 9, 10, E]); // the stream minus its first token, in order
  // a remainder of one token (the last window's last) has no target: no window for it
  assert.deepEqual(cutStream([1, 2, 3, 4, 5, 6], 5, true), [[1, 2, 3, 4, 5, 6]]);
  assert.deepEqual(cutStream([1, 2, 3, 4, 5, 6, 7], 5, true), [[1, 2, 3, 4, 5, 6], [6, 7]]);
  assert.deepEqual(cutStream([1, 2, 3, 4, 5, 6, 7, 8], 5), [[1, 2, 3, 4, 5, 6]]);
  assert.throws(() => cutStream([1, 2], 0), /seqLen must be a positive integer/);
});

test("the document order is a seeded shuffle: a permutation, the same for a seed", () => {
  const docs = Array.from({ length: 30 }, (_, i) => [100 + i]);
  const a = packDocuments(docs, { seqLen: 2, bosId: B, eosId: E, seed: 7 });
  const b = packDocuments(docs, { seqLen: 2, bosId: B, eosId: E, seed: 7 });
  const c = packDocuments(docs, { seqLen: 2, bosId: B, eosId: E, seed: 8 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  // 30 docs × 3 tokens = 90 tokens → 44 windows of 3 (stride 2); only the last EOS is left over
  assert.equal(a.length, 44);
  const stream = [a[0][0], ...a.flatMap((s) => s.slice(1))];
  assert.equal(stream.length, 89);
  for (let i = 0; i < 89; i++) assert.equal(stream[i], i % 3 === 0 ? B : i % 3 === 2 ? E : stream[i]);
  const order = stream.filter((t) => t >= 100);
  assert.deepEqual([...order].sort((x, y) => x - y), docs.map((d) => d[0])); // each document once
  assert.notDeepEqual(order, docs.map((d) => d[0])); // not the given order
});

test("windows are views of one buffer, not copies", () => {
  const views = packViews(DOCS, { seqLen: 4, bosId: B, eosId: E, keepPartial: true });
  assert.ok(views.every((v) => v instanceof Int32Array && v.buffer === views[0].buffer));
});

test("packed sequences train on every position (targetStart 1)", () => {
  const ex = packedExamples([[B, 5, 6, 7, E], [B, 9, 10, E]]);
  assert.ok(ex.every((e) => e.targetStart === 1 && e.droppedPromptTokens === 0));
  const batch = collate(ex, PAD);
  assert.equal(batch.cols, 4);
  assert.deepEqual(Array.from(batch.inputs), [B, 5, 6, 7, B, 9, 10, PAD]);
  assert.deepEqual(Array.from(batch.labels), [5, 6, 7, E, 9, 10, E, -1]);
  assert.equal(batch.targetTokens, 7);
});
