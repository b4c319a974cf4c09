import { abortError, addKernelCounters, emptyStats, type BackendStats, type EngineBackend } from './backend.js';
import { chunkViews, type Chunk, type ChunkResult } from './chunk.js';
import { chunkShape, kernelFor, type ChunkKernel, type Job } from './job.js';

/**
 * Milliseconds of kernel time between two returns to the event loop. The kernel is
 * synchronous: a chunk evaluated in one call would hold off signal handlers, the lock's
 * heartbeat and worker results until it ends (seconds for large chunks), so a chunk is
 * evaluated in sub-ranges of about this duration.
 */
export const INLINE_SLICE_MS = 50;

/** The float64 kernel in the calling thread: for small sweeps, where a pool's start-up would dominate. */
export class InlineBackend implements EngineBackend {
  readonly name = 'inline';
  readonly precision = 'float64' as const;
  readonly description = 'float64 kernel in the main thread';
  private readonly job: Job;
  private readonly kernels = new Map<number, ChunkKernel>();
  private readonly counters = emptyStats();
  /** Points per slice, adapted to the measured kernel speed (starts small: the first calls run while the JIT compiles). */
  private slicePoints = 8;

  constructor(job: Job) {
    this.job = job;
  }

  async evaluate(chunk: Chunk, signal?: AbortSignal): Promise<ChunkResult> {
    let k = this.kernels.get(chunk.variant);
    if (!k) {
      k = kernelFor(this.job, chunk.variant);
      this.kernels.set(chunk.variant, k);
    }
    const out = chunkViews(chunkShape(this.job, chunk.count));
    let done = 0;
    while (done < chunk.count) {
      if (signal?.aborted) throw abortError(signal);
      const n = Math.min(this.slicePoints, chunk.count - done);
      const t0 = performance.now();
      k.run(chunk.start + done, n, out, done);
      const ms = performance.now() - t0;
      done += n;
      // aim at INLINE_SLICE_MS per slice; grow at most 4x at a time
      this.slicePoints = Math.max(1, Math.min(4 * n, Math.floor((n * INLINE_SLICE_MS) / Math.max(ms, 0.05))));
      if (done < chunk.count || signal) await new Promise<void>((ok) => setImmediate(ok));
    }
    if (signal?.aborted) throw abortError(signal);
    this.counters.chunks++;
    this.counters.points += chunk.count;
    return out;
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
