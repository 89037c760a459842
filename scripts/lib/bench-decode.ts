/** Decode speed: 60 new greedy tokens after a 200-token random prompt, batch 1, with and without the KV cache. */
import { generateGreedy, generateGreedyUncached } from "../../kernel-lib/src/model/inference";
import type { LlamaModel } from "../../kernel-lib/src/model/llama";
import { makeRng } from "../../kernel-lib/src/util/random";

export async function benchDecode(model: LlamaModel, vocab: number, promptLen: number, newTokens: number): Promise<{ cachedTokensPerSecond: number; uncachedTokensPerSecond: number }> {
  const rng = makeRng(2);
  const prompt = Array.from({ length: promptLen }, () => 3 + rng.int(vocab - 3));
  const opts = { maxNewTokens: newTokens, eosId: -1, batchSize: 1 };
  generateGreedy(model, [prompt.slice(0, 20)], { ...opts, maxNewTokens: 4 }); // warm-up
  let t0 = performance.now();
  const cached = generateGreedy(model, [prompt], opts);
  const cachedS = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const uncached = generateGreedyUncached(model, [prompt], opts);
  const uncachedS = (performance.now() - t0) / 1000;
  if (cached.tokens[0].join() !== uncached.tokens[0].join()) throw new Error("bench: cached and uncached decoding disagree");
  model.dispose();
  return { cachedTokensPerSecond: newTokens / cachedS, uncachedTokensPerSecond: newTokens / uncachedS };
}
