import { existsSync, mkdirSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { totalmem } from 'node:os';
import { createJob } from '../engine/create-job.js';
import type { EngineBackend } from '../engine/backend.js';
import type { ChunkResult } from '../engine/chunk.js';
import type { Job } from '../engine/job.js';
import { selectBackend, type BackendChoice } from '../engine/select-backend.js';
import { UsageError } from '../spec/errors.js';
import { checkOverridesUsed, type Override } from '../spec/overrides.js';
import { specSource, type SpecInput } from '../spec/input.js';
import { VERSION } from '../version.js';
import { RunState, writeFileAtomic } from './checkpoint.js';
import { finalizeRun, unphysicalSummary, type FinalizeResult } from './finalize.js';
import { flagUnphysical } from '../engine/unphysical.js';
import { chunkOf, makePlan, planKey, shardChunks, type RunPlan } from './plan.js';
import { Progress } from './progress.js';
import { parameterUnits } from './units.js';

export interface Shard {
  readonly index: number;
  readonly count: number;
}

export interface RunOptions {
  /** The spec: a YAML file's path or a spec object (the YAML's fields). */
  readonly spec?: SpecInput;
  /** The spec file (what the CLI passes); `spec` takes precedence. */
  readonly specPath?: string;
  readonly outDir: string;
  readonly sets?: readonly Override[];
  readonly backend?: BackendChoice;
  readonly workers?: number;
  readonly tfjs?: string;
  readonly shard?: Shard;
  readonly resume?: boolean;
  readonly force?: boolean;
  readonly memoryBytes?: number;
  readonly chunkSize?: number;
  readonly quiet?: boolean;
  readonly command?: string;
  /** Test hooks forwarded to the worker pool. */
  readonly faultInjection?: { readonly chunk: number; readonly crashMarker?: string; readonly exhaustMemory?: boolean };
  readonly maxHeapMb?: number;
}

export interface RunSummary {
  readonly outDir: string;
  readonly files: readonly string[];
  readonly points: number;
  readonly chunksComputed: number;
  readonly chunksResumed: number;
  readonly backend: string;
  readonly why: string;
  readonly seconds: number;
  readonly nonFinite: number;
}

/** Default memory budget for chunks in flight: a quarter of the machine, at most 2 GB. */
export function defaultMemoryBytes(): number {
  return Math.min(2e9, totalmem() / 4);
}

const OUTPUT_FILES = ['surfaces.nc', 'trajectories.nc', 'contributions.nc', 'points.csv', 'run.json', 'spec.yaml', 'shard.json', 'chunks', '.relaxmap'];

/** Read the spec and build the job: every input error surfaces here, before --out is touched. */
export function loadJob(spec: SpecInput, sets: readonly Override[]): Job {
  const { text, source } = specSource(spec);
  const job = createJob({ text, source, overrides: sets });
  checkOverridesUsed(sets, job.spec.usedParameters, source);
  return job;
}

function prepareOutDir(outDir: string, resume: boolean, force: boolean): void {
  const finished = existsSync(join(outDir, 'run.json')) || existsSync(join(outDir, 'shard.json'));
  const interrupted = existsSync(join(outDir, '.relaxmap'));
  if (finished && !interrupted && !force) {
    throw new UsageError(`${outDir} already holds a finished run: use --force to overwrite it, or another --out`);
  }
  if (force) for (const f of OUTPUT_FILES) rmSync(join(outDir, f), { recursive: true, force: true });
  if (!resume && !force && interrupted) {
    // leave the decision to the lock: RunState.acquire explains --resume / --force
  }
  mkdirSync(outDir, { recursive: true });
}

/**
 * relaxmap run: plan, evaluate chunks on a backend with a checkpoint per chunk, then write
 * the outputs from the checkpoints. Interrupted runs continue with resume: checkpoints of
 * the same plan are reused, and since every point's result does not depend on the chunking
 * or the order, the output is identical to an uninterrupted run.
 */
export async function runSweep(options: RunOptions): Promise<RunSummary> {
  const t0 = performance.now();
  const created = new Date().toISOString();
  const sets = options.sets ?? [];
  const input = options.spec ?? options.specPath;
  if (input === undefined) throw new UsageError('runSweep: give the spec (a spec object or the path of a YAML file)');
  const job = loadJob(input, sets);
  const outDir = resolve(options.outDir);
  const resume = options.resume ?? false;
  const shard = options.shard;
  if (shard && !(Number.isInteger(shard.index) && Number.isInteger(shard.count) && shard.count >= 1 && shard.index >= 0 && shard.index < shard.count)) {
    throw new UsageError(`--shard ${shard.index}/${shard.count}: expected I/N with 0 <= I < N`);
  }
  const threads = options.workers ?? undefined;
  const plan = makePlan(job, {
    memoryBytes: options.memoryBytes ?? defaultMemoryBytes(),
    inFlight: (threads ?? 2) + 1,
    ...(options.chunkSize ? { chunkSize: options.chunkSize } : {}),
  });
  prepareOutDir(outDir, resume, options.force ?? false);
  const state = new RunState(outDir, shard ? join(outDir, 'chunks') : undefined);
  state.acquire(resume);
  const releaseOnSignal = (): void => {
    state.release();
    process.exit(130);
  };
  process.once('SIGINT', releaseOnSignal);
  process.once('SIGTERM', releaseOnSignal);
  let backend: EngineBackend | undefined;
  try {
    const stored = state.readJson<{ key: string }>('plan.json');
    if (resume && stored && stored.key !== planKey(plan)) {
      throw new UsageError(`${outDir}: the spec, its overrides or the chunk plan changed since the interrupted run; start over with --force`);
    }
    if (!resume) state.clearChunks();
    state.writeJson('plan.json', { key: planKey(plan), plan, shard: shard ?? null, created });
    const ids = shardChunks(plan, shard);
    const done = state.finishedChunks();
    const pending = ids.filter((id) => !done.has(id));
    const resumed = ids.length - pending.length;
    const shardPoints = ids.reduce((s, id) => s + chunkOf(plan, id).count, 0);
    const pendingPoints = pending.reduce((s, id) => s + chunkOf(plan, id).count, 0);

    let selection: Awaited<ReturnType<typeof selectBackend>>;
    try {
      selection = await selectBackend(job, pendingPoints, {
        backend: options.backend ?? 'auto',
        ...(options.workers ? { workers: options.workers } : {}),
        ...(options.tfjs ? { tfjs: options.tfjs } : {}),
        ...(options.faultInjection ? { faultInjection: options.faultInjection } : {}),
        ...(options.maxHeapMb ? { maxHeapMb: options.maxHeapMb } : {}),
        chunking: { chunkSize: plan.chunkSize, bytesPerPoint: plan.bytesPerPoint, memoryBytes: options.memoryBytes ?? defaultMemoryBytes() },
      });
    } catch (e) {
      // a backend that cannot be had (--tfjs webgpu without an adapter) is bad input: leave nothing behind
      if (!resume && e instanceof UsageError) {
        state.release();
        state.remove();
        removeIfEmpty(outDir);
      }
      throw e;
    }
    backend = selection.backend;
    const lanes = backend.lanes ?? (threads ?? 2) + 1;
    const progress = new Progress(shardPoints, shardPoints - pendingPoints, {
      quiet: options.quiet ?? false,
      lanes: Math.min(lanes, Math.max(1, pending.length)),
      ...(selection.estimateSeconds !== undefined ? { estimateSeconds: selection.estimateSeconds } : {}),
    });
    for (const w of job.spec.warnings) progress.note(`warning: ${w}`);
    if (!options.quiet) {
      progress.note(
        `${plan.points} points in ${plan.chunkCount} chunks of ${plan.chunkSize}${shard ? `, shard ${shard.index}/${shard.count}: ${ids.length} chunks` : ''}${resumed > 0 ? `, ${resumed} chunks from checkpoints` : ''}; backend ${backend.name}: ${selection.why}`,
      );
    }
    const tCompute = performance.now();
    await evaluateChunks(backend, plan, pending, state, progress, lanes, job);
    progress.stop();
    const computeSeconds = (performance.now() - tCompute) / 1000;
    const stats = backend.stats();
    await backend.close();
    backend = undefined;

    const info = {
      relaxmap_version: VERSION,
      spec: { source: job.source.source, name: job.spec.spec.name ?? null, sha256: plan.specSha256, overrides: sets },
      command: options.command ?? null,
      created,
      backend: {
        name: selection.backend.name,
        description: selection.backend.description,
        precision: selection.backend.precision,
        why: selection.why,
        candidates: selection.candidates,
        adapter: selection.adapter ?? null,
        ...(stats.device ? { stats: stats.device } : {}),
      },
      grid: {
        dims: [
          ...job.grid.categorical.map((c) => ({ name: c.name, length: c.labels.length, labels: c.labels })),
          ...job.grid.dims.map((d) => ({ name: d.name, params: d.params, length: d.length, kind: d.kind, units: d.params.map((p) => parameterUnits(job.spec.spec)[p]?.units ?? '1') })),
        ],
        points: plan.points,
        variants: plan.variants,
      },
      chunks: { size: plan.chunkSize, count: plan.chunkCount, computed: pending.length, resumed },
      shard: shard ?? null,
      precision: { checked: stats.precisionChecked, recomputed: stats.precisionRecomputed, max_error: stats.precisionMaxError },
      kernel: stats.kernel,
      retries: stats.retries,
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
    };

    if (shard) {
      writeFileAtomic(join(outDir, 'spec.yaml'), job.source.text);
      writeFileAtomic(
        join(outDir, 'shard.json'),
        `${JSON.stringify({ ...info, key: planKey(plan), plan, chunk_ids: ids, finished: new Date().toISOString(), timings: { total_s: (performance.now() - t0) / 1000, compute_s: computeSeconds } }, null, 2)}\n`,
      );
      state.release();
      state.remove();
      return { outDir, files: ['chunks/', 'shard.json', 'spec.yaml'], points: shardPoints, chunksComputed: pending.length, chunksResumed: resumed, backend: selection.backend.name, why: selection.why, seconds: (performance.now() - t0) / 1000, nonFinite: 0 };
    }

    const fin = await finalizeRun(job, plan, outDir, (id) => state.chunkPath(id), { created, backend: info.backend.name, precision: info.backend.precision });
    reportNonFinite(fin, options.quiet ?? false);
    if (fin.unphysical > 0 && !options.quiet) process.stderr.write(`relaxmap: warning: ${unphysicalSummary(fin)}\n`);
    const total = (performance.now() - t0) / 1000;
    writeFileAtomic(
      join(outDir, 'run.json'),
      `${JSON.stringify(
        {
          ...info,
          finished: new Date().toISOString(),
          files: [...fin.files, 'run.json'],
          nonfinite: { count: fin.nonFinite, first: fin.nonFiniteSample },
          unphysical: { count: fin.unphysical, first: fin.unphysicalSample },
          warnings: job.spec.warnings,
          timings: { total_s: total, compute_s: computeSeconds, write_s: fin.seconds, points_per_s: pendingPoints / Math.max(computeSeconds, 1e-9) },
        },
        null,
        2,
      )}\n`,
    );
    state.remove();
    return { outDir, files: [...fin.files, 'run.json'], points: plan.points, chunksComputed: pending.length, chunksResumed: resumed, backend: selection.backend.name, why: selection.why, seconds: total, nonFinite: fin.nonFinite };
  } catch (e) {
    if (backend) await backend.close().catch(() => undefined);
    state.release();
    throw e;
  } finally {
    process.removeListener('SIGINT', releaseOnSignal);
    process.removeListener('SIGTERM', releaseOnSignal);
  }
}

function removeIfEmpty(dir: string): void {
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // not ours to remove
  }
}

