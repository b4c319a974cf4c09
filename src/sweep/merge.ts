import { existsSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from './checkpoint.js';
import { SpecError, UsageError } from '../spec/errors.js';
import { createJob } from '../engine/create-job.js';
import { chunkLength } from '../engine/chunk.js';
import { chunkShape } from '../engine/job.js';
import type { Override } from '../spec/overrides.js';
import { VERSION } from '../version.js';
import { ChunkIntegrityError, planHashOf, readChunkFile } from './chunk-file.js';
import { OUTPUT_NAMES, removeDebris } from './debris.js';
import { setErrorLogDir } from './error-log.js';
import { finalizeRun } from './finalize.js';
import { RunLock } from './lock.js';
import { checkOutDir, makeOutDir } from './out-dir.js';
import { writeFailure } from './os-errors.js';
import { chunkOf, planKey, specHash, type RunPlan } from './plan.js';
import { InterruptedError, NeedsResumeError } from './run-errors.js';
import { stopScope } from './stop.js';

interface ShardInfo {
  key: string;
  plan: RunPlan;
  chunk_ids: number[];
  chunk_files?: Array<{ id: number; bytes: number; sha256: string }>;
  spec_text?: string;
  shard: { index: number; count: number } | null;
  spec: { source: string; sha256: string; overrides: Override[] };
  backend: { name: string; description: string; precision: string; why: string };
  created?: string;
}

function readShardInfo(dir: string): ShardInfo {
  const p = join(dir, 'shard.json');
  if (!existsSync(p)) {
    // started but not finished (interrupted, failed, still running): resumable, exit 3
    if (existsSync(join(dir, '.relaxmap')) || existsSync(join(dir, 'chunks'))) {
      throw new NeedsResumeError(`${dir}: shard incomplete (no shard.json): finish it with relaxmap run --shard I/N --resume (in a relaxmap slurm sweep: resubmit the array), then merge again`);
    }
    throw new UsageError(`${dir}: not a finished shard run (no shard.json); run it with --shard I/N first`);
  }
  let info: ShardInfo;
  try {
    info = JSON.parse(readFileSync(p, 'utf8')) as ShardInfo;
  } catch (e) {
    throw new UsageError(`${p} cannot be read (${(e as Error).message.split('\n')[0]}): rerun that shard with --force`);
  }
  const ok =
    info !== null &&
    typeof info === 'object' &&
    typeof info.key === 'string' &&
    info.plan !== null &&
    typeof info.plan === 'object' &&
    Array.isArray(info.chunk_ids) &&
    info.chunk_ids.every((x) => Number.isInteger(x) && x >= 0) &&
    info.spec !== null &&
    typeof info.spec === 'object' &&
    typeof info.spec.sha256 === 'string';
  if (!ok) throw new UsageError(`${p}: not a relaxmap shard manifest (fields key, plan, chunk_ids, spec missing or malformed): rerun that shard with --force`);
  return info;
}

/**
 * relaxmap merge: combine the chunk files of shard runs (same spec, same plan) into the
 * outputs of one run. Every chunk must come from exactly one shard. The spec is the one
 * the shards were computed with (its text in shard.json, checked against the hash the plan
 * carries), never an editable spec.yaml; every chunk file is verified (size and SHA-256
 * from shard.json, header) before anything is written. --out is locked like a run's.
 */
export async function mergeShards(dirs: readonly string[], outDir: string, force = false): Promise<{ files: string[]; points: number }> {
  if (dirs.length === 0) throw new UsageError('merge: give the shard directories to combine');
  const out = checkOutDir(outDir);
  const shards = dirs.map((d) => ({ dir: resolve(d), info: readShardInfo(d) }));
  for (const s of shards) if (s.dir === out) throw new UsageError(`--out ${outDir}: that is one of the shard directories; merge into another directory`);
  const first = shards[0] as { dir: string; info: ShardInfo };
  for (const s of shards) {
    if (s.info.key !== first.info.key) throw new UsageError(`${s.dir}: its spec or plan differs from ${first.dir}'s; shards must come from the same spec and options`);
  }
  const owner = new Map<number, { dir: string; info: ShardInfo }>();
  for (const s of shards) {
    for (const id of s.info.chunk_ids) {
      const prev = owner.get(id);
      if (prev) throw new UsageError(`chunk ${id} is in both ${prev.dir} and ${s.dir}`);
      owner.set(id, s);
    }
  }
  const plan = first.info.plan;
  const missing: number[] = [];
  for (let id = 0; id < plan.chunkCount; id++) if (!owner.has(id)) missing.push(id);
  if (missing.length > 0) {
    const counts = [...new Set(shards.map((s) => s.info.shard?.count))].join(',');
    const count = first.info.shard?.count;
    const absent = count ? [...new Set(missing.map((id) => id % count))].sort((x, y) => x - y) : [];
    throw new NeedsResumeError(
      `${missing.length} of ${plan.chunkCount} chunks are missing (e.g. chunk ${missing[0]}${absent.length > 0 ? `; shard${absent.length === 1 ? '' : 's'} ${absent.join(', ')} of ${count} not given` : ''}): merge all ${counts} shards, once each has finished`,
    );
  }
  // the spec the shards were computed with
  const spec = first.info.spec;
  const text = first.info.spec_text ?? readFileSync(join(first.dir, 'spec.yaml'), 'utf8');
  const where = first.info.spec_text !== undefined ? `${join(first.dir, 'shard.json')} (spec_text)` : join(first.dir, 'spec.yaml');
  if (specHash(text, spec.overrides) !== plan.specSha256 || plan.specSha256 !== spec.sha256) {
    throw new UsageError(`${where}: the spec text does not match the hash the shards were computed with (edited?): rerun the shards, or restore the spec`);
  }
  let job;
  try {
    job = createJob({ text, source: spec.source, overrides: spec.overrides });
  } catch (e) {
    if (e instanceof SpecError) throw new UsageError(`${where}: the shards' spec no longer validates: ${e.message}`);
    throw e;
  }
  if (planKey(plan) !== first.info.key) throw new UsageError(`${join(first.dir, 'shard.json')}: its plan is inconsistent with its key (edited?)`);
  const planHash = planHashOf(first.info.key);
  const chunkPath = (id: number): string => join((owner.get(id) as { dir: string }).dir, 'chunks', `chunk-${String(id).padStart(6, '0')}.f64`);
  // verify every chunk before writing anything
  for (let id = 0; id < plan.chunkCount; id++) {
    const s = owner.get(id) as { dir: string; info: ShardInfo };
    const expected = s.info.chunk_files?.find((c) => c.id === id);
    const shardName = s.info.shard ? `shard ${s.info.shard.index}/${s.info.shard.count}` : 'its shard';
    try {
      const r = readChunkFile(chunkPath(id), { id, length: chunkLength(chunkShape(job, chunkOf(plan, id).count)), planHash });
      if (expected && expected.sha256 !== r.sha256) throw new ChunkIntegrityError(chunkPath(id), 'SHA-256 differs from the one shard.json records (replaced or corrupted)');
    } catch (e) {
      if (e instanceof ChunkIntegrityError) throw new UsageError(`${e.message}: rerun ${shardName} (${s.dir}) with --force`);
      throw e;
    }
  }

  makeOutDir(out);
  let lock: RunLock;
  try {
    lock = RunLock.acquire(out, { command: 'merge', takeStale: true });
  } catch (e) {
    throw writeFailure(e, join(out, '.relaxmap'));
  }
  const scope = stopScope();
  scope.onForce(() => lock.release());
  setErrorLogDir(join(out, '.relaxmap'));
  try {
    removeDebris(out);
    if (existsSync(join(out, 'run.json')) || existsSync(join(out, 'shard.json'))) {
      if (!force) throw new NeedsResumeError(`${out} already holds a finished run: use --force to overwrite it, or another --out`);
      for (const f of OUTPUT_NAMES) rmSync(join(out, f), { force: true });
    }
    const t0 = performance.now();
    const created = first.info.created ?? new Date().toISOString();
    const fin = await finalizeRun(job, plan, out, chunkPath, {
      planHash,
      stop: scope,
      heartbeat: () => lock.heartbeat(),
      provenance: { created, backend: first.info.backend.name, precision: first.info.backend.precision },
    });
    try {
      writeFileAtomic(
        join(out, 'run.json'),
        `${JSON.stringify(
          {
            relaxmap_version: VERSION,
            spec,
            key: first.info.key,
            merged_from: shards.map((s) => ({ dir: s.dir, shard: s.info.shard, backend: s.info.backend })),
            created,
            backend: first.info.backend,
            grid: { points: plan.points, variants: plan.variants },
            chunks: { size: plan.chunkSize, count: plan.chunkCount },
            finished: new Date().toISOString(),
            files: [...fin.files, 'run.json'],
            nonfinite: { count: fin.nonFinite, first: fin.nonFiniteSample },
            unphysical: { count: fin.unphysical, first: fin.unphysicalSample },
            timings: { write_s: (performance.now() - t0) / 1000 },
          },
          null,
          2,
        )}\n`,
      );
    } catch (e) {
      throw writeFailure(e, join(out, 'run.json'));
    }
    lock.release();
    rmSync(join(out, '.relaxmap'), { recursive: true, force: true });
    setErrorLogDir(undefined);
    return { files: [...fin.files, 'run.json'], points: plan.points };
  } catch (e) {
    lock.release();
    try {
      rmdirSync(join(out, '.relaxmap'));
    } catch {
      // holds the error log
    }
    if (e instanceof InterruptedError) throw new InterruptedError(e.signal, 0, 1, 'nothing was written; rerun the merge');
    throw e;
  } finally {
    scope.dispose();
  }
}
