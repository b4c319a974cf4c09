import { availableParallelism, freemem } from 'node:os';
import { statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { selectBackend } from '../../engine/select-backend.js';
import { UsageError } from '../../spec/errors.js';
import { parseSets } from '../../spec/overrides.js';
import { defaultMemoryBytes, loadJob } from '../../sweep/executor.js';
import { formatBytes, makePlan, parseBytes } from '../../sweep/plan.js';
import { parseBackend, parseCount } from './run.js';

export interface PlanCommandOptions {
  readonly set?: string[];
  readonly memory?: string;
  readonly backend?: string;
  readonly workers?: string;
  readonly tfjs?: string;
  readonly out?: string;
  readonly json?: boolean;
}

/** relaxmap plan: what a run would do, measured on a short calibration, without writing anything. */
export async function planCommand(specPath: string, opts: PlanCommandOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const job = loadJob(specPath, parseSets(opts.set ?? []));
  const workers = parseCount('--workers', opts.workers) ?? availableParallelism();
  const memoryBytes = opts.memory ? parseBytes(opts.memory) : defaultMemoryBytes();
  const plan = makePlan(job, { memoryBytes, inFlight: workers + 1 });
  const totalOut = plan.outputBytes.surfaces + plan.outputBytes.trajectories + plan.outputBytes.contributions + plan.outputBytes.csv;
  const target = resolve(opts.out ?? '.');
  let free: number | undefined;
  try {
    const st = statfsSync(target.endsWith('/') ? target : dirname(target + '/x'));
    free = st.bavail * st.bsize;
  } catch {
    free = undefined;
  }
  if (free !== undefined && totalOut > free) {
    throw new UsageError(
      `the outputs would take about ${formatBytes(totalOut)} but ${target} has ${formatBytes(free)} free: drop trajectories from outputs, use fewer time points, or shard the run (--shard I/N) across machines`,
    );
  }
  const selection = await selectBackend(job, plan.points, {
    backend: parseBackend(opts.backend),
    workers,
    ...(opts.tfjs ? { tfjs: opts.tfjs } : {}),
    chunking: { chunkSize: plan.chunkSize, bytesPerPoint: plan.bytesPerPoint, memoryBytes },
  });
  const eta = selection.estimateSeconds;
  await selection.backend.close();
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
    machine_free_memory: freemem(),
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
    ].join('\n') + '\n',
  );
}
