/**
 * relaxmap run as a user runs it: a small sweep end to end, read back with xarray and
 * checked against `relaxmap point` at sampled points; kill -9 and --resume; shards and
 * merge; the lock and --force; malformed sweep specs leave nothing behind.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { python, relaxmap, ROOT, startCli } from '../helpers/cli.js';
import { pairSweepSpec } from '../helpers/pair-sweep-spec.js';

const SMALL = pairSweepSpec({ name: 'small-sweep', randomField: true, timePoints: 13, T: { log: [0.02, 300], points: 3 }, B0: { lin: [1, 20], points: 2 } });

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'relaxmap-e2e-'));
  writeFileSync(join(dir, 'small.yaml'), SMALL);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface XrSummary {
  dims: Record<string, number>;
  coords: Record<string, unknown[]>;
  units: Record<string, string>;
  rate: number[][][];
  ss: number[][][];
  traj_last: number[][][];
  vars: string[];
}

describe('a small sweep end to end', () => {
  it('writes surfaces.nc that xarray opens with named dims, coords, units, and point values', async () => {
    const out = join(dir, 'small');
    const r = await relaxmap(['run', join(dir, 'small.yaml'), '--out', out, '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['points.csv', 'run.json', 'spec.yaml', 'surfaces.nc', 'trajectories.nc']);
    const xr = await python<XrSummary>(`
import json, xarray as xr
ds = xr.open_dataset(${JSON.stringify(join(out, 'surfaces.nc'))})
tr = xr.open_dataset(${JSON.stringify(join(out, 'trajectories.nc'))})
print(json.dumps(dict(
  dims={k: int(v) for k, v in ds.sizes.items()},
  coords={k: [x if isinstance(x, str) else float(x) for x in ds[k].values.tolist()] for k in ds.coords},
  units={k: ds[k].attrs.get('units') for k in list(ds.coords) + list(ds.data_vars)},
  rate=ds['rate_Mz'].values.tolist(), ss=ds['ss_singlet'].values.tolist(),
  traj_last=tr['traj_Mz'].isel(time=-1).values.tolist(),
  vars=sorted(ds.data_vars),
)))`);
    expect(xr.dims).toEqual({ thermalization: 2, T: 3, B0: 2, mode: 3 });
    expect(xr.coords.thermalization).toEqual(['rodin-abergel', 'bengs-levitt']);
    expect(xr.coords.T?.[0]).toBeCloseTo(0.02, 12);
    expect(xr.coords.T?.[2]).toBeCloseTo(300, 10);
    expect(xr.coords.B0).toEqual([1, 20]);
    expect(xr.units.T).toBe('K');
    expect(xr.units.B0).toBe('T');
    expect(xr.units.rate_Mz).toBe('s-1');
    expect(xr.units.eigenrate).toBe('s-1');
    expect(xr.vars).toContain('diff_rate_Mz');
    expect(xr.vars).toContain('amp_singlet');
    // sampled points against relaxmap point (float64, same physics through another path)
    const samples: Array<[number, number, number]> = [
      [0, 0, 0],
      [1, 2, 1],
      [1, 0, 1],
    ];
    const models = ['rodin-abergel', 'bengs-levitt'];
    for (const [m, t, b] of samples) {
      const T = xr.coords.T?.[t] as number;
      const B0 = xr.coords.B0?.[b] as number;
      const p = await relaxmap(['point', join(dir, 'small.yaml'), '--json', '--set', `T=${T}`, '--set', `B0=${B0}`, '--set', `thermalization=${models[m]}`]);
      expect(p.code).toBe(0);
      const res = JSON.parse(p.stdout) as { rates: Record<string, number>; steady_state: Record<string, number>; trajectories: Record<string, number[]> };
      expect(Math.abs((xr.rate[m]?.[t]?.[b] as number) - (res.rates.Mz as number))).toBeLessThan(1e-12 * Math.abs(res.rates.Mz as number));
      expect(Math.abs((xr.ss[m]?.[t]?.[b] as number) - (res.steady_state.singlet as number))).toBeLessThan(1e-12);
      const traj = res.trajectories.Mz as number[];
      expect(Math.abs((xr.traj_last[m]?.[t]?.[b] as number) - (traj[traj.length - 1] as number))).toBeLessThan(1e-14);
    }
    const csv = readFileSync(join(out, 'points.csv'), 'utf8').trim().split('\n');
    expect(csv.length).toBe(1 + 12);
    expect(csv[0]?.startsWith('thermalization,T,B0,rate_Mz,ss_Mz,boltzmann_Mz')).toBe(true);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { spec: { sha256: string }; grid: { points: number }; backend: { name: string } };
    expect(run.grid.points).toBe(12);
    expect(run.spec.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses to overwrite a finished run without --force, and overwrites with it', async () => {
    const out = join(dir, 'small');
    const again = await relaxmap(['run', join(dir, 'small.yaml'), '--out', out, '--quiet']);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/already holds a finished run.*--force/);
    const forced = await relaxmap(['run', join(dir, 'small.yaml'), '--out', out, '--quiet', '--force']);
    expect(forced.code).toBe(0);
  });
});

/**
 * Data of a run directory in comparable form: CSV bytes and xarray's identical(), apart from
 * the time stamp `created` (provenance of each run, as in run.json).
 */
