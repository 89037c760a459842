/**
 * Dequantization of GGML tensor data (the tensor types of GGUF files) to float32, block by block,
 * as llama.cpp's ggml-quants.c and gguf-py's quants.py lay the blocks out:
 *
 *   type   block  bytes  layout (little-endian)                        value of element j
 *   F32        1      4  f32                                           x
 *   F16        1      2  f16                                           x
 *   BF16       1      2  bf16                                          x
 *   Q4_0      32     18  d:f16, qs[16]                                 (q − 8)·d
 *   Q4_1      32     20  d:f16, m:f16, qs[16]                          q·d + m
 *   Q5_0      32     22  d:f16, qh:u32, qs[16]                         (q − 16)·d, q = nibble | 5th bit from qh
 *   Q5_1      32     24  d:f16, m:f16, qh:u32, qs[16]                  q·d + m
 *   Q8_0      32     34  d:f16, qs:i8[32]                              q·d
 *
 * In the 4- and 5-bit types, byte i of qs holds element i in its low nibble and element i + 16 in
 * its high one; bit i of qh is the 5th bit of element i, bit i + 16 that of element i + 16.
 * Arithmetic is float32 with one rounding per operation (q·d, then + m), as gguf-py's numpy code
 * does, so the values equal what transformers' GGUF loader computes, bit for bit.
 *
 * K-quants (Q2_K…Q6_K) and the i-quants are not read: a file holding them gets a one-line error
 * naming the tensor and its type.
 */
import { bfloat16BitsToFloat32, float16BitsToFloat32 } from "./safetensors";

/** GGML type ids (ggml.h's enum ggml_type). */
export const GGML_TYPE = {
  F32: 0, F16: 1, Q4_0: 2, Q4_1: 3, Q5_0: 6, Q5_1: 7, Q8_0: 8, Q8_1: 9,
  Q2_K: 10, Q3_K: 11, Q4_K: 12, Q5_K: 13, Q6_K: 14, Q8_K: 15, BF16: 30,
} as const;

/** Names of every GGML type id (for messages), including those not read here. */
const TYPE_NAMES: Record<number, string> = {
  0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1", 10: "Q2_K", 11: "Q3_K",
  12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL",
  21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M", 30: "BF16",
  34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4",
};

export function ggmlTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `type ${type}`;
}

/** Elements per block and bytes per block of each type read here. */
const BLOCKS: Record<number, { elements: number; bytes: number }> = {
  [GGML_TYPE.F32]: { elements: 1, bytes: 4 },
  [GGML_TYPE.F16]: { elements: 1, bytes: 2 },
  [GGML_TYPE.BF16]: { elements: 1, bytes: 2 },
  [GGML_TYPE.Q4_0]: { elements: 32, bytes: 18 },
  [GGML_TYPE.Q4_1]: { elements: 32, bytes: 20 },
  [GGML_TYPE.Q5_0]: { elements: 32, bytes: 22 },
  [GGML_TYPE.Q5_1]: { elements: 32, bytes: 24 },
  [GGML_TYPE.Q8_0]: { elements: 32, bytes: 34 },
};

/** Whether dequantize() reads this type. */
export function canDequantize(type: number): boolean {
  return type in BLOCKS;
}

/** Bytes that `elements` values of `type` take (the element count must fill whole blocks). */
export function ggmlByteSize(type: number, elements: number, what = "tensor"): number {
  const b = BLOCKS[type];
  if (!b) throw new Error(`${what}: GGML type ${ggmlTypeName(type)} is not supported (ftgen reads F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0)`);
  if (elements % b.elements !== 0) throw new Error(`${what}: ${elements} elements do not fill whole ${ggmlTypeName(type)} blocks of ${b.elements}`);
  return (elements / b.elements) * b.bytes;
}

/**
 * Float32 values of `elements` values of `type` stored in `bytes` (exactly ggmlByteSize bytes).
 * `what` names the tensor in errors.
 */
export function dequantize(type: number, bytes: Uint8Array, elements: number, what = "tensor"): Float32Array {
  const size = ggmlByteSize(type, elements, what);
  if (bytes.length !== size) throw new Error(`${what}: ${bytes.length} bytes of ${ggmlTypeName(type)} data, ${elements} elements need ${size}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(elements);
  const f16 = (o: number): number => float16BitsToFloat32(view.getUint16(o, true));
  const fr = Math.fround;
  switch (type) {
    case GGML_TYPE.F32:
      for (let i = 0; i < elements; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    case GGML_TYPE.F16:
      for (let i = 0; i < elements; i++) out[i] = f16(i * 2);
      return out;
    case GGML_TYPE.BF16:
      for (let i = 0; i < elements; i++) out[i] = bfloat16BitsToFloat32(view.getUint16(i * 2, true));
      return out;
  }
  const nb = elements / 32;
  for (let b = 0; b < nb; b++) {
    const y = b * 32;
    switch (type) {
      case GGML_TYPE.Q4_0: {
        const o = b * 18, d = f16(o);
        for (let j = 0; j < 16; j++) {
          const q = bytes[o + 2 + j];
          out[y + j] = fr(((q & 0x0f) - 8) * d);
          out[y + j + 16] = fr(((q >> 4) - 8) * d);
        }
        break;
      }
      case GGML_TYPE.Q4_1: {
        const o = b * 20, d = f16(o), m = f16(o + 2);
        for (let j = 0; j < 16; j++) {
          const q = bytes[o + 4 + j];
          out[y + j] = fr(fr((q & 0x0f) * d) + m);
          out[y + j + 16] = fr(fr((q >> 4) * d) + m);
        }
        break;
      }
      case GGML_TYPE.Q5_0: {
        const o = b * 22, d = f16(o), qh = view.getUint32(o + 2, true);
        for (let j = 0; j < 16; j++) {
          const q = bytes[o + 6 + j];
          const lo = (q & 0x0f) | (((qh >>> j) & 1) << 4);
          const hi = (q >> 4) | (((qh >>> (j + 16)) & 1) << 4);
          out[y + j] = fr((lo - 16) * d);
          out[y + j + 16] = fr((hi - 16) * d);
        }
        break;
      }
      case GGML_TYPE.Q5_1: {
        const o = b * 24, d = f16(o), m = f16(o + 2), qh = view.getUint32(o + 4, true);
        for (let j = 0; j < 16; j++) {
          const q = bytes[o + 8 + j];
          const lo = (q & 0x0f) | (((qh >>> j) & 1) << 4);
          const hi = (q >> 4) | (((qh >>> (j + 16)) & 1) << 4);
          out[y + j] = fr(fr(lo * d) + m);
          out[y + j + 16] = fr(fr(hi * d) + m);
        }
        break;
      }
      case GGML_TYPE.Q8_0: {
        const o = b * 34, d = f16(o);
        for (let j = 0; j < 32; j++) out[y + j] = fr(view.getInt8(o + 2 + j) * d);
        break;
      }
    }
  }
  return out;
}
