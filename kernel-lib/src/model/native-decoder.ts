/**
 * KV-cached decoding of our Llama model on the native addon (kernel-lib/native/decoder.cc).
 *
 * At batch 1, a decoding step in tfjs is ~150 small op dispatches of ~40 µs each for ~1.5M
 * multiply-adds of work, so tfjs spends its time dispatching. The addon runs a whole step (every
 * layer, the cache, the head) in one call. It takes a copy of the weights, so it must be made
 * again after training changes them; generateGreedy makes one per batch.
 *
 * Positions and rotary tables come from llama.ts (positionsFromMask, ropeTables), so the numbers
 * are the model's own; tests compare its tokens with tfjs' uncached decoding.
 */
import { headDim } from "./config";
import { continuedPositions, positionsFromMask, recordNextPositions, ropeInvFreq, ropeTables, type LlamaModel } from "./llama";
import { nativeKernels } from "./native-blas";

/** The addon's decoder functions (ftgen_blas.cc). */
interface DecoderAddon {
  decoderCreate(dims: number[], eps: number, weights: Float32Array[]): object;
  decoderStep(handle: object, T: number, ids: Int32Array, mask: Int32Array, qCos: Float32Array, qSin: Float32Array, kCos: Float32Array, kSin: Float32Array, logits: Float32Array): boolean;
}

export class NativeDecoder {
  private readonly handle: object;
  private readonly invFreq: Float32Array;
  /** Position id the next token of each row gets. */
  private readonly nextPosition: Int32Array;
  private started = false;

  private constructor(private readonly addon: DecoderAddon, private readonly model: LlamaModel, readonly batch: number, readonly capacity: number) {
    const cfg = model.config;
    const w = (name: string): Float32Array => {
      const v = model.variables.get(name);
      if (!v) throw new Error(`NativeDecoder: the model has no parameter ${name}`);
      return v.dataSync() as Float32Array;
    };
    const weights = [w("model.embed_tokens.weight")];
    for (let l = 0; l < cfg.num_hidden_layers; l++) {
      for (const n of ["input_layernorm", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "post_attention_layernorm", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]) {
        weights.push(w(`model.layers.${l}.${n}.weight`));
      }
    }
    weights.push(w("model.norm.weight"));
    if (!cfg.tie_word_embeddings) weights.push(w("lm_head.weight"));
    const dims = [cfg.vocab_size, cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers, cfg.num_attention_heads,
      cfg.num_key_value_heads, headDim(cfg), cfg.tie_word_embeddings ? 1 : 0, batch, capacity];
    this.handle = addon.decoderCreate(dims, cfg.rms_norm_eps, weights);
    this.invFreq = ropeInvFreq(headDim(cfg), cfg.rope_theta);
    this.nextPosition = new Int32Array(batch);
  }

  /** A decoder for `batch` rows of at most `capacity` tokens, or undefined without the addon. */
  static create(model: LlamaModel, batch: number, capacity: number): NativeDecoder | undefined {
    const addon = nativeKernels() as unknown as DecoderAddon | undefined;
    if (!addon || typeof addon.decoderCreate !== "function") return undefined;
    return new NativeDecoder(addon, model, batch, capacity);
  }

  /**
   * Runs T new tokens per row through the model, appending them to the cache: ids and mask
   * (B, T) row-major, mask 1 for real tokens and 0 for (left) padding. The first call is the
   * prefill. Returns the logits (B, V) after each row's last new token.
   */
  step(ids: Int32Array, mask: Int32Array, T: number): Float32Array {
    const B = this.batch, cfg = this.model.config;
    if (ids.length !== B * T || mask.length !== B * T) throw new Error(`NativeDecoder.step: ids/mask must be ${B}×${T}`);
    const isReal = (b: number, t: number): boolean => mask[b * T + t] !== 0;
    const positions = this.started ? continuedPositions(this.nextPosition, B, T, isReal) : positionsFromMask(mask, B, T);
    recordNextPositions(this.nextPosition, positions, B, T, isReal);
    this.started = true;
    const q = ropeTables(positions, this.invFreq, 1 / Math.sqrt(headDim(cfg))); // queries carry the 1/√d scale
    const k = ropeTables(positions, this.invFreq);
    const logits = new Float32Array(B * cfg.vocab_size);
    if (!this.addon.decoderStep(this.handle, T, ids, mask, q.cos, q.sin, k.cos, k.sin, logits)) {
      throw new Error(`NativeDecoder.step: the cache holds ${this.capacity} tokens per row, and this step would go past it`);
    }
    return logits;
  }
}
