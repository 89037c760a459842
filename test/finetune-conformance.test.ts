/**
 * ftgen's fine-tuning of SmolLM2-135M against transformers + PEFT (PyTorch 2.13 CPU, float32; the
 * reference is bench/torch_train_ref.py in the project venv), on one batch of 2 rows × 64 tokens
 * with the loss on each row's second half:
 *
 * - LoRA (r 8, α 16, all seven projections) from the same adapter (ftgen's A, a random non-zero B,
 *   loaded into PEFT with set_peft_model_state_dict): the loss within 1e-5 relative, and each of the
 *   420 LoRA gradients within 1e-3 of its largest entry (max |ftgen − PEFT| / max |PEFT|);
 * - full fine-tuning: the loss, and the gradients of the tied embedding, every projection and norm
 *   of layers 0 and 29 and the final norm, within the same tolerances;
 * - an adapter folder written by ftgen (saveAdapter) loads in PEFT with PeftModel.from_pretrained and
 *   gives ftgen's logits (native engine, merged on the shared base) within 1e-3, and the folder
 *   ftgen merges (mergeAdapterFolder) gives them as a plain transformers model.
 *
 * Needs the project venv (npm run venv) and the model; skips saying why otherwise, and with
 * FTGEN_REQUIRE_LLM_CONFORMANCE=1 (CI) a skip is a failure.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { registryEntry, registryModelDir } from "../kernel-lib/src/model/registry";
import { ensureRegistryModel } from "../scripts/lib/get-model";
import { venvPython, venvStatus } from "../scripts/lib/venv";
import { readModelTensors } from "../kernel-lib/src/model/folder";
import { loadNativeBlas } from "../kernel-lib/src/model/kernels/native-blas";
import { NativeLlm } from "../kernel-lib/src/model/native-lm";
import { loadSafetensors, saveSafetensors } from "../kernel-lib/src/model/safetensors";
import { LORA_MODULES, mergeAdapterFolder, saveAdapter } from "../kernel-lib/src/model/lora";
import { NativeTrainer, peftName } from "../kernel-lib/src/train/native-trainer";
import { collate, type Batch } from "../kernel-lib/src/train/examples";
import { NativeCausalLM } from "../kernel-lib/src/evaluate/native-causal-lm";
import { makeRng } from "../kernel-lib/src/util/random";

const ROOT = path.resolve(__dirname, "..");
const REQUIRED = process.env.FTGEN_REQUIRE_LLM_CONFORMANCE === "1";
const LOSS_TOL = 1e-5, GRAD_TOL = 1e-3, LOGIT_TOL = 1e-3;
const LORA = { rank: 8, alpha: 16, dropout: 0, targetModules: [...LORA_MODULES] };

let skipReason = "", dir = "", tmp = "";
let batch: Batch;

before(async () => {
  const v = venvStatus("conformance");
  if (!v.ready) skipReason = v.why;
  else if (!loadNativeBlas().addon) skipReason = `native addon absent: ${loadNativeBlas().reason}`;
  else {
    try {
      const entry = registryEntry("smollm2-135m");
      await ensureRegistryModel(entry, { log: () => {} });
      dir = registryModelDir(entry);
    } catch (e) {
      skipReason = (e as Error).message;
    }
  }
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-ft-conf-"));
  const rng = makeRng("finetune-conformance");
  batch = collate([0, 1].map(() => ({ ids: Array.from({ length: 65 }, () => 100 + rng.int(40_000)), targetStart: 33, droppedPromptTokens: 0 })), 0);
});

function cannotRun(t: { skip(message?: string): void }): boolean {
  if (!skipReason) return false;
  assert.ok(!REQUIRED, `FTGEN_REQUIRE_LLM_CONFORMANCE=1 but the fine-tuning conformance tier cannot run: ${skipReason}`);
  t.skip(skipReason);
  return true;
}

interface Reference { loss: number; target_tokens: number; out_file: string; logits_b64: string[]; merged_logits_b64: string[] | null }

function reference(req: Record<string, unknown>): Reference {
  const file = path.join(tmp, `req-${req.mode as string}.json`);
  fs.writeFileSync(file, JSON.stringify({ model_dir: dir, threads: 2, ...req }));
  const r = spawnSync(venvPython(), [path.join(ROOT, "bench", "torch_train_ref.py"), file], { encoding: "utf8", maxBuffer: 256 << 20 });
  assert.equal(r.status, 0, `torch_train_ref.py failed: ${r.stderr.split("\n").slice(-5).join(" | ")}`);
  return JSON.parse(r.stdout) as Reference;
}

const batchJson = (): Record<string, unknown> => ({ rows: batch.rows, cols: batch.cols, inputs: [...batch.inputs], labels: [...batch.labels] });

/** max |a − b| / max |b|. */
function relErr(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); m = Math.max(m, Math.abs(b[i])); }
  return d / Math.max(m, 1e-30);
}

