/**
 * Loads h5wasm once, with its output kept off the terminal. Emscripten prints its messages
 * (an abort, a failed instantiation) through console.log / console.error, which the module
 * binds while it starts: bound to a capture. The HDF5 library prints its error stack (dozens
 * of "HDF5-DIAG" lines, e.g. on a full disk) with fprintf(stderr), which h5wasm's raw node
 * file system writes straight to file descriptor 2: that descriptor of the module is pointed
 * at an unlinked temporary file. Both end up in the error log of an internal failure
 * (src/sweep/error-log.ts reads them through h5wasmOutput()), never on the terminal.
 */
import { fstatSync, openSync, readSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type H5Api = (typeof import('h5wasm/node'))['default'];

const MAX_LINES = 200;
const captured: string[] = [];
let loading: Promise<H5Api> | undefined;

function capture(...args: unknown[]): void {
  captured.push(args.map((a) => (typeof a === 'string' ? a : String(a))).join(' '));
  if (captured.length > MAX_LINES) captured.splice(0, captured.length - MAX_LINES);
}

let stderrFd: number | undefined;

/** Point the module's stdout and stderr (raw descriptors 1 and 2) at an unlinked temporary file. */
function redirectModuleStdio(module: unknown): void {
  const fs = (module as { FS?: { getStream(fd: number): { nfd?: number } | undefined } }).FS;
  if (!fs) return;
  const path = join(tmpdir(), `.relaxmap-hdf5-${process.pid}-${Date.now()}.log`);
  try {
    stderrFd = openSync(path, 'w+');
    unlinkSync(path);
  } catch {
    return; // no temporary directory: HDF5 may print
  }
  for (const fd of [1, 2]) {
    const stream = fs.getStream(fd);
    if (stream && typeof stream.nfd === 'number') stream.nfd = stderrFd;
  }
}

/** The last lines h5wasm and the HDF5 library printed (most recent last). */
export function h5wasmOutput(): readonly string[] {
  const lines = [...captured];
  if (stderrFd !== undefined) {
    try {
      const size = fstatSync(stderrFd).size;
      const n = Math.min(size, 20_000);
      const buf = Buffer.alloc(n);
      readSync(stderrFd, buf, 0, n, size - n);
      lines.push(...buf.toString('utf8').split('\n').slice(-MAX_LINES));
    } catch {
      // closed
    }
  }
  return lines;
}


export function loadH5wasm(): Promise<H5Api> {
  loading ??= (async () => {
    const saved = { log: console.log, error: console.error, warn: console.warn };
    console.log = capture;
    console.error = capture;
    console.warn = capture;
    try {
      const api = (await import('h5wasm/node')).default;
      redirectModuleStdio(await api.ready);
      return api;
    } catch (e) {
      // what emscripten printed says more than its own follow-up error ("Out of memory: Cannot allocate Wasm memory")
      const said = captured.filter((l) => /memory|abort|failed/i.test(l)).pop();
      throw new Error(`cannot start the HDF5 library (h5wasm) for the NetCDF outputs: ${(said ?? (e as Error).message).split('\n')[0]}${/memory/i.test(said ?? '') ? ' (is the address-space limit, ulimit -v, too low?)' : ''}`, { cause: e });
    } finally {
      console.log = saved.log;
      console.error = saved.error;
      console.warn = saved.warn;
    }
  })();
  return loading;
}
