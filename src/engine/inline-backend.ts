import { addKernelCounters, emptyStats, type BackendStats, type EngineBackend } from './backend.js';
import { chunkViews, type Chunk, type ChunkResult } from './chunk.js';
import { chunkShape, kernelFor, type ChunkKernel, type Job } from './job.js';

/** The float64 kernel in the calling thread: for small sweeps, where a pool's start-up would dominate. */
export class InlineBackend implements EngineBackend {
  readonly name = 'inline';
  readonly precision = 'float64' as const;
  readonly description = 'float64 kernel in the main thread';
  private readonly job: Job;
  private readonly kernels = new Map<number, ChunkKernel>();
  private readonly counters = emptyStats();

  constructor(job: Job) {
    this.job = job;
  }

  evaluate(chunk: Chunk): Promise<ChunkResult> {
    let k = this.kernels.get(chunk.variant);
    if (!k) {
      k = kernelFor(this.job, chunk.variant);
      this.kernels.set(chunk.variant, k);
    }
    const out = chunkViews(chunkShape(this.job, chunk.count));
    k.run(chunk.start, chunk.count, out);
    this.counters.chunks++;
    this.counters.points += chunk.count;
    return Promise.resolve(out);
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
