/**
 * What this process may use: CPUs and memory of the machine, narrowed by the CPU affinity
 * mask, the cgroup's memory limit and, inside a SLURM job, the allocation. Only defaults
 * come from here (worker threads, the memory budget for chunks in flight); the chunk plan
 * never does, so that shards computed on different nodes merge. A leaf module: node:os and
 * node:fs only.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';

/** Slurm's memory sizes in the environment are in MiB. */
const MIB = 1024 * 1024;
/** The memory budget for chunks in flight is this share of what the process may use. */
export const BUDGET_SHARE = 0.25;
/** ... and at most this much (larger chunks-in-flight buffers stop paying off). */
export const BUDGET_CAP = 2e9;

export interface AllocationInputs {
  readonly env: NodeJS.ProcessEnv;
  /** CPUs in this process's affinity mask (libuv's available parallelism). */
  readonly affinityCpus: number;
  readonly totalMemory: number;
  /** The cgroup memory limit in bytes, undefined when unlimited or unknown. */
  readonly cgroupMemory: number | undefined;
}

export interface Allocation {
  /** Worker threads by default: the affinity mask, narrowed by SLURM_CPUS_PER_TASK. */
  readonly cpus: number;
  /** Bytes this process may use: the machine, the cgroup limit and the SLURM allocation, whichever is least. */
  readonly memoryLimit: number;
  /** Default memory budget for chunks in flight. */
  readonly memoryBudget: number;
  /** The SLURM job this process runs in, if any. */
  readonly slurmJob: string | undefined;
  /** Where each number came from, for messages. */
  readonly sources: { readonly cpus: string; readonly memory: string };
}

function positiveInt(s: string | undefined): number | undefined {
  if (s === undefined || !/^\s*\d+\s*$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 1 ? n : undefined;
}

/** SLURM_JOB_CPUS_PER_NODE looks like "2", "2(x3)" or "4,2(x2)": the first count is this node's. */
function firstCount(s: string | undefined): number | undefined {
  const m = s === undefined ? null : /^\s*(\d+)/.exec(s);
  return m ? positiveInt(m[1]) : undefined;
}

export function allocationFrom(inputs: AllocationInputs): Allocation {
  const env = inputs.env;
  const inJob = env.SLURM_JOB_ID !== undefined;
  const affinity = Math.max(1, inputs.affinityCpus);
  // SLURM_CPUS_PER_TASK is set with --cpus-per-task; otherwise the job's CPUs on this node.
  const slurmCpus = inJob ? (positiveInt(env.SLURM_CPUS_PER_TASK) ?? positiveInt(env.SLURM_CPUS_ON_NODE) ?? firstCount(env.SLURM_JOB_CPUS_PER_NODE)) : undefined;
  const cpus = slurmCpus !== undefined ? Math.min(slurmCpus, affinity) : affinity;
  const cpuSource =
    slurmCpus !== undefined && slurmCpus <= affinity
      ? `the SLURM allocation (${env.SLURM_CPUS_PER_TASK !== undefined ? 'SLURM_CPUS_PER_TASK' : 'CPUs on this node'} = ${slurmCpus})`
      : `the CPU affinity mask (${affinity} CPU${affinity === 1 ? '' : 's'})`;

  const limits: Array<[number, string]> = [[inputs.totalMemory, 'the machine']];
  if (inputs.cgroupMemory !== undefined && inputs.cgroupMemory > 0) limits.push([inputs.cgroupMemory, 'the cgroup memory limit']);
  if (inJob) {
    const perNode = positiveInt(env.SLURM_MEM_PER_NODE);
    const perCpu = positiveInt(env.SLURM_MEM_PER_CPU);
    if (perNode !== undefined) limits.push([perNode * MIB, `SLURM_MEM_PER_NODE = ${perNode} MB`]);
    else if (perCpu !== undefined) limits.push([perCpu * MIB * (slurmCpus ?? 1), `SLURM_MEM_PER_CPU = ${perCpu} MB x ${slurmCpus ?? 1} CPU${(slurmCpus ?? 1) === 1 ? '' : 's'}`]);
  }
  const [memoryLimit, memorySource] = limits.reduce((a, b) => (b[0] < a[0] ? b : a));
  return {
    cpus,
    memoryLimit,
    memoryBudget: Math.min(BUDGET_CAP, memoryLimit * BUDGET_SHARE),
    slurmJob: inJob ? (env.SLURM_ARRAY_JOB_ID && env.SLURM_ARRAY_TASK_ID ? `${env.SLURM_ARRAY_JOB_ID}_${env.SLURM_ARRAY_TASK_ID}` : env.SLURM_JOB_ID) : undefined,
    sources: { cpus: cpuSource, memory: memorySource },
  };
}

/** A cgroup memory limit value: "max" (v2) or a huge number (v1) mean none. */
function parseLimit(text: string): number | undefined {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return undefined;
  const n = Number(t);
  return n > 0 && n < 2 ** 60 ? n : undefined;
}

function readLimit(path: string): number | undefined {
  try {
    return parseLimit(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * This process's cgroup memory limit: cgroup v2 memory.max, or v1 memory.limit_in_bytes,
 * at the path /proc/self/cgroup names (or at the mount's root, which is what a process in a
 * cgroup namespace sees), the smallest one on the way up to the root.
 */
export function cgroupMemoryLimit(procSelfCgroup = '/proc/self/cgroup', root = '/sys/fs/cgroup'): number | undefined {
  let text: string;
  try {
    text = readFileSync(procSelfCgroup, 'utf8');
  } catch {
    return undefined;
  }
  const found: number[] = [];
  const walk = (base: string, rel: string, file: string): void => {
    let p = rel.replace(/\/+$/, '');
    for (;;) {
      const v = readLimit(`${base}${p}/${file}`);
      if (v !== undefined) found.push(v);
      if (p === '') break;
      p = p.slice(0, p.lastIndexOf('/'));
    }
  };
  for (const line of text.split('\n')) {
    const [, controllers, rel] = /^\d+:([^:]*):(.*)$/.exec(line.trim()) ?? [];
    if (rel === undefined) continue;
    if (controllers === '') walk(root, rel, 'memory.max');
    else if (controllers?.split(',').includes('memory')) walk(`${root}/memory`, rel, 'memory.limit_in_bytes');
  }
  return found.length > 0 ? Math.min(...found) : undefined;
}

/** The allocation of this process, read from its environment, affinity mask and cgroup. */
export function currentAllocation(env: NodeJS.ProcessEnv = process.env): Allocation {
  return allocationFrom({ env, affinityCpus: availableParallelism(), totalMemory: totalmem(), cgroupMemory: cgroupMemoryLimit() });
}
