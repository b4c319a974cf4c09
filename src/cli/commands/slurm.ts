import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { arrayScript, checkResources, checkSweepDir, jobNameOf, mergeScript, type SweepScripts } from '../../cluster/sbatch.js';
import { relaxmapCommand } from '../../cluster/launcher.js';
import { ARRAY_SCRIPT, LOGS_DIR, MERGE_SCRIPT, readSweepManifest, SHARDS_DIR, SWEEP_FILE, SWEEP_SPEC, type SweepManifest } from '../../cluster/sweep-manifest.js';
import { UsageError } from '../../spec/errors.js';
import { parseSets } from '../../spec/overrides.js';
import { writeFileAtomic } from '../../sweep/checkpoint.js';
import { loadJob } from '../../sweep/executor.js';
import { makePlan, planKey } from '../../sweep/plan.js';
import { VERSION } from '../../version.js';
import { parseCount } from './run.js';

export interface SlurmCommandOptions {
  readonly shards: string;
  readonly out: string;
  readonly time?: string;
  readonly mem?: string;
  readonly cpusPerTask?: string;
  readonly partition?: string;
  readonly account?: string;
  readonly extra?: string[];
  readonly set?: string[];
  readonly chunkSize?: string;
  readonly submit?: boolean;
}

/** The chunking of a sweep must not depend on the machine that plans it: no memory limit. */
const UNBOUNDED = Number.MAX_SAFE_INTEGER;

/**
 * relaxmap slurm: plan a sweep as a SLURM job array of N shards plus a merge job, write the
 * scripts, sweep.json and a copy of the spec into DIR, and with --submit submit both.
 */
