import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  bfloat16BitsToFloat32, decodeSafetensors, encodeSafetensors, float16BitsToFloat32, float32ToBfloat16Bits,
  float32ToFloat16Bits, loadSafetensors, saveSafetensors,
} from "../src/model/safetensors";

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), "ftgen-st-"));

/** A safetensors file from a header object and raw data bytes, as the spec lays it out. */
function handBuilt(header: object, data: number[], headerLen?: number): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

test("float16: rounding to nearest even, subnormals, overflow, inf, nan, signed zero", () => {
  const cases: [number, number][] = [
    [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800],
    [65504, 0x7bff], // largest finite half
    [65519, 0x7bff], // below the midpoint to 65536: stays finite
    [65520, 0x7c00], // the midpoint: ties to even → inf
    [1e6, 0x7c00], [-Infinity, 0xfc00], [Infinity, 0x7c00],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // half of it: ties to even → 0
    [3 * 2 ** -26, 0x0001], // above the tie → rounds up
    [1 + 2 ** -11, 0x3c00], // tie between 1 and 1+2^-10: even (1)
    [1 + 3 * 2 ** -11, 0x3c02], // tie between 1+2^-10 and 1+2^-9: even (…02)
    [1e-8, 0x0000],
  ];
  for (const [x, bits] of cases) assert.equal(float32ToFloat16Bits(x), bits, `f16(${x})`);
  assert.ok(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(NaN))));
  assert.equal(float16BitsToFloat32(0x0001), 2 ** -24);
  assert.equal(float16BitsToFloat32(0x7bff), 65504);
  assert.equal(float16BitsToFloat32(0xfc00), -Infinity);
  assert.ok(Object.is(float16BitsToFloat32(0x8000), -0));
  // Every finite half survives half → float → half.
  for (let h = 0; h < 65536; h++) {
    const x = float16BitsToFloat32(h);
    if (!Number.isNaN(x)) assert.equal(float32ToFloat16Bits(x), h);
  }
});

test("bfloat16: rounding to nearest even and exact widening", () => {
  assert.equal(float32ToBfloat16Bits(1), 0x3f80);
  assert.equal(float32ToBfloat16Bits(-2), 0xc000);
  assert.equal(float32ToBfloat16Bits(1 + 2 ** -8), 0x3f80); // tie → even
  assert.equal(float32ToBfloat16Bits(1 + 3 * 2 ** -8), 0x3f82); // tie → even (up)
  assert.equal(bfloat16BitsToFloat32(0x3fc0), 1.5);
  assert.ok(Number.isNaN(bfloat16BitsToFloat32(float32ToBfloat16Bits(NaN))));
});

test("round trip F32 exactly, F16/BF16 to their precision, with metadata and 8-byte aligned header", () => {
  const a = { shape: [2, 3], data: Float32Array.from([1, -2.5, 3.25, 1e-3, 65504, -0]) };
  const b = { shape: [4], data: Float32Array.from([0.1, 0.2, 0.3, 1e-7]) };
  const s = { shape: [], data: Float32Array.from([42]) };
  for (const dtype of ["F32", "F16", "BF16"] as const) {
    const bytes = encodeSafetensors(new Map([["a", a], ["b", b], ["scalar", s]]), { dtype, metadata: { format: "pt", note: "x" } });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal((8 + n) % 8, 0, "data starts 8-byte aligned");
    assert.equal(bytes[8], "{".charCodeAt(0));
    const back = decodeSafetensors(bytes, "mem");
    assert.deepEqual([...back.tensors.keys()], ["a", "b", "scalar"]);
    assert.deepEqual(back.metadata, { format: "pt", note: "x" });
    for (const [name, orig] of [["a", a], ["b", b], ["scalar", s]] as const) {
      const t = back.tensors.get(name)!;
      assert.equal(t.dtype, dtype);
      assert.deepEqual(t.shape, orig.shape);
      orig.data.forEach((v, i) => {
        const tol = dtype === "F32" ? 0 : Math.abs(v) * (dtype === "F16" ? 2 ** -11 : 2 ** -8) + (dtype === "F16" ? 2 ** -25 : 0);
        assert.ok(Math.abs(t.data[i] - v) <= tol, `${dtype} ${name}[${i}]: ${t.data[i]} vs ${v}`);
      });
    }
  }
  const dir = tmp();
  const file = path.join(dir, "x.safetensors");
  saveSafetensors(file, { a }, { dtype: "F16" });
  assert.deepEqual(Array.from(loadSafetensors(file).tensors.get("a")!.data), [1, -2.5, 3.25, float16BitsToFloat32(float32ToFloat16Bits(1e-3)), 65504, -0]);
});

