/**
 * `npm run pretrain`: the base model, from the open corpora to a committed model folder.
 *
 *   tsx scripts/pretrain.ts [--config FILE] [--corpus DIR] [--run DIR] [--out DIR]
 *                           [--max-minutes N] [--max-steps-this-run N] [--export] [--restart]
 *                           [--no-debian] [--force-corpus]
 *
 * 1. The corpus stage (scripts/lib/pretrain-corpus.ts; skipped when up to date) builds
 *    .cache/pretrain/corpus, unless --corpus names a corpus folder to use as it is.
 * 2. The training stage trains the recipe of --config (default data/base-model.config.json) in
 *    .cache/pretrain/run: seeded, checkpointed, resumed by the next invocation. An invocation stops
 *    after a checkpoint when its time budget (run.maxMinutes, default 55, counted from its start)
 *    would run out; run it again until the total steps are done.
 * 3. When the run completes (or at once with --export, from the last checkpoint), the model folder
 *    (default data/base-model) gets config.json, the tokenizer, model.safetensors, MODEL_CARD.md,
 *    model-card.json (held-out loss per kind included) and loss-curve.json.
 * Exit status 0 also when an invocation stops at its budget; it prints what is left.
 */
import path from "node:path";
import { initBackend } from "../kernel-lib/src/model/backend";
import { exportDir, readPretrainConfig, type PretrainConfig } from "../kernel-lib/src/pretrain/run/recipe-config";
import { hexDigest } from "../kernel-lib/src/util/hash";
import { runPretrain, type PretrainOutcome } from "../kernel-lib/src/pretrain/run/recipe";
import { projectRoot } from "../kernel-lib/src/util/paths";
import { pretrainCorpus } from "./lib/pretrain-corpus";
import { SetupError } from "./lib/setup";
import { parseCli, userPath } from "./lib/cli";

export const DEFAULT_CONFIG = "data/base-model.config.json";

/** The corpus folder of a recipe: one with corpus overrides gets its own, so recipes never rebuild each other's. */
export function recipeCorpusDir(config: PretrainConfig): string {
  const own = config.corpus ? `-${hexDigest("sha256", JSON.stringify(config.corpus)).slice(0, 8)}` : "";
  return path.join(projectRoot(), ".cache", "pretrain", `corpus${own}`);
}

export async function pretrain(argv: string[] = process.argv.slice(2), log: (line: string) => void = console.log): Promise<PretrainOutcome> {
  const startedAt = Date.now();
  const { values } = parseCli("npm run pretrain", {
    args: argv,
    options: {
      config: { type: "string" }, corpus: { type: "string" }, run: { type: "string" }, out: { type: "string" },
      "max-minutes": { type: "string" }, "max-steps-this-run": { type: "string" }, export: { type: "boolean" }, restart: { type: "boolean" },
      "no-debian": { type: "boolean" }, "force-corpus": { type: "boolean" },
    },
  });
  const root = projectRoot();
  const num = (name: string, v: string | undefined, integer: boolean): number | undefined => {
    if (v === undefined) return undefined;
    const x = Number(v);
    if (!Number.isFinite(x) || x < 0 || (integer && !Number.isInteger(x))) throw new SetupError(`--${name} must be a ${integer ? "non-negative integer" : "non-negative number"}, got "${v}"`);
    return x;
  };
  const maxMinutes = num("max-minutes", values["max-minutes"], false);
  const maxStepsThisRun = num("max-steps-this-run", values["max-steps-this-run"], true);
  const configFile = values.config ? userPath(values.config) : path.join(root, DEFAULT_CONFIG);
  const config = readPretrainConfig(configFile);

  let corpusDir: string;
  if (values.corpus) corpusDir = userPath(values.corpus);
  else {
    corpusDir = recipeCorpusDir(config);
    if (!values.export) {
      await pretrainCorpus(["--out", corpusDir, ...(values["no-debian"] ? ["--no-debian"] : []), ...(values["force-corpus"] ? ["--force"] : [])], config.corpus);
    }
  }
  await initBackend({ log });
  const runDir = values.run ? userPath(values.run) : path.join(root, ".cache", "pretrain", "run");
  return runPretrain({
    config, configFile,
    corpusDir, runDir,
    outDir: exportDir(config, runDir, root, values.out === undefined ? undefined : userPath(values.out)),
    startedAt, maxMinutes, maxStepsThisRun, exportOnly: values.export, restart: values.restart, log,
  });
}

if (require.main === module) {
  pretrain().then((r) => {
    console.log(r.complete ? `pretraining complete (${r.steps} steps)${r.exported ? `; model folder: ${path.relative(process.cwd(), r.exported)}` : ""}`
      : `pretraining at step ${r.steps} of ${r.totalSteps}${r.exported ? ` (partial export: ${path.relative(process.cwd(), r.exported)})` : ""}; run npm run pretrain again to go on`);
  }).catch((e: Error) => {
    console.error(e.message);
    process.exit(1);
  });
}
