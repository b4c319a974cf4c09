/**
 * Checks of an --out path before anything is created: every way it cannot be an output
 * directory is refused with exit 2 naming --out, and the directory is then created with
 * the system's refusals translated (exit 74).
 */
import { lstatSync, mkdirSync, readlinkSync, realpathSync, statfsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../spec/errors.js';
import { writeFailure } from './os-errors.js';

/** Kernel pseudo file systems (statfs f_type): proc, sysfs, cgroup, cgroup2, debugfs, tracefs, securityfs, devpts. */
const PSEUDO_FS = new Set([0x9fa0, 0x62656572, 0x27e0eb, 0x63677270, 0x64626720, 0x74726163, 0x73636673, 0x1cd1]);
const PSEUDO_ROOTS = ['/proc', '/sys', '/dev'];

function nearestExisting(p: string): string {
  let cur = p;
  for (;;) {
    try {
      lstatSync(cur);
      return cur;
    } catch {
      const up = dirname(cur);
      if (up === cur) return cur;
      cur = up;
    }
  }
}

/** Validate an --out argument (flag: the option's name in messages) and return its absolute path. */
export function checkOutDir(out: string, flag = '--out'): string {
  if (out.trim() === '') throw new UsageError(`${flag} "": give the directory for the outputs (e.g. ${flag} results)`);
  if (out.includes('\0')) throw new UsageError(`${flag}: the path contains a NUL byte`);
  const abs = resolve(out);
  let st: ReturnType<typeof lstatSync> | undefined;
  try {
    st = lstatSync(abs);
  } catch {
    st = undefined;
  }
  if (st?.isSymbolicLink()) {
    let target: string;
    try {
      target = readlinkSync(abs);
    } catch {
      target = '?';
    }
    try {
      statSync(abs);
    } catch {
      throw new UsageError(`${flag} ${out}: a symbolic link to ${target}, which does not exist; create the target or give another ${flag}`);
    }
  }
  if (st) {
    const target = statSync(abs);
    if (!target.isDirectory()) throw new UsageError(`${flag} ${out}: exists and is not a directory; give a directory for the outputs`);
  } else {
    const base = nearestExisting(dirname(abs));
    let bst: ReturnType<typeof statSync> | undefined;
    try {
      bst = statSync(base);
    } catch {
      bst = undefined;
    }
    if (!bst) throw new UsageError(`${flag} ${out}: ${base} is a dangling symbolic link`);
    if (!bst.isDirectory()) throw new UsageError(`${flag} ${out}: ${base} is a file, not a directory`);
  }
  const real = (() => {
    try {
      return realpathSync(nearestExisting(abs));
    } catch {
      return abs;
    }
  })();
  let pseudo = PSEUDO_ROOTS.some((r) => real === r || real.startsWith(`${r}/`));
  try {
    pseudo ||= PSEUDO_FS.has(statfsSync(real).type);
  } catch {
    // statfs unsupported: the path check stands
  }
  if (pseudo) throw new UsageError(`${flag} ${out}: ${real} is on a kernel pseudo file system (/proc, /sys, /dev), not a place for outputs`);
  return abs;
}

/** Create the output directory (and parents); the system's refusals become exit 74 or 2. */
export function makeOutDir(abs: string): void {
  try {
    mkdirSync(abs, { recursive: true });
  } catch (e) {
    // a recursive mkdir reports ENOENT for what is EROFS or EACCES one level down: find the real cause
    let cause = e;
    const parent = nearestExisting(dirname(abs));
    const next = abs.slice(0, abs.indexOf('/', parent.length + 1) === -1 ? abs.length : abs.indexOf('/', parent.length + 1));
    try {
      mkdirSync(next);
    } catch (e2) {
      cause = e2;
    }
    throw writeFailure(cause, next);
  }
}
