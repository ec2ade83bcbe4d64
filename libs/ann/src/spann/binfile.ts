import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';

/**
 * A tiny sectioned binary file: [u32 magic][u32 sections][f64 byteLength x sections][payloads,
 * each 8-byte aligned]. Typed arrays round-trip exactly; the write goes to a temp file that is
 * fsynced and renamed, so a reader sees either the old file or the new one.
 */
const MAGIC = 0x5350414e; // 'SPAN'

export function writeSections(path: string, sections: ArrayBufferView[]): void {
  const headerBytes = 8 + sections.length * 8;
  const header = Buffer.alloc(align8(headerBytes));
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt32LE(sections.length, 4);
  sections.forEach((s, i) => header.writeDoubleLE(s.byteLength, 8 + i * 8));
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, header);
    const pad = Buffer.alloc(8);
    for (const s of sections) {
      writeSync(fd, Buffer.from(s.buffer, s.byteOffset, s.byteLength));
      const rest = align8(s.byteLength) - s.byteLength;
      if (rest > 0) writeSync(fd, pad, 0, rest);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Returns each section as an 8-byte aligned Buffer slice (safe to view as any typed array). */
export function readSections(path: string): Buffer[] {
  const raw = readFileSync(path);
  // readFileSync may return a pooled, unaligned buffer: copy into a fresh aligned one.
  const file = Buffer.alloc(raw.length);
  raw.copy(file);
  if (file.readUInt32LE(0) !== MAGIC) throw new Error(`${path}: not a SPANN section file`);
  const count = file.readUInt32LE(4);
  let pos = align8(8 + count * 8);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const len = file.readDoubleLE(8 + i * 8);
    out.push(file.subarray(pos, pos + len));
    pos += align8(len);
  }
  return out;
}

export function u32(b: Buffer): Uint32Array {
  return new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}
export function f32(b: Buffer): Float32Array {
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}
export function f64(b: Buffer): Float64Array {
  return new Float64Array(b.buffer, b.byteOffset, b.byteLength / 8);
}
export function u8(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function align8(n: number): number {
  return (n + 7) & ~7;
}
