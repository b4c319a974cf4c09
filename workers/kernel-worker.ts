/**
 * Worker-thread entry of the float64 pool. Workers start with no job: a task names its job
 * (a key unique per Job object of the main process) and variant, and the worker keeps the
 * kernels of the last LRU_JOBS jobs. A task for a kernel the worker lacks is answered
 * `{ miss: true }` at once, and the main thread sends it again with the variant's payload:
 * on the fixed-basis path its compiled problem and coefficient tables (plain typed arrays:
 * the worker builds no operators and loads only the kernel); for per-point systems the
 * validated spec, from which the worker rebuilds the job. A result is one transferable buffer.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { chunkLength, chunkViews, type ChunkShape, type Want } from '../src/engine/chunk.js';
import { addKernelCounters, emptyKernelCounters, type KernelCounters } from '../src/evaluate/route-counters.js';
import { F64Kernel } from '../src/engine/f64-kernel.js';
import type { ChunkKernel, JobSource, KernelData } from '../src/engine/job.js';
import type { LoadedSpec } from '../src/spec/load.js';
import { claimFront, reclaimed, unclaimed, type ClaimTask } from '../src/engine/piece-board.js';

/** What a worker needs to build a kernel: one variant's kernel data, or the job of the per-point path. */
export type KernelPayload =
  | { readonly kernel: KernelData; readonly want: Want; readonly job?: undefined }
  | { readonly job: { readonly spec: LoadedSpec; readonly source: JobSource; readonly want: Want }; readonly want: Want; readonly kernel?: undefined };

export interface WorkerTask {
  /** The chunk the range belongs to (test hooks, messages). */
  readonly id: number;
  /** The job (jobKey in src/engine/kernel-pool.ts). */
  readonly job: string;
  readonly variant: number;
  readonly start: number;
  readonly count: number;
  /** Result layout without the count. */
  readonly shape: ChunkShape;
  /** Present when the main thread expects (or was told) that the worker lacks this kernel. */
  readonly payload?: KernelPayload;
  /**
   * Pieces of the range claimed from a board shared with the main thread (src/engine/piece-board.ts)
   * instead of the whole range: the worker takes pieces from the front until the board is
   * empty, the main thread from the back, so neither waits for the other's messages.
   */
  readonly claim?: ClaimTask;
  /** Storage for the result (a released result's buffer, transferred): zeroed and used when its length fits. */
  readonly spare?: ArrayBuffer;
  /** Test hook: the first task that sees this path missing creates it and kills its worker. */
  readonly crashMarker?: string | undefined;
  /** Test hook: allocate until the worker's heap limit is hit. */
  readonly exhaustMemory?: boolean | undefined;
  /** Test hook: kill the worker every time (a chunk that cannot succeed). */
  readonly crashAlways?: boolean | undefined;
}

export type WorkerReply =
  | { readonly miss: true }
  | { readonly buffer: ArrayBuffer; readonly counters: KernelCounters; readonly thread: number; readonly pieces?: readonly number[] };

/** Jobs whose kernels a worker keeps (a run, and the one before it). */
const LRU_JOBS = 2;

interface JobEntry {
  readonly kernels: Map<number, ChunkKernel>;
  /** Per-point path: builds any variant's kernel from the rebuilt job. */
  build?: (variant: number) => ChunkKernel;
}

/** Most recently used last. */
const jobs = new Map<string, JobEntry>();

function entryOf(key: string, create: boolean): JobEntry | undefined {
  const hit = jobs.get(key);
  if (hit) {
    jobs.delete(key);
    jobs.set(key, hit);
    return hit;
  }
  if (!create) return undefined;
  const e: JobEntry = { kernels: new Map() };
  jobs.set(key, e);
  while (jobs.size > LRU_JOBS) jobs.delete(jobs.keys().next().value as string);
  return e;
}

/**
 * The job builder, loaded only for per-point systems (the fixed-basis path needs none of the
 * operator code). From source (tests) a dynamic import inside a task does not pass through
 * tsx's loader hooks in a worker thread, so it goes through tsx's own import.
 */
