/** Tokenized training examples, loss masks, collation and length bucketing. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tokenizeTraining, collate, bucketBatches, paddingShare } from "../src/train/examples";
import type { Encoder } from "../src/tokenizer/encoder";

// A toy encoder: one token per character, code point + 10; BOS 0, EOS 1, PAD 2.
const enc: Encoder = {
  encode: (s) => [...s].map((c) => c.codePointAt(0)! + 10),
  decode: (ids) => String.fromCodePoint(...Array.from(ids, (i) => i - 10)),
  bosId: 0, eosId: 1, padId: 2,
};
const code = (c: string): number => c.codePointAt(0)! + 10;

test("BOS + prompt + target + EOS, loss on the target and EOS only", () => {
  const ex = tokenizeTraining(enc, { prompt: "ab:", target: "yes" }, 64);
  assert.deepEqual(ex.ids, [0, code("a"), code("b"), code(":"), code("y"), code("e"), code("s"), 1]);
  assert.equal(ex.targetStart, 4);
  const batch = collate([ex], 2);
  // inputs: ids[0..6]; labels: -1 until the position before the first target token
  assert.deepEqual(Array.from(batch.inputs), ex.ids.slice(0, 7));
  assert.deepEqual(Array.from(batch.labels), [-1, -1, -1, code("y"), code("e"), code("s"), 1]);
  assert.equal(batch.targetTokens, 4);
});

test("long prompts lose tokens from the left; the target is kept", () => {
  const ex = tokenizeTraining(enc, { prompt: "0123456789", target: "ok" }, 8);
  // room for the prompt: 8 − BOS − (2 target + EOS) = 4 → "6789"
  assert.deepEqual(ex.ids, [0, code("6"), code("7"), code("8"), code("9"), code("o"), code("k"), 1]);
  assert.equal(ex.droppedPromptTokens, 6);
  assert.equal(ex.targetStart, 5);
});

test("collation right-pads inputs with PAD and labels with -1", () => {
  const a = tokenizeTraining(enc, { prompt: "a", target: "b" }, 16); // [0, a, b, 1]
  const b = tokenizeTraining(enc, { prompt: "xy", target: "zz" }, 16); // [0, x, y, z, z, 1]
  const batch = collate([a, b], 2);
  assert.equal(batch.cols, 5);
  assert.deepEqual(Array.from(batch.inputs.slice(0, 5)), [0, code("a"), code("b"), 2, 2]);
  assert.deepEqual(Array.from(batch.labels.slice(0, 5)), [-1, code("b"), 1, -1, -1]);
  assert.deepEqual(Array.from(batch.labels.slice(5)), [-1, -1, code("z"), code("z"), 1]);
  assert.equal(batch.targetTokens, 2 + 3);
});

test("bucketing is deterministic per (seed, epoch), covers every example once, and cuts padding", () => {
  const lengths = Array.from({ length: 400 }, (_, i) => 10 + ((i * 7919) % 190));
  const b1 = bucketBatches(lengths, { batchSize: 8, seed: 3, epoch: 0 });
  assert.deepEqual(b1, bucketBatches(lengths, { batchSize: 8, seed: 3, epoch: 0 }));
  assert.notDeepEqual(b1, bucketBatches(lengths, { batchSize: 8, seed: 3, epoch: 1 }));
  assert.deepEqual(b1.flat().sort((x, y) => x - y), lengths.map((_, i) => i));
  const unbucketed: number[][] = [];
  for (let i = 0; i < 400; i += 8) unbucketed.push(Array.from({ length: 8 }, (_, j) => i + j));
  assert.ok(paddingShare(lengths, b1) < 0.05, `bucketed padding ${paddingShare(lengths, b1)}`);
  assert.ok(paddingShare(lengths, unbucketed) > 0.3, `unbucketed padding ${paddingShare(lengths, unbucketed)}`);
  // hand check: lengths 2 and 4 in one batch → padded 8, real 6 → 0.25
  assert.equal(paddingShare([2, 4], [[0, 1]]), 0.25);
});
