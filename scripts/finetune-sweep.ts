/**
 * `npm run finetune-sweep`: the small, stated sweep that picks SmolLM2-135M's fine-tuning recipe.
 * Each configuration fine-tunes SmolLM2 on the first N records of a task's in-domain train file
 * (the paper's FT format, loss on the target), is scored 0-shot on the in-domain test set (map 0,
 * the grid's 250 items unless --items says otherwise, the grid's field cap), and is set beside the base model's record of the
 * same evaluation (the committed grid, results/) and the set's baseline. "beats base" means the
 * 95% CIs are apart (FT's low end above the base's high end).
 *
 *   npm run finetune-sweep [-- --tasks sentiment,summary] [--only NAME,...] [--items 250] [--max-minutes 55]
 *
 * --items scores on the first N test items (default the grid's 250; the paper's sets hold 500). A
 * row is kept per (task, setting, items), so a confirmation on the whole test set sits beside the
 * 250-item row. Each row also carries the paired FT − base difference on the same items, with its
 * bootstrap CI and one-sided p (study/contrast.ts), which is tighter than two CIs set apart.
 *
 * Resumable: fine-tuned folders (.cache/sweep/smollm2-135m/<task>/<config>) are reused once their
 * training.json is written, and scores are records in results/sweeps/smollm2-135m/ (committed).
 * Stops starting new configurations past --max-minutes; run it again to go on. Writes the table
 * to results/sweeps/smollm2-135m.json.
 */
import fs from "node:fs";
import path from "node:path";
import { TASKS, type TaskName } from "../kernel-lib/src/data/tasks";
import { finetune, type Tuning } from "../kernel-lib/src/train/recipes";
import type { TrainConfig } from "../kernel-lib/src/train/loop";
import { registryEntry, registryModelDir, registryModelKey } from "../kernel-lib/src/model/registry";
import { ResultStore, evaluateCached, sha1 } from "../kernel-lib/src/study/store";
import { LLM_GRID, llmStore } from "../kernel-lib/src/study/llm-grid";
import { bestBaseline, majorityBaseline } from "../kernel-lib/src/study/baselines";
import { loadCausalLM } from "../kernel-lib/src/evaluate/engines";
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS } from "../kernel-lib/src/model/lora";
import { projectRoot } from "../kernel-lib/src/util/paths";
import { writeFileAtomic } from "../kernel-lib/src/util/atomic";
import { ensureRegistryModel } from "./lib/get-model";
import { ensureData } from "./lib/setup";
import { parseCli } from "./lib/cli";
import { ensureNativeAddon } from "./lib/native";
import { contrastEffect } from "../kernel-lib/src/study/contrast";
import { LLM_FINETUNE_RECIPES } from "../kernel-lib/src/train/recipes";

interface SweepConfig {
  name: string;
  tuning: Tuning;
  /** Train records (the first N of the 2000-record file). */
  records: number;
  train: Partial<TrainConfig>;
}

const ALL_LINEAR = LLM_FINETUNE_RECIPES.lora.tuning.lora.targetModules;

/** The sweep, per task: LoRA's learning rate and rank (and PEFT's q/v default), against full fine-tuning. */
const SWEEP: Partial<Record<TaskName, SweepConfig[]>> = {
  sentiment: [
    { name: "lora-r16-all-lr1e-4", tuning: { kind: "lora", lora: { rank: 16, alpha: 32, dropout: 0.05, targetModules: ALL_LINEAR } }, records: 500, train: { epochs: 1, lr: 1e-4 } },
    { name: "lora-r16-all-lr3e-4", tuning: { kind: "lora", lora: { rank: 16, alpha: 32, dropout: 0.05, targetModules: ALL_LINEAR } }, records: 500, train: { epochs: 1, lr: 3e-4 } },
    { name: "lora-r16-all-lr1e-3", tuning: { kind: "lora", lora: { rank: 16, alpha: 32, dropout: 0.05, targetModules: ALL_LINEAR } }, records: 500, train: { epochs: 1, lr: 1e-3 } },
    { name: "lora-r8-qv-lr1e-3", tuning: { kind: "lora", lora: { rank: 8, alpha: 16, dropout: 0.05, targetModules: ["q_proj", "v_proj"] } }, records: 500, train: { epochs: 1, lr: 1e-3 } },
    { name: "full-lr5e-5", tuning: { kind: "full" }, records: 500, train: { epochs: 1, lr: 5e-5 } },
    // The paper's amount: every record of the 2000-record file, 2 epochs, with the best 500-record setting.
    { name: "lora-r8-qv-lr1e-3-2000x2", tuning: { kind: "lora", lora: { rank: 8, alpha: 16, dropout: 0.05, targetModules: ["q_proj", "v_proj"] } }, records: 2000, train: { epochs: 2, lr: 1e-3 } },
    { name: "full-lr5e-5-2000x2", tuning: { kind: "full" }, records: 2000, train: { epochs: 2, lr: 5e-5 } },
  ],
  summary: [
    { name: "lora-r16-all-lr3e-4", tuning: { kind: "lora", lora: { rank: 16, alpha: 32, dropout: 0.05, targetModules: ALL_LINEAR } }, records: 250, train: { epochs: 1, lr: 3e-4 } },
    { name: "lora-r16-all-lr1e-3", tuning: { kind: "lora", lora: { rank: 16, alpha: 32, dropout: 0.05, targetModules: ALL_LINEAR } }, records: 250, train: { epochs: 1, lr: 1e-3 } },
    { name: "full-lr5e-5", tuning: { kind: "full" }, records: 250, train: { epochs: 1, lr: 5e-5 } },
  ],
};

