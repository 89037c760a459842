/**
 * One ftgen engine's speed on a pretrained LLM, in a process of its own (so that its peak RSS is its
 * own): `tsx scripts/lib/bench-llm-child.ts REQUEST.json` prints one JSON object.
 *
 * REQUEST: { engine: "native" | "onnx" | "tfjs", dir, prompts: number[][], maxNewTokens, repeats }
 * The measurements match bench/llm_speed.py's for PyTorch and llama.cpp:
 *   prefill      every prompt's tokens through the model (one batch), best of `repeats`;
 *   generation   the same prompts, maxNewTokens greedy tokens each (end-of-generation ids ignored,
 *                so every engine makes as many), in the engine's best configuration (one batch);
 *   decode_b1    KV-cached decoding of one row after the first prompt, tokens/s.
 * The tfjs engine's generation runs on the native runtime when the addon is built (that is what
 * generateGreedy does), so only its prefill is its own.
 */
import fs from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../kernel-lib/src/model/backend";
import { loadCausalLM, type EngineChoice } from "../../kernel-lib/src/evaluate/engines";
import { NativeCausalLM } from "../../kernel-lib/src/evaluate/native-causal-lm";
import { TfjsCausalLM } from "../../kernel-lib/src/evaluate/tfjs-lm";

interface Request { engine: "native" | "onnx" | "tfjs"; dir: string; prompts: number[][]; maxNewTokens: number; repeats: number }

function seconds(t0: number): number {
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  const req = JSON.parse(fs.readFileSync(process.argv[2], "utf8")) as Request;
  if (req.engine === "tfjs") await initBackend({ quiet: true });
  const t0 = performance.now();
  const lm = await loadCausalLM(req.dir, req.engine as EngineChoice, { batchSize: req.prompts.length, threads: 2 });
  const loadSeconds = seconds(t0);
  const tokens = req.prompts.reduce((a, p) => a + p.length, 0);

  // Prefill: each prompt's last-position log-probs, the whole batch in one call. The tfjs engine
  // runs one prompt at a time (its activations live in the 4 GiB wasm heap).
  const prefillOnce = async (): Promise<number> => {
    const t = performance.now();
    if (lm instanceof TfjsCausalLM) for (const p of req.prompts) await lm.nextTokenLogProbs([p], [0]);
    else await lm.nextTokenLogProbs(req.prompts, [0]);
    return seconds(t);
  };
  // The native engine would reuse a prefix it had cached: random prompts share none, but clear it anyway.
  const fresh = (): void => { if (lm instanceof NativeCausalLM) lm.clearPrefixes(); };
  await lm.nextTokenLogProbs([req.prompts[0].slice(0, 32)], [0]); // warm-up
  let prefill = Infinity;
  for (let r = 0; r < req.repeats; r++) { fresh(); prefill = Math.min(prefill, await prefillOnce()); }

  let generation: Record<string, unknown> | null = null, decode: Record<string, unknown> | null = null;
  if (req.engine !== "tfjs") {
    fresh();
    await lm.generate([req.prompts[0].slice(0, 32)], 4, undefined, { stopIds: [] }); // warm-up
    fresh();
    let t = performance.now();
    const out = await lm.generate(req.prompts, req.maxNewTokens, undefined, { stopIds: [] });
    const genS = seconds(t);
    const newTokens = out.reduce((a, o) => a + o.length, 0);
    generation = { prompts: req.prompts.length, new_tokens: newTokens, seconds: genS, tokens_per_s: newTokens / genS, mode: `batched ${req.prompts.length}` };
    // Decode at batch 1: the whole generation minus its prefill, over the new tokens.
    fresh();
    t = performance.now();
    await lm.nextTokenLogProbs([req.prompts[0]], [0]);
    const pre1 = seconds(t);
    fresh();
    t = performance.now();
    const one = await lm.generate([req.prompts[0]], req.maxNewTokens, undefined, { stopIds: [] });
    const total1 = seconds(t);
    decode = { tokens: one[0].length, seconds: total1 - pre1, tokens_per_s: one[0].length / (total1 - pre1) };
  }
  lm.dispose();
  if (req.engine === "tfjs") tf.disposeVariables();
  console.log(JSON.stringify({
    engine: req.engine, config: lm.engine, load_seconds: loadSeconds,
    prefill: { tokens, seconds: prefill, tokens_per_s: tokens / prefill },
    generation, decode_b1: decode,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  }));
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
