/**
 * Fine-tuning a Llama model on the native trainer (kernel-lib/native/trainer.cc): weights,
 * gradients and AdamW moments outside tfjs and its 4 GiB wasm heap, every GEMM on OpenBLAS. An
 * engine of the training loop (engine.ts), so FT and FTICL recipes, checkpoints and budgets are the
 * loop's own.
 *
 *   full   every weight trains; the trainer holds its own copy of the base (weights, gradients and
 *          two moments: 16 bytes a parameter, 2.2 GB for SmolLM2-135M).
 *   lora   PEFT's low-rank pairs on the target modules; the base is a NativeLlm shared by every
 *          trainer and never copied (per model: 16 bytes a LoRA parameter, 7 MB at rank 8 on q, v).
 *
 *   const t = NativeTrainer.lora(base, { ...LORA_DEFAULTS, rank: 16 }, { seed: 0 });
 *   await train(t, examples, cfg);          // loop.ts
 *   const lm = t.inferenceModel();          // the base with the pairs merged in, for evaluation
 */
import { createHash } from "node:crypto";
import { headDim, type LlamaConfig } from "../model/config";
import { transpose2d } from "../model/llama";
import { ropeInvFreq, ropeTables } from "../model/kernels/rope";
import { nativeAddon, type BlasAddon } from "../model/kernels/native-blas";
import { NativeLlm, nativeThreads } from "../model/native-lm";
import type { TensorData } from "../model/safetensors";
import type { Batch } from "./examples";
import type { EngineSnapshot, StepEngine } from "./engine";
import { ADAMW_DEFAULTS, type AdamWConfig } from "./optim";
import { checkLora, LORA_MODULES, peftTensorName, type LoraConfig, type LoraModule } from "../model/lora";

/** A run's seed as the 48-bit number the addon takes. */
function seedNumber(seed: string | number): number {
  return parseInt(createHash("sha1").update(String(seed)).digest("hex").slice(0, 12), 16);
}

const LAYER_NAMES = ["ln1", "wqkv", "wo", "ln2", "wgu", "wd"];

export class NativeTrainer implements StepEngine {
  private readonly tables: Map<number, { qc: Float32Array; qs: Float32Array; kc: Float32Array; ks: Float32Array }> = new Map();
  private readonly invFreq: Float32Array;
  /** The trained tensors in the addon's order: names (trainer.cc's) and shapes. */
  readonly params: readonly { name: string; shape: number[] }[];
  private readonly adam: AdamWConfig;
  private disposed = false;

  private constructor(private readonly addon: BlasAddon, private readonly handle: object, readonly config: LlamaConfig, readonly kind: "full" | "lora",
    readonly lora: LoraConfig | undefined, adam: Partial<AdamWConfig>, private readonly ownModel?: NativeLlm) {
    this.invFreq = ropeInvFreq(headDim(config), config.rope_theta);
    this.params = addon.trainerParams(handle);
    this.adam = { ...ADAMW_DEFAULTS, ...adam };
  }

  private static addonOrThrow(): BlasAddon {
    const addon = nativeAddon();
    if (!addon) throw new Error("NativeTrainer: the native addon is not built (npm run setup) or FTGEN_NATIVE_BLAS=0");
    return addon;
  }

  /** Full fine-tuning of Hugging Face tensors (names and layout): the trainer copies them. */
  static full(config: LlamaConfig, tensors: ReadonlyMap<string, { shape: number[]; data: Float32Array }>, adam: Partial<AdamWConfig> = {},
    threads = nativeThreads(), source = "weights"): NativeTrainer {
    const addon = NativeTrainer.addonOrThrow();
    const own = NativeLlm.fromHF(config, tensors, threads, source);
    if (!own) throw new Error("NativeTrainer: the native addon is not available");
    return new NativeTrainer(addon, addon.trainerCreate(own.handle, true, [0, 0], [0, 0], 0), config, "full", undefined, adam, own);
  }

  /** LoRA on a shared base: A drawn from `seed` (PEFT's Kaiming-uniform), B zero. */
  static lora(base: NativeLlm, lora: LoraConfig, opts: { seed: string | number; adam?: Partial<AdamWConfig> }): NativeTrainer {
    const addon = NativeTrainer.addonOrThrow();
    checkLora(lora);
    const bits = lora.targetModules.reduce((b, m) => b | (1 << LORA_MODULES.indexOf(m)), 0);
    const handle = addon.trainerCreate(base.handle, false, [lora.rank, bits], [lora.alpha, lora.dropout], seedNumber(opts.seed));
    return new NativeTrainer(addon, handle, base.config, "lora", lora, opts.adam ?? {});
  }

