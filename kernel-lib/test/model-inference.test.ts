import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/model/backend";
import { useNativeBlas } from "../src/model/kernels/native-blas";
import { llamaConfig } from "../src/model/config";
import { LlamaModel } from "../src/model/llama";
import { generateGreedy, generateGreedyUncached, labelLogLikelihoods, leftPad, scoreFirstToken, stopOnText } from "../src/model/inference";
import { makeRng } from "../src/util/random";

const cfg = llamaConfig({ vocab_size: 48, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, initializer_range: 0.3, max_position_embeddings: 64 });

function prompts(seed: number, lengths: number[]): number[][] {
  const rng = makeRng(seed);
  return lengths.map((n) => [0, ...Array.from({ length: n - 1 }, () => 3 + rng.int(cfg.vocab_size - 3))]);
}

test("leftPad pads on the left and masks the padding", () => {
  assert.deepEqual(leftPad([[5, 6], [7]], 2), { ids: [[5, 6], [2, 7]], mask: [[1, 1], [0, 1]], width: 2 });
});

test("cached greedy decoding gives exactly the tokens of uncached decoding", async () => {
  await initBackend({ quiet: true });
  const model = LlamaModel.init(cfg, 11);
  const ps = prompts(1, [5, 9, 3, 7]);
  const opts = { maxNewTokens: 12, eosId: -1, batchSize: 3 };
  const uncached = generateGreedyUncached(model, ps, opts);
  // Both cached paths: the native decoder (when the addon is built) and tfjs' KVCache.
  for (const native of [true, false]) {
    const was = useNativeBlas(native);
    try {
      const cached = generateGreedy(model, ps, opts);
      assert.deepEqual(cached.tokens, uncached.tokens, `native ${native}`);
      assert.ok(cached.tokens.every((t) => t.length === 12));
      assert.deepEqual(cached.finish, ["length", "length", "length", "length"]);
    } finally {
      useNativeBlas(was);
    }
  }
  model.dispose();
});

test("left-padded batches give the one-by-one results (scores within 1e-4, same tokens)", async () => {
  await initBackend({ quiet: true });
  const model = LlamaModel.init(cfg, 12);
  const ps = prompts(2, [4, 11, 7, 2, 9]);
  const labelIds = [5, 9, 17];
  const labelSeqs = [[5], [9, 10], [17, 18, 19]];
  const batched = scoreFirstToken(model, ps, labelIds, { batchSize: 5 });
  const batchedLL = labelLogLikelihoods(model, ps, labelSeqs, { batchSize: 4 });
  const batchedGen = generateGreedy(model, ps, { maxNewTokens: 8, eosId: -1, batchSize: 5 });
  ps.forEach((p, i) => {
    const alone = scoreFirstToken(model, [p], labelIds);
    alone.logProbs[0].forEach((v, j) => assert.ok(Math.abs(v - batched.logProbs[i][j]) < 1e-4, `item ${i} label ${j}`));
    assert.equal(alone.argmax[0], batched.argmax[i]);
    const ll = labelLogLikelihoods(model, [p], labelSeqs);
    ll[0].forEach((v, j) => assert.ok(Math.abs(v - batchedLL[i][j]) < 1e-4, `LL item ${i} label ${j}`));
    assert.deepEqual(generateGreedy(model, [p], { maxNewTokens: 8, eosId: -1 }).tokens[0], batchedGen.tokens[i]);
  });
  model.dispose();
});

