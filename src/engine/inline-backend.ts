import { abortError, addKernelCounters, emptyStats, type BackendStats, type EngineBackend } from './backend.js';
import { chunkLength, chunkViews, type Chunk, type ChunkResult } from './chunk.js';
import { chunkShape, kernelFor, type ChunkKernel, type Job } from './job.js';
import { ResultPool } from './result-pool.js';

/**
 * Milliseconds of kernel time between two returns to the event loop. The kernel is
 * synchronous: a chunk evaluated in one call would hold off signal handlers, the lock's
 * heartbeat and worker results until it ends (seconds for large chunks), so a chunk is
 * evaluated in sub-ranges of about this duration.
 */
export const INLINE_SLICE_MS = 50;

/**
 * Runs a kernel over a range in slices of about INLINE_SLICE_MS, returning to the event loop
 * between slices. The slice length adapts to the measured kernel speed (it starts small: the
 * first calls run while the JIT compiles). Slices do not change results: a kernel's points
 * are independent of the range they are evaluated in.
 */
export class SliceRunner {
  private slicePoints = 8;
  private readonly sliceMs: number;

  /** sliceMs: kernel time between two returns to the event loop (default INLINE_SLICE_MS). */
  constructor(sliceMs = INLINE_SLICE_MS) {
    this.sliceMs = sliceMs;
  }

  /**
   * Rows offset..offset+count of `out` from points start..start+count. Stops (rejecting with an
   * AbortError) when `signal` fires, or returns early when `stop()` says so between slices.
   * `yieldLast`: also return to the event loop after the last slice.
   */
  async run(k: ChunkKernel, start: number, count: number, out: ChunkResult, offset: number, signal: AbortSignal | undefined, yieldLast: boolean, stop?: () => boolean): Promise<void> {
    let done = 0;
    while (done < count) {
      if (signal?.aborted) throw abortError(signal);
      if (stop?.()) return;
      const n = Math.min(this.slicePoints, count - done);
      const t0 = performance.now();
      k.run(start + done, n, out, offset + done);
      const ms = performance.now() - t0;
      done += n;
      // aim at INLINE_SLICE_MS per slice; grow at most 4x at a time
      this.slicePoints = Math.max(1, Math.min(4 * n, Math.floor((n * this.sliceMs) / Math.max(ms, 0.05))));
      if (done < count || yieldLast) await new Promise<void>((ok) => setImmediate(ok));
    }
  }
}

/** The float64 kernel in the calling thread: for small sweeps, where a pool's start-up would dominate. */
export class InlineBackend implements EngineBackend {
  readonly name = 'inline';
  readonly precision = 'float64' as const;
  readonly description = 'float64 kernel in the main thread';
  private readonly job: Job;
  private readonly kernels = new Map<number, ChunkKernel>();
  private readonly counters = emptyStats();
  private readonly runner = new SliceRunner();
  /** Storage of released results, reused for later chunks. */
  readonly results = new ResultPool();

  constructor(job: Job) {
    this.job = job;
  }

  async evaluate(chunk: Chunk, signal?: AbortSignal): Promise<ChunkResult> {
    let k = this.kernels.get(chunk.variant);
    if (!k) {
      k = kernelFor(this.job, chunk.variant);
      this.kernels.set(chunk.variant, k);
    }
    const shape = chunkShape(this.job, chunk.count);
    const out = chunkViews(shape, this.results.acquire(chunkLength(shape)));
    await this.runner.run(k, chunk.start, chunk.count, out, 0, signal, signal !== undefined);
    if (signal?.aborted) throw abortError(signal);
    this.counters.chunks++;
    this.counters.points += chunk.count;
    return out;
  }

  release(result: ChunkResult): void {
    this.results.release(result.buffer);
  }

  stats(): BackendStats {
    const s = { ...this.counters, kernel: { ...this.counters.kernel } };
    for (const k of this.kernels.values()) if (k.counters) addKernelCounters(s.kernel, k.counters);
    return s;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
