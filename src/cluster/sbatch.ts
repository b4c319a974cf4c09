/**
 * The two batch scripts of a SLURM sweep (pure text, no I/O): an array job whose task I
 * runs shard I, and a merge job that runs after the array has ended however it ended
 * (afterany), relying on merge's own completeness checks. The scripts name no path of the
 * submitting machine but the sweep directory and the relaxmap they call.
 */
import { UsageError } from '../spec/errors.js';
import { ARRAY_SCRIPT, LOGS_DIR, MERGE_SCRIPT, SHARDS_DIR, SWEEP_SPEC } from './sweep-manifest.js';

export interface SbatchResources {
  readonly time?: string;
  readonly mem?: string;
  readonly cpusPerTask?: number;
  readonly partition?: string;
  readonly account?: string;
  /** Further `#SBATCH ...` lines, verbatim, in both scripts. */
  readonly extra: readonly string[];
}

export interface SweepScripts extends SbatchResources {
  /** Absolute sweep directory. */
  readonly dir: string;
  readonly shards: number;
  /** The relaxmap to call: the node binary and the launcher bin/relaxmap.js. */
  readonly relaxmap: readonly string[];
  readonly jobName: string;
  /** Further arguments of every `relaxmap run` (--set, --chunk-size): part of the plan. */
  readonly runArgs: readonly string[];
  readonly version: string;
}

/** Quote for bash: bare when only safe characters, otherwise in single quotes. */
export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Seconds of a SLURM time limit: minutes, minutes:seconds, hours:minutes:seconds,
 * days-hours, days-hours:minutes, days-hours:minutes:seconds.
 */
export function parseSlurmTime(flag: string, s: string): number {
  const t = s.trim();
  let m = /^(\d+)-(\d+)(?::(\d+)(?::(\d+))?)?$/.exec(t);
  if (m) return Number(m[1]) * 86400 + Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
  m = /^(\d+)(?::(\d+)(?::(\d+))?)?$/.exec(t);
  if (m) {
    if (m[3] !== undefined) return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
    if (m[2] !== undefined) return Number(m[1]) * 60 + Number(m[2]);
    return Number(m[1]) * 60;
  }
  throw new UsageError(`${flag} ${s}: expected a SLURM time such as 01:30:00 (HH:MM:SS), 90 (minutes) or 1-12:00:00 (days-HH:MM:SS)`);
}

/** Check the resource options before anything is written; exit 2 naming the option. */
export function checkResources(r: SbatchResources): void {
  if (r.time !== undefined) {
    if (parseSlurmTime('--time', r.time) <= 0) throw new UsageError(`--time ${r.time}: expected a positive time limit`);
  }
  if (r.mem !== undefined && !/^[1-9]\d*[KMGT]?$/i.test(r.mem.trim())) {
    throw new UsageError(`--mem ${r.mem}: expected a SLURM memory size per node such as 4G or 4000M (a number with K, M, G or T; M when bare)`);
  }
  for (const [flag, v] of [['--partition', r.partition], ['--account', r.account]] as const) {
    if (v !== undefined && !/^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$/.test(v)) throw new UsageError(`${flag} ${v}: expected a name (letters, digits, _ . -; a comma-separated list for --partition)`);
  }
  for (const line of r.extra) {
    if (!/^#SBATCH\s+--?[A-Za-z]/.test(line) || /[\r\n]/.test(line)) {
      throw new UsageError(`--extra ${JSON.stringify(line)}: expected one "#SBATCH --option=value" line per --extra`);
    }
    if (/^#SBATCH\s+(--array|-a\b|--output|-o\b|--error|-e\b|--open-mode|--chdir|-D\b|--dependency|-d\b)/.test(line)) {
      throw new UsageError(`--extra ${JSON.stringify(line)}: relaxmap sets this option itself (array, logs, directory, dependency)`);
    }
  }
}

