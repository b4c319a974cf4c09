/**
 * What `relaxmap status` shows of a run's lock: who holds it and whether that run is alive,
 * as the lock module judges it (src/sweep/lock.ts: on its own host the process, from another
 * host, such as a login node looking at a compute node's shard, the heartbeat's lease).
 */
import { readLock } from '../sweep/lock.js';

export interface LockView {
  readonly host: string | null;
  readonly pid: number | null;
  readonly startedMs: number | null;
  readonly heartbeatMs: number | null;
  readonly jobId: string | null;
  readonly live: boolean;
  /** Why it is (not) live, in words. */
  readonly reason: string;
}

function timeOf(iso: string): number | null {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
}

/** The lock of the run directory `dir`, or null when none is held. */
export function readRunLock(dir: string): LockView | null {
  const st = readLock(dir);
  if (!st.holder) return st.reason === 'no lock' ? null : { host: null, pid: null, startedMs: null, heartbeatMs: null, jobId: null, live: false, reason: st.reason };
  const h = st.holder;
  return { host: h.host, pid: h.pid, startedMs: timeOf(h.started), heartbeatMs: timeOf(h.heartbeat), jobId: h.job?.job_id ?? null, live: st.live, reason: st.reason };
}
