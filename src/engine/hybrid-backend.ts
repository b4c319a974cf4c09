import { abortError, addKernelCounters, emptyStats, EngineError, type BackendStats, type EngineBackend } from './backend.js';
import { chunkLength, chunkViews, type Chunk, type ChunkResult } from './chunk.js';
import { SliceRunner } from './inline-backend.js';
import { chunkShape, kernelFor, type ChunkKernel, type Job } from './job.js';
import type { KernelPool, RangeResult } from './kernel-pool.js';
import { claimBack, closeBoard, newBoard } from './piece-board.js';
import { ResultPool } from './result-pool.js';
import { hooksFor, poolFor, type WorkerBackendOptions } from './worker-backend.js';

/** Kernel time of the main thread between two looks at the pool's results and signals (ms). */
export const HYBRID_SLICE_MS = 1;

/** Pieces a chunk is split into, so that the main thread and the pool share even a single chunk (the side that finishes first waits for at most one piece of the other). */
export const PIECES_PER_CHUNK = 16;
/** Fewest points of a piece: below that a piece's overhead (a claim, a slice, its copy) would show. */
export const MIN_PIECE_POINTS = 16;

/** Contiguous parts [offset, count] of a chunk of `count` points: PIECES_PER_CHUNK of them, fewer for small chunks. */
export function chunkPieces(count: number): Array<[number, number]> {
  const n = Math.max(1, Math.min(PIECES_PER_CHUNK, Math.floor(count / MIN_PIECE_POINTS)));
  const out: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) {
    const a = Math.floor((i * count) / n);
    const b = Math.floor(((i + 1) * count) / n);
    out.push([a, b - a]);
  }
  return out;
}

const PER_POINT = ['rates', 'steady', 'boltzmann', 'eigenrates', 'amplitudes', 'trajectories', 'flags', 'buildup'] as const;

/** Copy rows at..at+count of `from` into the same rows of `into` (results of the same chunk shape). */
export function copyRowRange(into: ChunkResult, from: ChunkResult, at: number, count: number): void {
  const n = from.shape.count;
  if (n === 0 || count === 0) return;
  for (const key of PER_POINT) {
    const w = from[key].length / n;
    into[key].set(from[key].subarray(at * w, (at + count) * w), at * w);
  }
}

export interface HybridBackendOptions extends WorkerBackendOptions {
  /**
   * Test hook: the main thread computes at most this many pieces of any chunk (default: as many
   * as it can claim). Which side computes a piece is otherwise a race, and a test that asserts the
   * pool's share must not depend on how fast a loaded machine starts a worker. The pool's task
   * claims until the board is empty, so every piece is still computed.
   */
  readonly mainPiecesPerChunk?: number;
}

interface ChunkState {
  readonly chunk: Chunk;
  readonly out: ChunkResult;
  readonly signal: AbortSignal | undefined;
  /** [offset, count] of every piece, flat (what a worker's claim task carries). */
  readonly parts: Int32Array;
  /** Shared with the pool tasks of this chunk (src/engine/piece-board.ts). */
  readonly board: SharedArrayBuffer;
  /** The main thread found no piece left at the back (or reached its cap). */
  mainDone: boolean;
  /** Pieces of this chunk the main thread has claimed. */
  mainClaimed: number;
  /** Pieces not computed yet, and pool tasks not returned yet. */
  left: number;
  poolTasks: number;
  settled: boolean;
  resolve(r: ChunkResult): void;
  reject(e: unknown): void;
}

/**
 * The main thread computes next to a pool of (cores - 1) workers. Every chunk is cut into
 * pieces (contiguous sub-ranges) on a board shared with the workers (piece-board.ts): each
 * pool thread gets one task per chunk that claims pieces from the front until none is left,
 * and the main thread claims pieces from the back of the newest chunk, in slices, returning
 * to the event loop in between (worker results, signals, the lock's heartbeat). Front and back
 * meet wherever the two sides' speeds put them, so even a run of one or two chunks uses every
 * core, no worker waits for the main thread to hand it work, and each side mostly needs one
 * variant's kernel. A worker's pieces come back with its task (one message per chunk and
 * thread). The pool is the process-wide shared one (src/engine/kernel-pool.ts): in a process
 * that ran before, it starts nothing. Both sides run the same float64 kernel and a point's
 * result does not depend on the range it was computed in, so results are bit for bit those of
 * the inline backend. A pool task whose worker dies is retried once by the pool and first redoes
 * the pieces its failed attempt had claimed.
 */
