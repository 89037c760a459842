/**
 * safetensors files, to the format of huggingface/safetensors:
 *
 *   [8 bytes]  N, the header length, unsigned 64-bit little-endian
 *   [N bytes]  JSON header, UTF-8, starting with "{", padded with spaces so that 8 + N is a multiple of 8:
 *              { "<name>": { "dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end] }, …,
 *                "__metadata__": { "<key>": "<string value>" } }            (metadata optional)
 *   [rest]     the byte buffer: every tensor little-endian, row-major, contiguous; offsets are
 *              relative to the start of this buffer, and the tensors cover it with no holes or overlaps.
 *
 * Written: F32, F16, BF16 (from float32 data, rounding to nearest even). Read: F32, F16, BF16 (to
 * float32). Reads check everything before using it and fail with one line naming the file.
 */
import * as fs from "node:fs";
import { writeFileAtomic } from "../util/atomic";

export type SafetensorsDtype = "F32" | "F16" | "BF16";

const DTYPE_BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };

/** A tensor to write: float32 values, row-major. */
export interface TensorData {
  shape: number[];
  data: Float32Array;
}

/** A tensor read: values converted to float32, plus the dtype it was stored with. */
export interface StoredTensor extends TensorData {
  dtype: SafetensorsDtype;
}

export interface SafetensorsContent {
  /** In header order. */
  tensors: Map<string, StoredTensor>;
  metadata: Record<string, string>;
}

export interface EncodeOptions {
  /** Storage dtype of every tensor (default F32), or a function of the tensor name. */
  dtype?: SafetensorsDtype | ((name: string) => SafetensorsDtype);
  /** String metadata for "__metadata__" (transformers wants { format: "pt" }, the default). */
  metadata?: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------
// float16 / bfloat16 <-> float32

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE binary16 bits of `x`, rounded to nearest even; overflow gives ±inf, NaN stays NaN. */
export function float32ToFloat16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0); // inf / NaN (quiet)
  const e = exp - 127 + 15; // exponent in half precision
  if (e >= 0x1f) return sign | 0x7c00; // too large: inf
  if (e <= 0) {
    // subnormal half (or zero): value = m · 2^-24
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    const m = mant | 0x800000; // implicit leading 1
    const shift = 14 - e; // 14..24
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) !== 0)) h += 1; // may carry into the smallest normal: correct
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) !== 0)) h += 1; // may carry into inf: correct
  return sign | h;
}

let f16Table: Float32Array | undefined;

/** The float32 value of binary16 bits `h` (exact). */
export function float16BitsToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant !== 0 ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function f16ToF32Table(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = float16BitsToFloat32(h);
  }
  return f16Table;
}

/** bfloat16 bits of `x`, rounded to nearest even; NaN stays NaN. */
export function float32ToBfloat16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0) return (bits >>> 16) | 0x40;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The float32 value of bfloat16 bits `h` (exact). */
export function bfloat16BitsToFloat32(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0];
}

// ---------------------------------------------------------------------------------------------
// encode

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function writeValues(out: Uint8Array, offset: number, data: Float32Array, dtype: SafetensorsDtype): void {
  const view = new DataView(out.buffer, out.byteOffset + offset, data.length * DTYPE_BYTES[dtype]);
  if (dtype === "F32") {
    if (LITTLE_ENDIAN_HOST) out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
    else for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  } else {
    const conv = dtype === "F16" ? float32ToFloat16Bits : float32ToBfloat16Bits;
    for (let i = 0; i < data.length; i++) view.setUint16(i * 2, conv(data[i]), true);
  }
}

/** The bytes of a safetensors file holding `tensors` (in the given order). */
export function encodeSafetensors(tensors: ReadonlyMap<string, TensorData> | Record<string, TensorData>, opts: EncodeOptions = {}): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const dtypeOf = typeof opts.dtype === "function" ? opts.dtype : () => (opts.dtype as SafetensorsDtype | undefined) ?? "F32";
  const header: Record<string, unknown> = {};
  const metadata = opts.metadata ?? { format: "pt" };
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const layout: { data: Float32Array; dtype: SafetensorsDtype; begin: number }[] = [];
  for (const [name, t] of entries) {
    if (name === "__metadata__") throw new Error(`encodeSafetensors: "__metadata__" is not a valid tensor name`);
    const n = numel(t.shape);
    if (n !== t.data.length) throw new Error(`encodeSafetensors: tensor "${name}" has shape [${t.shape}] (${n} values) but ${t.data.length} values`);
    const dtype = dtypeOf(name);
    if (!(dtype in DTYPE_BYTES)) throw new Error(`encodeSafetensors: unsupported dtype ${dtype} for "${name}"`);
    const bytes = n * DTYPE_BYTES[dtype];
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    layout.push({ data: t.data, dtype, begin: offset });
    offset += bytes;
  }
  let json = Buffer.from(JSON.stringify(header), "utf8");
  const pad = (8 - ((8 + json.length) % 8)) % 8;
  if (pad > 0) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  const base = 8 + json.length;
  for (const l of layout) writeValues(out, base + l.begin, l.data, l.dtype);
  return out;
}