  private ropeFor(T: number): { qc: Float32Array; qs: Float32Array; kc: Float32Array; ks: Float32Array } {
    let t = this.tables.get(T);
    if (!t) {
      const positions = Int32Array.from({ length: T }, (_, i) => i);
      const q = ropeTables(positions, this.invFreq, 1 / Math.sqrt(headDim(this.config))); // queries carry 1/√d
      const k = ropeTables(positions, this.invFreq);
      t = { qc: q.cos, qs: q.sin, kc: k.cos, ks: k.sin };
      this.tables.set(T, t);
    }
    return t;
  }

  private live(): object {
    if (this.disposed) throw new Error("NativeTrainer: used after dispose()");
    return this.handle;
  }

  async accumulate(batch: Batch, dropoutSeed: string): Promise<number> {
    const r = this.ropeFor(batch.cols);
    const [loss] = this.addon.trainerAccumulate(this.live(), batch.rows, batch.cols, batch.inputs, batch.labels, r.qc, r.qs, r.kc, r.ks, seedNumber(dropoutSeed));
    return loss;
  }

  /** The loss summed over a batch's labels, and their number (no gradients, no dropout). */
  loss(batch: Batch): { sum: number; count: number } {
    const r = this.ropeFor(batch.cols);
    const [sum, count] = this.addon.trainerLoss(this.live(), batch.rows, batch.cols, batch.inputs, batch.labels, r.qc, r.qs, r.kc, r.ks);
    return { sum, count };
  }

  apply(count: number, lr: number): number {
    const a = this.adam;
    return this.addon.trainerStep(this.live(), count, [lr, a.beta1, a.beta2, a.eps, a.weightDecay, a.maxGradNorm]);
  }

  /** Drops the held gradients in the addon (no zero-filled copies from here: 540 MB for SmolLM2's full fine-tuning). */
  discard(): void {
    this.addon.trainerZeroGrad(this.live());
  }

  /** One tensor of the trainer (weights, gradient or a moment), by its index in `params`. */
  read(index: number, which: "weights" | "grad" | "m" | "v" = "weights"): Float32Array {
    const p = this.params[index];
    const out = new Float32Array(p.shape.reduce((x, y) => x * y, 1));
    this.addon.trainerRead(this.live(), index, ["weights", "grad", "m", "v"].indexOf(which), out);
    return out;
  }

  /** Overwrites one tensor by its index in `params`. */
  write(index: number, data: Float32Array, which: "weights" | "grad" | "m" | "v" = "weights"): void {
    this.addon.trainerWrite(this.live(), index, ["weights", "grad", "m", "v"].indexOf(which), data);
  }

  async snapshot(): Promise<EngineSnapshot> {
    const weights = new Map<string, TensorData>();
    const moments: EngineSnapshot["moments"] = new Map();
    this.params.forEach((p, i) => {
      weights.set(p.name, { shape: [...p.shape], data: this.read(i) });
      moments.set(p.name, { m: this.read(i, "m"), v: this.read(i, "v"), shape: [...p.shape] });
    });
    return { weights, moments, optimizerStep: this.addon.trainerSteps(this.live()) };
  }

  restore(s: EngineSnapshot, source: string): void {
    this.params.forEach((p, i) => {
      const w = s.weights.get(p.name), mo = s.moments.get(p.name);
      if (!w || !mo) throw new Error(`${source}: no tensor "${p.name}"`);
      if (w.shape.join(",") !== p.shape.join(",")) throw new Error(`${source}: "${p.name}" has shape [${w.shape}], the trainer [${p.shape}]`);
      this.write(i, w.data);
      this.write(i, mo.m, "m");
      this.write(i, mo.v, "v");
    });
    this.addon.trainerSteps(this.live(), s.optimizerStep);
  }

  /**
   * The trained model for inference: full fine-tuning's own weights (no copy), or for LoRA a new
   * model with every pair merged in, W + (α/r)·B·A (the shared base is untouched).
   */
  inferenceModel(): NativeLlm {
    return NativeLlm.wrap(this.addon, this.addon.trainerModel(this.live()), this.config);
  }

  /**
   * The LoRA pairs under PEFT's saved names
   * (base_model.model.model.layers.{l}.{self_attn|mlp}.{module}.lora_A.weight (r, in), lora_B.weight (out, r)).
   */
  loraTensors(): Map<string, TensorData> {
    if (this.kind !== "lora") throw new Error("NativeTrainer.loraTensors: a full fine-tuning trainer has no LoRA pairs");
    const out = new Map<string, TensorData>();
    this.params.forEach((p, i) => out.set(peftName(p.name), { shape: [...p.shape], data: this.read(i) }));
    return out;
  }

