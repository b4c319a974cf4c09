import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/temp-files.js';
import { readChunkFile as readVerifiedChunk, writeChunkFile, writeChunkFileAsync, ChunkIntegrityError } from './chunk-file.js';
import { CHUNK_NAME, removeChunkFiles } from './debris.js';
import { RunLock, type AcquireOptions } from './lock.js';
import { NeedsResumeError } from './run-errors.js';

export { writeFileAtomic } from '../io/temp-files.js';

/**
 * The run's private state directory DIR/.relaxmap: the lock (src/sweep/lock.ts), the chunk
 * plan, and one self-checking checkpoint file per finished chunk (src/sweep/chunk-file.ts).
 * Shard runs keep their chunks in DIR/chunks, which outlives the run for `relaxmap merge`.
 */
export class RunState {
  readonly outDir: string;
  readonly dir: string;
  readonly chunksDir: string;
  private lock: RunLock | undefined;

  constructor(outDir: string, chunksDir?: string) {
    this.outDir = outDir;
    this.dir = join(outDir, '.relaxmap');
    this.chunksDir = chunksDir ?? join(this.dir, 'chunks');
  }

  /** Take the directory's lock (live locks are refused; stale ones taken only with takeStale). */
  acquire(options: AcquireOptions): void {
    this.lock = RunLock.acquire(this.outDir, options);
  }

  get runLock(): RunLock | undefined {
    return this.lock;
  }

  heartbeat(): void {
    this.lock?.heartbeat();
  }

  release(): void {
    this.lock?.release();
  }

  chunkPath(id: number): string {
    return join(this.chunksDir, `chunk-${String(id).padStart(6, '0')}.f64`);
  }

  writeChunk(id: number, buffer: Float64Array, planHash: Buffer): { bytes: number; sha256: string } {
    mkdirSync(this.chunksDir, { recursive: true });
    return writeChunkFile(this.chunkPath(id), id, buffer, planHash);
  }

  /**
   * writeChunk without blocking the event loop (libuv's thread pool does the write and the
   * fsync): a chunk's checkpoint is written while the next chunks compute or, on a GPU,
   * while the host finishes the next device batch. Same file, same guarantees.
   */
  async writeChunkAsync(id: number, buffer: Float64Array, planHash: Buffer): Promise<{ bytes: number; sha256: string }> {
    mkdirSync(this.chunksDir, { recursive: true });
    return writeChunkFileAsync(this.chunkPath(id), id, buffer, planHash);
  }

  /** Checkpointed chunk ids by file name (complete files only exist: they are renamed into place). */
  finishedChunks(): Set<number> {
    const out = new Set<number>();
    if (!existsSync(this.chunksDir)) return out;
    for (const f of readdirSync(this.chunksDir)) if (CHUNK_NAME.test(f)) out.add(Number(f.slice(6, -4)));
    return out;
  }

  /**
   * Verify the checkpoints of the given chunks (size, header, SHA-256); a file that fails is
   * removed, so that its chunk is computed again. Returns the verified ids and the failures.
   */
  verifiedChunks(ids: readonly number[], lengthOf: (id: number) => number, planHash: Buffer): { ok: Map<number, string>; bad: ChunkIntegrityError[] } {
    const present = this.finishedChunks();
    const ok = new Map<number, string>();
    const bad: ChunkIntegrityError[] = [];
    for (const id of ids) {
      if (!present.has(id)) continue;
      try {
        ok.set(id, readVerifiedChunk(this.chunkPath(id), { id, length: lengthOf(id), planHash }).sha256);
      } catch (e) {
        if (!(e instanceof ChunkIntegrityError)) throw e;
        bad.push(e);
        rmSync(this.chunkPath(id), { force: true });
      }
    }
    return { ok, bad };
  }

  writeJson(name: string, value: unknown): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(join(this.dir, name), `${JSON.stringify(value, null, 2)}\n`);
  }

  /** A JSON file of the state directory; a corrupt one is reported naming it (exit 3: start over with --force). */
  readJson<T>(name: string): T | undefined {
    const p = join(this.dir, name);
    if (!existsSync(p)) return undefined;
    try {
      return JSON.parse(readFileSync(p, 'utf8')) as T;
    } catch (e) {
      throw new NeedsResumeError(`${p} cannot be read (${(e as Error).message.split('\n')[0]}): the interrupted run's plan is lost; start over with --force`);
    }
  }

  /** Whether the directory holds checkpoints or a plan of an interrupted run. */
  hasInterruptedWork(): boolean {
    return this.finishedChunks().size > 0 || existsSync(join(this.dir, 'plan.json'));
  }

  /** Drop every checkpoint (relaxmap's chunk files only) and the plan. */
  clearCheckpoints(): void {
    removeChunkFiles(this.chunksDir);
    rmSync(join(this.dir, 'plan.json'), { force: true });
  }

  /** After a refusal: remove the state directory again if it holds nothing (the lock already released). */
  pruneIfEmpty(): void {
    for (const d of [join(this.dir, 'chunks'), this.dir]) {
      try {
        rmdirSync(d);
      } catch {
        // not empty (or not there)
      }
    }
  }

  /** Remove the state directory once the outputs are written; the lock goes last. */
  remove(): void {
    for (const f of existsSync(this.dir) ? readdirSync(this.dir) : []) {
      if (f !== 'lock') rmSync(join(this.dir, f), { recursive: true, force: true });
    }
    this.release();
    try {
      rmdirSync(this.dir);
    } catch {
      // a new lock of another run, taken the moment ours went
    }
  }
}

export { ChunkIntegrityError } from './chunk-file.js';
