/**
 * Worker threads that finish fused-kernel chunks off the main thread: the float64 side
 * outputs (Boltzmann values, modes), the float32 -> float64 copy and the precision contract
 * (estimate routing, samples, recomputation). On a GPU the main thread then only slices the
 * device's output per chunk and writes checkpoints, so the host keeps up with the device:
 * finishing costs about 0.3-0.5 us per point of the pair (most of it the float64 side
 * outputs and the sampled checks), a few million points/s on one thread.
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { Chunk, ChunkResult } from '../chunk.js';
import { chunkLength, chunkViews } from '../chunk.js';
import { chunkShape, kernelData, type Job } from '../job.js';
import type { ContractOutcome } from '../tfjs/precision-contract.js';

export interface FinishTask {
  readonly variant: number;
  readonly start: number;
  readonly count: number;
  /** The chunk's rows of the kernel output (fused-constants.ts layout), transferred. */
  readonly f32: ArrayBuffer;
  readonly tolerance: number;
  readonly sampleFraction: number;
}

/** Values after the chunk result in a worker's reply: checked, recomputed, routed, maxError, wholeChunk, host seconds. */
export const FINISH_TAIL = 6;

function workerScript(): { filename: string; execArgv: string[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(`../../../workers/fused-finish-worker.${fromSource ? 'ts' : 'js'}`, import.meta.url);
  return { filename: fileURLToPath(url), execArgv: fromSource ? ['--import', 'tsx'] : [] };
}

export class FinisherPool {
  readonly threads: number;
  private readonly job: Job;
  private readonly pool: Piscina;

  constructor(job: Job, threads: number) {
    this.job = job;
    this.threads = Math.max(1, threads);
    const { filename, execArgv } = workerScript();
    this.pool = new Piscina({
      filename,
      execArgv,
      minThreads: this.threads,
      maxThreads: this.threads,
      idleTimeout: 60_000,
      workerData: {
        want: job.want,
        lean: job.grid.variants.map((_, v) => kernelData(job, v)),
        shape: (({ count: _c, ...rest }) => rest)(chunkShape(job, 1)),
      },
    });
  }

  async finish(chunk: Chunk, f32: Float32Array, tolerance: number, sampleFraction: number): Promise<{ out: ChunkResult; outcome: ContractOutcome; hostS: number }> {
    const buf = f32.buffer as ArrayBuffer;
    const task: FinishTask = { variant: chunk.variant, start: chunk.start, count: chunk.count, f32: buf, tolerance, sampleFraction };
    const reply = new Float64Array((await this.pool.run(task, { transferList: [buf] })) as ArrayBuffer);
    const shape = chunkShape(this.job, chunk.count);
    const len = chunkLength(shape);
    const t = reply.subarray(len);
    const outcome: ContractOutcome = { checked: t[0] as number, recomputed: t[1] as number, routed: t[2] as number, maxError: t[3] as number, wholeChunk: t[4] === 1 };
    return { out: chunkViews(shape, reply.subarray(0, len)), outcome, hostS: t[5] as number };
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
