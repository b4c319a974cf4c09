/**
 * relaxmap slurm without a scheduler: the scripts it writes (valid bash, the installed
 * relaxmap by absolute path, no other path of this machine, the options as #SBATCH lines),
 * sweep.json, the spec copy; bad options refused with exit 2 before anything is written;
 * `run --shard slurm` taking its index from SLURM_ARRAY_TASK_ID and N from sweep.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arrayScript, checkResources, mergeScript, parseSlurmTime, shellQuote, type SweepScripts } from '../../src/cluster/sbatch.js';
import { resolveSlurmShard, unshardedArrayTaskWarning } from '../../src/cluster/slurm-shard.js';
import { slurmCommand, type SlurmCommandOptions } from '../../src/cli/commands/slurm.js';
import { UsageError } from '../../src/spec/errors.js';
import { builtCli, ensureBuilt } from '../helpers/built-cli.js';
import { ROOT } from '../helpers/cli.js';
import { foreignPaths } from '../helpers/script-paths.js';
import { pairSweepSpec } from '../helpers/pair-sweep-spec.js';

const SPEC = pairSweepSpec({ name: 'tiny sweep', timePoints: 5, T: { log: [1, 300], points: 40 }, B0: { lin: [1, 20], points: 20 } });

let tmp: string;
let spec: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'relaxmap-slurmcmd-'));
  spec = join(tmp, 'tiny.yaml');
  writeFileSync(spec, SPEC);
  // relaxmap slurm refuses to write scripts that call a missing build
  ensureBuilt();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sink = (): NodeJS.WritableStream & { text: string } => {
  const s = { text: '', write: (c: string) => ((s.text += c), true) };
  return s as unknown as NodeJS.WritableStream & { text: string };
};

async function slurm(out: string, opts: Partial<SlurmCommandOptions> = {}): Promise<string> {
  const o = sink();
  await slurmCommand(spec, { shards: '4', out, ...opts }, o);
  return o.text;
}


describe('the batch scripts', () => {
  const base: SweepScripts = { dir: '/scratch/u/sweep', shards: 3, relaxmap: ['/opt/node/bin/node', '/opt/relaxmap/bin/relaxmap.js'], jobName: 'relaxmap-x', runArgs: [], version: '9.9.9', extra: [] };

  it('pass bash -n and name no absolute path but DIR, node and the launcher, even for awkward characters', () => {
    for (const dir of ['/scratch/u/sweep', "/scratch/u/a$b;c&d(e)|f`g`"]) {
      const s: SweepScripts = { ...base, dir, runArgs: ['--set', 'T=4', '--chunk-size', '128'], time: '1-02:00:00', mem: '4G', cpusPerTask: 4, partition: 'short', account: 'proj_1', extra: ['#SBATCH --qos=normal'] };
      for (const text of [arrayScript(s), mergeScript(s)]) {
        const f = join(tmp, 'check.sbatch');
        writeFileSync(f, text);
        const r = spawnSync('bash', ['-n', f], { encoding: 'utf8' });
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        expect(foreignPaths(text, dir, base.relaxmap)).toEqual([]);
        expect(foreignPaths(text, '/elsewhere', base.relaxmap).length).toBeGreaterThan(3);
        expect(text).toContain('#SBATCH --time=1-02:00:00');
        expect(text).toContain('#SBATCH --mem=4G');
        expect(text).toContain('#SBATCH --partition=short');
        expect(text).toContain('#SBATCH --account=proj_1');
        expect(text).toContain('#SBATCH --qos=normal');
      }
      const a = arrayScript(s);
      expect(a).toContain('#SBATCH --array=0-2\n#SBATCH --requeue\n#SBATCH --open-mode=append\n');
      expect(a).toContain(`#SBATCH --output=${dir}/logs/shard-%a.out`);
      expect(a).toContain('#SBATCH --cpus-per-task=4');
      expect(a).toContain(`exec /opt/node/bin/node /opt/relaxmap/bin/relaxmap.js run ${shellQuote(`${dir}/spec.yaml`)} --out ${shellQuote(`${dir}/shards/`)}"$SLURM_ARRAY_TASK_ID" --shard slurm --resume --set T=4 --chunk-size 128\n`);
      const m = mergeScript(s);
      expect(m).not.toContain('--array');
      expect(m).not.toContain('--cpus-per-task');
      expect(m).toContain(`exec /opt/node/bin/node /opt/relaxmap/bin/relaxmap.js merge --out ${shellQuote(dir)} ${shellQuote(`${dir}/shards`)}/*\n`);
    }
  });

  it('the exec line expands to the task\'s shard directory', () => {
    const s: SweepScripts = { ...base, dir: "/tmp/it's here", relaxmap: ['echo'] };
    const line = arrayScript(s).split('\n').find((l) => l.startsWith('exec ')) as string;
    const r = spawnSync('bash', ['-c', line], { env: { SLURM_ARRAY_TASK_ID: '2' }, encoding: 'utf8' });
    expect(r.stdout).toBe("run /tmp/it's here/spec.yaml --out /tmp/it's here/shards/2 --shard slurm --resume\n");
  });

  it('SLURM time limits in every form, and resource options checked', () => {
    expect(parseSlurmTime('--time', '90')).toBe(5400);
    expect(parseSlurmTime('--time', '10:30')).toBe(630);
    expect(parseSlurmTime('--time', '01:00:00')).toBe(3600);
    expect(parseSlurmTime('--time', '2-00')).toBe(172800);
    expect(parseSlurmTime('--time', '1-02:03')).toBe(93780);
    expect(parseSlurmTime('--time', '1-02:03:04')).toBe(93784);
    const bad: Array<[Parameters<typeof checkResources>[0], RegExp]> = [
      [{ time: '1h', extra: [] }, /--time 1h/],
      [{ time: '0', extra: [] }, /--time 0: expected a positive/],
      [{ mem: '4GB', extra: [] }, /--mem 4GB/],
      [{ partition: 'a b', extra: [] }, /--partition a b/],
      [{ account: 'x;rm', extra: [] }, /--account x;rm/],
      [{ extra: ['--qos=x'] }, /--extra "--qos=x": expected one "#SBATCH/],
      [{ extra: ['#SBATCH --qos=x\n#SBATCH --mem=1'] }, /one "#SBATCH/],
      [{ extra: ['#SBATCH --array=0-9'] }, /relaxmap sets this option itself/],
      [{ extra: ['#SBATCH -o x.log'] }, /relaxmap sets this option itself/],
    ];
    for (const [r, msg] of bad) expect(() => checkResources(r)).toThrow(msg);
    expect(() => checkResources({ time: '00:10:00', mem: '4000', partition: 'a,b', extra: ['#SBATCH --qos=normal'] })).not.toThrow();
  });
});

describe('relaxmap slurm', () => {
  it('writes both scripts, sweep.json and the spec copy; the scripts call this installation of relaxmap', async () => {
    const out = join(tmp, 'sweep');
    const text = await slurm(out, { time: '00:30:00', mem: '2G', cpusPerTask: '2', set: ['tau_c=1e-11'] });
    expect(readdirSync(out).sort()).toEqual(['logs', 'relaxmap-array.sbatch', 'relaxmap-merge.sbatch', 'shards', 'spec.yaml', 'sweep.json']);
    expect(readFileSync(join(out, 'spec.yaml'), 'utf8')).toBe(SPEC);
    const sweep = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as Record<string, unknown> & { plan: { chunkCount: number; points: number } };
    expect(sweep).toMatchObject({ format: 'relaxmap-sweep', shards: 4, sets: ['tau_c=1e-11'], spec: 'spec.yaml', source: spec, jobs: null });
    expect(sweep.plan).toMatchObject({ points: 800, chunkCount: 4 });
    expect(sweep.spec_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(typeof sweep.plan_key).toBe('string');
    expect(sweep.relaxmap_version).toMatch(/^\d+\.\d+\.\d+/);
    const node = realpathSync(process.execPath);
    const bin = join(realpathSync(ROOT), 'bin', 'relaxmap.js');
    expect(sweep.relaxmap).toEqual([node, bin]);
    const array = readFileSync(join(out, 'relaxmap-array.sbatch'), 'utf8');
    expect(array).toContain(`exec ${node} ${bin} run ${out}/spec.yaml --out ${out}/shards/"$SLURM_ARRAY_TASK_ID" --shard slurm --resume --set tau_c=1e-11\n`);
    expect(array).toContain('#SBATCH --job-name=relaxmap-tiny-sweep\n');
    for (const f of ['relaxmap-array.sbatch', 'relaxmap-merge.sbatch']) {
      expect(spawnSync('bash', ['-n', join(out, f)]).status).toBe(0);
      expect(foreignPaths(readFileSync(join(out, f), 'utf8'), out, [node, bin])).toEqual([]);
    }
    expect(text).toContain(`submit: jid=$(sbatch --parsable ${out}/relaxmap-array.sbatch) && sbatch --dependency=afterany:$jid ${out}/relaxmap-merge.sbatch`);
    expect(text).toContain(`progress: relaxmap status ${out}`);
    // the same sweep again (a resubmission) is fine; another sweep or shard count is not
    await slurm(out, { time: '00:30:00', set: ['tau_c=1e-11'] });
    await expect(slurm(out)).rejects.toThrow(/holds another sweep/);
    await expect(slurm(out, { shards: '5', set: ['tau_c=1e-11'] })).rejects.toThrow(/split into 4 shards, not 5/);
  });

  it('warns when shards outnumber chunks', async () => {
    const err = sink();
    await slurmCommand(spec, { shards: '6', out: join(tmp, 'many') }, sink(), err);
    expect(err.text).toMatch(/^relaxmap: warning: 6 shards but only 4 chunks: 2 tasks will have nothing to do/);
  });

  it('refuses bad input with exit 2 and writes nothing', async () => {
    const cases: Array<[Partial<SlurmCommandOptions>, RegExp]> = [
      [{ shards: '0' }, /--shards 0/],
      [{ time: 'soon' }, /--time soon/],
      [{ mem: '1.5G' }, /--mem 1.5G/],
      [{ extra: ['--exclusive'] }, /--extra/],
      [{ out: join(tmp, 'with space') }, /may not contain spaces/],
      [{ set: ['nope=1'] }, /no field .* uses a parameter named 'nope'/],
      [{ submit: true, out: join(tmp, 'sub'), partition: 'p q' }, /--partition/],
    ];
    for (const [opts, msg] of cases) {
      const out = opts.out ?? join(tmp, 'refused');
      await expect(slurmCommand(spec, { shards: '4', ...opts, out }, sink())).rejects.toThrow(UsageError);
      await expect(slurmCommand(spec, { shards: '4', ...opts, out }, sink())).rejects.toThrow(msg);
      expect(existsSync(out), out).toBe(false);
    }
    const notEmpty = join(tmp, 'busy');
    mkdirSync(notEmpty);
    writeFileSync(join(notEmpty, 'notes.txt'), 'mine');
    await expect(slurm(notEmpty)).rejects.toThrow(/not empty and holds no sweep.json/);
    expect(readdirSync(notEmpty)).toEqual(['notes.txt']);
    // and on the command line: exit 2, one line, no stack
    const r = await builtCli(['slurm', spec, '--shards', '4', '--out', join(tmp, 'cli'), '--mem', 'lots']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^relaxmap: --mem lots: expected a SLURM memory size/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(tmp, 'cli'))).toBe(false);
  });
});

describe('run --shard slurm', () => {
  it('takes I from SLURM_ARRAY_TASK_ID and N from sweep.json (or --shards), and checks both', async () => {
    const out = join(tmp, 'sweep');
    const shard = join(out, 'shards', '3');
    expect(resolveSlurmShard(shard, undefined, { SLURM_ARRAY_TASK_ID: '3' })).toMatchObject({ index: 3, count: 4, sweepDir: out });
    expect(resolveSlurmShard(join(tmp, 'elsewhere', '1'), 8, { SLURM_ARRAY_TASK_ID: '1' })).toMatchObject({ index: 1, count: 8, planKey: undefined });
    expect(() => resolveSlurmShard(shard, undefined, {})).toThrow(/SLURM_ARRAY_TASK_ID is not set/);
    expect(() => resolveSlurmShard(shard, undefined, { SLURM_ARRAY_TASK_ID: '4' })).toThrow(/SLURM_ARRAY_TASK_ID=4 but the sweep has 4 shards/);
    expect(() => resolveSlurmShard(shard, 3, { SLURM_ARRAY_TASK_ID: '1' })).toThrow(/plans 4 shards/);
    expect(() => resolveSlurmShard(join(tmp, 'elsewhere', '1'), undefined, { SLURM_ARRAY_TASK_ID: '1' })).toThrow(/give --shards N/);
    expect(unshardedArrayTaskWarning({ SLURM_ARRAY_TASK_ID: '5' })).toMatch(/SLURM_ARRAY_TASK_ID=5 is set but --shard is not: this task computes every point/);
    expect(unshardedArrayTaskWarning({})).toBeUndefined();
  });

  it('as an array task runs it: its shard of the sweep, refused when the spec copy was edited; a run without --shard warns', async () => {
    const out = join(tmp, 'sweep');
    const env = { ...process.env, SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_JOB_ID: '77', SLURM_JOB_ID: '79' };
    const r = await builtCli(['run', join(out, 'spec.yaml'), '--out', join(out, 'shards', '2'), '--shard', 'slurm', '--resume', '--set', 'tau_c=1e-11', '--quiet'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const info = JSON.parse(readFileSync(join(out, 'shards', '2', 'shard.json'), 'utf8')) as { shard: unknown; chunk_ids: number[] };
    expect(info.shard).toEqual({ index: 2, count: 4 });
    expect(info.chunk_ids).toEqual([2]);
    // the tasks run what was planned: an edited copy (or other --set) is refused
    writeFileSync(join(out, 'spec.yaml'), SPEC.replace('points: 5', 'points: 6'));
    const edited = await builtCli(['run', join(out, 'spec.yaml'), '--out', join(out, 'shards', '1'), '--shard', 'slurm', '--resume', '--set', 'tau_c=1e-11', '--quiet'], { ...env, SLURM_ARRAY_TASK_ID: '1' });
    expect(edited.code).toBe(2);
    expect(edited.stderr).toMatch(/chunk plan differs from its sweep's \(sweep.json\)/);
    expect(existsSync(join(out, 'shards', '1'))).toBe(false);
    writeFileSync(join(out, 'spec.yaml'), SPEC);
    const whole = await builtCli(['run', spec, '--out', join(tmp, 'whole'), '--quiet'], env);
    expect(whole.code).toBe(0);
    expect(whole.stderr).toMatch(/warning: SLURM_ARRAY_TASK_ID=2 is set but --shard is not/);
  }, 60_000);
});