/**
 * The sweep directory appears in #SBATCH lines, which sbatch does not unquote and where %
 * starts a file-name pattern: refuse what would be misread rather than escape it.
 */
export function checkSweepDir(dir: string): void {
  if (/[\s%"'\\]/.test(dir)) throw new UsageError(`--out ${dir}: the sweep directory may not contain spaces, quotes, backslashes or % (they break #SBATCH lines); choose another path`);
}

function resourceLines(r: SbatchResources, withCpus: boolean): string[] {
  const lines: string[] = [];
  if (r.time !== undefined) lines.push(`#SBATCH --time=${r.time.trim()}`);
  if (r.mem !== undefined) lines.push(`#SBATCH --mem=${r.mem.trim()}`);
  if (withCpus && r.cpusPerTask !== undefined) lines.push(`#SBATCH --cpus-per-task=${r.cpusPerTask}`);
  if (r.partition !== undefined) lines.push(`#SBATCH --partition=${r.partition}`);
  if (r.account !== undefined) lines.push(`#SBATCH --account=${r.account}`);
  return [...lines, ...r.extra];
}

function relaxmapLine(s: SweepScripts): string {
  return s.relaxmap.map(shellQuote).join(' ');
}

export function arrayScript(s: SweepScripts): string {
  const dir = s.dir;
  return [
    '#!/bin/bash',
    `# relaxmap ${s.version}: task I of this array computes shard I of ${s.shards} of the sweep in`,
    `# ${dir} (see sweep.json). Submit both scripts with relaxmap slurm --submit, or:`,
    `#   jid=$(sbatch --parsable ${ARRAY_SCRIPT}) && sbatch --dependency=afterany:$jid ${MERGE_SCRIPT}`,
    '# A task stopped by SIGTERM (scancel, preemption, the time limit) keeps its finished chunks',
    '# and exits 75; requeued (scontrol requeue) or resubmitted, it resumes from them, and a task',
    '# whose shard is already complete exits 0 at once. Progress: relaxmap status on the directory.',
    `#SBATCH --job-name=${s.jobName}`,
    `#SBATCH --array=0-${s.shards - 1}`,
    '#SBATCH --requeue',
    '#SBATCH --open-mode=append',
    `#SBATCH --chdir=${dir}`,
    `#SBATCH --output=${dir}/${LOGS_DIR}/shard-%a.out`,
    ...resourceLines(s, true),
    'set -u',
    `exec ${relaxmapLine(s)} run ${shellQuote(`${dir}/${SWEEP_SPEC}`)} --out ${shellQuote(`${dir}/${SHARDS_DIR}/`)}"$SLURM_ARRAY_TASK_ID" --shard slurm --resume${s.runArgs.map((a) => ` ${shellQuote(a)}`).join('')}`,
    '',
  ].join('\n');
}

export function mergeScript(s: SweepScripts): string {
  const dir = s.dir;
  return [
    '#!/bin/bash',
    `# relaxmap ${s.version}: merge the ${s.shards} shards of the sweep in ${dir} into it, once the`,
    '# array job has ended however it ended (submit with --dependency=afterany:<array job id>).',
    '# merge checks that every shard is complete and intact; when one is not, it names it and',
    '# exits 3: resubmit the array (finished shards exit at once), then this script.',
    `#SBATCH --job-name=${s.jobName}-merge`,
    '#SBATCH --open-mode=append',
    `#SBATCH --chdir=${dir}`,
    `#SBATCH --output=${dir}/${LOGS_DIR}/merge.out`,
    ...resourceLines(s, false),
    'set -u',
    `exec ${relaxmapLine(s)} merge --out ${shellQuote(dir)} ${shellQuote(`${dir}/${SHARDS_DIR}`)}/*`,
    '',
  ].join('\n');
}

/** A job name from the spec's name: what squeue shows. */
export function jobNameOf(specName: string | undefined): string {
  const base = (specName ?? 'sweep').replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 40) || 'sweep';
  return `relaxmap-${base}`;
}
