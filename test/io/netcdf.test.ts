import { spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createNetcdf, readNetcdf, writeNetcdf, type NcDataset } from '../../src/io/netcdf.js';

const PYTHON = '/usr/bin/python3';
const APT_HINT = 'apt-get install -y python3-xarray python3-netcdf4 python3-h5py';

let dir: string;
beforeAll(async () => {
  dir = await fsp.mkdtemp(join(tmpdir(), 'relaxmap-netcdf-'));
});
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function freshDir(name: string): Promise<string> {
  const d = join(dir, name);
  await fsp.mkdir(d);
  return d;
}

function surfaceDataset(): NcDataset {
  const T = new Float64Array([4, 77, 300]);
  const B0 = new Float64Array([0.35, 9.4]);
  const rate = Float64Array.from({ length: 2 * 3 * 2 }, (_, i) => 0.25 * i + 1);
  rate[5] = Number.NaN;
  return {
    dims: [
      { name: 'thermalization', values: ['rodin-abergel', 'none'], attrs: { long_name: 'thermalization model' } },
      { name: 'T', values: T, attrs: { units: 'K', long_name: 'temperature' } },
      { name: 'B0', values: B0, attrs: { units: 'T' } },
    ],
    variables: [
      {
        name: 'rate_Mz',
        dims: ['thermalization', 'T', 'B0'],
        data: rate,
        attrs: { units: 's-1', long_name: 'longitudinal relaxation rate', valid_range: [0, 1e6], order: 2 },
      },
      { name: 'rate_T', dims: ['T'], data: new Float32Array([1.5, 2.5, 3.5]), attrs: { units: 's-1' } },
    ],
    attrs: { title: 'relaxmap surfaces', points: 12, spin_quantum: 0.5 },
  };
}

function runPython(script: string, ...args: string[]): string {
  const probe = spawnSync(PYTHON, ['-c', 'import xarray, netCDF4, h5py'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      `${PYTHON} cannot import xarray/netCDF4/h5py (${probe.error?.message ?? probe.stderr.trim()}); run: ${APT_HINT}`,
    );
  }
  const res = spawnSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`python failed:\n${res.stderr}`);
  return res.stdout;
}