async function jobModule(): Promise<typeof import('../src/engine/job.js')> {
  if (!import.meta.url.endsWith('.ts')) return import('../src/engine/job.js');
  const { tsImport } = (await import('tsx/esm/api')) as { tsImport: (specifier: string, parent: string) => Promise<unknown> };
  return (await tsImport('../src/engine/job.ts', import.meta.url)) as typeof import('../src/engine/job.js');
}

async function kernelOf(task: WorkerTask): Promise<ChunkKernel | undefined> {
  const p = task.payload;
  const e = entryOf(task.job, p !== undefined);
  if (!e) return undefined;
  const hit = e.kernels.get(task.variant);
  if (hit) return hit;
  let k: ChunkKernel;
  if (p?.kernel) k = new F64Kernel(p.kernel.cp, p.kernel.tables, p.want, p.kernel.sym, p.kernel.terms);
  else {
    if (!e.build && p?.job) {
      const { buildJob, kernelFor } = await jobModule();
      const job = buildJob(p.job.spec, p.job.source, p.job.want);
      e.build = (v) => kernelFor(job, v);
    }
    if (!e.build) return undefined;
    k = e.build(task.variant);
  }
  e.kernels.set(task.variant, k);
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
  // Two tasks may be posted to this worker at once. Without a macrotask boundary here the
  // second one's kernel would run inside the microtasks that post the first one's result, so
  // both results would leave together and the worker would then wait for the main thread
  // (busy with its own piece) to send the next two.
  await new Promise<void>((ok) => setImmediate(ok));
  // a retried claim task first redoes the pieces its failed attempt had claimed (their rows
  // were in that attempt's buffer)
  const redo = task.claim ? reclaimed(task.claim) : [];
  // every piece already taken (the main thread was faster): answer at once, without building
  // a kernel the chunk no longer needs (the chunk settles only when this answer is in)
  if (task.claim && redo.length === 0 && unclaimed(task.claim.board).length === 0) return reply(new ArrayBuffer(0), emptyKernelCounters(), []);
  const k = await kernelOf(task);
  if (!k) return { miss: true } satisfies WorkerReply;
  const out = chunkViews({ ...task.shape, count: task.count }, spareStorage(task));
  const before = k.counters ? { ...k.counters } : emptyKernelCounters();
  let pieces: number[] | undefined;
  if (task.claim) {
    const parts = task.claim.pieces;
    const runPiece = (i: number): void => k.run(task.start + (parts[2 * i] as number), parts[2 * i + 1] as number, out, parts[2 * i] as number);
    redo.forEach(runPiece);
    pieces = redo;
    // then more pieces until the board is empty
    for (let i = claimFront(task.claim); i >= 0; i = claimFront(task.claim)) {
      runPiece(i);
      pieces.push(i);
    }
  } else k.run(task.start, task.count, out);
  // the routes this range took (the difference of the kernel's running counters)
  const counters = emptyKernelCounters();
  if (k.counters) {
    addKernelCounters(counters, k.counters);
    for (const key of Object.keys(counters) as Array<keyof typeof counters>) counters[key] -= before[key];
  }
  return reply(out.buffer.buffer as ArrayBuffer, counters, pieces);
}

/** The task's spare buffer, zeroed, when it has the result's length (else a new one is made). */
function spareStorage(task: WorkerTask): Float64Array | undefined {
  const s = task.spare;
  if (!s || s.byteLength !== 8 * chunkLength({ ...task.shape, count: task.count })) return undefined;
  return new Float64Array(s).fill(0);
}

/** A result: the buffer is transferred, the rest cloned (piscina's Transferable interface). */
function reply(buffer: ArrayBuffer, counters: KernelCounters, pieces: number[] | undefined): unknown {
  return Piscina.move({ [Piscina.transferableSymbol]: buffer, [Piscina.valueSymbol]: { buffer, counters, thread: threadId, ...(pieces ? { pieces } : {}) } } as never);
}
