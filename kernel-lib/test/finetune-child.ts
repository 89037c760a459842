/**
 * Runs `finetune` in its own process, for the kill/resume test (train-resume.test.ts):
 *
 *   node --import tsx kernel-lib/test/finetune-child.ts '<FinetuneSpec as JSON, plus stepDelayMs>'
 *
 * The data comes from FTGEN_MANIFEST/FTGEN_DATA_DIR, inherited from the test. `stepDelayMs` blocks
 * after each step's progress report (a synchronous sleep, changing nothing the run computes), so
 * that the test can kill the process between its first checkpoint and its end. Prints one line per
 * step ("step N/T") and "done" at the end.
 */
import { initBackend } from "../src/model/backend";
import { finetune, type FinetuneSpec } from "../src/train/recipes";

async function main(): Promise<void> {
  const { stepDelayMs = 0, ...spec } = JSON.parse(process.argv[2]) as FinetuneSpec & { stepDelayMs?: number };
  await initBackend({ quiet: true });
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  await finetune({
    ...spec,
    onProgress: (p) => {
      process.stdout.write(`step ${p.step}/${p.totalSteps}\n`);
      if (stepDelayMs > 0) Atomics.wait(sleeper, 0, 0, stepDelayMs);
    },
  });
  process.stdout.write("done\n");
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