async function sameRun(a: string, b: string): Promise<void> {
  expect(readFileSync(join(a, 'points.csv'), 'utf8')).toBe(readFileSync(join(b, 'points.csv'), 'utf8'));
  const same = await python<{ surfaces: boolean; trajectories: boolean }>(`
import json, xarray as xr
def load(p):
    ds = xr.open_dataset(p)
    ds.attrs.pop('created')
    return ds
def same(f):
    return bool(load(${JSON.stringify(a)} + '/' + f).identical(load(${JSON.stringify(b)} + '/' + f)))
print(json.dumps(dict(surfaces=same('surfaces.nc'), trajectories=same('trajectories.nc'))))`);
  expect(same).toEqual({ surfaces: true, trajectories: true });
}

describe('checkpoints, resume, shards', () => {
  const spec = join(ROOT, 'sweeps', 'bench-pair-map.yaml');
  const common = ['--chunk-size', '1024', '--backend', 'workers', '--workers', '2', '--quiet'];
  let reference: string;
  beforeAll(async () => {
    reference = join(dir, 'reference');
    const r = await relaxmap(['run', spec, '--out', reference, ...common]);
    expect(r.code).toBe(0);
  }, 180_000);

  it('kill -9 in the middle, then --resume: the same output as an uninterrupted run', async () => {
    const out = join(dir, 'killed');
    const { child, done } = startCli(['run', spec, '--out', out, ...common]);
    const chunks = join(out, '.relaxmap', 'chunks');
    const t0 = Date.now();
    // wait until some, but not all, chunks are checkpointed
    while (!(existsSync(chunks) && readdirSync(chunks).filter((f) => f.endsWith('.f64')).length >= 4)) {
      if (Date.now() - t0 > 120_000) throw new Error('no checkpoints appeared');
      await new Promise((ok) => setTimeout(ok, 20));
    }
    child.kill('SIGKILL');
    const killed = await done;
    expect(killed.signal).toBe('SIGKILL');
    const saved = readdirSync(chunks).filter((f) => f.endsWith('.f64')).length;
    expect(saved).toBeGreaterThanOrEqual(4);
    expect(saved).toBeLessThan(64);
    expect(existsSync(join(out, 'surfaces.nc'))).toBe(false);
    // without --resume the interrupted run is not silently discarded
    const refused = await relaxmap(['run', spec, '--out', out, ...common]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/interrupted run.*--resume/);
    const resumed = await relaxmap(['run', spec, '--out', out, ...common, '--resume']);
    expect(resumed.code).toBe(0);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { chunks: { resumed: number; computed: number } };
    expect(run.chunks.resumed).toBe(saved);
    expect(run.chunks.resumed + run.chunks.computed).toBe(64);
    expect(existsSync(join(out, '.relaxmap'))).toBe(false);
    await sameRun(out, reference);
  }, 240_000);

  it('shards 0/3, 1/3, 2/3 merged equal the unsharded run', async () => {
    const shards = [0, 1, 2].map((i) => join(dir, `shard${i}`));
    for (const [i, s] of shards.entries()) {
      const r = await relaxmap(['run', spec, '--out', s, ...common, '--shard', `${i}/3`]);
      expect(r.code).toBe(0);
      expect(existsSync(join(s, 'shard.json'))).toBe(true);
    }
    const incomplete = await relaxmap(['merge', shards[0] as string, shards[1] as string, '--out', join(dir, 'merged-bad')]);
    expect(incomplete.code).toBe(3);
    expect(incomplete.stderr).toMatch(/chunks are missing .*shard 2 of 3 not given/);
    const merged = join(dir, 'merged');
    const r = await relaxmap(['merge', ...shards, '--out', merged]);
    expect(r.code).toBe(0);
    await sameRun(merged, reference);
  }, 300_000);

  it('a second run into an active --out is refused while the first holds the lock', async () => {
    const out = join(dir, 'locked');
    const first = startCli(['run', spec, '--out', out, ...common]);
    const lock = join(out, '.relaxmap', 'lock');
    const t0 = Date.now();
    while (!existsSync(lock)) {
      if (Date.now() - t0 > 60_000) throw new Error('no lock appeared');
      await new Promise((ok) => setTimeout(ok, 20));
    }
    // pause the first run (alive, holding the lock) so that timing cannot decide the test
    first.child.kill('SIGSTOP');
    const second = await relaxmap(['run', spec, '--out', out, ...common, '--resume']);
    expect(second.code).toBe(73);
    expect(second.stderr).toMatch(/held by a live relaxmap run \(pid \d+/);
    // --force does not take a live lock either, and deletes nothing of the live run
    const ckpts = (): string[] => (existsSync(join(out, '.relaxmap', 'chunks')) ? readdirSync(join(out, '.relaxmap', 'chunks')).sort() : []);
    const checkpointsBefore = ckpts();
    const forced = await relaxmap(['run', spec, '--out', out, ...common, '--force']);
    expect(forced.code).toBe(73);
    expect(existsSync(lock)).toBe(true);
    expect(ckpts()).toEqual(checkpointsBefore);
    first.child.kill('SIGKILL');
    await first.done;
    // a killed run leaves a stale lock: explained, and --resume takes it over
    const stale = await relaxmap(['run', spec, '--out', out, ...common]);
    expect(stale.code).toBe(3);
    expect(stale.stderr).toMatch(/interrupted run/);
  }, 120_000);
});

describe('malformed sweep specs exit 2, name the path, and leave nothing in --out', () => {
  const cases: Array<[string, (s: string) => string, RegExp]> = [
    ['zero points', (s) => s.replace('T: { log: [0.02, 300], points: 3 }', 'T: { log: [0.02, 300], points: 0 }'), /sweep\.T\.points/],
    ['empty values', (s) => s.replace('B0: { lin: [1, 20], points: 2 }', 'B0: { values: [] }'), /sweep\.B0\.values/],
    ['log axis through 0', (s) => s.replace('T: { log: [0.02, 300], points: 3 }', 'T: { log: [0, 300], points: 3 }'), /sweep\.T\.log.*cannot cross or touch 0/],
    ['unknown parameter', (s) => s.replace('B0: { lin: [1, 20], points: 2 }', 'B0: { lin: [1, 20], points: 2 }\n  zeta: { values: [1, 2] }'), /sweep\.zeta.*unknown parameter/],
    ['unused parameter', (s) => s.replace('kappa: 0.2 }', 'kappa: 0.2, spare: 1 }').replace('B0: { lin: [1, 20], points: 2 }', 'B0: { lin: [1, 20], points: 2 }\n  spare: { values: [1, 2] }'), /sweep\.spare.*not used/],
    ['value out of range on an axis', (s) => s.replace('B0: { lin: [1, 20], points: 2 }', 'B0: { lin: [1, 20], points: 2 }\n  kappa: { lin: [0, 1.5], points: 3 }'), /relaxation\[1\]\.kappa.*from sweep\.kappa/],
    ['negative temperature on an axis', (s) => s.replace('T: { log: [0.02, 300], points: 3 }', 'T: { lin: [-5, 300], points: 3 }'), /parameters\.T.*from sweep\.T/],
    ['mixed axis kinds', (s) => s.replace('B0: { lin: [1, 20], points: 2 }', 'B0: { lin: [1, 20], log: [1, 20], points: 2 }'), /sweep\.B0/],
    ['unknown model in the list', (s) => s.replace('thermalization: [rodin-abergel, bengs-levitt]', 'thermalization: [rodin-abergel, levitt]'), /thermalization\[1\]/],
    ['YAML error', (s) => s.replace('sweep:', 'sweep: {'), /line \d+/],
  ];
  for (const [name, mutate, pattern] of cases) {
    it(name, async () => {
      const spec = join(dir, `bad-${name.replace(/\W+/g, '-')}.yaml`);
      writeFileSync(spec, mutate(SMALL));
      const out = join(dir, `out-${name.replace(/\W+/g, '-')}`);
      const r = await relaxmap(['run', spec, '--out', out]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(existsSync(out)).toBe(false);
    });
  }
});
