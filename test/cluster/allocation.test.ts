/**
 * Defaults follow the allocation: CPUs from the affinity mask and SLURM_CPUS_PER_TASK,
 * memory from the machine, the cgroup limit and SLURM_MEM_PER_NODE / SLURM_MEM_PER_CPU.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allocationFrom, cgroupMemoryLimit } from '../../src/cluster/allocation.js';
import { ROOT } from '../helpers/cli.js';

const GB = 1e9;
const MIB = 1024 * 1024;
const base = { affinityCpus: 8, totalMemory: 64 * GB, cgroupMemory: undefined };

describe('allocationFrom', () => {
  it('outside a job: the affinity mask and a quarter of the machine, at most 2 GB', () => {
    expect(allocationFrom({ ...base, env: {} })).toMatchObject({ cpus: 8, memoryLimit: 64 * GB, memoryBudget: 2e9, slurmJob: undefined });
    expect(allocationFrom({ ...base, totalMemory: 4 * GB, env: {} }).memoryBudget).toBe(1 * GB);
    // SLURM variables without SLURM_JOB_ID (a login shell that exported them) change nothing
    expect(allocationFrom({ ...base, env: { SLURM_CPUS_PER_TASK: '2', SLURM_MEM_PER_NODE: '100' } })).toMatchObject({ cpus: 8, memoryLimit: 64 * GB });
  });

  it('in a job: SLURM_CPUS_PER_TASK, narrowed by the affinity mask; CPUs on the node without it', () => {
    const job = { SLURM_JOB_ID: '42' };
    expect(allocationFrom({ ...base, env: { ...job, SLURM_CPUS_PER_TASK: '3' } }).cpus).toBe(3);
    expect(allocationFrom({ ...base, affinityCpus: 2, env: { ...job, SLURM_CPUS_PER_TASK: '3' } }).cpus).toBe(2);
    expect(allocationFrom({ ...base, env: { ...job, SLURM_CPUS_ON_NODE: '5' } }).cpus).toBe(5);
    expect(allocationFrom({ ...base, env: { ...job, SLURM_JOB_CPUS_PER_NODE: '4(x2)' } }).cpus).toBe(4);
    expect(allocationFrom({ ...base, env: { ...job, SLURM_CPUS_PER_TASK: 'x' } }).cpus).toBe(8);
    expect(allocationFrom({ ...base, env: { ...job, SLURM_ARRAY_JOB_ID: '40', SLURM_ARRAY_TASK_ID: '2' } }).slurmJob).toBe('40_2');
  });

  it('in a job: memory per node, or per CPU times the CPUs, whichever limit is least (MiB)', () => {
    const job = { SLURM_JOB_ID: '42' };
    const perNode = allocationFrom({ ...base, env: { ...job, SLURM_MEM_PER_NODE: '4000' } });
    expect(perNode.memoryLimit).toBe(4000 * MIB);
    expect(perNode.memoryBudget).toBe(1000 * MIB);
    expect(perNode.sources.memory).toMatch(/SLURM_MEM_PER_NODE/);
    const perCpu = allocationFrom({ ...base, env: { ...job, SLURM_MEM_PER_CPU: '500', SLURM_CPUS_PER_TASK: '2' } });
    expect(perCpu.memoryLimit).toBe(1000 * MIB);
    // a tighter cgroup limit wins over the allocation, and the allocation over the machine
    expect(allocationFrom({ ...base, cgroupMemory: 512 * MIB, env: { ...job, SLURM_MEM_PER_NODE: '4000' } }).memoryLimit).toBe(512 * MIB);
    expect(allocationFrom({ ...base, cgroupMemory: 512 * MIB, env: {} }).sources.memory).toMatch(/cgroup/);
  });
});

describe('cgroupMemoryLimit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relaxmap-cgroup-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (rel: string, text: string): void => {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  };

  it('cgroup v2: the least memory.max on the way up ("max" is no limit)', () => {
    file('v2/proc', '0::/slurm/job_7/step_batch\n');
    file('v2/root/slurm/job_7/step_batch/memory.max', 'max\n');
    file('v2/root/slurm/job_7/memory.max', '1073741824\n');
    file('v2/root/slurm/memory.max', '8589934592\n');
    expect(cgroupMemoryLimit(join(dir, 'v2/proc'), join(dir, 'v2/root'))).toBe(1073741824);
  });

  it('cgroup v1: memory.limit_in_bytes of the memory controller; the "unlimited" value is no limit', () => {
    file('v1/proc', '5:cpuset:/x\n4:memory:/job\n');
    file('v1/root/memory/job/memory.limit_in_bytes', '9223372036854771712\n');
    expect(cgroupMemoryLimit(join(dir, 'v1/proc'), join(dir, 'v1/root'))).toBeUndefined();
    file('v1/root/memory/job/memory.limit_in_bytes', '536870912\n');
    expect(cgroupMemoryLimit(join(dir, 'v1/proc'), join(dir, 'v1/root'))).toBe(536870912);
    expect(cgroupMemoryLimit(join(dir, 'missing'), join(dir, 'v1/root'))).toBeUndefined();
  });

  it('a real affinity mask (taskset -c 0) gives one CPU', () => {
    const code = `import { currentAllocation } from ${JSON.stringify(join(ROOT, 'src/cluster/allocation.ts'))}; console.log(currentAllocation({}).cpus)`;
    const r = spawnSync('taskset', ['-c', '0', process.execPath, '--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('1');
  });
});