const floats = (b64: string): Float32Array => { const b = Buffer.from(b64, "base64"); return new Float32Array(b.buffer, b.byteOffset, b.length / 4); };

/** A LoRA trainer on SmolLM2 with a random non-zero B (a trained adapter's shape: both halves non-zero). */
function loraTrainer(): NativeTrainer {
  const t = NativeTrainer.lora(NativeLlm.shared(dir), LORA, { seed: "conformance" });
  const rng = makeRng("lora-b");
  t.params.forEach((p, i) => { if (p.name.endsWith("lora_B")) t.write(i, Float32Array.from({ length: p.shape[0] * p.shape[1] }, () => (rng.next() - 0.5) * 0.02)); });
  return t;
}

test("LoRA: one step's loss and every LoRA gradient match transformers + PEFT", async (t) => {
  if (cannotRun(t)) return;
  const trainer = loraTrainer();
  try {
    const init = path.join(tmp, "adapter-init.safetensors");
    saveSafetensors(init, trainer.loraTensors());
    {
      const sum = await trainer.accumulate(batch, "conformance");
      const ref = reference({ mode: "lora_grads", batch: batchJson(), lora: { r: LORA.rank, alpha: LORA.alpha, target_modules: LORA.targetModules }, adapter_init: init, out_file: path.join(tmp, "lora-grads.safetensors") });
      assert.equal(ref.target_tokens, batch.targetTokens);
      const loss = sum / batch.targetTokens;
      assert.ok(Math.abs(loss - ref.loss) / ref.loss < LOSS_TOL, `loss ${loss} vs PEFT ${ref.loss}`);
      const refGrads = loadSafetensors(ref.out_file).tensors;
      assert.equal(refGrads.size, trainer.params.length);
      let worst = 0;
      trainer.params.forEach((p, i) => {
        const name = peftName(p.name);
        // ftgen accumulates the gradient of the summed loss; PEFT's is of the mean.
        const mine = Float32Array.from(trainer.read(i, "grad"), (v) => v / batch.targetTokens);
        const e = relErr(mine, refGrads.get(name)!.data);
        worst = Math.max(worst, e);
        assert.ok(e < GRAD_TOL, `${name}: ${e}`);
      });
      t.diagnostic(`LoRA: loss ${loss.toFixed(6)} vs ${ref.loss.toFixed(6)}; worst gradient error ${worst.toExponential(2)} of 420`);
    }
  } finally {
    trainer.dispose();
  }
});

