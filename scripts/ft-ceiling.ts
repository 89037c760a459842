/**
 * The supervised ceiling of a base model on a task: fine-tune it (the paper's FT recipe) on the task's
 * whole in-domain train file and score the result 0-shot on the in-domain test set, against the
 * majority baseline. If plain fine-tuning on the task's own labelled data cannot lift a model above
 * the majority, its base model cannot be expected to beat the majority 0-shot either (issue 4's bar;
 * experiments/pretrain/README.md, experiment 8).
 *
 *   tsx scripts/ft-ceiling.ts MODEL_DIR [--tasks detection,inference] [--items N] [--lr X] [--epochs N]
 *                             [--train-size N] [--train paper|multitask] [--out DIR]
 *
 * --train multitask fine-tunes on records made by the pretraining corpus's own multitask builders
 * (multitaskPools over the same sources, seeded here; pretrain/corpus/task-records.ts; classification tasks
 * only), as many as the train file has: how much of the paper's task data of that kind can teach,
 * given the paper's format and labels outright.
 *
 * Fine-tuned folders go to --out (default .cache/ft-ceiling/<base folder hash>/<task>) and are reused
 * when their training.json is there; scores are cached in <out>/results.
 */
import fs from "node:fs";
import path from "node:path";
import { initBackend } from "../kernel-lib/src/model/backend";
import { TASKS, TASK_NAMES, type TaskName } from "../kernel-lib/src/data/tasks";
import { finetune } from "../kernel-lib/src/train/recipes";
import { FINETUNE_DEFAULTS } from "../kernel-lib/src/train/loop";
import { ResultStore, folderHash } from "../kernel-lib/src/study/store";
import { zeroShotLine } from "./lib/zero-shot-line";
import { PROFILES } from "../kernel-lib/src/study/profile";
import { projectRoot } from "../kernel-lib/src/util/paths";
import { makeRng } from "../kernel-lib/src/util/random";
import type { AnyRecord } from "../kernel-lib/src/data/records";
import { loadDataset } from "../kernel-lib/src/data/load";
import { DEFAULT_CORPUS_CONFIG, multitaskPools } from "../kernel-lib/src/pretrain/corpus/corpus";
import { loadSources } from "../kernel-lib/src/pretrain/sources/load-sources";
import type { MtKind } from "../kernel-lib/src/pretrain/corpus/formats";
import type { SourcedItem } from "../kernel-lib/src/pretrain/corpus/multitask";
import { MULTITASK_KIND_OF, multitaskRecords } from "../kernel-lib/src/pretrain/corpus/task-records";
import { parseCli, userPath } from "./lib/cli";

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const x = Number(raw);
  if (!(x > 0)) throw new Error(`--${name} must be a positive number, got "${raw}"`);
  return x;
}

async function main(): Promise<void> {
  const { values, positionals } = parseCli("npm run ft-ceiling", {
    allowPositionals: true,
    options: { train: { type: "string" }, tasks: { type: "string" }, items: { type: "string" }, lr: { type: "string" }, epochs: { type: "string" }, "train-size": { type: "string" }, out: { type: "string" } },
  });
  const base = positionals[0] === undefined ? undefined : userPath(positionals[0]);
  if (!base) throw new Error("usage: tsx scripts/ft-ceiling.ts MODEL_DIR [--tasks a,b] [--items N] [--lr X] [--epochs N] [--train-size N] [--train paper|multitask] [--out DIR]");
  const tasks = (values.tasks ?? "detection,inference").split(",") as TaskName[];
  for (const t of tasks) if (!TASK_NAMES.includes(t)) throw new Error(`--tasks: unknown task "${t}" (one of ${TASK_NAMES.join(", ")})`);
  const items = positive("items", values.items, 500);
  const lr = positive("lr", values.lr, FINETUNE_DEFAULTS.lr);
  const epochs = positive("epochs", values.epochs, 2);
  const trainSize = values["train-size"] === undefined ? undefined : positive("train-size", values["train-size"], 0);
  const from = values.train ?? "paper";
  if (from !== "paper" && from !== "multitask") throw new Error(`--train must be paper or multitask, got "${from}"`);
  if (from === "multitask") for (const t of tasks) if (!MULTITASK_KIND_OF[t]) throw new Error(`--train multitask: no multitask kind stands in for ${t} (one of ${Object.keys(MULTITASK_KIND_OF).join(", ")})`);
  const cap = PROFILES.default.fieldTokenCap;
  let pools: Record<MtKind, SourcedItem[]> | undefined;
  const ownRecords = (task: TaskName): { name: string; records: AnyRecord[] } => {
    pools ??= multitaskPools(loadSources(DEFAULT_CORPUS_CONFIG.sources, (m) => console.log(m)), makeRng(DEFAULT_CORPUS_CONFIG.seed));
    const n = loadDataset(task, TASKS[task].inDomain, "train", { size: trainSize }).records.length;
    const kind = MULTITASK_KIND_OF[task] as MtKind;
    return { name: `multitask:${kind}`, records: multitaskRecords(task, pools[kind], n, makeRng(`ft-ceiling:${task}`)) };
  };
  const root = values.out ?? path.join(projectRoot(), ".cache", "ft-ceiling", folderHash(base).slice(0, 12));
  const store = new ResultStore(path.join(root, "results"));
  await initBackend({ quiet: true });
  for (const task of tasks) {
    const dir = path.join(root, `${task}${from === "multitask" ? "-multitask" : ""}-lr${lr}-e${epochs}${trainSize ? `-n${trainSize}` : ""}`);
    if (!fs.existsSync(path.join(dir, "training.json"))) {
      let last = 0;
      const r = await finetune({
        base, task, method: "ft", trainSize, records: from === "multitask" ? ownRecords(task) : undefined, fieldTokenCap: cap, out: dir, train: { lr, epochs, seed: 0, checkpointEvery: 50 },
        onProgress: (p) => {
          if (p.step - last >= 50 || p.step === p.totalSteps) {
            last = p.step;
            console.log(`${task}: step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(3)} ${Math.round(p.tokensPerSecond)} tok/s, eta ${Math.round(p.etaSeconds)} s`);
          }
        },
      });
      console.log(`${task}: fine-tuned on ${r.examples} examples, ${r.result.steps} steps, ${Math.round(r.result.seconds)} s`);
    }
    console.log(await zeroShotLine(dir, task, items, store, from === "multitask" ? " on multitask records" : ""));
  }
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
