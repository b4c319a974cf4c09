import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { open, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { UsageError } from '../spec/errors.js';

/** Write a file atomically: temp name in the same directory, fsync, rename. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    if (typeof data === 'string') writeSync(fd, data);
    else {
      let off = 0;
      while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    }
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/**
 * writeFileAtomic without blocking the event loop (libuv's thread pool does the write and
 * the fsync): a chunk's checkpoint is written while the next chunks compute or, on a GPU,
 * while the host finishes the next device batch. Same guarantees: temp name, fsync, rename.
 */
export async function writeFileAtomicAsync(path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    let off = 0;
    while (off < data.length) off += (await fh.write(data, off, data.length - off)).bytesWritten;
    await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await rename(tmp, path);
}

export interface LockInfo {
  readonly pid: number;
  readonly host: string;
  readonly started: string;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The run's private state directory DIR/.relaxmap: a lock (so that two runs never write
 * into one directory), the chunk plan, and one checkpoint file per finished chunk.
 */
export class RunState {
  readonly dir: string;
  readonly chunksDir: string;
  private locked = false;

  constructor(outDir: string, chunksDir?: string) {
    this.dir = join(outDir, '.relaxmap');
    this.chunksDir = chunksDir ?? join(this.dir, 'chunks');
  }

  get lockPath(): string {
    return join(this.dir, 'lock');
  }

  /**
   * Take the lock. A lock held by a live process is refused; a stale one (its process died,
   * e.g. kill -9) is taken over only when resuming, so that a crash is never silently ignored.
   */
  acquire(resume: boolean): void {
    mkdirSync(this.dir, { recursive: true });
    mkdirSync(this.chunksDir, { recursive: true });
    const info: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
    try {
      writeFileSync(this.lockPath, JSON.stringify(info), { flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let held: LockInfo | undefined;
      try {
        held = JSON.parse(readFileSync(this.lockPath, 'utf8')) as LockInfo;
      } catch {
        held = undefined;
      }
      const sameHost = held?.host === hostname();
      if (held && sameHost && held.pid !== process.pid && processAlive(held.pid)) {
        throw new UsageError(`another relaxmap run (pid ${held.pid}, started ${held.started}) is writing into ${this.dir.replace(/\/\.relaxmap$/, '')}: wait for it, or use another --out`);
      }
      if (!resume) {
        throw new UsageError(
          `${this.dir.replace(/\/\.relaxmap$/, '')} holds an interrupted run${held ? ` (pid ${held.pid}, started ${held.started})` : ''}: continue it with --resume, or start over with --force`,
        );
      }
      writeFileSync(this.lockPath, JSON.stringify(info));
    }
    this.locked = true;
  }

  release(): void {
    if (!this.locked) return;
    try {
      unlinkSync(this.lockPath);
    } catch {
      // already gone
    }
    this.locked = false;
  }

  chunkPath(id: number): string {
    return join(this.chunksDir, `chunk-${String(id).padStart(6, '0')}.f64`);
  }

  writeChunk(id: number, buffer: Float64Array): void {
    writeFileAtomic(this.chunkPath(id), new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength));
  }

  writeChunkAsync(id: number, buffer: Float64Array): Promise<void> {
    return writeFileAtomicAsync(this.chunkPath(id), new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength));
  }

  /** Checkpointed chunk ids (only complete files exist: they are renamed into place). */
  finishedChunks(): Set<number> {
    const out = new Set<number>();
    if (!existsSync(this.chunksDir)) return out;
    for (const f of readdirSync(this.chunksDir)) {
      const m = /^chunk-(\d+)\.f64$/.exec(f);
      if (m) out.add(Number(m[1]));
    }
    return out;
  }

  writeJson(name: string, value: unknown): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(join(this.dir, name), `${JSON.stringify(value, null, 2)}\n`);
  }

  readJson<T>(name: string): T | undefined {
    const p = join(this.dir, name);
    if (!existsSync(p)) return undefined;
    return JSON.parse(readFileSync(p, 'utf8')) as T;
  }

  clearChunks(): void {
    rmSync(this.chunksDir, { recursive: true, force: true });
    mkdirSync(this.chunksDir, { recursive: true });
  }

  /** Remove the state directory (after the outputs are written). */
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
    this.locked = false;
  }
}

/** Read a chunk file written by writeChunk (from any run or shard directory). */
export function readChunkFile(path: string, expectedLength: number): Float64Array {
  const buf = readFileSync(path);
  if (buf.byteLength !== expectedLength * 8) {
    throw new Error(`${path}: ${buf.byteLength} bytes, expected ${expectedLength * 8} (a chunk of another plan?)`);
  }
  const out = new Float64Array(expectedLength);
  new Uint8Array(out.buffer).set(buf);
  return out;
}