function reportNonFinite(fin: FinalizeResult, quiet: boolean): void {
  if (fin.nonFinite === 0 || quiet) return;
  const first = fin.nonFiniteSample[0];
  process.stderr.write(
    `relaxmap: warning: ${fin.nonFinite} point${fin.nonFinite === 1 ? '' : 's'} gave non-finite results; they are NaN in the outputs, flagged, and listed in run.json${first ? ` (first: ${first.variant}, ${Object.entries(first.params).map(([k, v]) => `${k}=${v}`).join(' ')})` : ''}\n`,
  );
}

/** Keep `inFlight` chunks on the backend; checkpoint each result as it arrives. */
async function evaluateChunks(backend: EngineBackend, plan: RunPlan, pending: readonly number[], state: RunState, progress: Progress, inFlight: number, job: Job): Promise<void> {
  await dispatchChunks(backend, plan, pending, inFlight, async (id, result, count) => {
    flagUnphysical(job, chunkOf(plan, id), result);
    // asynchronous: the write overlaps the other lanes' chunks
    await state.writeChunkAsync(id, result.buffer);
    progress.advance(count);
  });
}

/**
 * Evaluate chunks with at most `inFlight` outstanding on the backend, handing each result
 * to `onResult` as it arrives (out of order). The first failure stops new dispatches and is
 * rethrown once the chunks in flight have settled.
 */
export async function dispatchChunks(
  backend: EngineBackend,
  plan: RunPlan,
  ids: readonly number[],
  inFlight: number,
  onResult: (id: number, result: ChunkResult, count: number) => void | Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: unknown;
  const lane = async (): Promise<void> => {
    while (failure === undefined && next < ids.length) {
      const id = ids[next++] as number;
      const chunk = chunkOf(plan, id);
      try {
        const result = await backend.evaluate(chunk);
        await onResult(id, result, chunk.count);
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(inFlight, ids.length)) }, lane));
  if (failure !== undefined) throw failure;
}