describe('writeNetcdf / readNetcdf', () => {
  it('round-trips dims, string and numeric coordinates, data, NaN and attributes', async () => {
    const path = join(await freshDir('roundtrip'), 'surfaces.nc');
    const ds = surfaceDataset();
    await writeNetcdf(path, ds);
    const back = await readNetcdf(path);

    expect(back.dims.map((d) => d.name)).toEqual(['thermalization', 'T', 'B0']);
    expect(back.dims[0]?.values).toEqual(['rodin-abergel', 'none']);
    expect(Array.from(back.dims[1]?.values as Float64Array)).toEqual([4, 77, 300]);
    expect(back.dims[1]?.values).toBeInstanceOf(Float64Array);
    expect(back.dims[1]?.attrs).toEqual({ units: 'K', long_name: 'temperature' });
    expect(back.dims[0]?.attrs).toEqual({ long_name: 'thermalization model' });

    expect(back.variables.map((v) => v.name)).toEqual(['rate_Mz', 'rate_T']);
    const rate = back.variables[0];
    expect(rate?.dims).toEqual(['thermalization', 'T', 'B0']);
    expect(rate?.data).toBeInstanceOf(Float64Array);
    expect(Array.from(rate?.data ?? [])).toEqual(Array.from(ds.variables[0]?.data ?? []));
    expect(Number.isNaN(rate?.data[5])).toBe(true);
    expect(rate?.attrs).toEqual({
      units: 's-1',
      long_name: 'longitudinal relaxation rate',
      valid_range: [0, 1e6],
      order: 2,
    });
    expect(back.variables[1]?.data).toBeInstanceOf(Float32Array);
    expect(Array.from(back.variables[1]?.data ?? [])).toEqual([1.5, 2.5, 3.5]);
    expect(back.attrs).toEqual({ title: 'relaxmap surfaces', points: 12, spin_quantum: 0.5 });
  });

  it('stores bit masks as unsigned integers without a fill value, integer coordinates, and string coordinates over a dimension', async () => {
    const path = join(await freshDir('types'), 'types.nc');
    await writeNetcdf(path, {
      dims: [
        { name: 'T', values: new Float64Array([1, 2, 3]), attrs: { units: 'K' } },
        { name: 'mode', values: new Int32Array([1, 2]) },
        { name: 'term', values: ['dipolar(a,b) mu=+1', 'csa(a) mu=0'] },
      ],
      variables: [
        { name: 'flags', dims: ['T'], data: new Float64Array([0, 2, 34]), dtype: 'uint16', attrs: { flag_masks: [1, 2, 32], flag_meanings: 'non_finite stiff unphysical' } },
        { name: 'eigenrate', dims: ['T', 'mode'], data: new Float64Array([1, 2, 3, 4, 5, 6]), attrs: { coordinates: 'term_type' } },
      ],
      strings: [{ name: 'term_type', dim: 'term', values: ['dipolar', 'csa'], attrs: { long_name: 'mechanism type' } }],
    });
    const back = await readNetcdf(path);
    expect(Array.from(back.variables[0]?.data ?? [])).toEqual([0, 2, 34]);
    expect(back.strings).toEqual([{ name: 'term_type', dim: 'term', values: ['dipolar', 'csa'], attrs: { long_name: 'mechanism type' } }]);
    const out = runPython(
      String.raw`
import json, sys, xarray as xr
ds = xr.open_dataset(sys.argv[1])
print(json.dumps({'flags': str(ds.flags.dtype), 'stiff': [int(x) for x in (ds.flags & 2).values], 'masks': str(ds.flags.attrs['flag_masks'].dtype),
  'fill': '_FillValue' in ds.flags.encoding, 'mode': str(ds.mode.dtype), 'coords': sorted(ds.coords)}))`,
      path,
    );
    expect(JSON.parse(out)).toEqual({ flags: 'uint16', stiff: [0, 2, 2], masks: 'uint16', fill: false, mode: 'int32', coords: ['T', 'mode', 'term', 'term_type'] });
  });

  it('is read by xarray (netcdf4 and h5netcdf engines) and h5py with dims in order, coords and units', async () => {
    const path = join(await freshDir('xarray'), 'surfaces.nc');
    await writeNetcdf(path, surfaceDataset());
    const script = String.raw`
import json, math, sys
import xarray as xr, h5py
def clean(x):
    return None if isinstance(x, float) and math.isnan(x) else x
def summary(engine):
    with xr.open_dataset(sys.argv[1], engine=engine) as ds:
        v = ds['rate_Mz']
        return {
            'dims': list(ds.dims),
            'sizes': {k: int(n) for k, n in ds.sizes.items()},
            'var_dims': list(v.dims),
            'coords': {k: [str(x) if isinstance(x, (str, bytes)) else float(x) for x in ds[k].values.tolist()] for k in ds.coords},
            'coord_dtype_th': str(ds['thermalization'].dtype),
            'units': {k: ds[k].attrs.get('units') for k in list(ds.coords) + list(ds.data_vars)},
            'long_name_T': ds['T'].attrs.get('long_name'),
            'global': {k: (v if isinstance(v, str) else float(v)) for k, v in ds.attrs.items()},
            'values': [clean(float(x)) for x in v.values.ravel().tolist()],
            'pick': clean(float(v.sel(thermalization='rodin-abergel', T=77.0, B0=9.4))),
            'fill': clean(float(v.encoding.get('_FillValue', 0.0))),
            'dtype_T': str(ds['rate_T'].dtype),
        }
out = {'netcdf4': summary('netcdf4')}
try:
    import h5netcdf
    out['h5netcdf'] = summary('h5netcdf')
except ImportError:
    pass
with h5py.File(sys.argv[1], 'r') as f:
    out['h5py'] = {
        'keys': list(f.keys()),
        'shape': list(f['rate_Mz'].shape),
        'units': f['rate_Mz'].attrs['units'],
        'th': [s.decode() if isinstance(s, bytes) else s for s in f['thermalization'][()]],
    }
print(json.dumps(out))
`;
    const out = JSON.parse(runPython(script, path)) as Record<string, Record<string, unknown>>;
    const expected = {
      dims: ['thermalization', 'T', 'B0'],
      sizes: { thermalization: 2, T: 3, B0: 2 },
      var_dims: ['thermalization', 'T', 'B0'],
      coords: { thermalization: ['rodin-abergel', 'none'], T: [4, 77, 300], B0: [0.35, 9.4] },
      coord_dtype_th: 'object',
      units: { thermalization: null, T: 'K', B0: 'T', rate_Mz: 's-1', rate_T: 's-1' },
      long_name_T: 'temperature',
      global: { title: 'relaxmap surfaces', points: 12, spin_quantum: 0.5 },
      values: [1, 1.25, 1.5, 1.75, 2, null, 2.5, 2.75, 3, 3.25, 3.5, 3.75],
      pick: 1.75,
      fill: null,
      dtype_T: 'float32',
    };
    expect(out.netcdf4).toEqual(expected);
    if (out.h5netcdf !== undefined) expect(out.h5netcdf).toEqual(expected);
    expect(out.h5py).toEqual({
      keys: expect.arrayContaining(['thermalization', 'T', 'B0', 'rate_Mz', 'rate_T']),
      shape: [2, 3, 2],
      units: 's-1',
      th: ['rodin-abergel', 'none'],
    });
  });

  it('rejects a shape mismatch naming the variable, leaving no file and no temp file', async () => {
    const d = await freshDir('mismatch');
    const path = join(d, 'surfaces.nc');
    const ds = surfaceDataset();
    const bad: NcDataset = { ...ds, variables: [...ds.variables, { name: 'rate_Mx', dims: ['T', 'B0'], data: new Float64Array(5) }] };
    await expect(writeNetcdf(path, bad)).rejects.toThrow(/rate_Mx.*5 values.*T=3, B0=2.*6/);
    expect(await fsp.readdir(d)).toEqual([]);
  });

  it('cleans up the temp file and keeps the previous file when a write fails midway', async () => {
    const d = await freshDir('midway');
    const path = join(d, 'surfaces.nc');
    await fsp.writeFile(path, 'previous contents');
    const real = h5wasm.Dataset.prototype.write_slice;
    let calls = 0;
    vi.spyOn(h5wasm.Dataset.prototype, 'write_slice').mockImplementation(function (this: InstanceType<typeof h5wasm.Dataset>, ranges, data) {
      calls += 1;
      if (calls === 2) throw new Error('disk full (simulated)');
      return real.call(this, ranges, data);
    });
    await expect(writeNetcdf(path, surfaceDataset())).rejects.toThrow('disk full (simulated)');
    expect(calls).toBe(2);
    expect(await fsp.readdir(d)).toEqual(['surfaces.nc']);
    expect(await fsp.readFile(path, 'utf8')).toBe('previous contents');
  });

  it('rejects bad names, unknown dims and reserved attributes before touching the disk', async () => {
    const d = await freshDir('invalid');
    const path = join(d, 'x.nc');
    const ds = surfaceDataset();
    await expect(writeNetcdf(path, { ...ds, variables: [{ name: 'r', dims: ['nope'], data: new Float64Array(1) }] })).rejects.toThrow(
      /variable "r" uses unknown dimension "nope"/,
    );
    await expect(writeNetcdf(path, { ...ds, variables: [{ name: 'a/b', dims: ['T'], data: new Float64Array(3) }] })).rejects.toThrow(
      /invalid variable name/,
    );
    await expect(
      writeNetcdf(path, { ...ds, variables: [{ name: 'r', dims: ['T'], data: new Float64Array(3), attrs: { DIMENSION_LIST: 'x' } }] }),
    ).rejects.toThrow(/reserved/);
    expect(await fsp.readdir(d)).toEqual([]);
  });

  it('overwrites an existing file atomically', async () => {
    const d = await freshDir('overwrite');
    const path = join(d, 'surfaces.nc');
    await writeNetcdf(path, surfaceDataset());
    const ds = surfaceDataset();
    const replaced: NcDataset = { ...ds, attrs: { title: 'second run' } };
    await writeNetcdf(path, replaced);
    expect((await readNetcdf(path)).attrs).toEqual({ title: 'second run' });
    expect(await fsp.readdir(d)).toEqual(['surfaces.nc']);
  });

  it('writes a 65536-point surface and a 65536 x 128 float32 trajectory quickly', async () => {
    const d = await freshDir('large');
    const lin = (n: number, a: number, b: number) => Float64Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));
    const dims = [
      { name: 'T', values: lin(64, 4, 300), attrs: { units: 'K' } },
      { name: 'B0', values: lin(64, 0.1, 20), attrs: { units: 'T' } },
      { name: 'tau_c', values: lin(4, 1e-12, 1e-9), attrs: { units: 's' } },
      { name: 'kappa', values: lin(4, 0, 1) },
    ];
    const n = 65536;
    const surface = ['rate_Mz', 'rate_Mx', 'rate_My', 'rate_Mzz'].map((name, k) => ({
      name,
      dims: ['T', 'B0', 'tau_c', 'kappa'],
      data: Float64Array.from({ length: n }, (_, i) => Math.exp(-i / n) * (k + 1)),
      attrs: { units: 's-1' },
    }));
    let t = performance.now();
    await writeNetcdf(join(d, 'surfaces.nc'), { dims, variables: surface });
    const surfaceMs = performance.now() - t;

    const nt = 128;
    const traj = Float32Array.from({ length: n * nt }, (_, i) => Math.exp(-(i % nt) * 0.01 * (1 + ((i >> 7) % 97))));
    t = performance.now();
    await writeNetcdf(join(d, 'trajectories.nc'), {
      dims: [...dims, { name: 'time', values: lin(nt, 0, 1e-3), attrs: { units: 's' } }],
      variables: [{ name: 'Mz', dims: ['T', 'B0', 'tau_c', 'kappa', 'time'], data: traj }],
    });
    const trajMs = performance.now() - t;
    console.info(`netcdf write: surface 4 x 65536 f64 ${surfaceMs.toFixed(0)} ms, trajectory 65536 x 128 f32 ${trajMs.toFixed(0)} ms`);
    expect(surfaceMs).toBeLessThan(5000);
    expect(trajMs).toBeLessThan(5000);

    const back = await readNetcdf(join(d, 'trajectories.nc'));
    const mz = back.variables[0]?.data;
    expect(mz?.length).toBe(n * nt);
    for (const i of [0, 1, 12345, n * nt - 1]) expect(mz?.[i]).toBe(traj[i]);
    expect((await fsp.stat(join(d, 'trajectories.nc'))).size).toBeLessThan(n * nt * 4 * 1.05);
  });
});

