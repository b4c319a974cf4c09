/** Two run directories hold the same results: points.csv byte for byte, NetCDF data by xarray. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { python } from './cli.js';

export async function expectSameRun(a: string, b: string, files: readonly string[] = ['surfaces.nc', 'trajectories.nc']): Promise<void> {
  expect(readFileSync(join(a, 'points.csv')).equals(readFileSync(join(b, 'points.csv')))).toBe(true);
  for (const f of files) {
    expect(existsSync(join(a, f)), `${a}/${f}`).toBe(true);
    expect(existsSync(join(b, f)), `${b}/${f}`).toBe(true);
  }
  // identical(): same dims, coordinates, values (NaN where NaN), variable and global attributes
  const same = await python<Record<string, boolean>>(`
import json, xarray as xr
a, b = ${JSON.stringify(a)}, ${JSON.stringify(b)}
out = {}
for f in ${JSON.stringify(files)}:
    with xr.open_dataset(a + '/' + f) as x, xr.open_dataset(b + '/' + f) as y:
        out[f] = bool(x.identical(y))
print(json.dumps(out))`);
  expect(same).toEqual(Object.fromEntries(files.map((f) => [f, true])));
}
