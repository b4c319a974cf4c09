/**
 * Every example sweep (whatever sweeps/*.yaml holds), run on a grid cut to at most 8 values per
 * axis, then checked as a user reads it: every figure (distinct ticks on every axis and colour
 * bar, nothing truncated or outside the figure, constant surfaces in one colour), the report
 * in headless Chromium at 1400 x 1000 (toolbar clear of titles, one tick notation, no cut
 * text), and every NetCDF output through xarray (flags & 2, sel(term_part='dc'), provenance
 * attributes equal to run.json).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plotRunDirectory } from '../../src/plot/index.js';
import { writeReport } from '../../src/report/index.js';
import { runSweep } from '../../src/sweep/executor.js';
import { python, ROOT } from '../helpers/cli.js';
import { figureProblems, REPORT_CHECKS } from '../helpers/figure-checks.js';

const SWEEPS = readdirSync(join(ROOT, 'sweeps')).filter((f) => f.endsWith('.yaml')).sort();
const CHROMIUM = '/usr/bin/chromium';
const CAP = 8;

/** At most CAP values per sweep axis (ends kept), at most 64 times: the example's shape on a CI budget. */
function shrink(spec: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(spec);
  const sweep = out.sweep as Record<string, Record<string, unknown>> | undefined;
  for (const axis of Object.values(sweep ?? {})) {
    if (typeof axis.points === 'number') axis.points = Math.min(axis.points, CAP);
    if (Array.isArray(axis.values) && axis.values.length > CAP) {
      const v = axis.values as number[];
      axis.values = Array.from({ length: CAP }, (_, i) => v[Math.round((i * (v.length - 1)) / (CAP - 1))]);
    }
  }
  const time = out.time as Record<string, unknown> | undefined;
  if (time && typeof time.points === 'number') time.points = Math.min(time.points, 64);
  return out;
}

let root: string;
const runs = new Map<string, string>();
let browser: Browser | undefined;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'relaxmap-examples-'));
  for (const file of SWEEPS) {
    const spec = shrink(parse(readFileSync(join(ROOT, 'sweeps', file), 'utf8')) as Record<string, unknown>);
    const dir = join(root, file.replace(/\.yaml$/, ''));
    await runSweep({ spec, outDir: dir, backend: 'inline', quiet: true });
    runs.set(file, dir);
  }
}, 600_000);

afterAll(async () => {
  await browser?.close();
  rmSync(root, { recursive: true, force: true });
});

describe.each(SWEEPS)('example %s', (file) => {
  it('draws figures with distinct ticks on every axis and colour bar, no truncated or clipped text', async () => {
    const dir = runs.get(file) as string;
    const { files } = await plotRunDirectory(dir, { formats: ['svg'] });
    expect(files.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const f of files) for (const p of figureProblems(readFileSync(f, 'utf8'))) problems.push(`${f.slice(dir.length + 1)}: ${p}`);
    expect(problems).toEqual([]);
  });

  it('writes a report that reads well in Chromium at 1400 x 1000', async () => {
    const dir = runs.get(file) as string;
    const { file: html } = await writeReport(dir);
    if (!existsSync(CHROMIUM)) throw new Error(`the report checks need Debian's chromium at ${CHROMIUM} (apt-get install -y chromium)`);
    browser ??= await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
    await page.waitForSelector('.js-plotly-plot svg.main-svg', { timeout: 30_000 });
    const shots = join(root, 'screenshots');
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, `${file}.png`), fullPage: true });
    const result = (await page.evaluate(REPORT_CHECKS)) as { plots: number; problems: string[] };
    await page.close();
    expect(errors).toEqual([]);
    expect(result.plots).toBeGreaterThan(0);
    expect(result.problems).toEqual([]);
  });
});

describe('every NetCDF output of every example, through xarray', () => {
  it('has flags as unsigned bits, integer modes, contributions selectable by term_part, referenced differences, and the provenance of run.json', async () => {
    const dirs = SWEEPS.map((f) => runs.get(f) as string);
    const report = await python<Record<string, string[]>>(`
import glob, json, os, xarray as xr
out = {}
for d in ${JSON.stringify(dirs)}:
    run = json.load(open(os.path.join(d, 'run.json')))
    problems = []
    files = sorted(glob.glob(os.path.join(d, '*.nc')))
    if not files: problems.append('no NetCDF output')
    for f in files:
        name = os.path.basename(f)
        ds = xr.open_dataset(f)
        want = {'relaxmap_version': run['relaxmap_version'], 'created': run['created'], 'backend': run['backend']['name'], 'precision': run['backend']['precision']}
        for k, v in want.items():
            if ds.attrs.get(k) != v: problems.append(f'{name}: attribute {k} = {ds.attrs.get(k)!r}, run.json has {v!r}')
        if 'flags' in ds:
            if ds.flags.dtype.kind != 'u': problems.append(f'{name}: flags is {ds.flags.dtype}')
            stiff = int((ds.flags & 2).astype(bool).sum())
            masks = [int(x) for x in ds.flags.attrs['flag_masks']]
            if masks != [1, 2, 4, 8, 16, 32]: problems.append(f'{name}: flag_masks {masks}')
            if len(ds.flags.attrs['flag_meanings'].split()) != len(masks): problems.append(f'{name}: flag_meanings do not match flag_masks')
        if 'mode' in ds.dims and ds.mode.dtype.kind != 'i': problems.append(f'{name}: mode is {ds.mode.dtype}')
        for v in ds.data_vars:
            if v.startswith('diff_') and ds[v].attrs.get('reference') != str(ds.thermalization.values[0]):
                problems.append(f'{name}: {v} reference = {ds[v].attrs.get("reference")!r}')
        if name == 'contributions.nc':
            dc = ds.sel(term_part='dc')
            if 'term_part' in dc.dims: problems.append('sel(term_part=dc) kept the dimension')
            for c in ('term_mechanism', 'term_type', 'term_mu'):
                if c not in ds.coords: problems.append(f'{c} is not a coordinate')
            for o in [v for v in ds.data_vars if v.startswith('dOdt_')]:
                total = ds[o].sum(['term', 'term_part'])
                parts = ds[o].sel(term_part='dc').sum('term') + ds[o].sel(term_part='thermal').sum('term')
                if float(abs(total - parts).max()) > 1e-12 * float(abs(total).max() + 1e-300): problems.append(f'{o}: parts do not add up')
    out[os.path.basename(d)] = problems
print(json.dumps(out))`);
    expect(Object.keys(report).sort()).toEqual(SWEEPS.map((f) => f.replace(/\.yaml$/, '')).sort());
    for (const [name, problems] of Object.entries(report)) expect(problems, name).toEqual([]);
  });
});