describe('createNetcdf (incremental)', () => {
  const header = {
    dims: [
      { name: 'point', values: Float64Array.from({ length: 300_000 }, (_, i) => i) },
      { name: 'time', values: new Float64Array([0, 1, 2]), attrs: { units: 's' } },
    ],
    variables: [
      { name: 'Mz', dims: ['point', 'time'], dtype: 'float32' as const, attrs: { units: '1' } },
      { name: 'rate', dims: ['point'], dtype: 'float64' as const },
    ],
    attrs: { title: 'relaxmap trajectories' },
  };

  it('assembles slabs written in any order and leaves unwritten points NaN', async () => {
    const d = await freshDir('incremental');
    const path = join(d, 'trajectories.nc');
    // A small cache forces partially written chunks out to the file and back in again.
    const w = await createNetcdf(path, header, { cacheBytes: 1 << 20 });
    expect(await fsp.readdir(d)).toHaveLength(1);
    await expect(fsp.access(path)).rejects.toThrow();

    const rate = Float64Array.from({ length: 300_000 }, (_, i) => i * 0.5);
    for (let s = 300_000 - 1000; s >= 0; s -= 1000) {
      if (s === 150_000) continue; // a failed batch: these points must stay NaN
      w.writeSlab('rate', [s], [1000], rate.subarray(s, s + 1000));
    }
    w.writeSlab('Mz', [10, 0], [2, 3], new Float64Array([1, 2, 3, 4, 5, 6]));
    w.writeSlab('Mz', [299_999, 1], [1, 2], new Float32Array([7, 8]));
    w.writeSlab('Mz', [100_000, 2], [250_000 - 100_000, 1], new Float32Array(150_000).fill(9));
    expect(() => w.writeSlab('Mz', [299_999, 0], [2, 3], new Float32Array(6))).toThrow(/outside variable "Mz"/);
    expect(() => w.writeSlab('Mz', [0, 0], [1, 3], new Float32Array(2))).toThrow(/"Mz".*needs 3 values, got 2/);
    expect(() => w.writeSlab('nope', [0], [1], new Float64Array(1))).toThrow(/no variable "nope"/);
    await w.close();
    expect(await fsp.readdir(d)).toEqual(['trajectories.nc']);

    const back = await readNetcdf(path);
    expect(back.attrs).toEqual({ title: 'relaxmap trajectories' });
    const mz = back.variables.find((v) => v.name === 'Mz')?.data;
    const r = back.variables.find((v) => v.name === 'rate')?.data;
    expect(mz).toBeInstanceOf(Float32Array);
    expect(Array.from(mz?.subarray(30, 36) ?? [])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Number.isNaN(mz?.[27])).toBe(true);
    expect(Number.isNaN(mz?.[36])).toBe(true);
    expect(Array.from(mz?.subarray(-3) ?? [])).toEqual([Number.NaN, 7, 8]);
    expect(mz?.[100_000 * 3 + 2]).toBe(9);
    expect(mz?.[249_999 * 3 + 2]).toBe(9);
    expect(Number.isNaN(mz?.[250_000 * 3 + 2])).toBe(true);
    expect(Number.isNaN(mz?.[100_000 * 3 + 1])).toBe(true);
    expect(r?.[149_999]).toBe(149_999 * 0.5);
    expect(Number.isNaN(r?.[150_000])).toBe(true);
    expect(Number.isNaN(r?.[150_999])).toBe(true);
    expect(r?.[151_000]).toBe(151_000 * 0.5);
    expect(r?.[299_999]).toBe(299_999 * 0.5);
  });

  it('abort removes the temporary file and never creates the target', async () => {
    const d = await freshDir('abort');
    const w = await createNetcdf(join(d, 'out.nc'), header);
    w.writeSlab('rate', [0], [3], new Float64Array([1, 2, 3]));
    await w.abort();
    expect(await fsp.readdir(d)).toEqual([]);
    expect(() => w.writeSlab('rate', [0], [1], new Float64Array(1))).toThrow(/aborted/);
  });
});
