/**
 * The run-directory lock (src/sweep/lock.ts): liveness from /proc (a zombie or a reused pid
 * is stale, a stopped process is live), another host's lease, another boot, the heartbeat,
 * and that neither --resume nor --force (takeStale) ever takes a live lock.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUN_TOKEN } from '../../src/io/temp-files.js';
import { bootId, LOCK_FORMAT, LOCK_LEASE_S, lockPath, procStat, readLock, RunLock, type LockHolder } from '../../src/sweep/lock.js';
import { NeedsResumeError, RunLockedError } from '../../src/sweep/run-errors.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'relaxmap-lock-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
function freshDir(): string {
  const d = join(root, `d${n++}`);
  mkdirSync(join(d, '.relaxmap'), { recursive: true });
  return d;
}

function holder(over: Partial<LockHolder>): LockHolder {
  const now = new Date().toISOString();
  return {
    format: LOCK_FORMAT,
    run_id: 'test-run',
    host: hostname(),
    pid: 1,
    pid_start: null,
    boot_id: bootId(),
    job: null,
    command: 'run',
    started: now,
    heartbeat: now,
    lease_s: LOCK_LEASE_S,
    ...over,
  };
}

function writeLock(dir: string, h: LockHolder | string): void {
  writeFileSync(lockPath(dir), typeof h === 'string' ? h : JSON.stringify(h));
}

/** A process that has exited and been reaped: its pid is free. */
async function deadPid(): Promise<number> {
  const c = spawn('true');
  await new Promise((ok) => c.on('close', ok));
  return c.pid as number;
}

