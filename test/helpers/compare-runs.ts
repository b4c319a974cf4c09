/**
 * Two run directories hold the same results: points.csv byte for byte, the NetCDF files by
 * xarray's identical() (dims, coordinates, values, variable and global attributes) except
 * the provenance attributes `created` and `backend`, which say when and how a run computed
 * (a merged sweep has its first shard's); precision must agree too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { python } from './cli.js';

export const PROVENANCE_ATTRS = ['created', 'backend'] as const;

/** Python: `load(path)` opens a NetCDF file with xarray, without the provenance attributes. */
export const PY_LOAD_WITHOUT_PROVENANCE = `def load(p):
    ds = xr.open_dataset(p)
    for k in ${JSON.stringify(PROVENANCE_ATTRS)}:
        ds.attrs.pop(k, None)
    return ds`;

export async function expectSameRun(a: string, b: string, files: readonly string[] = ['surfaces.nc', 'trajectories.nc']): Promise<void> {
  expect(readFileSync(join(a, 'points.csv')).equals(readFileSync(join(b, 'points.csv')))).toBe(true);
  for (const f of files) {
    expect(existsSync(join(a, f)), `${a}/${f}`).toBe(true);
    expect(existsSync(join(b, f)), `${b}/${f}`).toBe(true);
  }
  const same = await python<Record<string, boolean>>(`
import json, xarray as xr
a, b = ${JSON.stringify(a)}, ${JSON.stringify(b)}
${PY_LOAD_WITHOUT_PROVENANCE}
out = {}
for f in ${JSON.stringify(files)}:
    x, y = load(a + '/' + f), load(b + '/' + f)
    out[f] = bool(x.identical(y))
    x.close(); y.close()
print(json.dumps(out))`);
  expect(same).toEqual(Object.fromEntries(files.map((f) => [f, true])));
}
