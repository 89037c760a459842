/**
 * The native OpenBLAS addon under the wasm backend (kernel-lib/native, model/native-blas.ts):
 * GEMM against hand-computed products, the BatchMatMul kernel and the whole model (logits, loss
 * and every gradient, attention included) against tfjs-wasm's own kernels.
 *
 * Skipped where the addon is not built, unless FTGEN_REQUIRE_NATIVE=1 (CI sets it: there, setup
 * must have built it).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/model/backend";
import { llamaConfig } from "../src/model/config";
import { LlamaModel } from "../src/model/llama";
import { loadNativeBlas, nativeKernels, useNativeBlas } from "../src/model/kernels/native-blas";
import { NativeLlm } from "../src/model/native-lm";
import { PrefixCache, nativeGenerate, nativeNextTokenLogProbs } from "../src/model/native-inference";
import { generateGreedy, generateGreedyUncached, leftPad } from "../src/model/inference";
import { makeRng } from "../src/util/random";

const { addon, reason } = loadNativeBlas();
const skip = addon || process.env.FTGEN_REQUIRE_NATIVE === "1" ? false : `native addon absent: ${reason}`;

test("the addon is built where it is required", { skip: process.env.FTGEN_REQUIRE_NATIVE !== "1" }, () => {
  assert.ok(addon, `FTGEN_REQUIRE_NATIVE=1 but ${reason}`);
});

test("every binding called without its arguments throws a TypeError naming itself (none returns undefined)", { skip }, () => {
  const exports = addon as unknown as Record<string, unknown>; // N-API's napi_default properties are not enumerable
  const bindings = Object.getOwnPropertyNames(exports).map((name) => [name, exports[name]] as const).filter(([name, f]) => typeof f === "function" && name !== "info");
  assert.equal(bindings.length, 22, `${bindings.length} bindings`);
  for (const [name, f] of bindings) {
    assert.throws(() => (f as () => unknown)(), (e: Error) => e instanceof TypeError && e.message.startsWith("ftgen_blas") && e.message.includes(name), name);
  }
});

test("sgemm: products, transposes, batches with a broadcast operand, single rows", { skip }, () => {
  const b = addon!;
  const A = Float32Array.from([1, 2, 3, 4, 5, 6]); // (2, 3)
  const B = Float32Array.from([1, 0, 0, 1, 1, 1]); // (3, 2)
  const C = new Float32Array(4);
  b.sgemm(false, false, 2, 2, 3, A, B, C, 1, 0, 0, 0, 1, 0);
  assert.deepEqual(Array.from(C), [4, 5, 10, 11]); // [1+3, 2+3; 4+6, 5+6]
  // Aᵀ (3, 2) as stored (2, 3) with transA: (Aᵀ)ᵀ·... here op(A) = Aᵀ of a (3, 2) store.
  const At = Float32Array.from([1, 4, 2, 5, 3, 6]); // (3, 2) = Aᵀ
  b.sgemm(true, false, 2, 2, 3, At, B, C, 1, 0, 0, 0, 1, 0);
  assert.deepEqual(Array.from(C), [4, 5, 10, 11]);
  const Bt = Float32Array.from([1, 0, 1, 0, 1, 1]); // (2, 3) = Bᵀ
  b.sgemm(false, true, 2, 2, 3, A, Bt, C, 1, 0, 0, 0, 1, 0);
  assert.deepEqual(Array.from(C), [4, 5, 10, 11]);
  // beta = 1 accumulates; alpha scales.
  b.sgemm(false, false, 2, 2, 3, A, B, C, 1, 0, 0, 0, 2, 1);
  assert.deepEqual(Array.from(C), [12, 15, 30, 33]);
  // Two batches sharing B (stride 0): the second A is −A.
  const A2 = Float32Array.from([1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6]);
  const C2 = new Float32Array(8);
  b.sgemm(false, false, 2, 2, 3, A2, B, C2, 2, 6, 0, 4, 1, 0);
  assert.deepEqual(Array.from(C2), [4, 5, 10, 11, -4, -5, -10, -11]);
  // One row (the GEMV path), with and without a transposed B.
  const row = new Float32Array(2);
  b.sgemm(false, false, 1, 2, 3, A.subarray(3), B, row, 1, 0, 0, 0, 1, 0);
  assert.deepEqual(Array.from(row), [10, 11]);
  b.sgemm(false, true, 1, 2, 3, A.subarray(3), Bt, row, 1, 0, 0, 0, 1, 0);
  assert.deepEqual(Array.from(row), [10, 11]);
  // Buffers too small for their shapes are refused before any work.
  assert.throws(() => b.sgemm(false, false, 2, 2, 4, A, B, C, 1, 0, 0, 0, 1, 0), /smaller than its shape/);
  assert.throws(() => b.sgemm(false, false, 2, 2, 3, [1, 2] as unknown as Float32Array, B, C, 1, 0, 0, 0, 1, 0), /A must be a Float32Array/);
});

/** Runs f with the native path off, then on; returns both results as arrays. */
function bothWays<T>(f: () => T): [T, T] {
  const was = useNativeBlas(false);
  try {
    const off = f();
    useNativeBlas(true);
    return [off, f()];
  } finally {
    useNativeBlas(was);
  }
}

