/** Generates test/notebooks/progress.ipynb (committed; rerun after editing the cells here). */
import path from "node:path";
import { writeNotebook } from "../../scripts/lib/notebook-json";

writeNotebook(path.join(__dirname, "progress.ipynb"), [
  { md: "# Progress bars in the kernel\nOne display per bar, updated in place: first reports spaced past the redraw interval, then a real training run." },
  { code: `import * as ftgen from "ftgen";` },
  { code: `const bar = ftgen.progressBar("simulated run");
const total = 5;
for (let step = 1; step <= total; step++) {
  const report = { step, totalSteps: total, epoch: 0, loss: 2 / step, lr: 3e-4, gradNorm: 1, tokens: 300 * step * step,
    tokensPerSecond: 1000 * step, elapsedSeconds: 0.3 * step, etaSeconds: 0.3 * (total - step) };
  bar.onProgress(report);
  await new Promise((r) => setTimeout(r, 300));
}
bar.finish();` },
  { code: `await ftgen.initBackend({ quiet: true });
const model = ftgen.LlamaModel.init({ vocab_size: 64, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1,
  num_attention_heads: 2, num_key_value_heads: 2, max_position_embeddings: 32 }, 0);
const examples = Array.from({ length: 16 }, (_, i) => ({ ids: [1, 10 + (i % 7), 20 + (i % 5), 30 + (i % 3), 2], targetStart: 3, droppedPromptTokens: 0 }));
const training = ftgen.progressBar("tiny Llama");
const run = await ftgen.train(model, examples, { ...ftgen.FINETUNE_DEFAULTS, epochs: 3, batchSize: 4, microBatchSize: 4, lr: 1e-2 }, { onProgress: training.onProgress });
training.finish(\`\${run.steps} steps\`);
model.dispose();` },
]);
