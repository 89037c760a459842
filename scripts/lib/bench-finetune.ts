/**
 * `npm run bench`'s fine-tuning stage: a LoRA step and a full fine-tuning step of SmolLM2-135M on
 * ftgen's native trainer, beside PyTorch 2.13 CPU (transformers + PEFT, bench/torch_train_ref.py)
 * doing the same step on the same batch shape, 2 threads each, every kind in a process of its own
 * so that each peak RSS is its own. A step: forward and backward of 4 × 256 tokens with the loss on
 * each row's second half, then AdamW. Also reports where ftgen's step time goes (trainer phases).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { registryEntry, registryModelDir } from "../../kernel-lib/src/model/registry";
import { projectRoot } from "../../kernel-lib/src/util/paths";
import { ensureRegistryModel } from "./get-model";
import { ensureVenv } from "./venv";

export const FINETUNE_BENCH = { rows: 4, cols: 256, steps: 3, warmup: 1, lora: { r: 8, alpha: 16, target_modules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] } };

interface Row { step_seconds: number; tokens_per_s: number; peak_rss_mb: number; [k: string]: unknown }

function runJson(cmd: string, args: string[], what: string, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, cwd: projectRoot(), env });
  if (r.status !== 0) throw new Error(`bench: ${what} failed: ${(r.stderr || r.error?.message || "").trim().split("\n").slice(-3).join(" | ")}`);
  return JSON.parse(r.stdout.trim().split("\n").pop() as string) as Record<string, unknown>;
}

export async function benchFinetune(opts: { log?: (s: string) => void; torch?: boolean } = {}): Promise<Record<string, unknown>> {
  const log = opts.log ?? console.log;
  const entry = registryEntry("smollm2-135m");
  await ensureRegistryModel(entry);
  const dir = registryModelDir(entry);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-bench-ft-"));
  const env = { ...process.env, FTGEN_BLAS_THREADS: "2" };
  const tsx = path.join(projectRoot(), "node_modules", ".bin", "tsx");
  const rows: Record<string, Row> = {};
  const python = opts.torch === false ? undefined : ensureVenv("conformance", log);
  for (const kind of ["lora", "full"] as const) {
    const file = path.join(tmp, `${kind}.json`);
    fs.writeFileSync(file, JSON.stringify({ ...FINETUNE_BENCH, kind, dir }));
    const ours = runJson(tsx, [path.join(projectRoot(), "scripts", "lib", "bench-finetune-child.ts"), file], `ftgen ${kind}`, env) as Row;
    rows[`ftgen ${kind}`] = ours;
    const prof = ours.profile as Record<string, number>;
    const total = Object.values(prof).reduce((a, b) => a + b, 0);
    const top = Object.entries(prof).sort((a, b) => b[1] - a[1]).slice(0, 5).map(([k, v]) => `${k} ${((100 * v) / total).toFixed(0)}%`).join(", ");
    log(`  ftgen ${kind.padEnd(4)}: ${ours.step_seconds.toFixed(2)} s/step, ${ours.tokens_per_s.toFixed(0)} tokens/s, peak RSS ${ours.peak_rss_mb} MB; time: ${top}`);
    if (!python) continue;
    const req = path.join(tmp, `torch-${kind}.json`);
    fs.writeFileSync(req, JSON.stringify({ mode: "bench", model_dir: dir, threads: 2, rows: FINETUNE_BENCH.rows, cols: FINETUNE_BENCH.cols, steps: FINETUNE_BENCH.steps, warmup: FINETUNE_BENCH.warmup, lora: FINETUNE_BENCH.lora, kinds: [kind] }));
    const res = runJson(python, [path.join(projectRoot(), "bench", "torch_train_ref.py"), req], `PyTorch ${kind}`, env);
    const b = (res.bench as Record<string, Record<string, number>>)[kind];
    rows[`torch ${kind}`] = { step_seconds: b.seconds_per_step, tokens_per_s: b.tokens_per_s, peak_rss_mb: b.kind_peak_rss_mb ?? b.peak_rss_mb, attention: res.attn_implementation, versions: res.versions };
    log(`  PyTorch ${kind.padEnd(4)}: ${b.seconds_per_step.toFixed(2)} s/step, ${b.tokens_per_s.toFixed(0)} tokens/s, peak RSS ${rows[`torch ${kind}`].peak_rss_mb} MB (transformers${kind === "lora" ? " + PEFT" : ""}, ${res.attn_implementation as string} attention)`);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  const ratios: Record<string, number> = {};
  for (const kind of ["lora", "full"]) if (rows[`torch ${kind}`]) ratios[`${kind}OverTorch`] = rows[`ftgen ${kind}`].tokens_per_s / rows[`torch ${kind}`].tokens_per_s;
  if (python) log(`  targets (≥ 1.0×, stretch 1.5×): LoRA ${ratios.loraOverTorch.toFixed(2)}× PyTorch, full fine-tuning ${ratios.fullOverTorch.toFixed(2)}×`);
  return { model: entry.name, batch: `${FINETUNE_BENCH.rows} × ${FINETUNE_BENCH.cols} tokens, loss on each row's second half`, lora: FINETUNE_BENCH.lora, threads: 2, rows, ratios };
}
