import { BACKEND_CHOICES, type BackendChoice } from '../../engine/select-backend.js';
import { UsageError } from '../../spec/errors.js';
import { parseSets } from '../../spec/overrides.js';
import { runSweep, type Shard } from '../../sweep/executor.js';
import { parseBytes } from '../../sweep/plan.js';
import { resolveSlurmShard, unshardedArrayTaskWarning } from '../../cluster/slurm-shard.js';

export interface RunCommandOptions {
  readonly out: string;
  readonly set?: string[];
  readonly backend?: string;
  readonly workers?: string;
  readonly tfjs?: string;
  readonly shard?: string;
  readonly shards?: string;
  readonly resume?: boolean;
  readonly force?: boolean;
  readonly memory?: string;
  readonly chunkSize?: string;
  readonly quiet?: boolean;
}

export function parseBackend(s: string | undefined): BackendChoice {
  const b = (s ?? 'auto') as BackendChoice;
  if (!BACKEND_CHOICES.includes(b)) throw new UsageError(`--backend ${s}: expected one of ${BACKEND_CHOICES.join(', ')}`);
  return b;
}

export function parseCount(flag: string, s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} ${s}: expected a positive whole number`);
  return n;
}

export function parseShard(s: string | undefined): Shard | undefined {
  if (s === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(s.trim());
  if (!m) throw new UsageError(`--shard ${s}: expected I/N, e.g. 0/4 (shard 0 of 4)`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (!(count >= 1 && index < count)) throw new UsageError(`--shard ${s}: expected 0 <= I < N`);
  return { index, count };
}

/** --shard I/N, or --shard slurm (the array task's index; N from --shards or sweep.json). */
function shardOption(opts: RunCommandOptions): { shard: Shard | undefined; expectPlanKey: string | undefined } {
  if (opts.shard?.trim() === 'slurm') {
    const s = resolveSlurmShard(opts.out, parseCount('--shards', opts.shards));
    return { shard: { index: s.index, count: s.count }, expectPlanKey: s.planKey };
  }
  if (opts.shards !== undefined) throw new UsageError(`--shards ${opts.shards}: goes with --shard slurm (with --shard I/N the count is N)`);
  if (opts.shard === undefined) {
    const warning = unshardedArrayTaskWarning();
    if (warning) process.stderr.write(`relaxmap: ${warning}\n`);
  }
  return { shard: parseShard(opts.shard), expectPlanKey: undefined };
}

/** --tfjs: the preferences loadTfjs knows (checked here so that a typo is exit 2, not an engine failure). */
export const TFJS_CHOICES = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;

export function parseTfjs(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  if (!(TFJS_CHOICES as readonly string[]).includes(s)) throw new UsageError(`--tfjs ${s}: expected one of ${TFJS_CHOICES.join(', ')}`);
  return s;
}

export async function runCommand(specPath: string, opts: RunCommandOptions, argv: readonly string[]): Promise<void> {
  const tfjs = parseTfjs(opts.tfjs);
  const workers = parseCount('--workers', opts.workers);
  const chunkSize = parseCount('--chunk-size', opts.chunkSize);
  const { shard, expectPlanKey } = shardOption(opts);
  const summary = await runSweep({
    specPath,
    outDir: opts.out,
    sets: parseSets(opts.set ?? []),
    backend: parseBackend(opts.backend),
    ...(workers ? { workers } : {}),
    ...(tfjs ? { tfjs } : {}),
    ...(shard ? { shard } : {}),
    ...(expectPlanKey !== undefined ? { expectPlanKey } : {}),
    resume: opts.resume ?? false,
    force: opts.force ?? false,
    ...(opts.memory ? { memoryBytes: parseBytes(opts.memory) } : {}),
    ...(chunkSize ? { chunkSize } : {}),
    quiet: opts.quiet ?? false,
    command: ['relaxmap', ...argv.slice(2)].join(' '),
  });
  if (summary.nothingToDo) {
    process.stderr.write(`relaxmap: ${summary.outDir} already holds this finished run: nothing to do\n`);
    return;
  }
  if (!opts.quiet) {
    process.stderr.write(
      `relaxmap: ${summary.points} points in ${summary.seconds.toFixed(2)} s (${summary.chunksComputed} chunks computed${summary.chunksResumed ? `, ${summary.chunksResumed} resumed` : ''}); wrote ${summary.files.join(', ')} to ${summary.outDir}\n`,
    );
  }
}
