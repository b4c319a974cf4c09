/**
 * The lock of a run directory: DIR/.relaxmap/lock, one JSON object (format below) naming the
 * process that writes into DIR. Two runs (or a run and a merge) never write into one
 * directory; a lock left by a dead run is stale and is taken over only by --resume or
 * --force; a live lock is never taken over.
 *
 * Liveness:
 * - same host (host name and boot id agree): the recorded pid must exist, must not be a
 *   zombie, and must have the recorded start time (field 22 of /proc/PID/stat), so a killed
 *   run that its parent has not reaped yet, or a pid reused by another process, is stale;
 * - same host name but another boot id: the machine rebooted since, stale;
 * - another host: live while its heartbeat is younger than the lease (LOCK_LEASE_S). The
 *   holder refreshes the heartbeat after every chunk and on a timer while a chunk runs, so a
 *   lease expires only when the holder is gone, frozen or cut off. Hosts sharing a
 *   directory need clocks that agree to well within the lease (NTP).
 *
 * The format is stable (`format: relaxmap-lock/1`); `readLock` is the read API for tools that
 * report on run directories (relaxmap status).
 */
import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { RUN_TOKEN, tempPathFor, writeFileAtomic } from '../io/temp-files.js';
import { NeedsResumeError, RunLockedError } from './run-errors.js';

export const LOCK_FORMAT = 'relaxmap-lock/1';
/** Seconds a lock written on another host stays live after its last heartbeat. */
export const LOCK_LEASE_S = 120;
/** Seconds between heartbeats while a chunk runs (plus one after every chunk, at most one a second). */
export const HEARTBEAT_INTERVAL_S = 10;

/** A cluster job the holder runs in (SLURM_JOB_ID, or SLURM_ARRAY_JOB_ID + SLURM_ARRAY_TASK_ID). */
export interface LockJob {
  readonly scheduler: 'slurm';
  readonly job_id: string;
  readonly array_job_id?: string;
  readonly array_task_id?: string;
}

/** The content of DIR/.relaxmap/lock. */
export interface LockHolder {
  readonly format: typeof LOCK_FORMAT;
  /** Identity of the run; its temporary files carry it (`.NAME.<run_id>.tmp`). */
  readonly run_id: string;
  readonly host: string;
  readonly pid: number;
  /** Process start time in clock ticks after boot (/proc/PID/stat field 22), null off Linux. */
  readonly pid_start: number | null;
  /** /proc/sys/kernel/random/boot_id of the holder's machine, null off Linux. */
  readonly boot_id: string | null;
  readonly job: LockJob | null;
  /** What holds the directory: run, merge. */
  readonly command: string;
  /** ISO times. */
  readonly started: string;
  readonly heartbeat: string;
  /** The lease another host grants this lock after each heartbeat, seconds. */
  readonly lease_s: number;
}

export interface LockStatus {
  /** The lock's content; undefined when there is no lock (or it cannot be parsed). */
  readonly holder: LockHolder | undefined;
  /** True when the holder is running (or, on another host, its lease has not expired). */
  readonly live: boolean;
  /** Why, in words: "pid 123 on this host is running", "pid 123 is a zombie", ... */
  readonly reason: string;
  /** Seconds since the last heartbeat (undefined without a lock). */
  readonly heartbeatAge: number | undefined;
}

export function lockPath(outDir: string): string {
  return join(outDir, '.relaxmap', 'lock');
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

let bootIdCache: string | null | undefined;
export function bootId(): string | null {
  if (bootIdCache === undefined) bootIdCache = readText('/proc/sys/kernel/random/boot_id')?.trim() || null;
  return bootIdCache;
}

/** State letter and start time of a process from /proc/PID/stat; undefined when it does not exist; null when /proc is not there. */
export function procStat(pid: number): { state: string; start: number } | undefined | null {
  if (!existsSync('/proc/self/stat')) return null;
  const text = readText(`/proc/${pid}/stat`);
  if (text === undefined) return undefined;
  // the command name (field 2) is in parentheses and may itself hold spaces and ')'
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0] ?? '?', start: Number(rest[19]) };
}

function slurmJob(env: NodeJS.ProcessEnv = process.env): LockJob | null {
  const job = env.SLURM_JOB_ID;
  const arrayJob = env.SLURM_ARRAY_JOB_ID;
  const task = env.SLURM_ARRAY_TASK_ID;
  if (!job && !arrayJob) return null;
  return {
    scheduler: 'slurm',
    job_id: job ?? `${arrayJob}_${task ?? ''}`,
    ...(arrayJob ? { array_job_id: arrayJob } : {}),
    ...(task ? { array_task_id: task } : {}),
  };
}