test("label scores agree with log-softmax of forward()", async () => {
  await initBackend({ quiet: true });
  const model = LlamaModel.init(cfg, 13);
  const [p] = prompts(3, [6]);
  const labels = [[7], [8, 9]];
  const ll = labelLogLikelihoods(model, [p], labels)[0];
  const first = scoreFirstToken(model, [p], [7, 8]);
  labels.forEach((lab, j) => {
    const seq = [...p, ...lab];
    const lp = tf.tidy(() => tf.logSoftmax(model.forward([seq.slice(0, -1)])).arraySync() as number[][][])[0];
    const want = lab.reduce((s, tok, k) => s + lp[p.length - 1 + k][tok], 0);
    assert.ok(Math.abs(ll[j] - want) < 1e-4, `${ll[j]} vs ${want}`);
    assert.ok(Math.abs(first.logProbs[0][j] - lp[p.length - 1][lab[0]]) < 1e-4);
  });
  assert.equal(first.argmax[0], first.logProbs[0][0] >= first.logProbs[0][1] ? 0 : 1);
  model.dispose();
});

test("EOS and stop rules end rows independently", async () => {
  await initBackend({ quiet: true });
  const model = LlamaModel.init(cfg, 14);
  const ps = prompts(4, [5, 8]);
  const free = generateGreedy(model, ps, { maxNewTokens: 6, eosId: -1 });
  // EOS = the first token row 0 would produce: row 0 stops at once, row 1 runs on unless it meets it.
  const eos = free.tokens[0][0];
  const withEos = generateGreedy(model, ps, { maxNewTokens: 6, eosId: eos });
  assert.deepEqual(withEos.tokens[0], []);
  assert.equal(withEos.finish[0], "eos");
  const cut = free.tokens[1].indexOf(eos);
  assert.deepEqual(withEos.tokens[1], cut >= 0 ? free.tokens[1].slice(0, cut) : free.tokens[1]);
  // A stop rule on the decoded text keeps the token that triggered it.
  const decode = (ids: readonly number[]): string => ids.map((i) => (i === free.tokens[1][2] ? "\n\n" : "x")).join("");
  const stopped = generateGreedy(model, [ps[1]], { maxNewTokens: 6, eosId: -1, stop: stopOnText(decode) });
  const firstHit = free.tokens[1].indexOf(free.tokens[1][2]);
  assert.deepEqual(stopped.tokens[0], free.tokens[1].slice(0, firstHit + 1));
  assert.equal(stopped.finish[0], "stop");
  // The stop rule sees the caller's prompt index, whatever order the batches run in.
  const seen = new Map<number, number[]>();
  const longFirst = [ps[1], ps[0]];
  const res = generateGreedy(model, longFirst, { maxNewTokens: 3, eosId: -1, stop: (tokIds, i) => (seen.set(i, [...tokIds]), false) });
  assert.deepEqual(seen.get(0), res.tokens[0]);
  assert.deepEqual(seen.get(1), res.tokens[1]);
  model.dispose();
});

test("numTensors stays flat across decode steps and generations", async () => {
  await initBackend({ quiet: true });
  const model = LlamaModel.init(cfg, 15);
  const ps = prompts(5, [6, 3]);
  generateGreedyUncached(model, ps, { maxNewTokens: 1, eosId: -1 }); // warm-up (caches the transposed head)
  const before = tf.memory().numTensors;
  generateGreedy(model, ps, { maxNewTokens: 5, eosId: -1 });
  generateGreedyUncached(model, ps, { maxNewTokens: 5, eosId: -1 });
  scoreFirstToken(model, ps, [3, 4]);
  labelLogLikelihoods(model, ps, [[3], [4, 5]]);
  assert.equal(tf.memory().numTensors, before);
  // Step by step with an explicit cache: the count moves only by the logits we hold.
  const cache = model.createCache(1);
  tf.tidy(() => { model.hidden2d([ps[0]], { cache }); });
  const counts: number[] = [];
  for (let i = 0; i < 4; i++) {
    tf.tidy(() => { model.logits(model.hidden2d([[7]], { cache })).dataSync(); });
    counts.push(tf.memory().numTensors);
  }
  assert.deepEqual(counts, [counts[0], counts[0], counts[0], counts[0]]);
  assert.equal(cache.length, ps[0].length + 4);
  cache.dispose();
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});
