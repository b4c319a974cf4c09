import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { currentAllocation } from '../cluster/allocation.js';
import { createJob } from '../engine/create-job.js';
import type { EngineBackend } from '../engine/backend.js';
import { chunkLength, type ChunkResult } from '../engine/chunk.js';
import { chunkShape, type Job } from '../engine/job.js';
import { selectBackend, type BackendChoice } from '../engine/select-backend.js';
import { SpecError, UsageError } from '../spec/errors.js';
import { checkOverridesUsed, type Override } from '../spec/overrides.js';
import { specSource, type SpecInput } from '../spec/input.js';
import { VERSION } from '../version.js';
import { admit } from './admission.js';
import { CHUNK_HEADER_BYTES, planHashOf } from './chunk-file.js';
import { RunState, writeFileAtomic } from './checkpoint.js';
import { CHUNK_NAME, OUTPUT_NAMES, removeChunkFiles, removeDebris } from './debris.js';
import { setErrorLogDir } from './error-log.js';
import { finalizeRun, unphysicalSummary, type FinalizeResult } from './finalize.js';
import { flagUnphysical } from '../engine/unphysical.js';
import { checkOutDir, makeOutDir } from './out-dir.js';
import { writeFailure } from './os-errors.js';
import { chunkOf, chunksInFlight, formatBytes, planKey, shardChunks, type RunPlan } from './plan.js';
import { Progress } from './progress.js';
import { InterruptedError, NeedsResumeError, OutputWriteError, RunLockedError } from './run-errors.js';
import { stopScope, whenAborted, type StopScope } from './stop.js';
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
  /** Refuse unless the run plans exactly this (sweep.json's key, for `--shard slurm`). */
  readonly expectPlanKey?: string;
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
  /** --resume of a run that had already finished: nothing was computed or written. */
  readonly nothingToDo?: boolean;
}

/**
 * Default memory budget for chunks in flight: a quarter of what this process may use (the
 * machine, the cgroup limit, a SLURM allocation), at most 2 GB.
 */
export function defaultMemoryBytes(): number {
  return currentAllocation().memoryBudget;
}

/** Read the spec and build the job: every input error surfaces here, before --out is touched. */
export function loadJob(spec: SpecInput, sets: readonly Override[]): Job {
  const { text, source } = specSource(spec);
  const job = createJob({ text, source, overrides: sets });
  checkOverridesUsed(sets, job.spec.usedParameters, source);
  return job;
}

/** Bytes of the chunk files in a directory (checkpoints a resumed run already has). */
function chunkBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  let bytes = 0;
  for (const f of readdirSync(dir)) {
    if (!CHUNK_NAME.test(f)) continue;
    try {
      bytes += statSync(join(dir, f)).size;
    } catch {
      // removed meanwhile
    }
  }
  return bytes;
}

/** The finished run in DIR (run.json or shard.json), if any: its plan key, when recorded. */
function finishedRun(outDir: string): { file: string; key: string | undefined; sha256: string | undefined } | undefined {
  for (const file of ['run.json', 'shard.json']) {
    const p = join(outDir, file);
    if (!existsSync(p)) continue;
    try {
      const info = JSON.parse(readFileSync(p, 'utf8')) as { key?: string; spec?: { sha256?: string } };
      return { file, key: info.key, sha256: info.spec?.sha256 };
    } catch {
      return { file, key: undefined, sha256: undefined };
    }
  }
  return undefined;
}

/** --force: remove the outputs of the previous run (relaxmap's names only; a user's other files stay). */
function removeOutputs(outDir: string): void {
  for (const f of OUTPUT_NAMES) rmSync(join(outDir, f), { force: true });
  removeChunkFiles(join(outDir, 'chunks'));
}

/**
 * relaxmap run: plan, evaluate chunks on a backend with a checkpoint per chunk, then write
 * the outputs from the checkpoints. Interrupted runs continue with resume: checkpoints of
 * the same plan are reused, and since every point's result does not depend on the chunking
 * or the order, the output is identical to an uninterrupted run.
 *
 * Lifecycle: input and admission checks first (nothing is touched); then the lock; the
 * debris of dead runs is removed; a stop signal drops the chunk in flight, keeps the
 * checkpoints and ends with InterruptedError (exit 75).
 */
