import { Command, CommanderError } from 'commander';
import { reportError, EXIT_BAD_INPUT, EXIT_OK } from './exit-codes.js';
import { pointCommand } from './commands/point.js';
import { validateCommand } from './commands/validate.js';
import { VERSION } from '../version.js';

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
    .option('--json', 'print the result as JSON (interface.md section 3)')
    .option('--contributions', 'include d<O>/dt split by mechanism, mu and dc/thermal part')
    .action((spec: string, opts: { set: string[]; json?: boolean; contributions?: boolean }) => pointCommand(spec, opts));

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

