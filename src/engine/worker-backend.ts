import { availableParallelism } from 'node:os';
import { addKernelCounters, emptyStats, type BackendStats, type EngineBackend } from './backend.js';
import { chunkLength, chunkViews, type Chunk, type ChunkResult } from './chunk.js';
import { chunkShape, type Job } from './job.js';
import { acquire, type KernelPool } from './kernel-pool.js';
import { ResultPool } from './result-pool.js';

export interface WorkerBackendOptions {
  /** Threads (default: available parallelism). */
  readonly workers?: number;
  /** Heap limit per worker in MB (a chunk that exceeds it fails like a crash and is retried). A private pool. */
  readonly maxHeapMb?: number;
  /** Test hooks, forwarded to the worker task of the named chunk. A private pool. */
  readonly faultInjection?: { readonly chunk: number; readonly crashMarker?: string; readonly exhaustMemory?: boolean; readonly crashAlways?: boolean };
}

/** The kernel pool for these options: the process-wide shared one, or a private one for a heap limit or test hooks. */
export function poolFor(threads: number, options: WorkerBackendOptions): KernelPool {
  return acquire(threads, { maxHeapMb: options.maxHeapMb, private: options.faultInjection !== undefined });
}

/** The test hooks of a chunk's tasks. */
export function hooksFor(options: WorkerBackendOptions, chunk: number): { crashMarker?: string; exhaustMemory?: boolean; crashAlways?: boolean } {
  const fi = options.faultInjection;
  if (!fi || fi.chunk !== chunk) return {};
  return { ...(fi.crashMarker ? { crashMarker: fi.crashMarker } : {}), ...(fi.exhaustMemory ? { exhaustMemory: true } : {}), ...(fi.crashAlways ? { crashAlways: true } : {}) };
}

/**
 * Chunks on a piscina pool of float64 kernels (src/engine/kernel-pool.ts: shared by the
 * process, so a second run starts no threads); a task is a chunk range, its result one
 * transferred buffer. A chunk whose worker dies (killed, out of memory) is retried once on a
 * fresh worker; the same chunk failing twice stops the run naming the chunk and its parameters.
 */
export class WorkerBackend implements EngineBackend {
  readonly name = 'workers';
  readonly precision = 'float64' as const;
  readonly description: string;
  private readonly job: Job;
  private readonly pool: KernelPool;
  private readonly options: WorkerBackendOptions;
  private readonly counters = emptyStats();
  private closed = false;
  /** Released results' buffers, sent back to a worker as the storage of a later chunk. */
  readonly results = new ResultPool();

  constructor(job: Job, options: WorkerBackendOptions = {}) {
    this.job = job;
    this.options = options;
    const threads = Math.max(1, options.workers ?? availableParallelism());
    this.pool = poolFor(threads, options);
    this.description = `piscina pool, ${threads} worker thread${threads === 1 ? '' : 's'}, float64`;
  }

  /** The pool the chunks run on (tests). */
  get kernelPool(): KernelPool {
    return this.pool;
  }

  async evaluate(chunk: Chunk, signal?: AbortSignal): Promise<ChunkResult> {
    const shape = chunkShape(this.job, chunk.count);
    const spare = this.results.reusable(chunkLength(shape));
    const task = { id: chunk.id, variant: chunk.variant, start: chunk.start, count: chunk.count, ...hooksFor(this.options, chunk.id), ...(spare ? { spare: spare.buffer as ArrayBuffer } : {}) };
    const res = await this.pool.run(this.job, task, signal, this.counters);
    const out = chunkViews(shape, new Float64Array(res.buffer));
    addKernelCounters(this.counters.kernel, res.counters);
    this.counters.chunks++;
    this.counters.points += chunk.count;
    return out;
  }

  release(result: ChunkResult): void {
    this.results.release(result.buffer);
  }

  stats(): BackendStats {
    return { ...this.counters, kernel: { ...this.counters.kernel } };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.release();
  }
}