export class HybridBackend implements EngineBackend {
  readonly name = 'hybrid';
  readonly precision = 'float64' as const;
  readonly description: string;
  private readonly job: Job;
  private readonly options: HybridBackendOptions;
  private readonly pool: KernelPool;
  /** Most pieces of one chunk the main thread claims. */
  private readonly mainCap: number;
  private readonly poolThreads: number;
  private readonly kernels = new Map<number, ChunkKernel>();
  /** The main thread returns to the event loop about every HYBRID_SLICE_MS (results, signals). */
  private readonly runner = new SliceRunner(HYBRID_SLICE_MS);
  private readonly counters = emptyStats();
  /** Per-point results of pieces computed in the pool (the inline kernels count their own). */
  private readonly poolCounters = emptyStats().kernel;
  /** Chunks not yet settled, oldest first; and the signals listened to (one listener per signal). */
  private open: ChunkState[] = [];
  private readonly signals = new Set<AbortSignal>();
  private mainRunning = false;
  private closed = false;
  /** Pieces computed by the main thread and by the pool (tests, tuning). */
  readonly pieceCounts = { main: 0, pool: 0 };
  /** Storage of released results (every chunk's result is assembled in the main thread). */
  readonly results = new ResultPool();

  constructor(job: Job, poolThreads: number, options: HybridBackendOptions = {}) {
    this.job = job;
    this.options = options;
    this.mainCap = options.mainPiecesPerChunk ?? Number.POSITIVE_INFINITY;
    this.poolThreads = Math.max(1, poolThreads);
    this.pool = poolFor(this.poolThreads, options);
    this.description = `float64 kernel in the main thread plus a piscina pool of ${this.poolThreads} worker thread${this.poolThreads === 1 ? '' : 's'}`;
  }

  /** The pool the pieces run on (tests). */
  get kernelPool(): KernelPool {
    return this.pool;
  }

  /**
   * Chunks in flight: enough that a worker has the next chunk's task when it finishes one, while
   * the finished chunk's result is handed on.
   */
  get lanes(): number {
    return 2 * this.poolThreads + 1;
  }

