import { freemem, tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createNetcdf, type NcVariableHeader } from '../../io/netcdf.js';
import { outputLayout, surfaceVariables, trajectoryVariables } from '../../sweep/output-layout.js';
import { calibrate, poolEstimate, selectBackend } from '../../engine/select-backend.js';
import { currentAllocation } from '../../cluster/allocation.js';
import { shardLines, shardReport } from '../../cluster/shard-report.js';
import { parseSets } from '../../spec/overrides.js';
import { defaultMemoryBytes, loadJob } from '../../sweep/executor.js';
import { admit } from '../../sweep/admission.js';
import { checkOutDir } from '../../sweep/out-dir.js';
import { formatBytes, parseBytes, type RunPlan } from '../../sweep/plan.js';
import { parseBackend, parseCount } from './run.js';
import { evaluatePoint } from '../../evaluate/point.js';
import { pointParams } from '../../sweep/grid.js';

export interface PlanCommandOptions {
  readonly set?: string[];
  readonly memory?: string;
  readonly backend?: string;
  readonly workers?: string;
  readonly tfjs?: string;
  readonly out?: string;
  readonly json?: boolean;
  readonly shards?: string;
  readonly chunkSize?: string;
  readonly cpus?: string;
  readonly walltime?: string;
}

/**
 * Seconds to write the outputs: NetCDF and CSV formatting per value (measured on this code:
 * about 0.1 us per surface value, 0.05 us per trajectory value, 1 us per CSV field), plus
 * contributions, which are evaluated point by point (timed on one point).
 */
async function estimateWriteSeconds(job: ReturnType<typeof loadJob>, plan: RunPlan): Promise<number> {
  // the NetCDF writer's start-up (a few seconds cold in a fresh process, nothing when warm):
  // measured by writing a one-value file into a temporary directory
  // the writer's fixed costs (start-up, one dataset per variable, fsync): measured by writing
  // files with the same variables over a one-point grid into a temporary directory
  const layout = outputLayout(job, plan);
  const dir = mkdtempSync(join(tmpdir(), 'relaxmap-plan-'));
  const tw = performance.now();
  try {
    const one = (d: { name: string }): { name: string; values: Float64Array } => ({ name: d.name, values: Float64Array.of(0) });
    const files: Array<[string, NcVariableHeader[], Array<{ name: string }>]> = [['s.nc', surfaceVariables(layout), [...layout.sweepDims, ...(layout.hasModes ? [layout.modeDim] : [])]]];
    if (plan.want.trajectories && plan.nTimes > 0) files.push(['t.nc', trajectoryVariables(layout), [...layout.sweepDims, layout.timeDim]]);
    for (const [name, vars, dims] of files) {
      const w = await createNetcdf(join(dir, name), { dims: dims.map(one), variables: vars.filter((v) => v.dims.every((x) => dims.some((d) => d.name === x))) });
      await w.close();
    }
  } catch {
    // an estimate only
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const startup = (performance.now() - tw) / 1000;
  const surfaces = plan.outputBytes.surfaces / 8;
  const traj = plan.outputBytes.trajectories / 8;
  const csvFields = plan.outputBytes.csv / 24;
  let contributions = 0;
  if (plan.contributionTerms > 0 && plan.nTimes > 0) {
    const v = job.grid.variants[0];
    const problem = v ? job.problems[v.initial] : undefined;
    if (v && problem) {
      const t = performance.now();
      evaluatePoint(problem, pointParams(job.grid, 0), v.thermal, { contributions: true });
      contributions = ((performance.now() - t) / 1000) * plan.points;
    }
  }
  // per value written (measured on a 2-core machine: 1,048,576-point rate map, the pair map's
  // 16.8 million trajectory values): NetCDF slabs ~3e-8 s, CSV ~1e-7 s per (estimated) field,
  // which includes reading and verifying the checkpoints
  return startup + 3e-8 * surfaces + 3e-8 * traj + 1e-7 * csvFields + contributions;
}

/**
 * The checkpoints a run writes while it computes: every chunk's values hashed (SHA-256, for
 * its header and for the manifest), written and fsynced, ~6 ns per byte measured on a 2-core
 * machine (the pair map's 134 MB of trajectories: 0.8 s, as long as its kernel time).
 */
function checkpointSeconds(plan: RunPlan): number {
  return 6e-9 * plan.chunkBytes * plan.chunkCount;
}

/** relaxmap plan: what a run would do, measured on a short calibration, without writing anything. */
export async function planCommand(specPath: string, opts: PlanCommandOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const tLoad = performance.now();
  const job = loadJob(specPath, parseSets(opts.set ?? []));
  const loadSeconds = (performance.now() - tLoad) / 1000;
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
  const tSelect = performance.now();
  const choice = parseBackend(opts.backend);
  const selection = await selectBackend(job, plan.points, {
    backend: choice,
    workers,
    ...(opts.tfjs ? { tfjs: opts.tfjs } : {}),
    chunking: { chunkSize: plan.chunkSize, bytesPerPoint: plan.bytesPerPoint, memoryBytes },
  });
  const selectSeconds = (performance.now() - tSelect) / 1000;
  await selection.backend.close();
  // the run repeats what plan just did (load the spec and build the job, calibrate, which
  // builds every variant's kernel), then computes and writes
  let cal = selection.calibration;
  // compute seconds the run adds to what plan just did (its selection built every variant's kernel)
  let compute = cal && selection.estimateSeconds !== undefined ? selection.estimateSeconds - cal.setup : undefined;
  if (choice === 'auto' && !cal && selection.backend.name === 'hybrid') {
    // auto took a warm pool without calibrating (a process that ran before): calibrate here,
    // the run building the kernels itself
    cal = calibrate(job, 64, plan.points);
    compute = poolEstimate(cal, plan.points, workers, 0);
  }
  const eta = compute === undefined ? undefined : loadSeconds + selectSeconds + compute + checkpointSeconds(plan) + (await estimateWriteSeconds(job, plan));
  const shards = shardsWanted !== undefined || opts.walltime !== undefined ? shardReport(plan, (cal ?? calibrate(job)).perPoint, cpusPerShard, shardsWanted, opts.walltime) : undefined;
  const info = {
    spec: specPath,
    points: plan.points,
    dims: [...job.grid.categorical.map((c) => `${c.name}[${c.labels.length}]`), ...job.grid.dims.map((d) => `${d.name}[${d.length}]`)],
    generator: { path: job.model.path, reduced_dimension: job.problems.map((p) => p.reduction.r), full_dimension: job.model.basis.size },
    chunks: { size: plan.chunkSize, count: plan.chunkCount, bytes: plan.chunkBytes },
    memory_budget: memoryBytes,
    backend: { name: selection.backend.name, why: selection.why, candidates: selection.candidates, adapter: selection.adapter ?? null },
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
      ...selection.candidates.filter((c) => !c.chosen).map((c) => `    passed over ${c.backend}: ${c.reason}`),
      `  ETA: ${eta === undefined ? 'not calibrated for this backend' : `${eta < 1 ? eta.toFixed(2) : eta.toFixed(0)} s`}`,
      `  outputs: surfaces ${formatBytes(plan.outputBytes.surfaces)}, trajectories ${formatBytes(plan.outputBytes.trajectories)}, contributions ${formatBytes(plan.outputBytes.contributions)}, points.csv ~${formatBytes(plan.outputBytes.csv)}${free !== undefined ? ` (${formatBytes(free)} free)` : ''}`,
      ...(shards ? shardLines(shards) : []),
    ].join('\n') + '\n',
  );
}
