import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { rangeDescription } from '../sweep/grid.js';
import { abortError, EngineError, type BackendStats, type KernelCounters } from './backend.js';
import type { ChunkShape } from './chunk.js';
import type { ClaimTask } from './piece-board.js';
import { chunkShape, kernelData, slimKernelData, type Job } from './job.js';
import type { KernelPayload, WorkerReply, WorkerTask } from '../../workers/kernel-worker.js';

/** The worker script next to this module: compiled JS in dist/, or TypeScript through tsx from source. */
function workerScript(): { filename: string; execArgv: string[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(`../../workers/kernel-worker.${fromSource ? 'ts' : 'js'}`, import.meta.url);
  return { filename: fileURLToPath(url), execArgv: fromSource ? ['--import', 'tsx'] : [] };
}

/** Test hooks of a task (see workers/kernel-worker.ts). */
export interface TaskHooks {
  readonly crashMarker?: string | undefined;
  readonly exhaustMemory?: boolean | undefined;
  readonly crashAlways?: boolean | undefined;
}

/** A range of one variant, evaluated in a worker. `id` is the chunk it belongs to (for messages and test hooks). */
export interface RangeTask extends TaskHooks {
  readonly id: number;
  readonly variant: number;
  readonly start: number;
  readonly count: number;
  /** Only the pieces of the range claimed from this board (src/engine/piece-board.ts). */
  readonly claim?: ClaimTask;
  /**
   * Storage for the result: a released result's buffer of the range's length, transferred to
   * the worker (which zeroes it) instead of a new one allocated there (src/engine/result-pool.ts).
   */
  readonly spare?: ArrayBuffer;
}

export interface RangeResult {
  readonly buffer: ArrayBuffer;
  /** Routes this range took. */
  readonly counters: KernelCounters;
  /** Claim tasks: the pieces computed (their rows of `buffer` hold results, the others nothing). */
  readonly pieces?: readonly number[];
}

let jobCounter = 0;
const jobKeys = new WeakMap<Job, string>();

/**
 * A key naming a Job object in this process (workers cache kernels by it). Two jobs built from
 * the same spec get different keys: a worker never mistakes one job's kernels for another's.
 */
export function jobKey(job: Job): string {
  let k = jobKeys.get(job);
  if (!k) {
    k = `${process.pid}-${++jobCounter}`;
    jobKeys.set(job, k);
  }
  return k;
}

/** Worker threads started by every kernel pool of this process (tests: a shared pool starts none when reused). */
let threadsStarted = 0;
export function kernelThreadsStarted(): number {
  return threadsStarted;
}

/** What a worker needs to build the kernel of (job, variant): kernel data on the fixed-basis path, else the spec. */
function payloadOf(job: Job, variant: number): KernelPayload {
  const kd = kernelData(job, variant);
  if (kd) return { kernel: slimKernelData(kd), want: job.want };
  return { job: { spec: job.spec, source: job.source, want: job.want }, want: job.want };
}

/**
 * A piscina pool of float64 kernel workers. Workers get no job at start-up: a task names its
 * job (jobKey) and variant, and a worker that has no kernel for them answers `{ miss: true }`;
 * the task is then sent again with the variant's payload (the kernel data of the fixed-basis
 * path, or the validated spec from which the worker rebuilds the job). The first tasks of a
 * (job, variant) carry the payload at once (one per thread: they usually land on different
 * workers), so a fresh job normally costs no round trip.
 */
export class KernelPool {
  readonly piscina: Piscina;
  readonly threads: number;
  /** Shared pools outlive the backends using them; private ones are destroyed on release. */
  readonly shared: boolean;
  private users = 0;
  /** Tasks a worker answered with a miss (it had no kernel for them; sent again with the payload). */
  misses = 0;
  /** Worker threads that have finished a task (their modules are loaded and the kernel compiled). */
  private readonly warmThreads = new Set<number>();
  /** Payloads sent so far per job and variant (-1: the job of the per-point path). */
  private readonly sent = new WeakMap<Job, Map<number, number>>();
  private readonly shapes = new WeakMap<Job, ChunkShape>();
  private destroyed = false;

  constructor(threads: number, shared: boolean, options: { maxHeapMb?: number | undefined } = {}) {
    this.threads = Math.max(1, threads);
    this.shared = shared;
    const { filename, execArgv } = workerScript();
    this.piscina = new Piscina({
      filename,
      execArgv,
      minThreads: this.threads,
      maxThreads: this.threads,
      idleTimeout: 60_000,
      // a second task is posted to a busy worker at once, not held in piscina's queue until the
      // main thread takes the first result (a main thread computing a piece would leave the
      // worker idle meanwhile). Private pools keep one: their test hooks count a crashed
      // worker's tasks as one retry
      concurrentTasksPerWorker: shared ? 2 : 1,
      ...(options.maxHeapMb ? { resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb } } : {}),
    });
    this.piscina.on('workerCreate', () => threadsStarted++);
    // a worker failing while it has no task (piscina emits 'error' then): its replacement is
    // started by piscina, and a task it would have had fails and is retried
    this.piscina.on('error', () => undefined);
  }

  /** Every thread has finished at least one task: a run on this pool pays no start-up. */
  get warm(): boolean {
    if (this.destroyed) return false;
    const t = this.piscina.threads;
    return t.length === this.threads && t.every((w) => this.warmThreads.has(w.threadId));
  }

  /** Backends holding the pool now. */
  get inUse(): number {
    return this.users;
  }

  acquire(): this {
    this.users++;
    return this;
  }

  /** A backend is done with the pool: a shared one stays (its idle workers do not keep the process alive), a private one is destroyed. */
  async release(): Promise<void> {
    this.users = Math.max(0, this.users - 1);
    if (!this.shared) await this.destroy();
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await this.piscina.destroy();
  }

  private shapeOf(job: Job): ChunkShape {
    let s = this.shapes.get(job);
    if (!s) {
      s = chunkShape(job, 0);
      this.shapes.set(job, s);
    }
    return s;
  }

  /** Attach the payload to the first tasks of a (job, variant): as many as there are threads. */
  private eagerPayload(job: Job, variant: number): KernelPayload | undefined {
    const slot = job.model.path === 'fixed-basis' ? variant : -1;
    let m = this.sent.get(job);
    if (!m) {
      m = new Map();
      this.sent.set(job, m);
    }
    const n = m.get(slot) ?? 0;
    if (n >= this.threads) return undefined;
    m.set(slot, n + 1);
    return payloadOf(job, variant);
  }

  /** One attempt: the task, and once more with the payload if the worker had no kernel. */
  private async runOnce(job: Job, task: RangeTask, signal: AbortSignal | undefined): Promise<RangeResult> {
    let payload = this.eagerPayload(job, task.variant);
    // the spare travels with the first message only: once transferred it is the worker's
    const { spare: given, ...rest } = task;
    let spare = given && given.byteLength > 0 ? given : undefined;
    for (;;) {
      const msg: WorkerTask = { ...rest, job: jobKey(job), shape: this.shapeOf(job), ...(payload ? { payload } : {}), ...(spare ? { spare } : {}) };
      const options = { ...(signal ? { signal } : {}), ...(spare ? { transferList: [spare] } : {}) };
      spare = undefined;
      const res = (await this.piscina.run(msg, options)) as WorkerReply;
      if ('miss' in res) {
        if (payload) throw new Error('the worker could not build the kernel from the payload it was sent');
        this.misses++;
        payload = payloadOf(job, task.variant);
        continue;
      }
      this.warmThreads.add(res.thread);
      return res;
    }
  }

  /**
   * Evaluate a range in a worker. A range whose worker dies (killed, out of memory) is retried
   * once on the pool (piscina replaces the dead worker); failing twice stops the run with an
   * EngineError naming the chunk and its parameters. `stats.retries` counts the retries.
   */
  async run(job: Job, task: RangeTask, signal: AbortSignal | undefined, stats: BackendStats): Promise<RangeResult> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 2; attempt++) {
      if (signal?.aborted) throw abortError(signal);
      try {
        // an aborted task stops its worker thread (piscina), so a stop does not wait for the range
        return await this.runOnce(job, attempt === 0 ? task : { ...task, exhaustMemory: false }, signal);
      } catch (e) {
        if (signal?.aborted) throw abortError(signal);
        lastError = e;
        if (attempt === 0) stats.retries++;
      }
    }
    const v = job.grid.variants[task.variant];
    const where = rangeDescription(job.grid, task.start, task.count);
    throw new EngineError(
      `chunk ${task.id} (${task.count} points: ${v ? `${v.thermal}, initial ${job.grid.initials[v.initial]}, ` : ''}${where}) failed twice: ${(lastError as Error)?.message ?? String(lastError)}`,
    );
  }
}

