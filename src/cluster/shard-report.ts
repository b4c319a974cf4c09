/**
 * The shard section of `relaxmap plan --shards N [--cpus C] [--walltime T]`: per-shard
 * points and time, a warning when shards outnumber chunks, and the shard count a wall-time
 * limit asks for.
 */
import type { RunPlan } from '../sweep/plan.js';
import { parseSlurmTime } from './sbatch.js';
import { proposeShards, shardPlan, WALLTIME_MARGIN, type ShardPlan } from './shard-plan.js';

export interface ShardReport {
  readonly cpus: number;
  readonly per_point_s: number;
  readonly requested: ShardPlan | null;
  readonly walltime: { readonly limit: string; readonly seconds: number; readonly proposed: number; readonly fits: boolean; readonly plan: ShardPlan } | null;
  readonly warnings: readonly string[];
}

export function shardReport(plan: RunPlan, perPoint: number, cpus: number, shards: number | undefined, walltime: string | undefined): ShardReport {
  const warnings: string[] = [];
  const requested = shards !== undefined ? shardPlan(plan, shards, perPoint, cpus) : null;
  if (requested && requested.empty > 0) {
    warnings.push(`${shards} shards but only ${plan.chunkCount} chunks: ${requested.empty} shards would have nothing to do; use at most ${plan.chunkCount} shards, or a smaller --chunk-size`);
  }
  let wt: ShardReport['walltime'] = null;
  if (walltime !== undefined) {
    const seconds = parseSlurmTime('--walltime', walltime);
    const p = proposeShards(plan, seconds, perPoint, cpus);
    wt = { limit: walltime, seconds, proposed: p.shards, fits: p.fits, plan: p.plan };
    if (!p.fits) warnings.push(`even ${p.shards} shards (one chunk each) take about ${p.plan.seconds.toFixed(0)} s, more than ${Math.round(100 * (1 - WALLTIME_MARGIN))}% of --walltime ${walltime}: use a smaller --chunk-size, more --cpus or a longer limit`);
    else if (requested && requested.seconds > seconds * (1 - WALLTIME_MARGIN)) {
      warnings.push(`${shards} shards take about ${requested.seconds.toFixed(0)} s each, more than ${Math.round(100 * (1 - WALLTIME_MARGIN))}% of --walltime ${walltime}: use ${p.shards} shards`);
    }
  }
  return { cpus, per_point_s: perPoint, requested, walltime: wt, warnings };
}

function describe(sp: ShardPlan): string {
  const range = (r: { min: number; max: number }): string => (r.min === r.max ? `${r.max}` : `${r.min}-${r.max}`);
  return `${sp.shards} shard${sp.shards === 1 ? '' : 's'} of ${range(sp.points)} points (${range(sp.chunks)} chunks), about ${sp.seconds < 10 ? sp.seconds.toFixed(1) : sp.seconds.toFixed(0)} s each on ${sp.cpus} CPU${sp.cpus === 1 ? '' : 's'}`;
}

export function shardLines(r: ShardReport): string[] {
  const lines: string[] = [];
  if (r.requested) lines.push(`  shards: ${describe(r.requested)}`);
  if (r.walltime) lines.push(`  --walltime ${r.walltime.limit}: ${r.walltime.fits ? 'use' : 'at least'} ${r.walltime.proposed} shard${r.walltime.proposed === 1 ? '' : 's'} (${describe(r.walltime.plan)}; ${Math.round(100 * WALLTIME_MARGIN)}% of the limit kept as margin)`);
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  return lines;
}