function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(a.length, b.length, `${what}: lengths`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  assert.ok(worst < tol, `${what}: worst relative difference ${worst}`);
}

test("wasm matMul on OpenBLAS equals tfjs' own, for transposes and batch broadcasts", { skip }, async () => {
  await initBackend({ quiet: true });
  assert.ok(nativeKernels(), "initBackend installs the native kernels");
  const rng = makeRng("matmul");
  const rand = (shape: number[]): tf.Tensor => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.next() * 2 - 1), shape);
  const cases: [number[], number[], boolean, boolean][] = [
    [[5, 7], [7, 3], false, false], [[7, 5], [7, 3], true, false], [[5, 7], [3, 7], false, true], [[7, 5], [3, 7], true, true],
    [[2, 3, 5, 7], [2, 3, 7, 4], false, false], [[6, 5, 7], [7, 4], false, false], [[5, 7], [6, 7, 4], false, false],
    [[1, 7], [7, 9], false, false], [[1, 7], [9, 7], false, true], [[2, 1, 5, 7], [1, 3, 7, 4], false, false],
  ];
  for (const [sa, sb, ta, tb] of cases) {
    const a = rand(sa), b = rand(sb);
    const [off, on] = bothWays(() => tf.tidy(() => { const y = tf.matMul(a, b, ta, tb); return { shape: y.shape, data: y.dataSync() }; }));
    assert.deepEqual(on.shape, off.shape, `[${sa}]·[${sb}] ${ta}/${tb}: shape`);
    assertClose(on.data, off.data, 1e-5, `[${sa}]·[${sb}] ${ta}/${tb}`);
    tf.dispose([a, b]);
  }
});

test("the model on the native path (GEMM + attention) gives tfjs-wasm's logits, loss and gradients", { skip }, async () => {
  await initBackend({ quiet: true });
  for (const cfg of [
    llamaConfig({ vocab_size: 50, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, max_position_embeddings: 64 }),
    llamaConfig({ vocab_size: 50, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, tie_word_embeddings: false, max_position_embeddings: 64 }),
  ]) {
    const model = LlamaModel.init(cfg, 3);
    const rng = makeRng("native-model");
    const ids = Array.from({ length: 3 }, () => Array.from({ length: 9 }, () => rng.int(cfg.vocab_size)));
    const labels = ids.map((r) => r.map((_, t) => (t < 2 ? -1 : rng.int(cfg.vocab_size))));
    const mask = [[0, 0, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 1, 1, 1, 1, 1]]; // left padding
    const vars = [...model.variables.values()];
    const run = () => bothWays(() => tf.tidy(() => {
      const logits = model.forward(ids, mask).dataSync();
      const { value, grads } = tf.variableGrads(() => model.loss(ids, labels, { attentionMask: mask }), vars);
      return { logits, loss: value.dataSync()[0], grads: Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, g.dataSync()])) };
    }));
    run(); // the first forward caches the tied head's transpose (one kept tensor)
    const before = tf.memory().numTensors;
    const [off, on] = run();
    assert.equal(tf.memory().numTensors, before, "no tensor leaks on either path");
    assertClose(on.logits, off.logits, 1e-5, "logits");
    assert.ok(Math.abs(on.loss - off.loss) < 1e-5, `loss ${on.loss} vs ${off.loss}`);
    for (const name of Object.keys(off.grads)) assertClose(on.grads[name], off.grads[name], 1e-4, `gradient of ${name}`);
    model.dispose();
  }
});

