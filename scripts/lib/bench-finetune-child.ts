/**
 * One fine-tuning step kind on the native trainer, timed in a process of its own (so that its peak
 * RSS is its own): `tsx scripts/lib/bench-finetune-child.ts REQUEST.json` prints one JSON object.
 *
 * REQUEST: { kind: "lora" | "full", dir, rows, cols, steps, warmup, lora: { r, alpha, target_modules } }
 * The batch matches bench/torch_train_ref.py's bench mode: rows × cols token ids (seeded), the loss
 * on the second half of each row. A step is what the training loop does: forward and backward of
 * the batch, then AdamW. Reports the median step, tokens/s (rows·cols per step), peak RSS and the
 * trainer's time per phase.
 */
import fs from "node:fs";
import path from "node:path";
import { readModelTensors } from "../../kernel-lib/src/model/folder";
import { NativeLlm } from "../../kernel-lib/src/model/native-lm";
import { NativeTrainer } from "../../kernel-lib/src/train/native-trainer";
import { collate } from "../../kernel-lib/src/train/examples";
import { makeRng } from "../../kernel-lib/src/util/random";
import type { LoraModule } from "../../kernel-lib/src/model/lora";

interface Request { kind: "lora" | "full"; dir: string; rows: number; cols: number; steps: number; warmup: number; lora: { r: number; alpha: number; target_modules: LoraModule[] } }

function main(): Promise<void> {
  const req = JSON.parse(fs.readFileSync(process.argv[2], "utf8")) as Request;
  const t0 = performance.now();
  const { config, tensors, file } = readModelTensors(req.dir);
  const trainer = req.kind === "full"
    ? NativeTrainer.full(config, tensors, { weightDecay: 0.01 }, 2, file)
    : NativeTrainer.lora(NativeLlm.fromHF(config, tensors, 2, file)!, { rank: req.lora.r, alpha: req.lora.alpha, dropout: 0, targetModules: req.lora.target_modules }, { seed: 0, adam: { weightDecay: 0.01 } });
  tensors.clear();
  const loadSeconds = (performance.now() - t0) / 1000;
  const rssAfterLoad = Math.round(process.memoryUsage().rss / 2 ** 20);
  const rng = makeRng("bench-finetune");
  const batch = collate(Array.from({ length: req.rows }, () => ({
    ids: Array.from({ length: req.cols + 1 }, () => rng.int(config.vocab_size)), targetStart: Math.floor(req.cols / 2) + 1, droppedPromptTokens: 0,
  })), 0);
  const times: number[] = [];
  const losses: number[] = [];
  return (async () => {
    for (let s = 0; s < req.warmup + req.steps; s++) {
      const t = performance.now();
      const sum = await trainer.accumulate(batch, `bench:${s}`);
      trainer.apply(batch.targetTokens, 1e-4);
      if (s >= req.warmup) times.push((performance.now() - t) / 1000);
      losses.push(sum / batch.targetTokens);
    }
    times.sort((a, b) => a - b);
    const step = times[Math.floor(times.length / 2)];
    const profile = trainer.profile();
    trainer.dispose();
    console.log(JSON.stringify({
      kind: req.kind, rows: req.rows, cols: req.cols, labelled: batch.targetTokens, step_seconds: step, tokens_per_s: (req.rows * req.cols) / step,
      load_seconds: loadSeconds, rss_mb_after_load: rssAfterLoad, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024), losses,
      trainable: trainer.params.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0), profile, file: path.basename(file),
    }));
  })();
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