function parseHolder(text: string | undefined): LockHolder | undefined {
  if (text === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.pid !== 'number' || typeof o.host !== 'string') return undefined;
  // locks of earlier versions had only pid, host and started
  const started = typeof o.started === 'string' ? o.started : new Date(0).toISOString();
  return {
    format: LOCK_FORMAT,
    run_id: typeof o.run_id === 'string' ? o.run_id : `${o.pid}`,
    host: o.host,
    pid: o.pid,
    pid_start: typeof o.pid_start === 'number' ? o.pid_start : null,
    boot_id: typeof o.boot_id === 'string' ? o.boot_id : null,
    job: (o.job as LockJob | null | undefined) ?? null,
    command: typeof o.command === 'string' ? o.command : 'run',
    started,
    heartbeat: typeof o.heartbeat === 'string' ? o.heartbeat : started,
    lease_s: typeof o.lease_s === 'number' && o.lease_s > 0 ? o.lease_s : LOCK_LEASE_S,
  };
}

/** Is the holder alive, and why (see the module comment). */
export function judgeHolder(h: LockHolder, now = Date.now()): { live: boolean; reason: string; heartbeatAge: number } {
  const heartbeatAge = Math.max(0, (now - Date.parse(h.heartbeat)) / 1000);
  const who = `pid ${h.pid}${h.job ? ` (SLURM job ${h.job.job_id})` : ''}`;
  const sameHost = h.host === hostname();
  if (!sameHost) {
    const age = Number.isFinite(heartbeatAge) ? heartbeatAge : Infinity;
    if (age < h.lease_s) return { live: true, reason: `${who} on host ${h.host}: heartbeat ${age.toFixed(0)} s ago, within its ${h.lease_s} s lease`, heartbeatAge: age };
    return { live: false, reason: `${who} on host ${h.host}: last heartbeat ${Number.isFinite(age) ? `${age.toFixed(0)} s` : 'long'} ago, past its ${h.lease_s} s lease`, heartbeatAge: age };
  }
  const boot = bootId();
  if (h.boot_id !== null && boot !== null && h.boot_id !== boot) {
    return { live: false, reason: `${who}: this host rebooted since the lock was written`, heartbeatAge };
  }
  if (h.pid === process.pid && h.run_id !== RUN_TOKEN) {
    return { live: false, reason: `${who}: that pid is now this process, so the lock's run has ended`, heartbeatAge };
  }
  const st = procStat(h.pid);
  if (st === null) {
    // no /proc: fall back to signal 0 (a zombie or a reused pid looks alive there)
    try {
      process.kill(h.pid, 0);
      return { live: true, reason: `${who} on this host is running`, heartbeatAge };
    } catch (e) {
      const live = (e as NodeJS.ErrnoException).code === 'EPERM';
      return { live, reason: live ? `${who} on this host is running (another user)` : `${who} has exited`, heartbeatAge };
    }
  }
  if (st === undefined) return { live: false, reason: `${who} has exited`, heartbeatAge };
  if (st.state === 'Z' || st.state === 'X') return { live: false, reason: `${who} was killed (a zombie not yet reaped by its parent)`, heartbeatAge };
  if (h.pid_start !== null && st.start !== h.pid_start) return { live: false, reason: `${who} has exited (the pid now belongs to another process)`, heartbeatAge };
  return { live: true, reason: `${who} on this host is running${st.state === 'T' ? ' (stopped)' : ''}`, heartbeatAge };
}

/** The lock of a run directory and whether its holder is alive. Never throws. */
export function readLock(outDir: string): LockStatus {
  const text = readText(lockPath(outDir));
  if (text === undefined) return { holder: undefined, live: false, reason: 'no lock', heartbeatAge: undefined };
  const holder = parseHolder(text);
  if (!holder) return { holder: undefined, live: false, reason: 'the lock file is unreadable (a run killed while writing it)', heartbeatAge: undefined };
  return { holder, ...judgeHolder(holder) };
}

function describe(h: LockHolder): string {
  return `pid ${h.pid} on ${h.host}${h.job ? `, SLURM job ${h.job.job_id}` : ''}, started ${h.started}`;
}

export interface AcquireOptions {
  /** run, merge: recorded in the lock. */
  readonly command: string;
  /** Take over a stale lock (--resume, --force); a live one is never taken. */
  readonly takeStale: boolean;
  /** The hint when a stale lock is found and takeStale is false. */
  readonly staleHint?: string;
}

/**
 * A held lock: created atomically (the complete file is hard-linked into place, which fails
 * when a lock exists), refreshed by heartbeat(), removed by release() only while it is
 * still this run's.
 */
export class RunLock {
  readonly outDir: string;
  readonly path: string;
  private holder: LockHolder;
  private timer: NodeJS.Timeout | undefined;
  private lastBeat = 0;
  private held = true;
  /** Set when the lock file no longer names this run (another run took it over). */
  lostTo: LockHolder | undefined;