test("the native runtime's logits and tokens match tfjs (untied GQA, left padding, prefill then steps)", { skip }, async () => {
  await initBackend({ quiet: true });
  const cfg = llamaConfig({ vocab_size: 50, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, tie_word_embeddings: false, initializer_range: 0.3, max_position_embeddings: 64 });
  const model = LlamaModel.init(cfg, 5);
  const rng = makeRng("decoder");
  const prompts = [7, 3, 5].map((n) => Array.from({ length: n }, () => rng.int(cfg.vocab_size)));
  const { ids, mask, width } = leftPad(prompts, 0);
  const lm = NativeLlm.fromModel(model);
  assert.ok(lm);
  const dec = lm.session(3, width + 4);
  // Prefill logits against forward()'s last position, then one step against a forward of the longer rows.
  const pre = dec.step(Int32Array.from(ids.flat()), Int32Array.from(mask.flat()), width);
  const want = tf.tidy(() => tf.gather(tf.reshape(model.forward(ids, mask), [3 * width, cfg.vocab_size]), [width - 1, 2 * width - 1, 3 * width - 1]).dataSync());
  assertClose(pre, want, 1e-4, "prefill logits");
  const next = [11, 12, 13];
  const stepLogits = dec.step(Int32Array.from(next), Int32Array.from([1, 1, 1]), 1);
  const ids2 = ids.map((r, b) => [...r, next[b]]), mask2 = mask.map((r) => [...r, 1]);
  const want2 = tf.tidy(() => tf.gather(tf.reshape(model.forward(ids2, mask2), [3 * (width + 1), cfg.vocab_size]), [width, 2 * width + 1, 3 * width + 2]).dataSync());
  assertClose(stepLogits, want2, 1e-4, "step logits");
  assert.throws(() => { for (let i = 0; i < 5; i++) dec.step(Int32Array.from(next), Int32Array.from([1, 1, 1]), 1); }, /the cache holds 11 tokens per row/);
  dec.dispose(); // its caches are released at once; the handle is dead
  assert.throws(() => dec.step(Int32Array.from(next), Int32Array.from([1, 1, 1]), 1), /llmStep's session was freed/);
  // Greedy tokens through generateGreedy (native) equal tfjs' uncached decoding.
  const opts = { maxNewTokens: 10, eosId: -1, batchSize: 3 };
  assert.deepEqual(generateGreedy(model, prompts, opts).tokens, generateGreedyUncached(model, prompts, opts).tokens);
  model.dispose();
});

test("the native runtime with a shared prefix gives what the whole prompts give (tied, 1 and 2 threads, long and short steps)", { skip }, async () => {
  await initBackend({ quiet: true });
  const cfg = llamaConfig({ vocab_size: 64, hidden_size: 48, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 6, num_key_value_heads: 2, initializer_range: 0.25, max_position_embeddings: 512 });
  const model = LlamaModel.init(cfg, 9);
  const rng = makeRng("prefix");
  const draw = (n: number): number[] => Array.from({ length: n }, () => rng.int(cfg.vocab_size));
  const shared = draw(150); // past one query block of 64, so the prefill path runs several blocks
  const prompts = [70, 3, 9, 1].map((n) => [...shared, ...draw(n)]);
  for (const threads of [1, 2]) {
    const lm = NativeLlm.fromModel(model, threads);
    assert.ok(lm);
    const cands = [0, 5, 63];
    const plain = nativeNextTokenLogProbs(lm, prompts, cands, { batchSize: 4 });
    const cache = new PrefixCache(lm);
    const viaPrefix = nativeNextTokenLogProbs(lm, prompts, cands, { batchSize: 4, prefixes: cache });
    assert.equal(cache.computed, 150, "the shared tokens are run once");
    assertClose(Float32Array.from(viaPrefix.flat()), Float32Array.from(plain.flat()), 1e-4, `log-probs after a prefix (${threads} threads)`);
    // The same against tfjs' forward of each whole prompt, one at a time.
    prompts.forEach((p, i) => {
      const lp = tf.tidy(() => tf.gather(tf.logSoftmax(tf.reshape(model.forward([p]), [p.length, cfg.vocab_size])), [p.length - 1]).dataSync());
      assertClose(Float32Array.from(plain[i]), Float32Array.from(cands.map((c) => lp[c])), 1e-4, `prompt ${i} against tfjs`);
    });
    // Generation: with the prefix, without it, and tfjs' uncached loop agree token for token;
    // a later batch reuses the cached prefix, cut to what it shares with it.
    const opts = { maxNewTokens: 6, eosId: -1, batchSize: 2 };
    const want = generateGreedyUncached(model, prompts, opts).tokens;
    assert.deepEqual(nativeGenerate(lm, prompts, { ...opts, prefixes: cache }).tokens, want);
    assert.deepEqual(nativeGenerate(lm, prompts, opts).tokens, want);
    const other = [[...shared.slice(0, 100), ...draw(5)], [...shared.slice(0, 100), ...draw(7)]];
    const before = cache.computed;
    assert.deepEqual(nativeGenerate(lm, other, { ...opts, prefixes: cache }).tokens, generateGreedyUncached(model, other, opts).tokens);
    assert.equal(cache.computed, before, "a shorter shared run reuses the cached prefix");
    // Rows that end at different steps (a stop rule per prompt) leave the session; the others go on unchanged.
    const stopAt = [1, 4, 2, 6];
    const staggered = { ...opts, maxNewTokens: 6, stop: (ids: readonly number[], i: number) => ids.length >= stopAt[i] };
    const got = nativeGenerate(lm, prompts, { ...staggered, batchSize: 4, prefixes: cache });
    assert.deepEqual(got.tokens, want.map((t, i) => t.slice(0, stopAt[i])));
    assert.deepEqual(got.finish, ["stop", "stop", "stop", "stop"]);
  }
  model.dispose();
});
