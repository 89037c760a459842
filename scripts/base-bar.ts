/**
 * Issue 4's bar for a base-model folder: its in-domain ICL grid (every task, both prompt maps, the
 * paper's shot lists) and, per task and map, whether the best k-shot CI lies wholly above 0-shot's
 * and whether 0-shot beats the majority baseline. Used to judge pretraining recipes
 * (experiments/pretrain/README.md).
 *
 *   tsx scripts/base-bar.ts MODEL_DIR [--items N] [--results DIR] [--engine auto|tfjs|onnx]
 *
 * Items default to the default profile's; records are cached in --results (default
 * .cache/base-bar/<folder hash>), so a rerun is instant.
 */
import path from "node:path";
import { initBackend } from "../kernel-lib/src/model/backend";
import { loadCausalLM, type EngineChoice } from "../kernel-lib/src/evaluate/engines";
import { iclGrid, iclChecks, iclBar, ICL_BAR } from "../kernel-lib/src/study/icl";
import { ResultStore, folderHash } from "../kernel-lib/src/study/store";
import { PROFILES } from "../kernel-lib/src/study/profile";
import { projectRoot } from "../kernel-lib/src/util/paths";
import { parseCli, userPath } from "./lib/cli";

async function main(): Promise<void> {
  const { values, positionals } = parseCli("npm run base-bar", { allowPositionals: true, options: { items: { type: "string" }, results: { type: "string" }, engine: { type: "string" } } });
  const dir = positionals[0] === undefined ? undefined : userPath(positionals[0]);
  if (!dir) throw new Error("usage: tsx scripts/base-bar.ts MODEL_DIR [--items N] [--results DIR] [--engine auto|tfjs|onnx]");
  const items = values.items === undefined ? PROFILES.default.testItems : Number(values.items);
  if (!Number.isInteger(items) || items <= 0) throw new Error(`--items must be a positive integer, got "${values.items}"`);
  const engine = (values.engine ?? "auto") as EngineChoice;
  if (!["auto", "tfjs", "onnx"].includes(engine)) throw new Error(`--engine must be auto, tfjs or onnx, got "${values.engine}"`);
  await initBackend({ quiet: true });
  const key = folderHash(dir);
  const store = new ResultStore(values.results ?? path.join(projectRoot(), ".cache", "base-bar", key.slice(0, 12)));
  const lm = await loadCausalLM(dir, engine, { batchSize: 16 });
  try {
    const grid = await iclGrid(lm, key, { limit: items, fieldTokenCap: PROFILES.default.fieldTokenCap, batchSize: 16, store });
    const f = (x: number): string => x.toFixed(3);
    const checks = iclChecks(grid);
    for (const c of checks) {
      console.log(`${c.task.padEnd(10)} map ${c.map}: 0-shot ${f(c.zeroShot.value)} [${f(c.zeroShot.ci.low)}, ${f(c.zeroShot.ci.high)}]  best k=${c.bestK.spec.k} ${f(c.bestK.value)} [${f(c.bestK.ci.low)}, ${f(c.bestK.ci.high)}]  k-shot > 0-shot: ${c.kShotBeatsZeroShot ? "yes" : "no"}` +
        (c.majority !== undefined ? `  majority ${f(c.majority)}, 0-shot above it: ${c.zeroShotAboveMajority ? "yes" : "no"}` : ""));
    }
    const bar = iclBar(checks);
    console.log(`${dir}, ${items} items, map 0: k-shot beats 0-shot on ${bar.kShotWins} of ${bar.tasks} tasks (bar: ${ICL_BAR.kShotWins}); 0-shot above majority on ${bar.aboveMajority} of ${bar.classificationTasks} (bar: ${ICL_BAR.aboveMajority})`);
  } finally {
    lm.dispose();
  }
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
