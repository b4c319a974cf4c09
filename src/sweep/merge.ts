import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from './checkpoint.js';
import { UsageError } from '../spec/errors.js';
import { createJob } from '../engine/create-job.js';
import type { Override } from '../spec/overrides.js';
import { VERSION } from '../version.js';
import { finalizeRun } from './finalize.js';
import { planKey, type RunPlan } from './plan.js';

interface ShardInfo {
  key: string;
  plan: RunPlan;
  chunk_ids: number[];
  shard: { index: number; count: number } | null;
  spec: { source: string; sha256: string; overrides: Override[] };
  backend: { name: string; description: string; precision: string; why: string };
  created?: string;
}

/**
 * relaxmap merge: combine the chunk files of shard runs (same spec, same plan) into the
 * outputs of one run. Every chunk must come from exactly one shard.
 */
export async function mergeShards(dirs: readonly string[], outDir: string, force = false): Promise<{ files: string[]; points: number }> {
  if (dirs.length === 0) throw new UsageError('merge: give the shard directories to combine');
  const shards = dirs.map((d) => {
    const p = join(d, 'shard.json');
    if (!existsSync(p)) throw new UsageError(`${d}: not a finished shard run (no shard.json); run it with --shard I/N first`);
    return { dir: resolve(d), info: JSON.parse(readFileSync(p, 'utf8')) as ShardInfo };
  });
  const first = shards[0] as { dir: string; info: ShardInfo };
  for (const s of shards) {
    if (s.info.key !== first.info.key) throw new UsageError(`${s.dir}: its spec or plan differs from ${first.dir}'s; shards must come from the same spec and options`);
  }
  const owner = new Map<number, string>();
  for (const s of shards) {
    for (const id of s.info.chunk_ids) {
      const prev = owner.get(id);
      if (prev) throw new UsageError(`chunk ${id} is in both ${prev} and ${s.dir}`);
      owner.set(id, s.dir);
    }
  }
  const plan = first.info.plan;
  const missing: number[] = [];
  for (let id = 0; id < plan.chunkCount; id++) if (!owner.has(id)) missing.push(id);
  if (missing.length > 0) {
    const counts = [...new Set(shards.map((s) => s.info.shard?.count))].join(',');
    throw new UsageError(`${missing.length} of ${plan.chunkCount} chunks are missing (e.g. chunk ${missing[0]}): merge all ${counts} shards`);
  }
  const text = readFileSync(join(first.dir, 'spec.yaml'), 'utf8');
  const job = createJob({ text, source: first.info.spec.source, overrides: first.info.spec.overrides });
  const out = resolve(outDir);
  if (existsSync(join(out, 'run.json')) && !force) throw new UsageError(`${out} already holds a finished run: use --force to overwrite it, or another --out`);
  mkdirSync(out, { recursive: true });
  // the rebuilt plan must be the shards' plan (same spec text and overrides)
  const check = { ...plan };
  if (planKey(check) !== first.info.key) throw new UsageError('shard plan is inconsistent with its spec');
  const t0 = performance.now();
  const created = first.info.created ?? new Date().toISOString();
  const fin = await finalizeRun(job, plan, out, (id) => join(owner.get(id) as string, 'chunks', `chunk-${String(id).padStart(6, '0')}.f64`), {
    created,
    backend: first.info.backend.name,
    precision: first.info.backend.precision,
  });
  writeFileAtomic(
    join(out, 'run.json'),
    `${JSON.stringify(
      {
        relaxmap_version: VERSION,
        spec: first.info.spec,
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
  return { files: [...fin.files, 'run.json'], points: plan.points };
}
