/**
 * A minimal GGUF v3 writer for tests (little-endian, as llama.cpp writes it):
 *
 *   "GGUF"  u32 version = 3  u64 tensor_count  u64 kv_count
 *   kv_count × (key: string, u32 value type, value)
 *   tensor_count × (name: string, u32 n_dims, u64 ne[n_dims] innermost first, u32 ggml type,
 *                   u64 offset of the data relative to the data section)
 *   zero padding to `general.alignment` (default 32), then the data section, each tensor's data
 *   starting at a multiple of the alignment.
 *
 * Strings are u64 length + UTF-8 bytes. Value types: 4 u32, 5 i32, 6 f32, 7 bool, 8 string,
 * 9 array (u32 element type, u64 count, elements), 10 u64.
 *
 *   writeGguf(file, { kv: { "general.architecture": kv.str("llama"), … },
 *                     tensors: [{ name: "token_embd.weight", ne: [32, 265], type: 8, data }] });
 */
import fs from "node:fs";

type Scalar = "u32" | "i32" | "f32" | "u64" | "bool" | "string";
const TYPE_ID: Record<Scalar | "array", number> = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10 };

export type GgufWriteValue =
  | { type: "u32" | "i32" | "f32" | "u64"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "array"; elem: Scalar; value: readonly (number | boolean | string)[] };

/** Typed metadata values (GGUF needs the type; a JS number does not say which). */
export const kv = {
  u32: (value: number): GgufWriteValue => ({ type: "u32", value }),
  i32: (value: number): GgufWriteValue => ({ type: "i32", value }),
  f32: (value: number): GgufWriteValue => ({ type: "f32", value }),
  u64: (value: number): GgufWriteValue => ({ type: "u64", value }),
  bool: (value: boolean): GgufWriteValue => ({ type: "bool", value }),
  str: (value: string): GgufWriteValue => ({ type: "string", value }),
  arr: (elem: Scalar, value: readonly (number | boolean | string)[]): GgufWriteValue => ({ type: "array", elem, value }),
};

export interface GgufWriteTensor {
  name: string;
  /** GGUF dimension order: innermost (row length) first. */
  ne: number[];
  /** GGML type id. */
  type: number;
  /** The encoded data (its size is not checked here: tests may write wrong sizes on purpose). */
  data: Uint8Array;
}

class Bytes {
  private readonly parts: Buffer[] = [];
  length = 0;
  private push(b: Buffer): void {
    this.parts.push(b);
    this.length += b.length;
  }
  u32(v: number): void { const b = Buffer.alloc(4); b.writeUInt32LE(v); this.push(b); }
  i32(v: number): void { const b = Buffer.alloc(4); b.writeInt32LE(v); this.push(b); }
  f32(v: number): void { const b = Buffer.alloc(4); b.writeFloatLE(v); this.push(b); }
  u64(v: number): void { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); this.push(b); }
  bool(v: boolean): void { this.push(Buffer.from([v ? 1 : 0])); }
  str(s: string): void { const b = Buffer.from(s, "utf8"); this.u64(b.length); this.push(b); }
  raw(b: Uint8Array): void { this.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength)); }
  padTo(alignment: number): void { const n = (alignment - (this.length % alignment)) % alignment; if (n) this.push(Buffer.alloc(n)); }
  scalar(type: Scalar, v: number | boolean | string): void {
    switch (type) {
      case "u32": this.u32(v as number); break;
      case "i32": this.i32(v as number); break;
      case "f32": this.f32(v as number); break;
      case "u64": this.u64(v as number); break;
      case "bool": this.bool(v as boolean); break;
      case "string": this.str(v as string); break;
    }
  }
  concat(): Buffer { return Buffer.concat(this.parts); }
}

/** The bytes of a GGUF v3 file. */
export function encodeGguf(opts: { kv: Record<string, GgufWriteValue>; tensors: readonly GgufWriteTensor[] }): Buffer {
  const align = opts.kv["general.alignment"]?.type === "u32" ? (opts.kv["general.alignment"].value as number) : 32;
  const out = new Bytes();
  out.raw(Buffer.from("GGUF", "ascii"));
  out.u32(3);
  out.u64(opts.tensors.length);
  out.u64(Object.keys(opts.kv).length);
  for (const [key, v] of Object.entries(opts.kv)) {
    out.str(key);
    out.u32(TYPE_ID[v.type]);
    if (v.type === "array") {
      out.u32(TYPE_ID[v.elem]);
      out.u64(v.value.length);
      for (const x of v.value) out.scalar(v.elem, x);
    } else {
      out.scalar(v.type, v.value);
    }
  }
  // Offsets relative to the data section, each a multiple of the alignment.
  let offset = 0;
  const offsets: number[] = [];
  for (const t of opts.tensors) {
    offsets.push(offset);
    offset += Math.ceil(t.data.length / align) * align;
  }
  opts.tensors.forEach((t, i) => {
    out.str(t.name);
    out.u32(t.ne.length);
    for (const n of t.ne) out.u64(n);
    out.u32(t.type);
    out.u64(offsets[i]);
  });
  out.padTo(align);
  const dataStart = out.length;
  opts.tensors.forEach((t, i) => {
    if (out.length - dataStart !== offsets[i]) throw new Error(`gguf-writer: ${t.name} is at ${out.length - dataStart}, not ${offsets[i]}`);
    out.raw(t.data);
    out.padTo(align);
  });
  return out.concat();
}

/** Writes a GGUF v3 file. */
export function writeGguf(file: string, opts: { kv: Record<string, GgufWriteValue>; tensors: readonly GgufWriteTensor[] }): void {
  fs.writeFileSync(file, encodeGguf(opts));
}
