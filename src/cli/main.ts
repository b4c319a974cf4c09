import { Command, CommanderError } from 'commander';
import { reportError, EXIT_BAD_INPUT, EXIT_OK } from './exit-codes.js';
import { pointCommand } from './commands/point.js';
import { validateCommand } from './commands/validate.js';
import { runCommand, type RunCommandOptions } from './commands/run.js';
import { planCommand, type PlanCommandOptions } from './commands/plan.js';
import { mergeShards } from '../sweep/merge.js';
import { benchCommand, type BenchOptions } from './commands/bench.js';
import type { PlotCommandOptions } from './commands/plot.js';
import type { ReportCommandOptions } from './commands/report.js';
import { VERSION } from '../version.js';
import { specJsonSchemaText } from '../spec/json-schema.js';

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('relaxmap')
    .description('NMR/EPR spin relaxation over parameter grids (thermalized Redfield / Lindblad)')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError('(relaxmap --help for usage)');

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
    .option('--workers <n>', 'worker threads (default: available cores)')
    .option('--tfjs <backend>', 'tfjs backend for --backend tfjs: auto | tensorflow | webgpu | wasm | cpu')
    .option('--shard <i/n>', 'compute shard i of n (deterministic share of the chunks); combine with relaxmap merge')
    .option('--resume', 'continue an interrupted run from its checkpoints')
    .option('--force', 'overwrite a finished run in --out')
    .option('--memory <size>', 'memory budget for chunks in flight, e.g. 512MB, 2GB')
    .option('--chunk-size <n>', 'points per chunk (default: planned from the memory budget)')
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
    .option('--json', 'print the plan as JSON')
    .action(async (spec: string, opts: PlanCommandOptions) => planCommand(spec, opts));

  program
    .command('merge')
    .description('combine shard runs (relaxmap run --shard I/N) into one run directory')
    .argument('<dirs...>', 'shard output directories')
    .requiredOption('--out <dir>', 'output directory')
    .option('--force', 'overwrite a finished run in --out')
    .action(async (dirs: string[], opts: { out: string; force?: boolean }) => {
      const r = await mergeShards(dirs, opts.out, opts.force ?? false);
      process.stderr.write(`relaxmap: merged ${dirs.length} shards, ${r.points} points; wrote ${r.files.join(', ')} to ${opts.out}\n`);
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
    .option('--e3h-backends <list>', 'backends of the dnp-e3h benchmark', 'inline,auto')
    .option('--no-e3h', 'skip the dnp-e3h benchmark')
    .option('--no-plan-check', 'skip relaxmap plan against relaxmap run on sweeps/ and dnp-e3h')
    .option('--engine-only <backend>', 'internal: one engine run, JSON with peak RSS')
    .action(async (opts: BenchOptions) => benchCommand(opts));

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

export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[]);
    return EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit through here with code 0
      if (e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return EXIT_OK;
      return EXIT_BAD_INPUT;
    }
    return reportError(e);
  }
}