/** `sleep` under a parent that never reaps it (bash exec'ed into another sleep): kill -9 makes it a zombie. */
async function zombie(): Promise<{ pid: number; start: number; cleanup: () => void }> {
  const parent = spawn('bash', ['-c', 'sleep 60 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const pid = await new Promise<number>((ok) => parent.stdout.once('data', (d: Buffer) => ok(Number(d.toString().trim()))));
  const start = (procStat(pid) as { start: number }).start;
  // kill the child only once bash has exec'd into sleep, which never reaps it: a bash still
  // running would reap it at once (under load the exec can come after the echo by a while)
  const comm = (): string => {
    try {
      return readFileSync(`/proc/${parent.pid}/comm`, 'utf8').trim();
    } catch {
      return '';
    }
  };
  for (let i = 0; i < 500 && comm() !== 'sleep'; i++) await new Promise((ok) => setTimeout(ok, 10));
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100 && procStat(pid)?.state !== 'Z'; i++) await new Promise((ok) => setTimeout(ok, 10));
  return { pid, start, cleanup: () => parent.kill('SIGKILL') };
}

describe('lock file format', () => {
  it('records host, pid, process start time, boot id, run id, heartbeat and lease; release removes it', () => {
    const dir = freshDir();
    const lock = RunLock.acquire(dir, { command: 'run', takeStale: false });
    const h = JSON.parse(readFileSync(lockPath(dir), 'utf8')) as LockHolder;
    expect(h.format).toBe('relaxmap-lock/1');
    expect(h.host).toBe(hostname());
    expect(h.pid).toBe(process.pid);
    expect(h.pid_start).toBe((procStat(process.pid) as { start: number }).start);
    expect(h.boot_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(h.run_id).toBe(RUN_TOKEN);
    expect(h.lease_s).toBe(LOCK_LEASE_S);
    expect(h.job).toBeNull();
    const status = readLock(dir);
    expect(status.live).toBe(true);
    expect(status.reason).toMatch(/on this host is running/);
    expect(status.heartbeatAge).toBeLessThan(5);
    lock.release();
    expect(existsSync(lockPath(dir))).toBe(false);
    expect(readLock(dir)).toEqual({ holder: undefined, live: false, reason: 'no lock', heartbeatAge: undefined });
  });

  it('records the SLURM job (array job and task) when present', () => {
    const dir = freshDir();
    const saved = { ...process.env };
    process.env.SLURM_JOB_ID = '4242';
    process.env.SLURM_ARRAY_JOB_ID = '4200';
    process.env.SLURM_ARRAY_TASK_ID = '7';
    try {
      const lock = RunLock.acquire(dir, { command: 'run', takeStale: false });
      expect(readLock(dir).holder?.job).toEqual({ scheduler: 'slurm', job_id: '4242', array_job_id: '4200', array_task_id: '7' });
      expect(readLock(dir).reason).toMatch(/SLURM job 4242/);
      lock.release();
    } finally {
      for (const k of ['SLURM_JOB_ID', 'SLURM_ARRAY_JOB_ID', 'SLURM_ARRAY_TASK_ID']) if (saved[k] === undefined) delete process.env[k];
    }
  });

  it('the heartbeat refreshes the time; a lock taken over by another run is noticed and left alone', async () => {
    const dir = freshDir();
    const lock = RunLock.acquire(dir, { command: 'run', takeStale: false });
    const before = readLock(dir).holder?.heartbeat as string;
    await new Promise((ok) => setTimeout(ok, 20));
    lock.heartbeat(true);
    const after = readLock(dir).holder?.heartbeat as string;
    expect(Date.parse(after)).toBeGreaterThan(Date.parse(before));
    writeLock(dir, holder({ run_id: 'someone-else', pid: process.ppid, host: 'elsewhere' }));
    lock.heartbeat(true);
    expect(lock.lostTo?.run_id).toBe('someone-else');
    expect(lock.isHeld).toBe(false);
    lock.release();
    expect(readLock(dir).holder?.run_id).toBe('someone-else');
  });
});

describe('liveness on this host', () => {
  it('a second acquire of a held lock is refused, with --resume or --force alike (exit 73)', () => {
    const dir = freshDir();
    const lock = RunLock.acquire(dir, { command: 'run', takeStale: false });
    expect(() => RunLock.acquire(dir, { command: 'run', takeStale: true })).toThrow(RunLockedError);
    expect(() => RunLock.acquire(dir, { command: 'merge', takeStale: false })).toThrow(/held by a live relaxmap run \(pid \d+ on /);
    lock.release();
  });

  it('a dead pid is stale: refused without --resume (exit 3), taken over with it', async () => {
    const dir = freshDir();
    const pid = await deadPid();
    writeLock(dir, holder({ pid, pid_start: 12345 }));
    const status = readLock(dir);
    expect(status.live).toBe(false);
    expect(status.reason).toMatch(new RegExp(`pid ${pid} has exited`));
    expect(() => RunLock.acquire(dir, { command: 'run', takeStale: false })).toThrow(NeedsResumeError);
    expect(() => RunLock.acquire(dir, { command: 'run', takeStale: false })).toThrow(/interrupted run.*--resume.*--force/);
    const lock = RunLock.acquire(dir, { command: 'run', takeStale: true });
    expect(readLock(dir).holder?.run_id).toBe(RUN_TOKEN);
    lock.release();
  });

  it('a killed run still held as a zombie by its parent is stale (kill(pid, 0) would call it alive)', async () => {
    const dir = freshDir();
    const z = await zombie();
    try {
      expect(procStat(z.pid)?.state).toBe('Z');
      expect(() => process.kill(z.pid, 0)).not.toThrow();
      writeLock(dir, holder({ pid: z.pid, pid_start: z.start }));
      const status = readLock(dir);
      expect(status.live).toBe(false);
      expect(status.reason).toMatch(/zombie/);
      RunLock.acquire(dir, { command: 'run', takeStale: true }).release();
    } finally {
      z.cleanup();
    }
  });

  it('a pid reused by another process (other start time) is stale; the right start time is live; a stopped process is live', async () => {
    const dir = freshDir();
    const sleeper = spawn('sleep', ['30']);
    try {
      const pid = sleeper.pid as number;
      const start = (procStat(pid) as { start: number }).start;
      writeLock(dir, holder({ pid, pid_start: start + 1 }));
      expect(readLock(dir).live).toBe(false);
      expect(readLock(dir).reason).toMatch(/pid now belongs to another process/);
      writeLock(dir, holder({ pid, pid_start: start }));
      expect(readLock(dir).live).toBe(true);
      sleeper.kill('SIGSTOP');
      for (let i = 0; i < 100 && procStat(pid)?.state !== 'T'; i++) await new Promise((ok) => setTimeout(ok, 10));
      expect(readLock(dir)).toMatchObject({ live: true, reason: expect.stringMatching(/running \(stopped\)/) });
      expect(() => RunLock.acquire(dir, { command: 'run', takeStale: true })).toThrow(RunLockedError);
      expect(readLock(dir).holder?.pid).toBe(pid);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('a lock from before a reboot (other boot id) is stale', () => {
    const dir = freshDir();
    writeLock(dir, holder({ pid: process.ppid, boot_id: '00000000-0000-0000-0000-000000000000' }));
    expect(readLock(dir)).toMatchObject({ live: false, reason: expect.stringMatching(/rebooted/) });
  });

  it('an unreadable lock (empty, truncated) is stale; a lock of an earlier version (pid, host, started) is judged by its pid', async () => {
    const dir = freshDir();
    writeLock(dir, '{"pid": 12');
    expect(readLock(dir)).toMatchObject({ live: false, holder: undefined, reason: expect.stringMatching(/unreadable/) });
    RunLock.acquire(dir, { command: 'run', takeStale: true }).release();
    writeLock(dir, JSON.stringify({ pid: await deadPid(), host: hostname(), started: new Date().toISOString() }));
    expect(readLock(dir).live).toBe(false);
    writeLock(dir, JSON.stringify({ pid: process.ppid, host: hostname(), started: new Date().toISOString() }));
    expect(readLock(dir).live).toBe(true);
  });
});

describe('another host: a lease', () => {
  it('is live while its heartbeat is younger than the lease, and neither --resume nor --force takes it', () => {
    const dir = freshDir();
    writeLock(dir, holder({ host: 'node17.cluster', pid: 99999, heartbeat: new Date(Date.now() - 30_000).toISOString() }));
    const status = readLock(dir);
    expect(status.live).toBe(true);
    expect(status.heartbeatAge).toBeGreaterThan(29);
    expect(status.heartbeatAge).toBeLessThan(60);
    expect(status.reason).toMatch(/host node17\.cluster: heartbeat 30 s ago, within its 120 s lease/);
    expect(() => RunLock.acquire(dir, { command: 'run', takeStale: true })).toThrow(RunLockedError);
    expect(readLock(dir).holder?.host).toBe('node17.cluster');
  });

  it('is stale once the heartbeat is older than the lease: --resume takes it over', () => {
    const dir = freshDir();
    writeLock(dir, holder({ host: 'node17.cluster', pid: 99999, heartbeat: new Date(Date.now() - (LOCK_LEASE_S + 5) * 1000).toISOString() }));
    expect(readLock(dir)).toMatchObject({ live: false, reason: expect.stringMatching(/past its 120 s lease/) });
    expect(() => RunLock.acquire(dir, { command: 'run', takeStale: false })).toThrow(NeedsResumeError);
    const lock = RunLock.acquire(dir, { command: 'run', takeStale: true });
    expect(readLock(dir).holder?.host).toBe(hostname());
    lock.release();
  });

  it('a lease given in the lock is honoured (lease_s)', () => {
    const dir = freshDir();
    writeLock(dir, holder({ host: 'node3', heartbeat: new Date(Date.now() - 200_000).toISOString(), lease_s: 600 }));
    expect(readLock(dir).live).toBe(true);
  });
});
