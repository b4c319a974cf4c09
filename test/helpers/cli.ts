/**
 * The real command line from source (tsx), as a child process: the same `main(argv)` that
 * bin/relaxmap.js runs compiled, without needing a build.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN_URL = pathToFileURL(join(ROOT, 'src', 'cli', 'main.ts')).href;
const RUNNER = `const { main } = await import(${JSON.stringify(MAIN_URL)});
process.exitCode = await main(['node', 'relaxmap', ...process.argv.slice(1)]);`;

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function startCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const env: NodeJS.ProcessEnv = { ...(options.env ?? process.env), NO_COLOR: '1' };
  delete env.RELAXMAP_DEBUG;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', RUNNER, ...args], { cwd: ROOT, env });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((ok) => child.on('close', (code, signal) => ok({ code, signal, stdout, stderr })));
  return { child, done };
}

export function relaxmap(args: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return startCli(args, options).done;
}

/** Run python (Debian's, with xarray) and parse its last stdout line as JSON. */
export async function python<T>(script: string): Promise<T> {
  const child = spawn('/usr/bin/python3', ['-c', script]);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((ok) => child.on('close', ok));
  if (code !== 0) {
    throw new Error(
      `/usr/bin/python3 failed (${code}): ${err}\n(the NetCDF checks need Debian's python3-xarray python3-netcdf4 python3-h5py: apt-get install -y python3-xarray python3-netcdf4 python3-h5py)`,
    );
  }
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] as string) as T;
}