export async function slurmCommand(specPath: string, opts: SlurmCommandOptions, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<void> {
  const shards = parseCount('--shards', opts.shards) as number;
  const cpusPerTask = parseCount('--cpus-per-task', opts.cpusPerTask);
  const chunkSize = parseCount('--chunk-size', opts.chunkSize);
  const resources = {
    ...(opts.time !== undefined ? { time: opts.time } : {}),
    ...(opts.mem !== undefined ? { mem: opts.mem } : {}),
    ...(cpusPerTask !== undefined ? { cpusPerTask } : {}),
    ...(opts.partition !== undefined ? { partition: opts.partition } : {}),
    ...(opts.account !== undefined ? { account: opts.account } : {}),
    extra: opts.extra ?? [],
  };
  checkResources(resources);
  const dir = resolve(opts.out);
  checkSweepDir(dir);
  const sets = opts.set ?? [];
  const job = loadJob(specPath, parseSets(sets));
  const plan = makePlan(job, { memoryBytes: UNBOUNDED, ...(chunkSize ? { chunkSize } : {}) });
  const key = planKey(plan);
  checkTarget(dir, key, shards);
  const relaxmap = relaxmapCommand();

  const scripts: SweepScripts = {
    dir,
    shards,
    relaxmap,
    jobName: jobNameOf(job.spec.spec.name),
    runArgs: [...sets.flatMap((s) => ['--set', s]), ...(chunkSize ? ['--chunk-size', String(chunkSize)] : [])],
    version: VERSION,
    ...resources,
  };
  const manifest: SweepManifest = {
    format: 'relaxmap-sweep',
    relaxmap_version: VERSION,
    shards,
    plan_key: key,
    spec_sha256: plan.specSha256,
    spec: SWEEP_SPEC,
    source: resolve(specPath),
    sets,
    chunk_size: chunkSize ?? null,
    plan,
    created: new Date().toISOString(),
    relaxmap,
    sbatch: {
      time: opts.time ?? null,
      mem: opts.mem ?? null,
      cpus_per_task: cpusPerTask ?? null,
      partition: opts.partition ?? null,
      account: opts.account ?? null,
      extra: resources.extra,
    },
    jobs: null,
  };
  mkdirSync(join(dir, LOGS_DIR), { recursive: true });
  mkdirSync(join(dir, SHARDS_DIR), { recursive: true });
  writeFileAtomic(join(dir, SWEEP_SPEC), job.source.text);
  for (const [name, text] of [[ARRAY_SCRIPT, arrayScript(scripts)], [MERGE_SCRIPT, mergeScript(scripts)]] as const) {
    writeFileAtomic(join(dir, name), text);
    chmodSync(join(dir, name), 0o755);
  }
  writeManifest(dir, manifest);

  const lines = [`relaxmap: ${plan.points} points in ${plan.chunkCount} chunks of ${plan.chunkSize}, ${shards} shards; wrote ${ARRAY_SCRIPT}, ${MERGE_SCRIPT}, ${SWEEP_FILE} and ${SWEEP_SPEC} to ${dir}`];
  if (shards > plan.chunkCount) {
    err.write(`relaxmap: warning: ${shards} shards but only ${plan.chunkCount} chunks: ${shards - plan.chunkCount} tasks will have nothing to do (use at most ${plan.chunkCount} shards, or a smaller --chunk-size)\n`);
  }
  if (!opts.submit) {
    lines.push(`submit: jid=$(sbatch --parsable ${join(dir, ARRAY_SCRIPT)}) && sbatch --dependency=afterany:$jid ${join(dir, MERGE_SCRIPT)}`);
    lines.push(`progress: relaxmap status ${dir}`);
    out.write(`${lines.join('\n')}\n`);
    return;
  }
  const arrayId = sbatch([join(dir, ARRAY_SCRIPT)], 'the array job');
  let mergeId: string;
  try {
    mergeId = sbatch([`--dependency=afterany:${arrayId}`, join(dir, MERGE_SCRIPT)], 'the merge job');
  } finally {
    // record what was submitted even when the merge submission failed
    writeManifest(dir, { ...manifest, jobs: { array: arrayId, merge: null, submitted: new Date().toISOString() } });
  }
  writeManifest(dir, { ...manifest, jobs: { array: arrayId, merge: mergeId, submitted: new Date().toISOString() } });
  lines.push(`submitted array job ${arrayId} (tasks 0-${shards - 1}) and merge job ${mergeId} (after the array ends)`);
  lines.push(`progress: relaxmap status ${dir}`);
  out.write(`${lines.join('\n')}\n`);
}

function writeManifest(dir: string, manifest: SweepManifest): void {
  writeFileAtomic(join(dir, SWEEP_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * DIR is new, empty, or holds this same sweep (same plan and shard count: rewriting the
 * scripts and resubmitting is how failed tasks are rerun); anything else is refused.
 */
function checkTarget(dir: string, key: string, shards: number): void {
  if (!existsSync(dir)) return;
  const existing = readSweepManifest(dir);
  if (existsSync(join(dir, 'run.json'))) {
    throw new UsageError(`${dir} already holds merged results (run.json): nothing to submit; use another --out for a new sweep`);
  }
  if (existing) {
    if (existing.plan_key !== key) throw new UsageError(`${dir} holds another sweep (its spec, --set or --chunk-size differ; see ${SWEEP_FILE}): use another --out`);
    if (existing.shards !== shards) throw new UsageError(`${dir} holds this sweep split into ${existing.shards} shards, not ${shards}: keep --shards ${existing.shards}, or use another --out`);
    return;
  }
  if (readdirSync(dir).length > 0) throw new UsageError(`${dir} is not empty and holds no ${SWEEP_FILE}: give relaxmap slurm a new or empty --out`);
}

/** sbatch --parsable: the job id ("123" or "123;cluster"). */
function sbatch(args: readonly string[], what: string): string {
  const r = spawnSync('sbatch', ['--parsable', ...args], { encoding: 'utf8' });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError('--submit: sbatch is not on PATH (is this a SLURM login node?); submit the scripts where it is, or run relaxmap slurm without --submit');
    throw new Error(`sbatch: ${r.error.message}`);
  }
  if (r.status !== 0) throw new UsageError(`sbatch refused ${what} (exit ${r.status}): ${(r.stderr || r.stdout).trim()}`);
  const id = /^(\d+)/.exec(r.stdout.trim())?.[1];
  if (!id) throw new Error(`sbatch printed no job id for ${what}: ${JSON.stringify(r.stdout)}`);
  return id;
}
