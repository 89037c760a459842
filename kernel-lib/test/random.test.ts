import { test } from "node:test";
import assert from "node:assert/strict";
import { makeRng, shuffled, sampleIndices, hashSeed } from "../src/util/random";

test("same seed gives the same stream; another seed another", () => {
  const a = makeRng(42), b = makeRng(42), c = makeRng(43);
  const xa = Array.from({ length: 5 }, () => a.next());
  const xb = Array.from({ length: 5 }, () => b.next());
  const xc = Array.from({ length: 5 }, () => c.next());
  assert.deepEqual(xa, xb);
  assert.notDeepEqual(xa, xc);
  for (const x of xa) assert.ok(x >= 0 && x < 1);
});

test("string seeds hash with FNV-1a", () => {
  // FNV-1a of "" is the offset basis; of "a" is 0xe40c292c (reference value).
  assert.equal(hashSeed(""), 0x811c9dc5);
  assert.equal(hashSeed("a"), 0xe40c292c);
});

test("int() is roughly uniform and in range", () => {
  const rng = makeRng(7);
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 40000; i++) counts[rng.int(4)]++;
  for (const n of counts) assert.ok(Math.abs(n - 10000) < 400, `count ${n}`);
});

test("shuffled is a permutation and sampleIndices draws distinct items", () => {
  const rng = makeRng(1);
  const s = shuffled([1, 2, 3, 4, 5, 6], rng);
  assert.deepEqual([...s].sort(), [1, 2, 3, 4, 5, 6]);
  const idx = sampleIndices(10, 4, makeRng(3));
  assert.equal(new Set(idx).size, 4);
  assert.deepEqual(idx, sampleIndices(10, 4, makeRng(3)));
  assert.throws(() => sampleIndices(3, 4, rng), /cannot draw 4/);
});
