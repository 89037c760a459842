/**
 * Throughput probe of ftgen's Llama model on the current tfjs backend (wasm by default).
 *
 *   npx tsx experiments/model-speed/probe-model-speed.ts [--steps 4] [--warmup 1] [--batch 16] [--ctx 256] [--profile]
 *
 * Config (a): vocab 4096, width 128, 4 layers, 4 heads, MLP 512, tied head, context 256, batch 16.
 * Prints training tokens/s (Adam, forward + backward over all positions) and greedy decoding
 * tokens/s with and without the KV cache (60 new tokens after a 200-token prompt, batch 1; and
 * cached at batch 16, prefill included).
 * --profile also times the parts of one training step (forward to hidden, head+loss, backward).
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../kernel-lib/src/model/backend";
import { llamaConfig } from "../../kernel-lib/src/model/config";
import { LlamaModel } from "../../kernel-lib/src/model/llama";
import { lmHeadLoss } from "../../kernel-lib/src/model/kernels/lm-head";
import { generateGreedy, generateGreedyUncached } from "../../kernel-lib/src/model/inference";
import { makeRng } from "../../kernel-lib/src/util/random";

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

async function main(): Promise<void> {
  const info = await initBackend();
  const steps = arg("steps", 4), warmup = arg("warmup", 1), B = arg("batch", 16), T = arg("ctx", 256);
  const cfg = llamaConfig({ vocab_size: 4096, hidden_size: 128, intermediate_size: 512, num_hidden_layers: 4, num_attention_heads: 4, max_position_embeddings: 512 });
  const model = LlamaModel.init(cfg, 0);
  const rng = makeRng(1);
  const ids = Array.from({ length: B }, () => Array.from({ length: T + 1 }, () => rng.int(cfg.vocab_size)));
  const inputs = ids.map((r) => r.slice(0, T));
  const labels = ids.map((r) => r.slice(1));
  const opt = tf.train.adam(3e-4);
  const vars = [...model.variables.values()];

  const step = (): number => {
    const loss = opt.minimize(() => model.loss(inputs, labels), true, vars) as tf.Scalar;
    const v = loss.dataSync()[0];
    loss.dispose();
    return v;
  };
  for (let i = 0; i < warmup; i++) step();
  const t0 = performance.now();
  let last = 0;
  for (let i = 0; i < steps; i++) last = step();
  const trainS = (performance.now() - t0) / 1000 / steps;
  const trainTps = (B * T) / trainS;

  if (process.argv.includes("--profile")) {
    // The parts of one step, each forced to finish with dataSync().
    const time = (f: () => void): number => { const s = performance.now(); f(); return (performance.now() - s) / 1000; };
    const fwd = time(() => tf.tidy(() => { model.hidden2d(inputs).dataSync(); }));
    const head = tf.tidy(() => {
      const h = tf.keep(model.hidden2d(inputs));
      const lab = Int32Array.from(labels.flat());
      return { h, lab };
    });
    const headS = time(() => tf.tidy(() => { lmHeadLoss(head.h, model.variables.get("model.embed_tokens.weight") as tf.Tensor2D, true, head.lab).dataSync(); }));
    const full = time(() => { const { value, grads } = tf.variableGrads(() => model.loss(inputs, labels), vars); value.dataSync(); tf.dispose([value, ...Object.values(grads)]); });
    head.h.dispose();
    console.log(`profile: forward to hidden ${fwd.toFixed(2)} s, head+loss forward ${headS.toFixed(2)} s, forward+backward ${full.toFixed(2)} s, optimizer+rest ${(trainS - full).toFixed(2)} s`);
  }

  // Decoding: 60 new tokens after a 200-token prompt, batch 1, no stop rule.
  const prompt = [Array.from({ length: 200 }, () => rng.int(cfg.vocab_size))];
  // Each timed once after one untimed run of the same length (JIT and XNNPACK operator warm-up).
  const decode = (f: () => void): number => { f(); const s = performance.now(); f(); return 60 / ((performance.now() - s) / 1000); };
  const cached = decode(() => generateGreedy(model, prompt, { maxNewTokens: 60, eosId: -1 }));
  const uncached = decode(() => generateGreedyUncached(model, prompt, { maxNewTokens: 60, eosId: -1 }));
  // Batched as in evaluation: 16 prompts of 200 tokens, 60 new tokens each (prefill included).
  const prompts16 = Array.from({ length: 16 }, () => Array.from({ length: 200 }, () => rng.int(cfg.vocab_size)));
  const cached16 = 16 * decode(() => generateGreedy(model, prompts16, { maxNewTokens: 60, eosId: -1, batchSize: 16 }));

  console.log(JSON.stringify({
    backend: info.name, simd: info.simd, threads: info.threads,
    config: { vocab: cfg.vocab_size, d: cfg.hidden_size, layers: cfg.num_hidden_layers, heads: cfg.num_attention_heads, ffn: cfg.intermediate_size, ctx: T, batch: B },
    train_step_s: +trainS.toFixed(3), train_tokens_per_s: Math.round(trainTps), final_loss: +last.toFixed(4),
    decode_cached_tokens_per_s: +cached.toFixed(1), decode_uncached_tokens_per_s: +uncached.toFixed(1),
    decode_cached_batch16_tokens_per_s: +cached16.toFixed(1),
    tensors_alive: tf.memory().numTensors,
  }));
  opt.dispose();
  model.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
