import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { rangeDescription } from '../sweep/grid.js';
import { addKernelCounters, EngineError, emptyStats, type BackendStats, type EngineBackend, type KernelCounters } from './backend.js';
import { chunkViews, type Chunk, type ChunkResult } from './chunk.js';
import { chunkShape, kernelData, type Job } from './job.js';

export interface WorkerBackendOptions {
  /** Threads (default: available parallelism). */
  readonly workers?: number;
  /** Heap limit per worker in MB (a chunk that exceeds it fails like a crash and is retried). */
  readonly maxHeapMb?: number;
  /** Test hooks, forwarded to the worker task of the named chunk. */
  readonly faultInjection?: { readonly chunk: number; readonly crashMarker?: string; readonly exhaustMemory?: boolean; readonly crashAlways?: boolean };
}

/** The worker script next to this module: compiled JS in dist/, or TypeScript through tsx from source. */
function workerScript(): { filename: string; execArgv: string[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(`../../workers/kernel-worker.${fromSource ? 'ts' : 'js'}`, import.meta.url);
  return { filename: fileURLToPath(url), execArgv: fromSource ? ['--import', 'tsx'] : [] };
}

/**
 * A piscina pool of float64 kernels. Each worker rebuilds the job once from the spec
 * text (workerData); a task is a chunk range, its result one transferred buffer. A
 * chunk whose worker dies (killed, out of memory) is retried once on a fresh worker;
 * the same chunk failing twice stops the run naming the chunk and its parameters.
 */
export class WorkerBackend implements EngineBackend {
  readonly name = 'workers';
  readonly precision = 'float64' as const;
  readonly description: string;
  private readonly job: Job;
  private readonly pool: Piscina;
  private readonly options: WorkerBackendOptions;
  private readonly counters = emptyStats();

  constructor(job: Job, options: WorkerBackendOptions = {}) {
    this.job = job;
    this.options = options;
    const threads = Math.max(1, options.workers ?? availableParallelism());
    const { filename, execArgv } = workerScript();
    this.pool = new Piscina({
      filename,
      execArgv,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
      workerData: {
        spec: job.spec,
        source: job.source,
        want: job.want,
        lean: job.model.path === 'fixed-basis' ? job.grid.variants.map((_, v) => kernelData(job, v)) : undefined,
        shape: (({ count: _c, ...rest }) => rest)(chunkShape(job, 1)),
      },
      ...(options.maxHeapMb ? { resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb } } : {}),
    });
    this.description = `piscina pool, ${threads} worker thread${threads === 1 ? '' : 's'}, float64`;
  }

  async evaluate(chunk: Chunk): Promise<ChunkResult> {
    const fi = this.options.faultInjection;
    const task = {
      id: chunk.id,
      variant: chunk.variant,
      start: chunk.start,
      count: chunk.count,
      ...(fi && fi.chunk === chunk.id ? { crashMarker: fi.crashMarker, exhaustMemory: fi.exhaustMemory, crashAlways: fi.crashAlways } : {}),
    };
    let lastError: unknown;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const res = (await this.pool.run(attempt === 0 ? task : { ...task, exhaustMemory: false })) as { buffer: ArrayBuffer; counters: KernelCounters };
        const out = chunkViews(chunkShape(this.job, chunk.count), new Float64Array(res.buffer));
        addKernelCounters(this.counters.kernel, res.counters);
        this.counters.chunks++;
        this.counters.points += chunk.count;
        return out;
      } catch (e) {
        lastError = e;
        if (attempt === 0) this.counters.retries++;
      }
    }
    const v = this.job.grid.variants[chunk.variant];
    const where = rangeDescription(this.job.grid, chunk.start, chunk.count);
    throw new EngineError(
      `chunk ${chunk.id} (${chunk.count} points: ${v ? `${v.thermal}, initial ${this.job.grid.initials[v.initial]}, ` : ''}${where}) failed twice: ${(lastError as Error)?.message ?? String(lastError)}`,
    );
  }

  stats(): BackendStats {
    return { ...this.counters, kernel: { ...this.counters.kernel } };
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