export async function runSweep(options: RunOptions): Promise<RunSummary> {
  const t0 = performance.now();
  const created = new Date().toISOString();
  const sets = options.sets ?? [];
  const input = options.spec ?? options.specPath;
  if (input === undefined) throw new UsageError('runSweep: give the spec (a spec object or the path of a YAML file)');
  const job = loadJob(input, sets);
  const resume = options.resume ?? false;
  const force = options.force ?? false;
  const shard = options.shard;
  if (shard && !(Number.isInteger(shard.index) && Number.isInteger(shard.count) && shard.count >= 1 && shard.index >= 0 && shard.index < shard.count)) {
    throw new UsageError(`--shard ${shard.index}/${shard.count}: expected I/N with 0 <= I < N`);
  }
  const outDir = checkOutDir(options.outDir);
  const chunksDir = shard ? join(outDir, 'chunks') : join(outDir, '.relaxmap', 'chunks');
  // defaults follow the allocation (affinity mask, cgroup, SLURM); the chunk plan does not
  const allocation = currentAllocation();
  const threads = options.workers ?? allocation.cpus;
  const memoryBytes = options.memoryBytes ?? allocation.memoryBudget;
  const admission = admit(job, {
    memoryBytes,
    memoryGiven: options.memoryBytes !== undefined,
    ...(options.workers ? { workers: options.workers } : {}),
    threads,
    ...(options.chunkSize ? { chunkSize: options.chunkSize } : {}),
    outDir,
    ...(shard ? { shardCount: shard.count } : {}),
    presentBytes: resume ? chunkBytes(chunksDir) : 0,
  });
  const plan = admission.plan;
  const key = planKey(plan);
  const planHash = planHashOf(key);
  if (options.expectPlanKey !== undefined && key !== options.expectPlanKey) {
    throw new UsageError(`${outDir}: this shard's chunk plan differs from its sweep's (sweep.json): the spec copy, --set or --chunk-size changed since relaxmap slurm planned it`);
  }

  makeOutDir(outDir);
  const state = new RunState(outDir, shard ? chunksDir : undefined);
  try {
    state.acquire({ command: 'run', takeStale: resume || force });
  } catch (e) {
    throw writeFailure(e, state.dir);
  }
  const scope = stopScope();
  scope.onForce(() => state.release());
  setErrorLogDir(state.dir);
  let backend: EngineBackend | undefined;
  try {
    removeDebris(outDir);
    const finished = finishedRun(outDir);
    if (finished && !force) {
      if (!resume) throw new NeedsResumeError(`${outDir} already holds a finished run: use --force to overwrite it, or another --out`);
      const same = finished.key !== undefined ? finished.key === key : finished.sha256 === plan.specSha256;
      if (!same) throw new NeedsResumeError(`${outDir} holds a finished run of another spec or plan (${finished.file}): use --force to overwrite it, or another --out`);
      state.remove();
      setErrorLogDir(undefined);
      return { outDir, files: [], points: plan.points, chunksComputed: 0, chunksResumed: 0, backend: 'none', why: 'nothing to do', seconds: (performance.now() - t0) / 1000, nonFinite: 0, nothingToDo: true };
    }
    if (force) {
      removeOutputs(outDir);
      state.clearCheckpoints();
    }
    const ids = shardChunks(plan, shard);
    const stored = state.readJson<{ key?: string }>('plan.json');
    const present = state.finishedChunks();
    if (!resume && !force && (present.size > 0 || stored)) {
      const kept = ids.filter((id) => present.has(id)).length;
      throw new NeedsResumeError(`${outDir} holds an interrupted run (${kept}/${ids.length} chunks checkpointed): continue it with --resume, or start over with --force`);
    }
    if (resume && present.size > 0 && !stored) {
      throw new NeedsResumeError(`${outDir} has ${present.size} checkpoints but no plan (.relaxmap/plan.json): which spec they belong to is unknown; start over with --force`);
    }
    if (resume && stored && stored.key !== key) {
      throw new NeedsResumeError(`${outDir}: the spec, its overrides or the chunk plan changed since the interrupted run; rerun it with the same spec and options, or start over with --force`);
    }
    if (!stored) state.writeJson('plan.json', { key, plan, shard: shard ?? null, created, spec_sha256: plan.specSha256 });

    const len = (id: number): number => chunkLength(chunkShape(job, chunkOf(plan, id).count));
    const verified = state.verifiedChunks(ids, len, planHash);
    for (const bad of verified.bad) {
      if (!options.quiet) process.stderr.write(`relaxmap: warning: checkpoint ${bad.path} ${bad.why}; computing that chunk again\n`);
    }
    const manifest = new Map<number, { bytes: number; sha256: string }>();
    for (const [id, sha256] of verified.ok) manifest.set(id, { bytes: CHUNK_HEADER_BYTES + len(id) * 8, sha256 });
    const pending = ids.filter((id) => !verified.ok.has(id));
    const resumed = ids.length - pending.length;
    const shardPoints = ids.reduce((s, id) => s + chunkOf(plan, id).count, 0);
    const pendingPoints = pending.reduce((s, id) => s + chunkOf(plan, id).count, 0);

    let selection: Awaited<ReturnType<typeof selectBackend>>;
    try {
      selection = await selectBackend(job, pendingPoints, {
        backend: options.backend ?? 'auto',
        workers: threads,
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
    // the memory budget limits the chunks in flight (it never changes the chunking)
    const lanes = chunksInFlight(plan, memoryBytes - admission.tableBytes * (threads + 1), backend.lanes ?? threads + 1);
    const progress = new Progress(shardPoints, shardPoints - pendingPoints, {
      quiet: options.quiet ?? false,
      lanes: Math.min(lanes.inFlight, Math.max(1, pending.length)),
      ...(selection.estimateSeconds !== undefined ? { estimateSeconds: selection.estimateSeconds } : {}),
    });
    for (const w of job.spec.warnings) progress.note(`warning: ${w}`);
    if (!options.quiet) {
      progress.note(
        `${plan.points} points in ${plan.chunkCount} chunks of ${plan.chunkSize}${shard ? `, shard ${shard.index}/${shard.count}: ${ids.length} chunks` : ''}${resumed > 0 ? `, ${resumed} chunks from checkpoints` : ''}; backend ${backend.name}: ${selection.why}`,
      );
    }
    if (!lanes.fits && !options.quiet) {
      progress.note(`warning: one chunk (${formatBytes(plan.chunkBytes)}, twice that while checkpointed) exceeds the memory budget ${formatBytes(memoryBytes)}; evaluating one chunk at a time. A smaller --chunk-size (the same for every shard) lowers it`);
    }
    const tCompute = performance.now();
    try {
      await dispatchChunks(
        backend,
        plan,
        pending,
        lanes.inFlight,
        async (id, result, count) => {
          flagUnphysical(job, chunkOf(plan, id), result);
          try {
            // asynchronous: the write and its fsync overlap the other lanes' chunks
            manifest.set(id, await state.writeChunkAsync(id, result.buffer, planHash));
          } catch (e) {
            throw writeFailure(e, state.chunkPath(id), admission.diskBytes);
          }
          state.heartbeat();
          const lost = state.runLock?.lostTo;
          if (lost) throw new RunLockedError(`${outDir}: another relaxmap run (pid ${lost.pid} on ${lost.host}) took over the lock; stopping (the checkpoints stay)`);
          progress.advance(count);
        },
        scope.signal,
      );
    } finally {
      progress.stop();
    }
    throwIfStopped(scope, () => ids.filter((id) => manifest.has(id)).length, ids.length);
    const computeSeconds = (performance.now() - tCompute) / 1000;
    const stats = backend.stats();
    await backend.close();
    backend = undefined;

    const info = {
      relaxmap_version: VERSION,
      spec: { source: job.source.source, name: job.spec.spec.name ?? null, sha256: plan.specSha256, overrides: sets },
      key,
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
      try {
        writeFileAtomic(join(outDir, 'spec.yaml'), job.source.text);
        writeFileAtomic(
          join(outDir, 'shard.json'),
          `${JSON.stringify(
            {
              ...info,
              plan,
              chunk_ids: ids,
              // what merge verifies before writing anything, and the spec it merges with
              chunk_files: ids.map((id) => ({ id, ...(manifest.get(id) as { bytes: number; sha256: string }) })),
              spec_text: job.source.text,
              finished: new Date().toISOString(),
              timings: { total_s: (performance.now() - t0) / 1000, compute_s: computeSeconds },
            },
            null,
            2,
          )}\n`,
        );
      } catch (e) {
        throw writeFailure(e, join(outDir, 'shard.json'), admission.diskBytes);
      }
      state.remove();
      setErrorLogDir(undefined);
      return { outDir, files: ['chunks/', 'shard.json', 'spec.yaml'], points: shardPoints, chunksComputed: pending.length, chunksResumed: resumed, backend: selection.backend.name, why: selection.why, seconds: (performance.now() - t0) / 1000, nonFinite: 0 };
    }

    const fin = await finalizeRun(job, plan, outDir, (id) => state.chunkPath(id), {
      planHash,
      stop: scope,
      needBytes: admission.diskBytes,
      heartbeat: () => state.heartbeat(),
      provenance: { created, backend: info.backend.name, precision: info.backend.precision },
    });
    // a stop after the outputs are written: finish (run.json) rather than redo the writing
    reportNonFinite(fin, options.quiet ?? false);
    if (fin.unphysical > 0 && !options.quiet) process.stderr.write(`relaxmap: warning: ${unphysicalSummary(fin)}\n`);
    const total = (performance.now() - t0) / 1000;
    try {
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
    } catch (e) {
      throw writeFailure(e, join(outDir, 'run.json'), admission.diskBytes);
    }
    state.remove();
    setErrorLogDir(undefined);
    return { outDir, files: [...fin.files, 'run.json'], points: plan.points, chunksComputed: pending.length, chunksResumed: resumed, backend: selection.backend.name, why: selection.why, seconds: total, nonFinite: fin.nonFinite };
  } catch (e) {
    // a stopped run does not wait long for worker threads to wind down
    if (backend) {
      const closing = backend.close().catch(() => undefined);
      await (scope.stoppedBy ? Promise.race([closing, new Promise((ok) => setTimeout(ok, 300).unref())]) : closing);
    }
    state.release();
    state.pruneIfEmpty();
    // a stop signal that arrived while a write failed is still a stop
    const known = [InterruptedError, RunLockedError, NeedsResumeError, OutputWriteError, UsageError, SpecError].some((C) => e instanceof C);
    if (scope.stoppedBy && !known) {
      const ids = shardChunks(plan, shard);
      const present = state.finishedChunks();
      throw new InterruptedError(scope.stoppedBy, ids.filter((id) => present.has(id)).length, ids.length);
    }
    throw e;
  } finally {
    scope.dispose();
  }
}

function throwIfStopped(scope: StopScope, kept: () => number, total: number): void {
  if (scope.stoppedBy) throw new InterruptedError(scope.stoppedBy, kept(), total);
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

/**
 * Evaluate chunks with at most `inFlight` outstanding on the backend, handing each result
 * to `onResult` as it arrives (out of order). The first failure stops new dispatches and is
 * rethrown once the chunks in flight have settled. When `signal` aborts, no chunk is
 * dispatched any more and the chunks in flight are dropped at once (not awaited).
 * `onResult` must not keep the result, or a view of it, once it has returned (or its promise
 * has resolved): the result is then released to the backend, which may reuse its storage.
 */
export async function dispatchChunks(
  backend: EngineBackend,
  plan: RunPlan,
  ids: readonly number[],
  inFlight: number,
  onResult: (id: number, result: ChunkResult, count: number) => void | Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  let next = 0;
  let failure: unknown;
  const stopped = signal ? whenAborted(signal).then(() => undefined) : undefined;
  const lane = async (): Promise<void> => {
    while (failure === undefined && next < ids.length && !signal?.aborted) {
      const id = ids[next++] as number;
      const chunk = chunkOf(plan, id);
      try {
        const evaluation = backend.evaluate(chunk, signal);
        const result = stopped ? await Promise.race([evaluation, stopped]) : await evaluation;
        if (result === undefined) {
          evaluation.catch(() => undefined);
          return;
        }
        // a chunk that finished is kept even when the stop came meanwhile
        await onResult(id, result, chunk.count);
        // onResult is done with it (its contract): the storage may hold a later chunk
        backend.release?.(result);
      } catch (e) {
        if (signal?.aborted && (e as Error)?.name === 'AbortError') return;
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(inFlight, ids.length)) }, lane));
  if (failure !== undefined) throw failure;
}