  evaluate(chunk: Chunk, signal?: AbortSignal): Promise<ChunkResult> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.closed) return Promise.reject(new EngineError('hybrid backend used after close()'));
    return new Promise<ChunkResult>((resolve, reject) => {
      const pieces = chunkPieces(chunk.count);
      const parts = new Int32Array(2 * pieces.length);
      pieces.forEach(([offset, count], i) => {
        parts[2 * i] = offset;
        parts[2 * i + 1] = count;
      });
      const shape = chunkShape(this.job, chunk.count);
      const state: ChunkState = {
        chunk,
        out: chunkViews(shape, this.results.acquire(chunkLength(shape))),
        signal,
        parts,
        board: newBoard(pieces.length),
        mainDone: false,
        mainClaimed: 0,
        left: pieces.length,
        poolTasks: 0,
        settled: false,
        resolve,
        reject,
      };
      this.open.push(state);
      if (signal && !this.signals.has(signal)) {
        this.signals.add(signal);
        signal.addEventListener('abort', () => this.abortAll(signal), { once: true });
      }
      for (let t = 1; t <= this.poolThreads; t++) this.postClaim(state, t);
      this.startMain();
    });
  }

  /** Give up every chunk of an aborted signal at once (pool tasks stop through the same signal). */
  private abortAll(signal: AbortSignal): void {
    this.signals.delete(signal);
    for (const s of [...this.open]) if (s.signal === signal) this.fail(s, abortError(signal));
  }

  private fail(s: ChunkState, e: unknown): void {
    if (s.settled) return;
    s.settled = true;
    closeBoard(s.board);
    this.open = this.open.filter((x) => x !== s);
    s.reject(e);
  }

  /** Pieces of a chunk done (by either side): settle it once all are and no pool task is out. */
  private piecesDone(s: ChunkState, n: number): void {
    if (s.settled) return;
    s.left -= n;
    if (s.left > 0 || s.poolTasks > 0) return;
    s.settled = true;
    this.open = this.open.filter((x) => x !== s);
    this.counters.chunks++;
    this.counters.points += s.chunk.count;
    s.resolve(s.out);
  }

  /** One pool task that claims pieces of the chunk from the front of its board (tag: unique per task of the chunk). */
  private postClaim(s: ChunkState, tag: number): void {
    s.poolTasks++;
    const task = {
      id: s.chunk.id,
      variant: s.chunk.variant,
      start: s.chunk.start,
      count: s.chunk.count,
      claim: { board: s.board, pieces: s.parts, tag },
      ...hooksFor(this.options, s.chunk.id),
    };
    this.pool
      .run(this.job, task, s.signal, this.counters)
      .then(
        (res: RangeResult) => {
          s.poolTasks--;
          if (s.settled) return;
          const done = res.pieces ?? [];
          if (done.length > 0) {
            const got = chunkViews(chunkShape(this.job, s.chunk.count), new Float64Array(res.buffer));
            for (const i of done) copyRowRange(s.out, got, s.parts[2 * i] as number, s.parts[2 * i + 1] as number);
          }
          addKernelCounters(this.poolCounters, res.counters);
          this.pieceCounts.pool += done.length;
          this.piecesDone(s, done.length);
        },
        (e: unknown) => {
          s.poolTasks--;
          this.fail(s, e);
        },
      )
      .catch((e: unknown) => this.fail(s, e));
  }

  private kernel(variant: number): ChunkKernel {
    let k = this.kernels.get(variant);
    if (!k) {
      k = kernelFor(this.job, variant);
      this.kernels.set(variant, k);
    }
    return k;
  }

  /** The main thread's share: pieces from the back of the newest chunk that has any left, until none has. */
  private startMain(): void {
    if (this.mainRunning) return;
    this.mainRunning = true;
    void (async () => {
      try {
        // let the other lanes queue their chunks (and the pool start on its tasks) first
        await new Promise<void>((ok) => setImmediate(ok));
        while (!this.closed) {
          let s: ChunkState | undefined;
          let piece = -1;
          for (let c = this.open.length - 1; c >= 0 && piece < 0; c--) {
            const cand = this.open[c] as ChunkState;
            if (cand.mainDone || cand.settled) continue;
            piece = cand.mainClaimed < this.mainCap ? claimBack(cand.board) : -1;
            if (piece < 0) cand.mainDone = true;
            else {
              cand.mainClaimed++;
              s = cand;
            }
          }
          if (!s) break;
          const offset = s.parts[2 * piece] as number;
          const count = s.parts[2 * piece + 1] as number;
          try {
            await this.runner.run(this.kernel(s.chunk.variant), s.chunk.start + offset, count, s.out, offset, s.signal, true, () => (s as ChunkState).settled);
          } catch (e) {
            this.fail(s, e);
            continue;
          }
          if (s.settled) continue;
          this.pieceCounts.main++;
          this.piecesDone(s, 1);
        }
      } finally {
        this.mainRunning = false;
      }
      // a chunk queued while the loop was ending
      if (!this.closed && this.open.some((s) => !s.mainDone && !s.settled)) this.startMain();
    })();
  }

  release(result: ChunkResult): void {
    this.results.release(result.buffer);
  }

  stats(): BackendStats {
    const s = { ...this.counters, kernel: { ...this.counters.kernel } };
    addKernelCounters(s.kernel, this.poolCounters);
    for (const k of this.kernels.values()) if (k.counters) addKernelCounters(s.kernel, k.counters);
    return s;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.open]) this.fail(s, new EngineError('hybrid backend closed with chunks in flight'));
    await this.pool.release();
  }
}