  private constructor(outDir: string, holder: LockHolder) {
    this.outDir = outDir;
    this.path = lockPath(outDir);
    this.holder = holder;
  }

  get runId(): string {
    return this.holder.run_id;
  }

  static acquire(outDir: string, options: AcquireOptions): RunLock {
    const path = lockPath(outDir);
    mkdirSync(join(outDir, '.relaxmap'), { recursive: true });
    const now = new Date().toISOString();
    const st = procStat(process.pid);
    const holder: LockHolder = {
      format: LOCK_FORMAT,
      run_id: RUN_TOKEN,
      host: hostname(),
      pid: process.pid,
      pid_start: st ? st.start : null,
      boot_id: bootId(),
      job: slurmJob(),
      command: options.command,
      started: now,
      heartbeat: now,
      lease_s: LOCK_LEASE_S,
    };
    const tmp = tempPathFor(path);
    writeComplete(tmp, `${JSON.stringify(holder, null, 2)}\n`);
    try {
      for (let attempt = 0; ; attempt++) {
        if (linkOrCreate(tmp, path)) break;
        const status = readLock(outDir);
        if (status.reason === 'no lock' && attempt < 3) continue; // it went away meanwhile: try again
        if (status.live && status.holder) {
          throw new RunLockedError(`${outDir} is held by a live relaxmap ${status.holder.command} (${describe(status.holder)}; ${status.reason}): wait for it to finish, or use another --out`);
        }
        if (!options.takeStale) {
          throw new NeedsResumeError(
            `${outDir} holds an interrupted run${status.holder ? ` (${describe(status.holder)}; ${status.reason})` : ''}: ${options.staleHint ?? 'continue it with --resume, or start over with --force'}`,
          );
        }
        if (attempt >= 3) throw new RunLockedError(`${outDir}: another relaxmap process keeps taking the lock; use another --out`);
        // move the stale lock aside; if it is no longer the one judged stale, put it back
        const aside = `${path}.${RUN_TOKEN}.stale`;
        try {
          renameSync(path, aside);
        } catch {
          continue; // someone else moved it first: judge again
        }
        const moved = parseHolder(readText(aside));
        if (status.holder && moved && moved.run_id !== status.holder.run_id && judgeHolder(moved).live) {
          linkOrCreate(aside, path);
          rmSync(aside, { force: true });
          throw new RunLockedError(`${outDir} was just taken by another relaxmap ${moved.command} (${describe(moved)}): use another --out`);
        }
        rmSync(aside, { force: true });
      }
    } finally {
      rmSync(tmp, { force: true });
    }
    const lock = new RunLock(outDir, holder);
    heldLocks.add(lock);
    if (!exitHook) {
      exitHook = true;
      // whatever ends the process (process.exit, an uncaught error), a held lock is released
      process.on('exit', () => {
        for (const l of heldLocks) l.release();
      });
    }
    lock.lastBeat = Date.now();
    lock.timer = setInterval(() => lock.heartbeat(true), HEARTBEAT_INTERVAL_S * 1000);
    lock.timer.unref();
    return lock;
  }

  /**
   * Refresh the heartbeat (at most once a second unless forced). Notices when the lock is
   * no longer this run's (lostTo), and then leaves it alone.
   */
  heartbeat(force = false): void {
    if (!this.held || this.lostTo) return;
    const now = Date.now();
    if (!force && now - this.lastBeat < 1000) return;
    this.lastBeat = now;
    const current = parseHolder(readText(this.path));
    if (current && current.run_id !== this.holder.run_id) {
      this.lostTo = current;
      return;
    }
    this.holder = { ...this.holder, heartbeat: new Date(now).toISOString() };
    try {
      writeFileAtomic(this.path, `${JSON.stringify(this.holder, null, 2)}\n`);
    } catch {
      // a full or failing disk: the next chunk's write reports it
    }
  }

  /** Remove the lock if it is still this run's. Idempotent. */
  release(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    heldLocks.delete(this);
    if (!this.held) return;
    this.held = false;
    const current = parseHolder(readText(this.path));
    if (current && current.run_id !== this.holder.run_id) return;
    rmSync(this.path, { force: true });
  }

  get isHeld(): boolean {
    return this.held && !this.lostTo;
  }
}

const heldLocks = new Set<RunLock>();
let exitHook = false;

function writeComplete(path: string, text: string): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Put `tmp` at `path` unless something is there: true on success, false when `path` exists. */
function linkOrCreate(tmp: string, path: string): boolean {
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw e;
  }
  // file systems without hard links: exclusive create (a reader may briefly see it empty)
  try {
    const fd = openSync(path, 'wx');
    try {
      writeSync(fd, readFileSync(tmp));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}
