/**
 * A private SLURM cluster on localhost for tests: munged with its own key and socket,
 * slurmctld and one slurmd on free ports, all state, spool, logs and pid files under one
 * temporary directory, tuned to schedule at once (batch_sched_delay=0, sched_min_interval=0,
 * bf_interval=1). Started as root (slurmd runs jobs as their user); stopped by pid.
 * Clients (sbatch, squeue, scontrol, scancel) find it through SLURM_CONF in `env`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

const BINARIES = ['munged', 'mungekey', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scontrol', 'scancel', 'sinfo'];

/** Why a local cluster cannot run here, or undefined when it can. */
export function slurmUnavailable(): string | undefined {
  const missing = BINARIES.filter((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0);
  if (missing.length > 0) return `slurm-wlm and munge are not installed (missing ${missing.join(', ')}; .ci/run installs them with apt-get)`;
  if (process.getuid?.() !== 0) return 'slurmd must run as root to start jobs (run the tests as root, as .ci/run does)';
  return undefined;
}

export interface Job {
  /** squeue's %i: "12", "12_3" or "12_[4-7]" (pending array tasks). */
  readonly id: string;
  readonly state: string;
  readonly reason: string;
}

export interface Cluster {
  readonly dir: string;
  readonly conf: string;
  /** process.env plus SLURM_CONF: what a client (and relaxmap slurm --submit) needs. */
  readonly env: NodeJS.ProcessEnv;
  readonly cpus: number;
  /** Run a client command; throws with its output unless it exits 0. */
  cmd(program: string, args: readonly string[]): string;
  /** Jobs in the queue (pending and running). */
  queue(): Job[];
  /** A job's `scontrol show job` fields (JobState, ExitCode, ...). */
  show(id: string): Map<string, string>;
  /** Wait until the queue holds none of these job ids (array tasks included). */
  waitGone(ids: readonly string[], timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => ok(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms));

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function stopChild(child: ChildProcess, timeoutMs = 5000): Promise<void> {
  if (exited(child) || child.pid === undefined) return;
  const gone = new Promise<void>((ok) => child.once('exit', () => ok()));
  process.kill(child.pid, 'SIGTERM');
  const t = setTimeout(() => {
    if (!exited(child) && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  }, timeoutMs);
  await gone;
  clearTimeout(t);
}

export async function startCluster(): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'relaxmap-slurm-'));
  // munged refuses a socket directory others could write to; slurm wants its dirs to exist
  for (const d of ['munge', 'ctld', 'spool', 'log']) mkdirSync(join(dir, d), { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o755);
  const key = join(dir, 'munge', 'munge.key');
  const socket = join(dir, 'munge', 'munge.socket');
  const keygen = spawnSync('mungekey', ['-c', '-k', key], { encoding: 'utf8' });
  if (keygen.status !== 0) throw new Error(`mungekey failed: ${keygen.stderr}`);
  chmodSync(key, 0o600);
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  const host = hostname().split('.')[0] as string;
  const cpus = Math.max(1, Math.min(2, availableParallelism()));
  const conf = join(dir, 'slurm.conf');
  writeFileSync(
    conf,
    [
      'ClusterName=relaxmaptest',
      `SlurmctldHost=${host}(127.0.0.1)`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `AuthInfo=socket=${socket}`,
      `StateSaveLocation=${join(dir, 'ctld')}`,
      `SlurmdSpoolDir=${join(dir, 'spool')}`,
      `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
      `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
      `SlurmctldLogFile=${join(dir, 'log', 'slurmctld.log')}`,
      `SlurmdLogFile=${join(dir, 'log', 'slurmd.log')}`,
      'SlurmUser=root',
      'SlurmdUser=root',
      'ProctrackType=proctrack/pgid',
      'TaskPlugin=task/affinity',
      'SchedulerType=sched/backfill',
      'SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,bf_interval=1',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_CPU_Memory',
      'SlurmdParameters=config_overrides',
      'ReturnToService=2',
      'MpiDefault=none',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      'JobCompType=jobcomp/none',
      // SIGTERM, then SIGKILL this much later: the time a stopped relaxmap has to save its work
      'KillWait=5',
      // keep finished jobs visible to scontrol (ExitCode, requeue) for the whole test
      'MinJobAge=600',
      'InactiveLimit=0',
      'DefMemPerCPU=500',
      `NodeName=rmnode NodeHostname=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${1000 * cpus} State=UNKNOWN`,
      'PartitionName=debug Nodes=rmnode Default=YES MaxTime=INFINITE State=UP',
      '',
    ].join('\n'),
  );
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: conf };
  const children: ChildProcess[] = [];
  const daemon = (program: string, args: readonly string[]): ChildProcess => {
    const child = spawn(program, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.on('exit', (code, signal) => {
      if (!stopping && code !== 0) process.stderr.write(`test cluster: ${program} exited (${code ?? signal}): ${err}\n`);
    });
    children.push(child);
    return child;
  };
  let stopping = false;
  const cmd = (program: string, args: readonly string[]): string => {
    const r = spawnSync(program, args, { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${program} ${args.join(' ')}: exit ${r.status}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    // cancel whatever still runs, so no job outlives its slurmd
    try {
      const ids = cmd('squeue', ['-h', '-o', '%A']).split('\n').filter(Boolean);
      if (ids.length > 0) cmd('scancel', ids);
      const t0 = Date.now();
      while (cmd('squeue', ['-h', '-o', '%A']).trim() !== '' && Date.now() - t0 < 15_000) await sleep(200);
    } catch {
      // the controller is already gone
    }
    for (const c of [...children].reverse()) await stopChild(c);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    daemon('munged', ['-F', '-f', `--socket=${socket}`, `--key-file=${key}`, `--pid-file=${join(dir, 'munge', 'munged.pid')}`, `--log-file=${join(dir, 'log', 'munged.log')}`, `--seed-file=${join(dir, 'munge', 'munged.seed')}`]);
    const t0 = Date.now();
    while (spawnSync('sh', ['-c', `test -S ${socket}`]).status !== 0) {
      if (Date.now() - t0 > 10_000) throw new Error('munged did not create its socket');
      await sleep(50);
    }
    daemon('slurmctld', ['-D', '-f', conf]);
    daemon('slurmd', ['-D', '-f', conf, '-N', 'rmnode']);
    // ready when the node is idle
    for (;;) {
      const r = spawnSync('sinfo', ['-h', '-N', '-o', '%T'], { env, encoding: 'utf8' });
      if (r.status === 0 && r.stdout.trim() === 'idle') break;
      if (children.some(exited)) throw new Error(`a daemon exited during start-up; logs in ${dir}/log`);
      if (Date.now() - t0 > 30_000) throw new Error(`the test cluster did not come up in 30 s (sinfo: ${r.stdout.trim() || r.stderr.trim()}); ${readTail(join(dir, 'log', 'slurmctld.log'))}`);
      await sleep(100);
    }
  } catch (e) {
    await stop();
    throw e;
  }
  const queue = (): Job[] =>
    cmd('squeue', ['-h', '-o', '%i|%T|%r'])
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [id, state, reason] = l.split('|');
        return { id: id ?? '', state: state ?? '', reason: reason ?? '' };
      });
  const show = (id: string): Map<string, string> => {
    const m = new Map<string, string>();
    for (const tok of cmd('scontrol', ['show', 'job', '-o', id]).split(/\s+/)) {
      const i = tok.indexOf('=');
      if (i > 0 && !m.has(tok.slice(0, i))) m.set(tok.slice(0, i), tok.slice(i + 1));
    }
    return m;
  };
  const waitGone = async (ids: readonly string[], timeoutMs: number): Promise<void> => {
    const t0 = Date.now();
    const mine = (j: Job): boolean => ids.some((id) => j.id === id || j.id.startsWith(`${id}_`));
    while (queue().some(mine)) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`jobs ${ids.join(', ')} still queued after ${timeoutMs} ms: ${JSON.stringify(queue())}`);
      await sleep(100);
    }
  };
  return { dir, conf, env, cpus, cmd, queue, show, waitGone, stop };
}

function readTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '';
  }
}
