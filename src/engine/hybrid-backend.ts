import { addKernelCounters, emptyStats, type BackendStats, type EngineBackend } from './backend.js';
import type { Chunk, ChunkResult } from './chunk.js';
import { InlineBackend } from './inline-backend.js';
import type { Job } from './job.js';
import { WorkerBackend, type WorkerBackendOptions } from './worker-backend.js';

/**
 * The main thread computes chunks too, next to a pool of (cores - 1) workers: while the
 * workers start (module loading, job rebuild, JIT warm-up: about half a second) the main
 * thread is already computing, and afterwards every core is busy. Both run the same
 * float64 kernel, so results do not depend on who computed a chunk.
 */
export class HybridBackend implements EngineBackend {
  readonly name = 'hybrid';
  readonly precision = 'float64' as const;
  readonly description: string;
  private readonly inline: InlineBackend;
  private readonly pool: WorkerBackend;
  private readonly poolThreads: number;
  private poolBusy = 0;
  private inlineChunks = 0;

  constructor(job: Job, poolThreads: number, options: WorkerBackendOptions = {}) {
    this.poolThreads = Math.max(1, poolThreads);
    this.inline = new InlineBackend(job);
    this.pool = new WorkerBackend(job, { ...options, workers: this.poolThreads });
    this.description = `float64 kernel in the main thread plus a piscina pool of ${this.poolThreads} worker thread${this.poolThreads === 1 ? '' : 's'}`;
  }

  /**
   * Chunks in flight that keep every thread busy: two per worker (the next task must already
   * be queued in the pool, since the main thread cannot hand one over while it computes)
   * plus the main thread's.
   */
  get lanes(): number {
    return 2 * this.poolThreads + 1;
  }

  async evaluate(chunk: Chunk): Promise<ChunkResult> {
    if (this.poolBusy < 2 * this.poolThreads) {
      this.poolBusy++;
      try {
        return await this.pool.evaluate(chunk);
      } finally {
        this.poolBusy--;
      }
    }
    this.inlineChunks++;
    // let queued worker results be handed over before the main thread blocks on a chunk
    await new Promise<void>((ok) => setImmediate(ok));
    return this.inline.evaluate(chunk);
  }

  stats(): BackendStats {
    const a = this.pool.stats();
    const b = this.inline.stats();
    const s = emptyStats();
    s.chunks = a.chunks + b.chunks;
    s.points = a.points + b.points;
    s.retries = a.retries;
    addKernelCounters(s.kernel, a.kernel);
    addKernelCounters(s.kernel, b.kernel);
    return s;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