test("a hand-built file is parsed to the spec (offsets relative to the data buffer, little-endian)", () => {
  // x: F32 [2] = [1.5, -2]; y: F16 [1, 2] = [1, -0.5]; z: BF16 [1] = [3]
  const f32 = new Uint8Array(new Float32Array([1.5, -2]).buffer); // little-endian host
  const data = [...f32, 0x00, 0x3c, 0x00, 0xb8, 0x40, 0x40];
  const header = {
    __metadata__: { format: "pt" },
    y: { dtype: "F16", shape: [1, 2], data_offsets: [8, 12] },
    x: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
    z: { dtype: "BF16", shape: [1], data_offsets: [12, 14] },
  };
  const st = decodeSafetensors(handBuilt(header, data), "hand.safetensors");
  assert.deepEqual(Array.from(st.tensors.get("x")!.data), [1.5, -2]);
  assert.deepEqual(Array.from(st.tensors.get("y")!.data), [1, -0.5]);
  assert.deepEqual(st.tensors.get("y")!.shape, [1, 2]);
  assert.deepEqual(Array.from(st.tensors.get("z")!.data), [3]);
  assert.deepEqual(st.metadata, { format: "pt" });
});

test("corrupt files give one clear line naming the file", () => {
  const ok = { x: { dtype: "F32", shape: [2], data_offsets: [0, 8] } };
  const data = [0, 0, 0, 0, 0, 0, 0, 0];
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array(5), /shorter than the 8-byte header length/],
    [handBuilt(ok, data, 1_000_000), /header length 1000000 exceeds/],
    [handBuilt({ x: { dtype: "F32", shape: [2], data_offsets: [0, 16] } }, data), /beyond the 8-byte data buffer/],
    [handBuilt({ x: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, data), /needs 12/],
    [handBuilt({ x: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, data), /tensors cover 4/],
    [handBuilt({ x: { dtype: "F32", shape: [1], data_offsets: [0, 4] }, y: { dtype: "F32", shape: [1], data_offsets: [2, 6] } }, data), /overlaps/],
    [handBuilt({ x: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, data), /belong to no tensor/],
    [handBuilt({ x: { dtype: "I64", shape: [1], data_offsets: [0, 8] } }, data), /unsupported dtype "I64"/],
    [handBuilt({ x: { dtype: "F32", shape: [-1], data_offsets: [0, 8] } }, data), /invalid shape/],
    [handBuilt({ __metadata__: { a: 1 }, ...ok }, data), /__metadata__.a is not a string/],
  ];
  for (const [bytes, re] of cases) {
    assert.throws(() => decodeSafetensors(bytes, "bad.safetensors"), (e: Error) => {
      assert.match(e.message, /^bad\.safetensors: not a valid safetensors file: /);
      assert.match(e.message, re);
      assert.ok(!e.message.includes("\n"), "one line");
      return true;
    });
  }
  const dir = tmp();
  const file = path.join(dir, "broken.safetensors");
  const bad = handBuilt(ok, data);
  bad[8] = 0x20; // header no longer starts with "{"
  fs.writeFileSync(file, bad);
  assert.throws(() => loadSafetensors(file), (e: Error) => e.message.startsWith(`${file}: not a valid safetensors file: the header does not start`));
  assert.throws(() => loadSafetensors(path.join(dir, "nope.safetensors")), /nope\.safetensors: cannot read \(ENOENT\)/);
});