test("full fine-tuning: one step's loss and gradients match transformers", async (t) => {
  if (cannotRun(t)) return;
  const { config, tensors, file } = readModelTensors(dir);
  const trainer = NativeTrainer.full(config, tensors, {}, 2, file);
  tensors.clear();
  try {
    const sum = await trainer.accumulate(batch, "conformance");
    const params = ["model.embed_tokens.weight", "model.norm.weight"];
    for (const l of [0, 29]) {
      for (const n of ["input_layernorm", "post_attention_layernorm"]) params.push(`model.layers.${l}.${n}.weight`);
      for (const n of ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]) params.push(`model.layers.${l}.${n}.weight`);
    }
    const ref = reference({ mode: "full_grads", batch: batchJson(), params, out_file: path.join(tmp, "full-grads.safetensors") });
    const loss = sum / batch.targetTokens;
    assert.ok(Math.abs(loss - ref.loss) / ref.loss < LOSS_TOL, `loss ${loss} vs transformers ${ref.loss}`);
    // The trainer's gradients in HF names and layouts: hfTensors() converts weights, so read the
    // gradients through a copy whose weights are the gradients.
    const refGrads = loadSafetensors(ref.out_file).tensors;
    const grads = gradientsAsHF(trainer);
    let worst = 0;
    for (const name of params) {
      const mine = Float32Array.from(grads.get(name)!, (v) => v / batch.targetTokens);
      const e = relErr(mine, refGrads.get(name)!.data);
      worst = Math.max(worst, e);
      assert.ok(e < GRAD_TOL, `${name}: ${e}`);
    }
    t.diagnostic(`full: loss ${loss.toFixed(6)} vs ${ref.loss.toFixed(6)}; worst gradient error ${worst.toExponential(2)} over ${params.length} tensors`);
  } finally {
    trainer.dispose();
  }
});

/** The full trainer's gradients under HF names and layouts (swapping them in as weights for hfTensors). */
function gradientsAsHF(trainer: NativeTrainer): Map<string, Float32Array> {
  const weights = trainer.params.map((_, i) => trainer.read(i));
  trainer.params.forEach((_, i) => trainer.write(i, trainer.read(i, "grad")));
  const out = new Map([...trainer.hfTensors()].map(([n, v]) => [n, v.data]));
  weights.forEach((w, i) => trainer.write(i, w));
  return out;
}

test("an adapter folder written by ftgen loads in PEFT and gives ftgen's logits; so does ftgen's merged folder in transformers", async (t) => {
  if (cannotRun(t)) return;
  const trainer = loraTrainer();
  const adapterDir = path.join(tmp, "adapter");
  try {
    saveAdapter(adapterDir, LORA, trainer.loraTensors(), dir);
  } finally {
    trainer.dispose();
  }
  const merged = mergeAdapterFolder(adapterDir);
  const rng = makeRng("adapter-prompts");
  const prompts = [Array.from({ length: 40 }, () => 100 + rng.int(40_000)), Array.from({ length: 12 }, () => 100 + rng.int(40_000))];
  const ref = reference({ mode: "adapter_logits", adapter_dir: adapterDir, merged_dir: merged, prompts });
  const lm = await NativeCausalLM.load(adapterDir, { threads: 2 });
  try {
    prompts.forEach((p, i) => {
      const s = lm.lm.session(1, p.length);
      const logits = s.step(Int32Array.from(p), new Int32Array(p.length).fill(1), p.length);
      s.dispose();
      let d = 0, dm = 0;
      const a = floats(ref.logits_b64[i]), b = floats(ref.merged_logits_b64![i]);
      for (let v = 0; v < logits.length; v++) { d = Math.max(d, Math.abs(logits[v] - a[v])); dm = Math.max(dm, Math.abs(b[v] - a[v])); }
      assert.ok(d <= LOGIT_TOL, `prompt ${i}: ftgen vs PEFT ${d}`);
      assert.ok(dm <= LOGIT_TOL, `prompt ${i}: ftgen's merged folder in transformers vs PEFT ${dm}`);
      t.diagnostic(`prompt ${i} (${p.length} tokens): max |ftgen − PEFT| ${d.toExponential(2)}, merged folder ${dm.toExponential(2)}`);
    });
  } finally {
    lm.dispose();
  }
});
