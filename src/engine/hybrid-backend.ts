import { abortError, addKernelCounters, emptyStats, EngineError, type BackendStats, type EngineBackend } from './backend.js';
import { chunkViews, type Chunk, type ChunkResult } from './chunk.js';
import { SliceRunner } from './inline-backend.js';

/** Kernel time of the main thread between two looks at the pool's results (ms). */
export const HYBRID_SLICE_MS = 1;
import { chunkShape, kernelFor, type ChunkKernel, type Job } from './job.js';
import type { KernelPool } from './kernel-pool.js';
import { hooksFor, poolFor, type WorkerBackendOptions } from './worker-backend.js';

/** Pieces a chunk is split into, so that the main thread and the pool share even a single chunk. */
export const PIECES_PER_CHUNK = 8;
/** Fewest points of a piece: below that a task's overhead (messages, copies, a slice) would show. */
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

/** Copy a result of `part.shape.count` points into rows offset.. of `into` (every per-point array, flags included). */
export function copyRows(into: ChunkResult, offset: number, part: ChunkResult): void {
  const n = part.shape.count;
  if (n === 0) return;
  for (const key of ['rates', 'steady', 'boltzmann', 'eigenrates', 'amplitudes', 'trajectories', 'flags', 'buildup'] as const) {
    const src = part[key];
    into[key].set(src, offset * (src.length / n));
  }
}

interface ChunkState {
  readonly chunk: Chunk;
  readonly out: ChunkResult;
  readonly signal: AbortSignal | undefined;
  readonly pieces: number;
  left: number;
  settled: boolean;
  resolve(r: ChunkResult): void;
  reject(e: unknown): void;
}

interface Piece {
  readonly state: ChunkState;
  readonly index: number;
  readonly offset: number;
  readonly count: number;
}

/**
 * The main thread computes next to a pool of (cores - 1) workers. Every chunk is cut into
 * pieces (contiguous sub-ranges) in one queue: the pool is kept fed from its head (two pieces
 * per worker, so that a worker never waits for the busy main thread to hand it the next one)
 * and the main thread computes pieces from its tail, in slices, returning to the event loop
 * in between (worker results, signals, the lock's heartbeat). Head and tail meet in the
 * middle, so even a run of one or two chunks uses every core, and each side mostly needs one
 * variant's kernel. The pool is the process-wide shared one (src/engine/kernel-pool.ts): in
 * a process that ran before, it starts nothing. Both sides run the same float64 kernel and
 * a point's result does not depend on the range it was computed in, so results are bit for
 * bit those of the inline backend.
 */
export class HybridBackend implements EngineBackend {
  readonly name = 'hybrid';
  readonly precision = 'float64' as const;
  readonly description: string;
  private readonly job: Job;
  private readonly options: WorkerBackendOptions;
  private readonly pool: KernelPool;
  private readonly poolThreads: number;
  private readonly kernels = new Map<number, ChunkKernel>();
  /**
   * The main thread returns to the event loop about every HYBRID_SLICE_MS: worker results are
   * taken (and the next pieces posted) only then, so long slices leave the workers idle.
   */
  private readonly runner = new SliceRunner(HYBRID_SLICE_MS);
  private readonly counters = emptyStats();
  /** Per-point results of pieces computed in the pool (the inline kernels count their own). */
  private readonly poolCounters = emptyStats().kernel;
  private queue: Piece[] = [];
  private poolInFlight = 0;
  private mainRunning = false;
  private closed = false;
  /** Chunks not yet settled, and the signals listened to (one listener per signal). */
  private readonly open = new Set<ChunkState>();
  private readonly signals = new Set<AbortSignal>();
  /** Pieces computed by the main thread and by the pool (tests, tuning). */
  readonly pieceCounts = { main: 0, pool: 0 };

  constructor(job: Job, poolThreads: number, options: WorkerBackendOptions = {}) {
    this.job = job;
    this.options = options;
    this.poolThreads = Math.max(1, poolThreads);
    this.pool = poolFor(this.poolThreads, options);
    this.description = `float64 kernel in the main thread plus a piscina pool of ${this.poolThreads} worker thread${this.poolThreads === 1 ? '' : 's'}`;
  }

  /** The pool the pieces run on (tests). */
  get kernelPool(): KernelPool {
    return this.pool;
  }

