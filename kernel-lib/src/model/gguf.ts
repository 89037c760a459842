/**
 * GGUF files (llama.cpp's model format): the header and tensor table are read by Hugging Face's
 * maintained parser (@huggingface/gguf); the tensor data by offset from the file, dequantized by
 * gguf-quants.ts.
 *
 *   const g = await readGguf("SmolLM2-135M-Instruct.Q4_1.gguf");
 *   g.metadata["llama.block_count"]            // 30
 *   g.tensors.get("blk.0.attn_q.weight")       // { shape: [576, 576], type: 3 (Q4_1), … }
 *   readGgufTensor(g, "token_embd.weight")     // Float32Array, row-major in `shape`
 *
 * Shapes here are row-major, outermost first (PyTorch's order): GGUF lists dimensions innermost
 * first (ne[0] is the row length), so they are reversed. Errors are one line naming the file and
 * the tensor or key.
 */
import fs from "node:fs";
import { gguf } from "@huggingface/gguf";
import { dequantize, ggmlByteSize, ggmlTypeName } from "./gguf-quants";

/** A metadata value, with 64-bit integers as numbers (exact below 2^53, which every field we read is). */
export type GgufValue = string | number | boolean | GgufValue[];

export interface GgufTensorInfo {
  name: string;
  /** Row-major shape, outermost first (GGUF's dimensions reversed). */
  shape: number[];
  /** GGML type id (gguf-quants.ts GGML_TYPE). */
  type: number;
  /** Absolute byte offset of the data in the file. */
  offset: number;
  /** Bytes of data. */
  bytes: number;
}

export interface GgufFile {
  file: string;
  version: number;
  metadata: Record<string, GgufValue>;
  /** In file order. */
  tensors: Map<string, GgufTensorInfo>;
}

function plain(v: unknown): GgufValue {
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  return v as GgufValue;
}

/** Parses a GGUF file's header and tensor table (the tensor data is read on demand). */
export async function readGguf(file: string): Promise<GgufFile> {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such GGUF file`);
  const size = fs.statSync(file).size;
  let parsed: Awaited<ReturnType<typeof gguf>>;
  try {
    parsed = await gguf(file, { allowLocalFile: true });
  } catch (e) {
    throw new Error(`${file}: not a readable GGUF file (${(e as Error).message.split("\n")[0]})`);
  }
  const metadata: Record<string, GgufValue> = {};
  for (const [k, v] of Object.entries(parsed.metadata)) metadata[k] = plain(v);
  const base = Number(parsed.tensorDataOffset);
  const tensors = new Map<string, GgufTensorInfo>();
  for (const t of parsed.tensorInfos) {
    const shape = t.shape.map(Number).reverse();
    const elements = shape.reduce((a, b) => a * b, 1);
    const what = `${file}: tensor ${t.name}`;
    const info: GgufTensorInfo = { name: t.name, shape, type: t.dtype, offset: base + Number(t.offset), bytes: ggmlByteSizeOrNaN(t.dtype, elements) };
    if (Number.isFinite(info.bytes) && info.offset + info.bytes > size) throw new Error(`${what} (${ggmlTypeName(t.dtype)}) runs past the end of the file (${size} bytes)`);
    if (tensors.has(t.name)) throw new Error(`${what} appears twice`);
    tensors.set(t.name, info);
  }
  return { file, version: Number(parsed.metadata.version), metadata, tensors };
}

/** Byte size, or NaN for a type we cannot read (reported when that tensor is read). */
function ggmlByteSizeOrNaN(type: number, elements: number): number {
  try {
    return ggmlByteSize(type, elements);
  } catch {
    return NaN;
  }
}

/** A tensor's values as float32, row-major in its `shape`. */
export function readGgufTensor(g: GgufFile, name: string): Float32Array {
  const t = g.tensors.get(name);
  if (!t) throw new Error(`${g.file}: no tensor ${name}`);
  const elements = t.shape.reduce((a, b) => a * b, 1);
  const what = `${g.file}: tensor ${name}`;
  const bytes = Buffer.alloc(ggmlByteSize(t.type, elements, what));
  const fd = fs.openSync(g.file, "r");
  try {
    let done = 0;
    while (done < bytes.length) {
      const n = fs.readSync(fd, bytes, done, bytes.length - done, t.offset + done);
      if (n === 0) throw new Error(`${what}: the file ends inside its data`);
      done += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return dequantize(t.type, bytes, elements, what);
}

/** A metadata field, checked: one line naming the file and key when missing or of another type. */
export function ggufField(g: GgufFile, key: string, type: "number"): number;
export function ggufField(g: GgufFile, key: string, type: "string"): string;
export function ggufField(g: GgufFile, key: string, type: "boolean"): boolean;
export function ggufField(g: GgufFile, key: string, type: "string[]"): string[];
export function ggufField(g: GgufFile, key: string, type: "number[]"): number[];
export function ggufField(g: GgufFile, key: string, type: string): GgufValue {
  const v = g.metadata[key];
  if (v === undefined) throw new Error(`${g.file}: metadata ${key} is missing`);
  const ok = type.endsWith("[]")
    ? Array.isArray(v) && v.every((x) => typeof x === type.slice(0, -2))
    : typeof v === type;
  if (!ok) throw new Error(`${g.file}: metadata ${key} must be ${type} (got ${Array.isArray(v) ? "an array" : typeof v})`);
  return v;
}

/** An optional metadata field (undefined when missing). */
export function ggufOptional(g: GgufFile, key: string, type: "number"): number | undefined;
export function ggufOptional(g: GgufFile, key: string, type: "boolean"): boolean | undefined;
export function ggufOptional(g: GgufFile, key: string, type: "string"): string | undefined;
export function ggufOptional(g: GgufFile, key: string, type: "number" | "boolean" | "string"): GgufValue | undefined {
  if (g.metadata[key] === undefined) return undefined;
  return ggufField(g, key, type as "number");
}