/** Shared pools by thread count. */
const sharedPools = new Map<number, KernelPool>();

export interface AcquireOptions {
  /** Heap limit per worker in MB: such a pool is private (destroyed on release). */
  readonly maxHeapMb?: number | undefined;
  /** A private pool even without a heap limit (test hooks that kill workers). */
  readonly private?: boolean | undefined;
}

/**
 * A kernel pool of `threads` workers. The default configuration is shared by every backend of
 * the process (its workers are started once: later runs pay no start-up); pools with a heap
 * limit or for test hooks are private. Release it with `pool.release()`.
 */
export function acquire(threads: number, options: AcquireOptions = {}): KernelPool {
  const n = Math.max(1, threads);
  if (options.maxHeapMb || options.private) return new KernelPool(n, false, { maxHeapMb: options.maxHeapMb }).acquire();
  let p = sharedPools.get(n);
  if (!p) {
    p = new KernelPool(n, true);
    sharedPools.set(n, p);
  }
  return p.acquire();
}

/** The shared pool of `threads` workers exists and every worker has run a task. */
export function sharedPoolWarm(threads: number): boolean {
  return sharedPools.get(Math.max(1, threads))?.warm ?? false;
}

/** Destroy every shared pool (tests, teardown). A later acquire starts a new one. */
export async function closeSharedPools(): Promise<void> {
  const pools = [...sharedPools.values()];
  sharedPools.clear();
  await Promise.all(pools.map((p) => p.destroy()));
}
