/**
 * Worker-thread entry of the float64 pool. On the fixed-basis path the main thread sends,
 * once per worker, each variant's compiled problem and coefficient tables (plain typed
 * arrays): the worker builds no operators and loads only the kernel. Per-point systems
 * rebuild the job from the validated spec. Tasks carry only a chunk range and get back one
 * transferable buffer.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { chunkViews, type ChunkShape, type Want } from '../src/engine/chunk.js';
import { addKernelCounters, emptyKernelCounters } from '../src/evaluate/route-counters.js';
import { F64Kernel } from '../src/engine/f64-kernel.js';
import type { ChunkKernel, JobSource, KernelData } from '../src/engine/job.js';
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

export interface WorkerSetup {
  readonly spec: LoadedSpec;
  readonly source: JobSource;
  readonly want: Want;
  /** Per variant (fixed-basis path), or undefined for per-point systems. */
  readonly lean: ReadonlyArray<KernelData> | undefined;
  readonly shape: Omit<ChunkShape, 'count'>;
}

const setup = workerData as WorkerSetup;
const kernels = new Map<number, ChunkKernel>();
let fallback: ((variant: number) => ChunkKernel) | undefined;

async function kernelOf(variant: number): Promise<ChunkKernel> {
  const hit = kernels.get(variant);
  if (hit) return hit;
  let k: ChunkKernel;
  const lean = setup.lean?.[variant];
  if (lean) k = new F64Kernel(lean.cp, lean.tables, setup.want, lean.sym);
  else {
    if (!fallback) {
      const { buildJob, kernelFor } = await import('../src/engine/job.js');
      const job = buildJob(setup.spec, setup.source, setup.want);
      fallback = (v) => kernelFor(job, v);
    }
    k = fallback(variant);
  }
  kernels.set(variant, k);
  return k;
}

export default async function evaluate(task: WorkerTask): Promise<unknown> {
  if (task.crashMarker && !existsSync(task.crashMarker)) {
    writeFileSync(task.crashMarker, `killed worker on chunk ${task.id}\n`);
    process.exit(1);
  }
  if (task.crashAlways) process.exit(3);
  if (task.exhaustMemory) {
    const hog: number[][] = [];
    for (;;) hog.push(new Array<number>(1 << 20).fill(1));
  }
  const k = await kernelOf(task.variant);
  const out = chunkViews({ ...setup.shape, count: task.count });
  const before = k.counters ? { ...k.counters } : emptyKernelCounters();
  k.run(task.start, task.count, out);
  // the routes this chunk took (the difference of the kernel's running counters)
  const counters = emptyKernelCounters();
  if (k.counters) {
    addKernelCounters(counters, k.counters);
    for (const key of Object.keys(counters) as Array<keyof typeof counters>) counters[key] -= before[key];
  }
  const buffer = out.buffer.buffer as ArrayBuffer;
  // the buffer is transferred, the counters cloned (piscina's Transferable interface)
  return Piscina.move({ [Piscina.transferableSymbol]: buffer, [Piscina.valueSymbol]: { buffer, counters } } as never);
}