export interface SweepRow {
  task: TaskName;
  dataset: string;
  config: string;
  tuning: Tuning;
  records: number;
  train: Partial<TrainConfig>;
  trainSeconds: number;
  trainTokens: number;
  finalLoss: number;
  metric: string;
  score: number;
  low: number;
  high: number;
  base: { score: number; low: number; high: number };
  baseline: { name: string; value: number };
  beatsBase: boolean;
  /** Test items scored (the first N of the test file). */
  items: number;
  /** FT − base on the same items: the paired bootstrap's effect, 95% CI and one-sided p. */
  paired: { effect: number; low: number; high: number; p: number };
  evalSeconds: number;
}

/** The model key of a fine-tuned folder: its base's registry key and the files that decide its weights. */
function modelKeyOf(baseKey: string, dir: string): string {
  const files = fs.existsSync(path.join(dir, ADAPTER_CONFIG)) ? [ADAPTER_CONFIG, ADAPTER_WEIGHTS] : ["config.json", "model.safetensors"];
  return sha1(`${baseKey}|${files.map((f) => `${f}:${sha1(fs.readFileSync(path.join(dir, f)))}`).join("|")}`);
}

async function main(): Promise<void> {
  const { values } = parseCli("npm run finetune-sweep", { options: {
    tasks: { type: "string", default: "sentiment,summary" }, only: { type: "string" }, items: { type: "string", default: String(LLM_GRID.testItems) },
    "max-minutes": { type: "string", default: "55" },
  } });
  const tasks = (values.tasks as string).split(",") as TaskName[];
  for (const t of tasks) if (!(t in SWEEP)) throw new Error(`--tasks: "${t}" has no sweep (one of ${Object.keys(SWEEP).join(", ")})`);
  const only = values.only ? new Set((values.only as string).split(",")) : undefined;
  const items = Number(values.items);
  if (!Number.isInteger(items) || items < 1) throw new Error(`--items: "${values.items}" is not a positive whole number`);
  const deadline = Date.now() + Number(values["max-minutes"]) * 60_000;
  if (!ensureNativeAddon()) throw new Error("npm run finetune-sweep needs the native trainer (kernel-lib/native), which could not be built");
  await ensureData();
  const entry = registryEntry("smollm2-135m");
  await ensureRegistryModel(entry);
  const base = registryModelDir(entry), baseKey = registryModelKey(entry);
  const store = new ResultStore(path.join(projectRoot(), "results", "sweeps", "smollm2-135m"));
  // The table beside the records' folder (a .json inside it would read as a record).
  const out = path.join(path.dirname(store.dir), "smollm2-135m.json");
  const rows: SweepRow[] = fs.existsSync(out) ? (JSON.parse(fs.readFileSync(out, "utf8")) as { rows: SweepRow[] }).rows : [];
  const note = "npm run finetune-sweep; scores 0-shot in-domain, map 0, on the first `items` test items; `paired` is FT − base on the same items";
  for (const task of tasks) {
    const dataset = TASKS[task].inDomain;
    const spec = { task, dataset, k: 0, map: 0 as const, limit: items, fieldTokenCap: LLM_GRID.fieldTokenCap, batchSize: LLM_GRID.batchSize };
    // The grid's records hold the base at its 250 items; other sizes are kept with the sweep's.
    const baseRec = await evaluateCached(() => loadCausalLM(base, "native", { batchSize: LLM_GRID.batchSize }), baseKey, spec, items === LLM_GRID.testItems ? llmStore() : store);
    const baseItems = (items === LLM_GRID.testItems ? llmStore() : store).items(baseRec.key);
    const baseline = TASKS[task].kind === "classification"
      ? { name: "majority label", value: majorityBaseline(task, dataset, spec.limit).accuracy }
      : (({ name, value }) => ({ name, value }))(bestBaseline(task, dataset, spec.limit));
    for (const c of SWEEP[task] ?? []) {
      if (only && !only.has(c.name)) continue;
      // Rows from before `items` and `paired` existed are scored again from their cached records.
      const at = rows.findIndex((r) => r.task === task && r.config === c.name && (r.items ?? LLM_GRID.testItems) === items);
      if (at >= 0 && rows[at].paired) continue;
      if (Date.now() > deadline) {
        console.log(`--max-minutes reached: ${task}/${c.name} and later configurations are left for the next run`);
        break;
      }
      const dir = path.join(projectRoot(), ".cache", "sweep", "smollm2-135m", task, c.name);
      const done = path.join(dir, "training.json");
      if (!fs.existsSync(done)) {
        console.log(`${task}/${c.name}: fine-tuning on ${c.records} records`);
        await finetune({
          base, task, method: "ft", trainSize: 2000, limit: c.records, fieldTokenCap: LLM_GRID.fieldTokenCap, out: dir, tuning: c.tuning,
          train: { seed: 0, checkpointEvery: 10, ...c.train },
          onProgress: (p) => { if (p.step % 5 === 0 || p.step === p.totalSteps) console.log(`  step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(3)} ${p.tokensPerSecond.toFixed(0)} tokens/s`); },
        });
      }
      const training = JSON.parse(fs.readFileSync(done, "utf8")) as { seconds: number; tokens: number; losses: number[] };
      const rec = await evaluateCached(() => loadCausalLM(dir, "native", { batchSize: LLM_GRID.batchSize }), modelKeyOf(baseKey, dir), spec, store);
      const recItems = store.items(rec.key);
      const paired = contrastEffect([{ label: `${task}/${c.name}`, task, terms: [
        { weight: 1, records: [rec], group: "ft" }, { weight: -1, records: [baseRec], group: "base" },
      ] }], (r) => (r.key === rec.key ? recItems : baseItems), { metric: rec.metric === "accuracy" ? "accuracy" : "primary", samples: 2000, seed: `${task}/${c.name}/${items}` });
      const row: SweepRow = {
        task, dataset, config: c.name, tuning: c.tuning, records: c.records, train: c.train,
        trainSeconds: Math.round(training.seconds), trainTokens: training.tokens, finalLoss: training.losses[training.losses.length - 1],
        metric: rec.metric, score: rec.value, low: rec.ci.low, high: rec.ci.high,
        base: { score: baseRec.value, low: baseRec.ci.low, high: baseRec.ci.high }, baseline, beatsBase: rec.ci.low > baseRec.ci.high,
        items, paired: { effect: paired.effect, low: paired.low, high: paired.high, p: paired.p }, evalSeconds: rec.seconds,
      };
      if (at >= 0) rows[at] = row;
      else rows.push(row);
      writeFileAtomic(out, JSON.stringify({ model: entry.name, note, rows }, null, 1) + "\n");
      console.log(`${task}/${c.name}: ${rec.metric} ${rec.value.toFixed(3)} [${rec.ci.low.toFixed(3)}, ${rec.ci.high.toFixed(3)}] vs base ${baseRec.value.toFixed(3)} [${baseRec.ci.low.toFixed(3)}, ${baseRec.ci.high.toFixed(3)}], baseline ${baseline.value.toFixed(3)}; paired ${paired.effect >= 0 ? "+" : ""}${paired.effect.toFixed(3)} [${paired.low.toFixed(3)}, ${paired.high.toFixed(3)}] p ${paired.p.toFixed(4)}; ${items} items; trained ${training.tokens} tokens in ${Math.round(training.seconds)} s${row.beatsBase ? "; beats the base" : ""}`);
    }
  }
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