  /**
   * Chunks in flight: enough that the queue still holds pieces of another chunk while one
   * chunk's last pieces finish and its result is handed on.
   */
  get lanes(): number {
    return 2 * this.poolThreads + 1;
  }

  evaluate(chunk: Chunk, signal?: AbortSignal): Promise<ChunkResult> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.closed) return Promise.reject(new EngineError('hybrid backend used after close()'));
    return new Promise<ChunkResult>((resolve, reject) => {
      const parts = chunkPieces(chunk.count);
      const state: ChunkState = { chunk, out: chunkViews(chunkShape(this.job, chunk.count)), signal, pieces: parts.length, left: parts.length, settled: false, resolve, reject };
      this.open.add(state);
      if (signal && !this.signals.has(signal)) {
        this.signals.add(signal);
        signal.addEventListener('abort', () => this.abortAll(signal), { once: true });
      }
      parts.forEach(([offset, count], index) => this.queue.push({ state, index, offset, count }));
      this.pump();
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
    this.open.delete(s);
    this.queue = this.queue.filter((p) => p.state !== s);
    s.reject(e);
  }

  private pieceDone(p: Piece): void {
    const s = p.state;
    if (s.settled) return;
    if (--s.left > 0) return;
    s.settled = true;
    this.open.delete(s);
    this.counters.chunks++;
    this.counters.points += s.chunk.count;
    s.resolve(s.out);
  }

  /**
   * Keep the pool fed from the head of the queue: two pieces per worker (the next one must be
   * there when a worker finishes, since the main thread hands pieces over only between its
   * own), but one per worker once the queue runs short, so that the run does not end with
   * the main thread idle while a worker works through a second queued piece.
   */
  private pump(): void {
    const cap = (): number => (this.queue.length > 2 * this.poolThreads ? 2 : 1) * this.poolThreads;
    while (!this.closed && this.queue.length > 0 && this.poolInFlight < cap()) {
      const p = this.queue.shift() as Piece;
      const s = p.state;
      if (s.settled) continue;
      if (s.signal?.aborted) {
        this.fail(s, abortError(s.signal));
        continue;
      }
      this.poolInFlight++;
      const task = {
        id: s.chunk.id,
        variant: s.chunk.variant,
        start: s.chunk.start + p.offset,
        count: p.count,
        ...(s.pieces > 1 ? { part: { index: p.index, of: s.pieces } } : {}),
        ...hooksFor(this.options, s.chunk.id),
      };
      this.pool
        .run(this.job, task, s.signal, this.counters)
        .then(
          (res) => {
            if (s.settled) return;
            copyRows(s.out, p.offset, chunkViews(chunkShape(this.job, p.count), new Float64Array(res.buffer)));
            addKernelCounters(this.poolCounters, res.counters);
            this.pieceCounts.pool++;
            this.pieceDone(p);
          },
          (e: unknown) => this.fail(s, e),
        )
        .catch((e: unknown) => this.fail(s, e))
        .finally(() => {
          this.poolInFlight--;
          this.pump();
        });
    }
  }

  private kernel(variant: number): ChunkKernel {
    let k = this.kernels.get(variant);
    if (!k) {
      k = kernelFor(this.job, variant);
      this.kernels.set(variant, k);
    }
    return k;
  }

  /** The main thread's share: pieces from the tail of the queue, one at a time, until it is empty. */
  private startMain(): void {
    if (this.mainRunning) return;
    this.mainRunning = true;
    void (async () => {
      try {
        // let the other lanes queue their chunks (and the pool take its pieces) first
        await new Promise<void>((ok) => setImmediate(ok));
        while (!this.closed) {
          const p = this.queue.pop();
          if (!p) break;
          const s = p.state;
          if (s.settled) continue;
          try {
            await this.runner.run(this.kernel(s.chunk.variant), s.chunk.start + p.offset, p.count, s.out, p.offset, s.signal, true, () => s.settled);
          } catch (e) {
            this.fail(s, e);
            continue;
          }
          if (s.settled) continue;
          this.pieceCounts.main++;
          this.pieceDone(p);
        }
      } finally {
        this.mainRunning = false;
      }
      // a chunk queued while the loop was ending
      if (this.queue.length > 0 && !this.closed) this.startMain();
    })();
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
    this.queue = [];
    await this.pool.release();
  }
}
