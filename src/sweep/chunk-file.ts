/**
 * One checkpointed chunk on disk: a 96-byte header, then the chunk's float64 values.
 *
 *   0  "RMCHUNK1"          magic
 *   8  u32 chunk id
 *  12  u32 0               reserved
 *  16  f64 value count
 *  24  sha256(plan key)    the plan the chunk was computed for (spec hash, chunking, outputs)
 *  56  sha256(values)      integrity of the payload
 *  88  8 bytes 0           (keeps the payload 8-byte aligned)
 *  96  values, little-endian float64
 *
 * The header makes a chunk file self-checking: a truncated, corrupted, renamed or foreign
 * (other plan) file is refused naming the file, before anything is written from it.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { writeFileAtomic, writeFileAtomicAsync } from '../io/temp-files.js';

export const CHUNK_MAGIC = 'RMCHUNK1';
export const CHUNK_HEADER_BYTES = 96;

/** A chunk file that cannot be trusted; `why` says what is wrong with it. */
export class ChunkIntegrityError extends Error {
  readonly path: string;
  readonly why: string;
  constructor(path: string, why: string) {
    super(`${path}: ${why}`);
    this.name = 'ChunkIntegrityError';
    this.path = path;
    this.why = why;
  }
}

export function planHashOf(planKey: string): Buffer {
  return createHash('sha256').update(planKey).digest();
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The bytes of a chunk file (header + payload). */
export function encodeChunk(id: number, values: Float64Array, planHash: Buffer): Uint8Array {
  const payload = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = Buffer.alloc(CHUNK_HEADER_BYTES + payload.byteLength);
  out.write(CHUNK_MAGIC, 0, 'latin1');
  out.writeUInt32LE(id, 8);
  out.writeDoubleLE(values.length, 16);
  planHash.copy(out, 24);
  createHash('sha256').update(payload).digest().copy(out, 56);
  out.set(payload, CHUNK_HEADER_BYTES);
  return out;
}

export function writeChunkFile(path: string, id: number, values: Float64Array, planHash: Buffer): { bytes: number; sha256: string } {
  const bytes = encodeChunk(id, values, planHash);
  writeFileAtomic(path, bytes);
  return { bytes: bytes.byteLength, sha256: sha256Hex(bytes) };
}

/** writeChunkFile on libuv's thread pool (the event loop keeps dispatching chunks meanwhile). */
export async function writeChunkFileAsync(path: string, id: number, values: Float64Array, planHash: Buffer): Promise<{ bytes: number; sha256: string }> {
  const bytes = encodeChunk(id, values, planHash);
  await writeFileAtomicAsync(path, bytes);
  return { bytes: bytes.byteLength, sha256: sha256Hex(bytes) };
}

function readWhole(path: string, limit: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ChunkIntegrityError(path, 'not a regular file');
    return sized(fd, st.size, limit);
  } finally {
    closeSync(fd);
  }
}

/** Read min(size, limit + 1) bytes: enough to tell a file of the wrong size. */
function sized(fd: number, size: number, limit: number): Buffer {
  const n = Math.min(size, limit + 1);
  const buf = Buffer.alloc(n);
  let off = 0;
  while (off < n) {
    const k = readSync(fd, buf, off, n - off, off);
    if (k === 0) break;
    off += k;
  }
  return buf.subarray(0, off);
}

/**
 * Read and verify a chunk file: size, magic, id, plan and payload hash. Returns the values
 * and the file's SHA-256 (shard manifests record it).
 */
export function readChunkFile(path: string, expected: { id: number; length: number; planHash: Buffer }): { values: Float64Array; sha256: string } {
  const size = CHUNK_HEADER_BYTES + expected.length * 8;
  let buf: Buffer;
  try {
    buf = readWhole(path, size);
  } catch (e) {
    if (e instanceof ChunkIntegrityError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new ChunkIntegrityError(path, code === 'ENOENT' ? 'missing' : `cannot be read (${code ?? (e as Error).message})`);
  }
  if (buf.byteLength !== size) {
    throw new ChunkIntegrityError(path, `${buf.byteLength > size ? `more than ${size}` : buf.byteLength} bytes, expected ${size} (truncated, or a chunk of another plan)`);
  }
  if (buf.toString('latin1', 0, 8) !== CHUNK_MAGIC) throw new ChunkIntegrityError(path, 'not a relaxmap chunk file (bad magic)');
  if (buf.readUInt32LE(8) !== expected.id) throw new ChunkIntegrityError(path, `holds chunk ${buf.readUInt32LE(8)}, expected chunk ${expected.id}`);
  if (buf.readDoubleLE(16) !== expected.length) throw new ChunkIntegrityError(path, `holds ${buf.readDoubleLE(16)} values, expected ${expected.length}`);
  if (!buf.subarray(24, 56).equals(expected.planHash)) throw new ChunkIntegrityError(path, 'was computed for another plan (spec, overrides or chunking differ)');
  const payload = buf.subarray(CHUNK_HEADER_BYTES);
  const digest = createHash('sha256').update(payload).digest();
  if (!digest.equals(buf.subarray(56, 88))) throw new ChunkIntegrityError(path, 'SHA-256 mismatch: the file is corrupted');
  const values = new Float64Array(expected.length);
  new Uint8Array(values.buffer).set(payload);
  return { values, sha256: sha256Hex(buf) };
}
