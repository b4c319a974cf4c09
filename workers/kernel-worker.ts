/**
 * Worker-thread entry of the float64 pool. The job (operators, reduced basis matrices,
 * coefficient tables) is rebuilt once per worker from the validated spec in workerData;
 * tasks carry only a chunk range and get back one transferable buffer.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { chunkViews } from '../src/engine/chunk.js';
import { buildJob, chunkShape, kernelFor, type ChunkKernel, type JobSource } from '../src/engine/job.js';
import type { Want } from '../src/engine/chunk.js';
import type { LoadedSpec } from '../src/spec/load.js';

export interface WorkerTask {
  readonly id: number;
  readonly variant: number;
  readonly start: number;
  readonly count: number;
  /** Test hook: the first task that sees this path missing creates it and kills its worker. */
  readonly crashMarker?: string;
  /** Test hook: allocate until the worker's heap limit is hit. */
  readonly exhaustMemory?: boolean;
  /** Test hook: kill the worker every time (a chunk that cannot succeed). */
  readonly crashAlways?: boolean;
}

const { spec, source, want } = workerData as { spec: LoadedSpec; source: JobSource; want: Want };
const job = buildJob(spec, source, want);
const kernels = new Map<number, ChunkKernel>();

export default function evaluate(task: WorkerTask): unknown {
  if (task.crashMarker && !existsSync(task.crashMarker)) {
    writeFileSync(task.crashMarker, `killed worker on chunk ${task.id}\n`);
    process.exit(1);
  }
  if (task.crashAlways) process.exit(3);
  if (task.exhaustMemory) {
    const hog: number[][] = [];
    for (;;) hog.push(new Array<number>(1 << 20).fill(1));
  }
  let k = kernels.get(task.variant);
  if (!k) {
    k = kernelFor(job, task.variant);
    kernels.set(task.variant, k);
  }
  const out = chunkViews(chunkShape(job, task.count));
  k.run(task.start, task.count, out);
  return Piscina.move(out.buffer.buffer as ArrayBuffer);
}
