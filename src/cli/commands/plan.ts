import { freemem } from 'node:os';
import { resolve } from 'node:path';
import { calibrate, selectBackend } from '../../engine/select-backend.js';
import { currentAllocation } from '../../cluster/allocation.js';
import { shardLines, shardReport } from '../../cluster/shard-report.js';
import { parseSets } from '../../spec/overrides.js';
import { defaultMemoryBytes, loadJob } from '../../sweep/executor.js';
import { admit } from '../../sweep/admission.js';
import { checkOutDir } from '../../sweep/out-dir.js';
import { formatBytes, parseBytes } from '../../sweep/plan.js';
import { parseBackend, parseCount } from './run.js';

export interface PlanCommandOptions {
  readonly set?: string[];
  readonly memory?: string;
  readonly backend?: string;
  readonly workers?: string;
  readonly out?: string;
  readonly json?: boolean;
  readonly shards?: string;
  readonly chunkSize?: string;
  readonly cpus?: string;
  readonly walltime?: string;
}

/** relaxmap plan: what a run would do, measured on a short calibration, without writing anything. */
export async function planCommand(specPath: string, opts: PlanCommandOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const job = loadJob(specPath, parseSets(opts.set ?? []));
  const workersGiven = parseCount('--workers', opts.workers);
  const workers = workersGiven ?? currentAllocation().cpus;
  const shardsWanted = parseCount('--shards', opts.shards);
  const cpusPerShard = parseCount('--cpus', opts.cpus) ?? 1;
  const chunkSize = parseCount('--chunk-size', opts.chunkSize);
  const memoryBytes = opts.memory ? parseBytes(opts.memory) : defaultMemoryBytes();
  const target = opts.out !== undefined ? checkOutDir(opts.out) : resolve('.');
  // the admission check of run (points, tables, chunk files, free space, --workers)
  const { plan, freeBytes: free, diskBytes } = admit(job, {
    memoryBytes,
    memoryGiven: opts.memory !== undefined,
    ...(workersGiven ? { workers: workersGiven } : {}),
    threads: workers,
    ...(chunkSize ? { chunkSize } : {}),
    outDir: target,
    ...(shardsWanted ? { shardCount: shardsWanted } : {}),
  });
  const selection = await selectBackend(job, plan.points, { backend: parseBackend(opts.backend), workers });
  const eta = selection.estimateSeconds;
  await selection.backend.close();
  const shards = shardsWanted !== undefined || opts.walltime !== undefined ? shardReport(plan, (selection.calibration ?? calibrate(job)).perPoint, cpusPerShard, shardsWanted, opts.walltime) : undefined;
  const info = {
    spec: specPath,
    points: plan.points,
    dims: [...job.grid.categorical.map((c) => `${c.name}[${c.labels.length}]`), ...job.grid.dims.map((d) => `${d.name}[${d.length}]`)],
    generator: { path: job.model.path, reduced_dimension: job.problems.map((p) => p.reduction.r), full_dimension: job.model.basis.size },
    chunks: { size: plan.chunkSize, count: plan.chunkCount, bytes: plan.chunkBytes },
    memory_budget: memoryBytes,
    backend: { name: selection.backend.name, why: selection.why },
    eta_s: eta ?? null,
    outputs: plan.outputBytes,
    free_bytes: free ?? null,
    disk_bytes: diskBytes,
    machine_free_memory: freemem(),
    ...(shards ? { shards } : {}),
  };
  if (opts.json) {
    out.write(`${JSON.stringify(info)}\n`);
    return;
  }
  out.write(
    [
      `plan for ${specPath}`,
      `  points: ${plan.points.toLocaleString('en-US')} = ${info.dims.join(' x ') || '1'}`,
      `  generator: ${job.model.path}, reduced dimension ${info.generator.reduced_dimension.join('/')} of ${info.generator.full_dimension}`,
      `  chunks: ${plan.chunkCount} of ${plan.chunkSize} points (${formatBytes(plan.chunkBytes)} each; budget ${formatBytes(memoryBytes)})`,
      `  backend: ${selection.backend.name}: ${selection.why}`,
      `  ETA: ${eta === undefined ? 'not calibrated for this backend' : `${eta < 1 ? eta.toFixed(2) : eta.toFixed(0)} s`}`,
      `  outputs: surfaces ${formatBytes(plan.outputBytes.surfaces)}, trajectories ${formatBytes(plan.outputBytes.trajectories)}, contributions ${formatBytes(plan.outputBytes.contributions)}, points.csv ~${formatBytes(plan.outputBytes.csv)}${free !== undefined ? ` (${formatBytes(free)} free)` : ''}`,
      ...(shards ? shardLines(shards) : []),
    ].join('\n') + '\n',
  );
}
