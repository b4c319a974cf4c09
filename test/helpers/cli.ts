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

/** The command line (argv, run in ROOT) of the CLI from sources: for parents other than this process. */
export function cliArgv(args: readonly string[]): string[] {
  return [process.execPath, '--import', 'tsx', '--input-type=module', '-e', RUNNER, ...args];
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

export interface BatchCase {
  readonly args: readonly string[];
  /** Working directory of the case (default: the repository). */
  readonly cwd?: string;
}

/**
 * Many command lines in ONE child process, one after the other, each through the same
 * `main(argv)` as the CLI with its stdout and stderr captured: a CLI process from sources
 * spends seconds starting (tsx, the HDF5 library), which dozens of cases must not pay each.
 * `wrap` runs the child under a wrapper command line (e.g. unshare with private mounts):
 * the child's own command line is appended to it.
 */
export async function relaxmapBatch(cases: readonly BatchCase[], options: { wrap?: readonly string[]; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult[] & { rawStderr: string }> {
  const script = `const { main } = await import(${JSON.stringify(MAIN_URL)});
const cases = JSON.parse(process.env.RELAXMAP_BATCH);
const out = [];
const realOut = process.stdout.write.bind(process.stdout);
const realErr = process.stderr.write.bind(process.stderr);
for (const c of cases) {
  let stdout = '', stderr = '';
  process.stdout.write = (d, ...rest) => { stdout += String(d); const cb = rest.find((x) => typeof x === 'function'); if (cb) cb(); return true; };
  process.stderr.write = (d, ...rest) => { stderr += String(d); const cb = rest.find((x) => typeof x === 'function'); if (cb) cb(); return true; };
  process.chdir(c.cwd ?? ${JSON.stringify(ROOT)});
  let code;
  try { code = await main(['node', 'relaxmap', ...c.args]); } catch (e) { code = -1; stderr += 'BATCH: main threw ' + (e && e.stack); }
  process.stdout.write = realOut;
  process.stderr.write = realErr;
  out.push({ code, signal: null, stdout, stderr });
}
realOut(JSON.stringify(out) + '\\n');
process.exit(0);`;
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...options.env, RELAXMAP_BATCH: JSON.stringify(cases) };
  delete env.RELAXMAP_DEBUG;
  const node = [process.execPath, '--import', 'tsx', '--input-type=module', '-e', script];
  const argv = options.wrap ? [...options.wrap, ...node] : node;
  const child = spawn(argv[0] as string, argv.slice(1), { cwd: ROOT, env });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((ok) => child.on('close', ok));
  const last = stdout.trim().split('\n').pop() ?? '';
  try {
    // rawStderr: what reached the child's file descriptor 2 around the captured streams (a library's own writes)
    return Object.assign(JSON.parse(last) as CliResult[], { rawStderr: stderr });
  } catch {
    throw new Error(`batch child failed (${code}): ${stderr.slice(-4000)} ${stdout.slice(-2000)}`);
  }
}

export interface CliServer {
  /** Run one command line in the server process (one at a time; calls queue). */
  run(args: readonly string[], cwd?: string): Promise<CliResult>;
  close(): Promise<void>;
}

/**
 * A long-lived CLI process that runs command lines sent to it, one after the other, through
 * main(argv) with captured output: a command right after an event (a resume right after a
 * kill) without paying the seconds a CLI process from sources needs to start.
 */
export function startCliServer(): CliServer {
  const script = `const { main } = await import(${JSON.stringify(MAIN_URL)});
const { createInterface } = await import('node:readline');
const realOut = process.stdout.write.bind(process.stdout);
const realErr = process.stderr.write.bind(process.stderr);
for await (const line of createInterface({ input: process.stdin })) {
  const c = JSON.parse(line);
  let stdout = '', stderr = '';
  process.stdout.write = (d, ...rest) => { stdout += String(d); const cb = rest.find((x) => typeof x === 'function'); if (cb) cb(); return true; };
  process.stderr.write = (d, ...rest) => { stderr += String(d); const cb = rest.find((x) => typeof x === 'function'); if (cb) cb(); return true; };
  process.chdir(c.cwd ?? ${JSON.stringify(ROOT)});
  let code;
  try { code = await main(['node', 'relaxmap', ...c.args]); } catch (e) { code = -1; stderr += 'SERVER: main threw ' + (e && e.stack); }
  process.stdout.write = realOut;
  process.stderr.write = realErr;
  realOut(JSON.stringify({ code, signal: null, stdout, stderr }) + '\\n');
}`;
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.RELAXMAP_DEBUG;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let buffered = '';
  let raw = '';
  const waiting: Array<(r: CliResult) => void> = [];
  child.stdout?.on('data', (d: Buffer) => {
    buffered += d.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      waiting.shift()?.(JSON.parse(line) as CliResult);
    }
  });
  child.stderr?.on('data', (d: Buffer) => (raw += d.toString()));
  const exited = new Promise<void>((ok) => child.on('close', () => ok()));
  let queue: Promise<unknown> = Promise.resolve();
  return {
    run(args, cwd) {
      const job = queue.then(
        () =>
          new Promise<CliResult>((ok, fail) => {
            if (child.exitCode !== null) fail(new Error(`CLI server exited: ${raw.slice(-2000)}`));
            waiting.push(ok);
            child.stdin?.write(`${JSON.stringify({ args, ...(cwd ? { cwd } : {}) })}\n`);
          }),
      );
      queue = job.catch(() => undefined);
      return job;
    },
    async close() {
      child.stdin?.end();
      await exited;
    },
  };
}
