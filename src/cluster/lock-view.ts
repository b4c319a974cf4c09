/**
 * A read-only view of a run's lock (DIR/.relaxmap/lock) for `relaxmap status`: who holds
 * it and whether that run is alive. On the lock's own host the process is checked; from
 * another host (a login node looking at a compute node's shard) only the heartbeat can
 * tell: a lock refreshed within LEASE_MS is live.
 */
import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** A lock whose heartbeat is older than this is not live (when its process cannot be checked). */
export const LEASE_MS = 120_000;

export interface LockView {
  readonly host: string | null;
  readonly pid: number | null;
  readonly startedMs: number | null;
  readonly heartbeatMs: number | null;
  readonly jobId: string | null;
  readonly live: boolean;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // a zombie (killed, not yet reaped) is not a running relaxmap
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

function timeOf(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isFinite(t) ? t : null;
  }
  return null;
}

/** The lock of the run directory `dir`, or null when none is held. */
export function readRunLock(dir: string, now: number = Date.now()): LockView | null {
  const path = join(dir, '.relaxmap', 'lock');
  let text: string;
  let mtimeMs: number;
  try {
    text = readFileSync(path, 'utf8');
    mtimeMs = statSync(path).mtimeMs;
  } catch {
    return null;
  }
  let raw: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') raw = parsed as Record<string, unknown>;
  } catch {
    // a lock being written: judge it by its file time
  }
  const host = typeof raw.host === 'string' ? raw.host : null;
  const pid = typeof raw.pid === 'number' ? raw.pid : null;
  const heartbeatMs = timeOf(raw.heartbeat) ?? mtimeMs;
  const startedMs = timeOf(raw.started);
  const jobId = typeof raw.job === 'string' ? raw.job : typeof raw.jobId === 'string' ? raw.jobId : null;
  const live = host === hostname() && pid !== null ? processAlive(pid) : now - heartbeatMs < LEASE_MS;
  return { host, pid, startedMs, heartbeatMs, jobId, live };
}
