/**
 * Where the details of an internal failure go: DIR/.relaxmap/error.log while a run or merge
 * holds DIR, otherwise a file in the system's temporary directory. The terminal gets one
 * line naming the file; the log has the stack, the command line and what HDF5 printed.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VERSION } from '../version.js';

let stateDir: string | undefined;
const diagnostics: Array<() => readonly string[]> = [];

/** The state directory of the run that holds --out (undefined when it no longer does). */
export function setErrorLogDir(dir: string | undefined): void {
  stateDir = dir;
}

/** A source of extra lines for the log (e.g. what the HDF5 library printed). */
export function addDiagnostics(source: () => readonly string[]): void {
  diagnostics.push(source);
}

function details(e: unknown): string {
  const parts: string[] = [];
  for (let x: unknown = e, depth = 0; x !== undefined && depth < 5; depth++) {
    if (x instanceof Error) {
      parts.push(depth === 0 ? (x.stack ?? String(x)) : `caused by: ${x.stack ?? String(x)}`);
      x = (x as Error & { cause?: unknown }).cause;
    } else {
      parts.push(String(x));
      x = undefined;
    }
  }
  return parts.join('\n');
}

/** Append the error's details to the log; returns the log's path (undefined if nothing could be written). */
export function writeErrorLog(e: unknown, argv: readonly string[] = process.argv): string | undefined {
  const extra = diagnostics.flatMap((d) => d());
  const text = [
    `--- ${new Date().toISOString()} relaxmap ${VERSION}, node ${process.version}, pid ${process.pid}`,
    `command: ${argv.slice(1).join(' ')}`,
    details(e),
    ...(extra.length > 0 ? ['library output:', ...extra] : []),
    '',
  ].join('\n');
  const candidates = [...(stateDir ? [join(stateDir, 'error.log')] : []), join(tmpdir(), `relaxmap-error-${process.pid}.log`)];
  for (const path of candidates) {
    try {
      mkdirSync(join(path, '..'), { recursive: true });
      appendFileSync(path, text);
      return path;
    } catch {
      // try the next place
    }
  }
  return undefined;
}