  /** Loads LoRA pairs saved under PEFT's names (an adapter_model.safetensors); `source` names the file in errors. */
  setLoraTensors(tensors: ReadonlyMap<string, { shape: number[]; data: Float32Array }>, source: string): void {
    if (this.kind !== "lora") throw new Error("NativeTrainer.setLoraTensors: a full fine-tuning trainer has no LoRA pairs");
    const expected = new Set(this.params.map((p) => peftName(p.name)));
    for (const name of tensors.keys()) if (!expected.has(name)) throw new Error(`${source}: tensor "${name}" is not a LoRA pair of this configuration`);
    this.params.forEach((p, i) => {
      const name = peftName(p.name);
      const t = tensors.get(name);
      if (!t) throw new Error(`${source}: missing tensor ${name}`);
      if (t.shape.join(",") !== p.shape.join(",")) throw new Error(`${source}: ${name} has shape [${t.shape}], expected [${p.shape}]`);
      this.write(i, t.data);
    });
  }

  /** Full fine-tuning's weights under Hugging Face names and layouts ([out, in] linear weights, q/k/v and gate/up split). */
  hfTensors(): Map<string, TensorData> {
    if (this.kind !== "full") throw new Error("NativeTrainer.hfTensors: a LoRA trainer holds only its pairs (see loraTensors)");
    const c = this.config, C = c.hidden_size, F = c.intermediate_size, d = headDim(c);
    const qd = c.num_attention_heads * d, kd = c.num_key_value_heads * d, ld = qd + 2 * kd;
    const out = new Map<string, TensorData>();
    const cols = (w: Float32Array, width: number, c0: number, n: number): Float32Array => {
      const o = new Float32Array(C * n);
      for (let i = 0; i < C; i++) o.set(w.subarray(i * width + c0, i * width + c0 + n), i * n);
      return o;
    };
    const linear = (name: string, inOut: Float32Array, rows: number, colsN: number): void => {
      out.set(name, { shape: [colsN, rows], data: transpose2d(inOut, rows, colsN) });
    };
    this.params.forEach((p, i) => {
      const w = this.read(i);
      if (p.name === "embed") out.set("model.embed_tokens.weight", { shape: [...p.shape], data: w });
      else if (p.name === "norm") out.set("model.norm.weight", { shape: [...p.shape], data: w });
      else if (p.name === "head") linear("lm_head.weight", w, C, c.vocab_size);
      else {
        const [, l, kind] = p.name.split(".");
        const pre = `model.layers.${l}.`;
        if (!LAYER_NAMES.includes(kind)) throw new Error(`NativeTrainer: unknown tensor ${p.name}`);
        if (kind === "ln1") out.set(pre + "input_layernorm.weight", { shape: [C], data: w });
        else if (kind === "ln2") out.set(pre + "post_attention_layernorm.weight", { shape: [C], data: w });
        else if (kind === "wo") linear(pre + "self_attn.o_proj.weight", w, qd, C);
        else if (kind === "wd") linear(pre + "mlp.down_proj.weight", w, F, C);
        else if (kind === "wqkv") {
          linear(pre + "self_attn.q_proj.weight", cols(w, ld, 0, qd), C, qd);
          linear(pre + "self_attn.k_proj.weight", cols(w, ld, qd, kd), C, kd);
          linear(pre + "self_attn.v_proj.weight", cols(w, ld, qd + kd, kd), C, kd);
        } else {
          linear(pre + "mlp.gate_proj.weight", cols(w, 2 * F, 0, F), C, F);
          linear(pre + "mlp.up_proj.weight", cols(w, 2 * F, F, F), C, F);
        }
      }
    });
    return out;
  }

  /** Seconds per phase of the work so far (linear forward, attention backward, AdamW, …): where a step's time goes. */
  profile(): Record<string, number> {
    return this.addon.trainerProfile(this.live());
  }

  /** Releases the trainer's memory (and the model it owns, for full fine-tuning; a shared base stays). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.addon.llmFree(this.handle);
    this.ownModel?.dispose();
  }
}

/** trainer.cc's name of a pair ("layers.3.q_proj.lora_A") → PEFT's saved name. */
export function peftName(name: string): string {
  const m = /^layers\.(\d+)\.(\w+)\.lora_([AB])$/.exec(name);
  if (!m || !LORA_MODULES.includes(m[2] as LoraModule)) throw new Error(`NativeTrainer: ${name} is not a LoRA tensor`);
  return peftTensorName(Number(m[1]), m[2] as LoraModule, m[3] as "A" | "B");
}
