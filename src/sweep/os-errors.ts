/**
 * The operating system's refusals, in words that say which file, why, and what to do:
 * exit 74 when the system refused a write (no space, read-only, permissions, I/O error),
 * exit 2 when the --out path itself is unusable (not a directory, a dangling link).
 */
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../spec/errors.js';
import { formatBytes } from './plan.js';
import { OutputWriteError } from './run-errors.js';

/** Free bytes for an unprivileged writer on the file system holding `path` (or its nearest existing parent). */
export function freeBytes(path: string): number | undefined {
  let p = path;
  for (let i = 0; i < 64; i++) {
    try {
      const st = statfsSync(p);
      return st.bavail * st.bsize;
    } catch {
      const up = dirname(p);
      if (up === p) return undefined;
      p = up;
    }
  }
  return undefined;
}

const IO_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'EIO', 'EFBIG', 'EMFILE', 'ENFILE', 'ETXTBSY', 'EBUSY']);
const PATH_CODES = new Set(['ENOTDIR', 'EEXIST', 'ENOENT', 'ELOOP', 'ENAMETOOLONG', 'EISDIR']);

/** The output a message names by its temporary file (`DIR/.NAME.TOKEN.tmp` -> `DIR/NAME`), or the path of an fs error. */
function targetNamedIn(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined;
  const text = `${(e as NodeJS.ErrnoException).path ?? ''} ${e.message}`;
  const m = /(\/[^\s:'"]*\/)\.?([^/\s:'"]+?)\.\d+(?:[-.][0-9a-z]+)?\.tmp\b/.exec(text);
  if (m) return `${m[1]}${m[2]}`;
  return (e as NodeJS.ErrnoException).path;
}

/** The errno code of an error, also when HDF5 (h5wasm) only reports it inside its message. */
export function errnoOf(e: unknown): string | undefined {
  if (e === null || typeof e !== 'object') return undefined;
  const code = (e as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  const texts: string[] = [];
  for (let x: unknown = e, depth = 0; x instanceof Error && depth < 4; x = (x as Error & { cause?: unknown }).cause, depth++) texts.push(x.message);
  const text = texts.join('\n');
  if (/No space left on device|errno = 28\b|ENOSPC/i.test(text)) return 'ENOSPC';
  if (/Disk quota exceeded|errno = 122\b/i.test(text)) return 'EDQUOT';
  if (/Read-only file system|errno = 30\b|EROFS/i.test(text)) return 'EROFS';
  if (/Permission denied|errno = 13\b/i.test(text)) return 'EACCES';
  return undefined;
}

/**
 * Translate a failed write of `path` into an OutputWriteError (exit 74) or UsageError (exit 2)
 * with a clear message; other errors are returned as they are. `needBytes`: what the
 * outputs take, for the "no space" message. HDF5 reports a full disk only as a failed
 * write, so when its error names no cause the free space decides.
 */
export function writeFailure(e: unknown, fallbackPath: string, needBytes?: number): unknown {
  if (e instanceof OutputWriteError || e instanceof UsageError) return e;
  const path = (e !== null && typeof e === 'object' && typeof (e as { outputPath?: unknown }).outputPath === 'string' ? (e as { outputPath: string }).outputPath : undefined) ?? targetNamedIn(e) ?? fallbackPath;
  let code = errnoOf(e);
  const free = freeBytes(dirname(path));
  const isHdf5 = e instanceof Error && (e.name === 'NetcdfError' || /HDF5/.test(e.message));
  if (code === undefined && isHdf5 && free !== undefined && free < Math.max(1 << 20, (needBytes ?? 0) / 100)) code = 'ENOSPC';
  if (code === undefined) return e;
  const where = free !== undefined ? `; ${formatBytes(free)} free there` : '';
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new OutputWriteError(
        `no space left on the device writing ${path}${code === 'EDQUOT' ? ' (disk quota exceeded)' : ''}: the outputs need about ${needBytes !== undefined ? formatBytes(needBytes) : 'more'}${where}; free space, or use another --out`,
        code,
        path,
        { cause: e },
      );
    case 'EROFS':
      return new OutputWriteError(`cannot write ${path}: read-only file system; use another --out`, code, path, { cause: e });
    case 'EACCES':
    case 'EPERM':
      return new OutputWriteError(`cannot write ${path}: permission denied; use a directory you can write to`, code, path, { cause: e });
    default:
      if (IO_CODES.has(code)) return new OutputWriteError(`cannot write ${path}: ${(e as Error).message.replace(/^\w+: /, '')}`, code, path, { cause: e });
      if (PATH_CODES.has(code)) return new UsageError(`cannot write ${path}: ${pathProblem(code)}`);
      return e;
  }
}

function pathProblem(code: string): string {
  switch (code) {
    case 'ENOTDIR':
      return 'a part of the path is a file, not a directory';
    case 'EEXIST':
      return 'something that is not a directory is in the way';
    case 'ENOENT':
      return 'a directory of the path does not exist (removed while running, or a dangling symbolic link)';
    case 'ELOOP':
      return 'too many symbolic links';
    case 'ENAMETOOLONG':
      return 'the path is too long';
    default:
      return 'it is a directory';
  }
}
