import { Command, CommanderError } from 'commander';
import { reportError, EXIT_BAD_INPUT, EXIT_CODE_TABLE, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK } from './exit-codes.js';
import { installStopHandlers } from '../sweep/stop.js';
import { addDiagnostics, setErrorLogDir } from '../sweep/error-log.js';
import { h5wasmOutput } from '../io/h5wasm-load.js';
import { pointCommand } from './commands/point.js';
import { validateCommand } from './commands/validate.js';
import { runCommand, type RunCommandOptions } from './commands/run.js';
import { planCommand, type PlanCommandOptions } from './commands/plan.js';
import { mergeShards } from '../sweep/merge.js';
// plot, report and bench load rendering and benchmark code: imported when used, so that the
// other commands start quickly
import type { BenchOptions } from './commands/bench.js';
import type { PlotCommandOptions } from './commands/plot.js';
import type { ReportCommandOptions } from './commands/report.js';
import { VERSION } from '../version.js';
import { slurmCommand, type SlurmCommandOptions } from './commands/slurm.js';
import { statusCommand, type StatusCommandOptions } from './commands/status.js';
import { specJsonSchemaText } from '../spec/json-schema.js';

const collect = (v: string, prev: string[]): string[] => [...prev, v];
/** The exit code an action chose itself (status: 3 while incomplete); main resets it. */
let actionExit = EXIT_OK;

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('relaxmap')
    .description('NMR/EPR spin relaxation over parameter grids (thermalized Redfield / Lindblad)')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError('(relaxmap --help for usage)')
    .addHelpText('after', `\nExit codes (docs/exit-codes.md):\n${EXIT_CODE_TABLE.map(([c, what]) => `  ${String(c).padStart(3)}  ${what}`).join('\n')}\n`);

  program
    .command('point')
    .description('evaluate one parameter point (the spec\'s parameters:, changed with --set) in float64')
    .argument('<spec>', 'sweep spec (YAML)')
    .option('--set <name=value>', 'set a parameter (repeatable); thermalization=<model> picks a model', collect, [])
    .option('--json', 'print the result as JSON (docs/interface.md section 3)')
    .option('--contributions', 'include d<O>/dt split by mechanism, mu and dc/thermal part')
    .action((spec: string, opts: { set: string[]; json?: boolean; contributions?: boolean }) => pointCommand(spec, opts));

  program
    .command('run')
    .description('evaluate a sweep and write surfaces.nc, points.csv, run.json (and trajectories.nc, contributions.nc) into --out')
    .argument('<spec>', 'sweep spec (YAML)')
    .requiredOption('--out <dir>', 'output directory')
    .option('--set <name=value>', 'set a parameter (repeatable); replaces its sweep axis', collect, [])
    .option('--backend <name>', 'auto | inline | hybrid | workers | tfjs', 'auto')
    .option('--workers <n>', 'worker threads (default: the CPUs this process may use: affinity mask, SLURM_CPUS_PER_TASK)')
    .option('--tfjs <backend>', 'tfjs backend for --backend tfjs: auto | tensorflow | webgpu | wasm | cpu')
    .option('--shard <i/n>', 'compute shard i of n (deterministic share of the chunks), or slurm: the array task SLURM_ARRAY_TASK_ID; combine with relaxmap merge')
    .option('--shards <n>', 'with --shard slurm: the shard count (default: from the sweep.json of relaxmap slurm)')
    .option('--resume', 'continue an interrupted run from its checkpoints (a finished run: nothing to do; a new directory: a fresh run)')
    .option('--force', 'start over: remove the previous run\'s outputs and checkpoints in --out (never a live run\'s)')
    .option('--memory <size>', 'memory budget for chunks in flight, e.g. 512MB, 2GB (default: a quarter of the machine, cgroup or SLURM allocation, at most 2GB); never changes the chunking')
    .option('--chunk-size <n>', 'points per chunk (default: planned from the spec alone, so shards agree)')
    .option('--quiet', 'no progress output')
    .action(async (spec: string, opts: RunCommandOptions) => runCommand(spec, opts, process.argv));

  program
    .command('plan')
    .description('print points, chunks, memory, backend and an ETA from a short calibration; refuse what cannot fit')
    .argument('<spec>', 'sweep spec (YAML)')
    .option('--set <name=value>', 'set a parameter (repeatable)', collect, [])
    .option('--memory <size>', 'memory budget for chunks in flight')
    .option('--backend <name>', 'auto | inline | hybrid | workers | tfjs', 'auto')
    .option('--workers <n>', 'worker threads')
    .option('--tfjs <backend>', 'tfjs backend for --backend tfjs: auto | tensorflow | webgpu | wasm | cpu')
    .option('--out <dir>', 'where the outputs would go (for the free-space check)')
    .option('--chunk-size <n>', 'points per chunk (as for run and slurm)')
    .option('--shards <n>', 'points and time per shard of a cluster run (relaxmap slurm --shards N)')
    .option('--cpus <n>', 'CPUs per shard for the time estimate (default 1)')
    .option('--walltime <limit>', 'propose the shard count for this time limit per task, e.g. 01:00:00')
    .option('--json', 'print the plan as JSON')
    .action(async (spec: string, opts: PlanCommandOptions) => planCommand(spec, opts));

  program
    .command('merge')
    .description('combine shard runs (relaxmap run --shard I/N) into one run directory')
    .argument('<dirs...>', 'shard output directories')
    .requiredOption('--out <dir>', 'output directory')
    .option('--force', 'overwrite a finished run in --out')
    .addHelpText('after', '\nExit codes: 0 merged, 2 a shard is unusable (named), 3 shards are missing, 73 --out is held by a live run, 74 a write was refused, 75 interrupted.\n')
    .action(async (dirs: string[], opts: { out: string; force?: boolean }) => {
      const r = await mergeShards(dirs, opts.out, opts.force ?? false);
      process.stderr.write(`relaxmap: merged ${dirs.length} shards, ${r.points} points; wrote ${r.files.join(', ')} to ${opts.out}\n`);
    });

  program
    .command('slurm')
    .description('write a SLURM job array (one task per shard) and a merge job for a sweep into --out; --submit submits both')
    .argument('<spec>', 'sweep spec (YAML), copied into --out')
    .requiredOption('--shards <n>', 'number of shards (array tasks)')
    .requiredOption('--out <dir>', 'sweep directory: scripts, sweep.json, logs/, shards/, and the merged results')
    .option('--time <limit>', 'time limit per task (#SBATCH --time), e.g. 01:00:00')
    .option('--mem <size>', 'memory per task (#SBATCH --mem), e.g. 4G')
    .option('--cpus-per-task <n>', 'CPUs per task (#SBATCH --cpus-per-task); relaxmap uses them all')
    .option('--partition <name>', '#SBATCH --partition')
    .option('--account <name>', '#SBATCH --account')
    .option('--extra <line>', 'a further "#SBATCH ..." line for both scripts (repeatable)', collect, [])
    .option('--set <name=value>', 'set a parameter for every task (repeatable)', collect, [])
    .option('--chunk-size <n>', 'points per chunk for every task (default: planned from the spec)')
    .option('--submit', 'submit the array and the merge job (afterany) with sbatch')
    .action(async (spec: string, opts: SlurmCommandOptions) => slurmCommand(spec, opts));

  program
    .command('status')
    .description('progress of a sweep directory (relaxmap slurm) or run directory: chunks per shard, running, last error, ETA; exit 0 when complete, 3 otherwise')
    .argument('<dir>', 'sweep or run directory')
    .option('--json', 'print the status as JSON')
    .action((dir: string, opts: StatusCommandOptions) => {
      actionExit = statusCommand(dir, opts);
    });

  program
    .command('plot')
    .description('PNG and SVG figures of a run directory: rate heatmaps, trajectories, the seed\'s Figures 1-2 from contributions')
    .argument('<dir>', 'a finished run directory (relaxmap run --out DIR)')
    .option('--out <dir>', 'where the figures go (default DIR/figures)')
    .option('--x <dim>', 'heatmap x axis (default: the first numeric sweep dimension)')
    .option('--y <dim>', 'heatmap y axis (default: the second numeric sweep dimension)')
    .option('--format <list>', 'png, svg or png,svg', 'png,svg')
    .option('--at <name=value>', 'fix a dimension at a label or the nearest value (repeatable)', collect, [])
    // figures and the report load vega and plotly: only when asked for (every other command starts faster)
    .action(async (dir: string, opts: PlotCommandOptions) => (await import('./commands/plot.js')).plotCommand(dir, opts));

  program
    .command('report')
    .description('a self-contained interactive report.html of a run directory (works offline)')
    .argument('<dir>', 'a finished run directory')
    .option('--out <file>', 'output file (default DIR/report.html)')
    .action(async (dir: string, opts: ReportCommandOptions) => (await import('./commands/report.js')).reportCommand(dir, opts));

  program
    .command('bench')
    .description('the standard pair-map benchmark on every backend, alternating with the numpy baseline; rates-only throughput')
    .option('--json', 'print one JSON object as the last line (progress goes to stderr)')
    .option('--rounds <n>', 'alternating rounds', '3')
    .option('--backends <list>', 'comma-separated: inline, workers, tfjs', 'inline,workers')
    .option('--numpy <path>', 'numpy baseline script (default ../shared/bench/numpy_pairmap.py)')
    .option('--no-numpy', 'skip the numpy baseline')
    .option('--grid <NT,NB0,NTAU,NKAP,NTIME>', 'grid of the main benchmark', '64,64,4,4,128')
    .option('--rates-grid <NT,NB0,NTAU,NKAP,NTIME>', 'grid of the rates-only benchmark', '256,256,4,4,2')
    .option('--memory-scan', 'peak memory of fresh runs as the grid grows (16k..1M points)')
    .option('--e3h-grid <NT,NB0>', 'grid of the dnp-e3h benchmark', '32,8')
    .option('--e3h-rounds <n>', 'rounds of the dnp-e3h benchmark (medians are of the second half: the first rounds compile the set-up code)', '12')
    .option('--e3h-backends <list>', 'backends of the dnp-e3h benchmark (the first round of each is cold: it starts the worker pool)', 'inline,hybrid,auto')
    .option('--no-e3h', 'skip the dnp-e3h benchmark')
    .option('--no-plan-check', 'skip relaxmap plan against relaxmap run on sweeps/ and dnp-e3h')
    .option('--engine-only <backend>', 'internal: one engine run, JSON with peak RSS')
    .action(async (opts: BenchOptions) => (await import('./commands/bench.js')).benchCommand(opts));

  program
    .command('schema')
    .description('print the JSON Schema of the spec format (for editors: docs/spec.md, "Editor support")')
    .action(() => {
      process.stdout.write(specJsonSchemaText());
    });

  program
    .command('validate')
    .description('check a spec; exit 0 if valid, 2 with the errors otherwise')
    .argument('<spec>', 'sweep spec (YAML)')
    .action((spec: string) => validateCommand(spec));

  return program;
}

let crashHandlers = false;

/** Uncaught failures (a library's own callbacks, a rejected promise nobody awaited): one line and exit 1, details in the log. */
function installCrashHandlers(): void {
  if (crashHandlers) return;
  crashHandlers = true;
  addDiagnostics(h5wasmOutput);
  const crash = (e: unknown): void => {
    process.exitCode = reportError(e);
    process.exit(EXIT_FAILURE);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}

export async function main(argv: readonly string[] = process.argv): Promise<number> {
  // first: signals mean "stop" (and SIGUSR1 no longer opens the inspector), crashes print one line
  installStopHandlers();
  installCrashHandlers();
  setErrorLogDir(undefined);
  const program = buildProgram();
  actionExit = EXIT_OK;
  try {
    await program.parseAsync(argv as string[]);
    return actionExit;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit through here with code 0
      if (e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return EXIT_OK;
      return EXIT_BAD_INPUT;
    }
    const code = reportError(e);
    // an interrupted run has released its lock and kept its checkpoints; worker threads still
    // winding down must not delay the exit a scheduler waits for
    if (code === EXIT_INTERRUPTED) setTimeout(() => process.exit(code), 200).unref();
    return code;
  }
}