/** Writes a safetensors file atomically. */
export function saveSafetensors(file: string, tensors: ReadonlyMap<string, TensorData> | Record<string, TensorData>, opts: EncodeOptions = {}): void {
  writeFileAtomic(file, encodeSafetensors(tensors, opts));
}

// ---------------------------------------------------------------------------------------------
// decode

/** The largest header accepted (as the reference implementation: 100 MB). */
const MAX_HEADER = 100_000_000;

function readValues(bytes: Uint8Array, begin: number, n: number, dtype: SafetensorsDtype): Float32Array {
  const out = new Float32Array(n);
  if (dtype === "F32") {
    if (LITTLE_ENDIAN_HOST) {
      new Uint8Array(out.buffer).set(bytes.subarray(begin, begin + n * 4)); // copy: the source may be unaligned
    } else {
      const view = new DataView(bytes.buffer, bytes.byteOffset + begin, n * 4);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
    }
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + begin, n * 2);
  if (dtype === "F16") {
    const table = f16ToF32Table();
    for (let i = 0; i < n; i++) out[i] = table[view.getUint16(i * 2, true)];
  } else {
    const o32 = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) o32[i] = view.getUint16(i * 2, true) << 16;
  }
  return out;
}

/**
 * Parses safetensors bytes. `source` (the file name) starts every error message. Checks: header
 * length within the file, valid JSON object starting with "{", known dtypes, integer shapes,
 * offsets in range, byte length = elements × dtype size, no overlaps or holes, string metadata.
 */
export function decodeSafetensors(bytes: Uint8Array, source = "<safetensors>"): SafetensorsContent {
  const bad = (msg: string): never => {
    throw new Error(`${source}: not a valid safetensors file: ${msg}`);
  };
  if (bytes.length < 8) bad(`${bytes.length} bytes, shorter than the 8-byte header length`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(bytes.length - 8)) bad(`header length ${n64} exceeds the ${bytes.length - 8} bytes after it`);
  if (n64 > BigInt(MAX_HEADER)) bad(`header length ${n64} exceeds the ${MAX_HEADER}-byte limit`);
  const n = Number(n64);
  if (n < 2 || bytes[8] !== 0x7b /* { */) bad("the header does not start with '{'");
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, n).toString("utf8"));
  } catch (e) {
    bad(`header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) bad("header is not a JSON object");
  const h = header as Record<string, unknown>;
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  if ("__metadata__" in h) {
    const m = h.__metadata__;
    if (m === null || typeof m !== "object" || Array.isArray(m)) bad("__metadata__ is not an object");
    for (const [k, v] of Object.entries(m as Record<string, unknown>)) {
      if (typeof v !== "string") bad(`__metadata__.${k} is not a string`);
      metadata[k] = v as string;
    }
  }
  const spans: { name: string; begin: number; end: number; dtype: SafetensorsDtype; shape: number[] }[] = [];
  for (const [name, info] of Object.entries(h)) {
    if (name === "__metadata__") continue;
    if (info === null || typeof info !== "object") bad(`entry "${name}" is not an object`);
    const { dtype, shape, data_offsets: offs } = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== "string" || !(dtype in DTYPE_BYTES)) bad(`tensor "${name}" has unsupported dtype ${JSON.stringify(dtype)} (F32, F16, BF16 are read)`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) bad(`tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0)) bad(`tensor "${name}" has invalid data_offsets ${JSON.stringify(offs)}`);
    const [begin, end] = offs as number[];
    if (begin > end) bad(`tensor "${name}" has data_offsets [${begin}, ${end}] with begin > end`);
    if (end > dataLen) bad(`tensor "${name}" has data_offsets [${begin}, ${end}] beyond the ${dataLen}-byte data buffer`);
    const want = numel(shape as number[]) * DTYPE_BYTES[dtype as SafetensorsDtype];
    if (end - begin !== want) bad(`tensor "${name}" spans ${end - begin} bytes but ${dtype} [${shape}] needs ${want}`);
    spans.push({ name, begin, end, dtype: dtype as SafetensorsDtype, shape: shape as number[] });
  }
  const sorted = [...spans].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const s of sorted) {
    if (s.begin < pos) bad(`tensor "${s.name}" overlaps another tensor (data_offsets [${s.begin}, ${s.end}])`);
    if (s.begin > pos) bad(`bytes [${pos}, ${s.begin}) of the data buffer belong to no tensor`);
    pos = s.end;
  }
  if (pos !== dataLen) bad(`the data buffer has ${dataLen} bytes but the tensors cover ${pos}`);
  const tensors = new Map<string, StoredTensor>();
  for (const s of spans) {
    tensors.set(s.name, { dtype: s.dtype, shape: s.shape, data: readValues(bytes, dataStart + s.begin, numel(s.shape), s.dtype) });
  }
  return { tensors, metadata };
}

/** Reads a safetensors file; errors name the file. */
export function loadSafetensors(file: string): SafetensorsContent {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return decodeSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), file);
}
