/**
 * Reading one member of a zip archive (a Python wheel is one), by the central directory as
 * PKWARE's APPNOTE lays it out: the end-of-central-directory record (signature 0x06054b50) gives
 * the directory's offset; each directory entry (0x02014b50) gives a member's name, method, sizes,
 * CRC-32 and the offset of its local header (0x04034b50), after which its data follows. Stored
 * (method 0) and deflated (method 8) members are read; ZIP64 archives are not (wheels over 4 GiB).
 * Errors are one line naming the archive and the member.
 */
import fs from "node:fs";
import zlib from "node:zlib";

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  localHeaderOffset: number;
}

function readAt(fd: number, length: number, position: number): Buffer {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return buf.subarray(0, done);
}

/** The members of a zip archive, from its central directory. */
export function zipEntries(file: string): ZipEntry[] {
  const fd = fs.openSync(file, "r");
  try {
    const size = fs.fstatSync(fd).size;
    // The end record is within the last 22 + 65535 (comment) bytes.
    const tailLen = Math.min(size, 22 + 0xffff);
    const tail = readAt(fd, tailLen, size - tailLen);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) if (tail.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
    if (eocd < 0) throw new Error(`${file}: not a zip archive (no end of central directory)`);
    const count = tail.readUInt16LE(eocd + 10), dirSize = tail.readUInt32LE(eocd + 12), dirOffset = tail.readUInt32LE(eocd + 16);
    if (dirOffset === 0xffffffff || count === 0xffff) throw new Error(`${file}: ZIP64 archives are not supported`);
    const dir = readAt(fd, dirSize, dirOffset);
    const out: ZipEntry[] = [];
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > dir.length || dir.readUInt32LE(p) !== 0x02014b50) throw new Error(`${file}: central directory entry ${i} is damaged`);
      const nameLen = dir.readUInt16LE(p + 28), extraLen = dir.readUInt16LE(p + 30), commentLen = dir.readUInt16LE(p + 32);
      out.push({
        name: dir.toString("utf8", p + 46, p + 46 + nameLen),
        method: dir.readUInt16LE(p + 10),
        crc32: dir.readUInt32LE(p + 16),
        compressedSize: dir.readUInt32LE(p + 20),
        size: dir.readUInt32LE(p + 24),
        localHeaderOffset: dir.readUInt32LE(p + 42),
      });
      p += 46 + nameLen + extraLen + commentLen;
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

/** The bytes of member `name`, checked against the sizes and CRC-32 the directory records. */
export function readZipMember(file: string, name: string): Buffer {
  const entry = zipEntries(file).find((e) => e.name === name);
  if (!entry) throw new Error(`${file}: no member ${name}`);
  const fd = fs.openSync(file, "r");
  let raw: Buffer;
  try {
    const local = readAt(fd, 30, entry.localHeaderOffset);
    if (local.length < 30 || local.readUInt32LE(0) !== 0x04034b50) throw new Error(`${file}: the local header of ${name} is damaged`);
    const start = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    raw = readAt(fd, entry.compressedSize, start);
    if (raw.length !== entry.compressedSize) throw new Error(`${file}: ${name} is cut short (the archive is truncated)`);
  } finally {
    fs.closeSync(fd);
  }
  let data: Buffer;
  if (entry.method === 0) data = raw;
  else if (entry.method === 8) {
    try {
      data = zlib.inflateRawSync(raw);
    } catch (e) {
      throw new Error(`${file}: ${name} does not inflate (${(e as Error).message})`);
    }
  } else throw new Error(`${file}: ${name} uses compression method ${entry.method} (stored and deflated members are read)`);
  if (data.length !== entry.size) throw new Error(`${file}: ${name} is ${data.length} bytes, the directory says ${entry.size}`);
  if (crc32(data) !== entry.crc32) throw new Error(`${file}: ${name} fails its CRC-32 check`);
  return data;
}

let table: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, as zip uses). */
export function crc32(data: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
