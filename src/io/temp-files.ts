import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * The identity of this process's run: every temporary file relaxmap writes carries it, and
 * the lock records it, so that a later run of the same directory can tell the debris of a
 * dead run (another token) from its own files. One process is one run.
 */
export const RUN_TOKEN = `${process.pid}-${randomBytes(4).toString('hex')}`;

/** `DIR/.NAME.TOKEN.tmp`: hidden, in the target's directory (so the rename is atomic), named after the target. */
export function tempPathFor(target: string, token: string = RUN_TOKEN): string {
  return join(dirname(target), `.${basename(target)}.${token}.tmp`);
}

/**
 * The token of a relaxmap temporary file of one of the given target names, or undefined
 * when `file` is not one. Also recognises the names of earlier versions
 * (`NAME.PID.tmp`, `NAME.PID.RANDOM.tmp`, `.NAME.PID.HEX.tmp`), so that their debris is
 * cleaned as well.
 */
export function tempTokenOf(file: string, targets: (name: string) => boolean): string | undefined {
  const m = /^\.?(.+?)\.(\d+(?:[-.][0-9a-z]+)?)\.tmp$/.exec(file);
  if (!m) return undefined;
  return targets(m[1] as string) ? (m[2] as string) : undefined;
}

/** Write a file atomically: temporary name in the same directory, fsync, rename. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = tempPathFor(path);
  const fd = openSync(tmp, 'w');
  try {
    if (typeof data === 'string') {
      const bytes = Buffer.from(data, 'utf8');
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    } else {
      let off = 0;
      while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    }
    fsyncSync(fd);
    closeSync(fd);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(tmp, { force: true });
    throw e;
  }
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** writeFileAtomic without blocking the event loop: the same temporary name, fsync and rename. */
export async function writeFileAtomicAsync(path: string, data: Uint8Array): Promise<void> {
  const tmp = tempPathFor(path);
  const fh = await open(tmp, 'w');
  try {
    let off = 0;
    while (off < data.length) off += (await fh.write(data, off, data.length - off)).bytesWritten;
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
