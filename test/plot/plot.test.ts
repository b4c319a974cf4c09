/**
 * `relaxmap plot` as a user runs it: a run directory in, PNG and SVG files out. The run
 * directories are written here with writeNetcdf following docs/run-directory.md.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plotCommand } from '../../src/cli/commands/plot.js';
import { reportError } from '../../src/cli/exit-codes.js';
import { buildFigures, plotRunDirectory } from '../../src/plot/index.js';
import { MAX_CELLS } from '../../src/plot/layout.js';
import { FONT_PACKAGE, figureFontFiles, renderSvg, svgToPng } from '../../src/plot/render.js';
import { loadRunDirectory } from '../../src/plot/run-directory.js';
import { UsageError } from '../../src/spec/errors.js';
import { GROUP_RUN, MAP_RUN, PAPER_RUN, writeFixtureRun } from './run-fixture.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let root: string;
let mapDir: string;
let paperDir: string;
let groupDir: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'relaxmap-plot-'));
  mapDir = join(root, 'map');
  paperDir = join(root, 'paper');
  groupDir = join(root, 'group');
  await writeFixtureRun(mapDir, MAP_RUN);
  await writeFixtureRun(paperDir, PAPER_RUN);
  await writeFixtureRun(groupDir, GROUP_RUN);
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** Text of every line of every <text> element of an SVG (multi-line ones use <tspan>), entities decoded. */
function svgTexts(svg: string): string[] {
  const decode = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  // empty labels (thinned log-axis ticks) are self-closing <text/>
  return [...svg.replace(/<text\b[^>]*\/>/g, '').matchAll(/<text\b[^>]*>(.*?)<\/text>/gs)].flatMap((m) => {
    const inner = m[1] as string;
    const spans = [...inner.matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map((t) => t[1] as string);
    return (spans.length > 0 ? spans : [inner]).map(decode);
  });
}

function byName(files: readonly string[]): Map<string, string> {
  return new Map(files.map((f) => [basename(f), f]));
}

describe('relaxmap plot on thermalization x T (log) x B0 (lin)', () => {
  let files: Map<string, string>;
  let warnings: string[];

  beforeAll(async () => {
    const r = await plotRunDirectory(mapDir);
    files = byName(r.files);
    warnings = r.warnings;
  });

  it('writes a PNG and an SVG of every rate surface, the first eigenrates, the differences, trajectories and contributions', () => {
    const stems = [
      'rate_Mz',
      'rate_singlet',
      'ss_over_boltzmann_Mz',
      'ss_over_boltzmann_singlet',
      'diff_rate_Mz',
      'diff_ss_singlet',
      'eigenrate_1',
      'eigenrate_2',
      'eigenrate_3',
      'traj_Mz',
      'traj_singlet',
      'contributions_Mz_rodin-abergel',
      'contributions_Mz_bengs-levitt',
      'contributions_singlet_rodin-abergel',
      'contributions_singlet_bengs-levitt',
    ];
    for (const s of stems) {
      expect(files.has(`${s}.png`), `${s}.png`).toBe(true);
      expect(files.has(`${s}.svg`), `${s}.svg`).toBe(true);
    }
    for (const f of files.values()) expect(f.startsWith(join(mapDir, 'figures'))).toBe(true);
    // vega-lite and vega compile every spec without a warning
    expect(warnings).toEqual([]);
  });

  it('writes valid, non-trivial PNGs', () => {
    for (const [name, path] of files) {
      if (!name.endsWith('.png')) continue;
      const png = readFileSync(path);
      const { width, height } = pngSize(png);
      expect(width, name).toBeGreaterThan(500);
      expect(height, name).toBeGreaterThan(300);
      expect(png.length, name).toBeGreaterThan(15_000);
    }
  });

  it('labels the heatmap axes and the color scale with units, and facets the thermalization models', () => {
    const svg = readFileSync(files.get('rate_Mz.svg') as string, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    const texts = svgTexts(svg);
    expect(texts).toContain('T (K)');
    expect(texts).toContain('B0 (T)');
    expect(texts).toContain('rate_Mz (s⁻¹)');
    expect(texts).toContain('rodin-abergel');
    expect(texts).toContain('bengs-levitt');
    expect(texts.some((t) => t.startsWith('Projection rate of Mz = Iz(a) + Iz(b)'))).toBe(true);
    // the undefined point is reported, not drawn
    expect(texts).toContain('1 of 60 values undefined (NaN), left blank');
  });

  it('uses a log T axis and a log color scale for rates spanning decades, a diverging one for differences', async () => {
    const run = await loadRunDirectory(mapDir);
    const { figures } = buildFigures(run);
    const spec = (name: string): Record<string, any> => figures.find((f) => f.name === name)?.spec as Record<string, any>;
    const rate = spec('rate_Mz');
    expect(rate.spec.encoding.x.scale.type).toBe('log');
    expect(rate.spec.encoding.y.scale.type).toBe('linear');
    expect(rate.spec.encoding.color.scale.type).toBe('log');
    expect(rate.facet.column.field).toBe('f0');
    expect(rate.facet.column.title).toBe('thermalization');
    const diff = spec('diff_rate_Mz');
    // symmetric about 0, relative (the rates span decades), without the reference's blank panel
    const scale = diff.spec.encoding.color.scale;
    expect(scale).toMatchObject({ type: 'linear', scheme: 'redblue' });
    expect(scale.domain[0]).toBe(-scale.domain[1]);
    expect(diff.title.text.join(' ')).toMatch(/relative difference from rodin-abergel \(reference\)/);
    expect(new Set(diff.data.values.map((r: { f0: string }) => r.f0))).toEqual(new Set(['bengs-levitt']));
    // ss/Boltzmann stays within a factor of two: linear color
    expect(spec('ss_over_boltzmann_Mz').spec.encoding.color.scale.type).toBe('linear');
  });

  it('draws trajectories at representative points of the first axis, one panel per model', () => {
    const texts = svgTexts(readFileSync(files.get('traj_Mz.svg') as string, 'utf8'));
    expect(texts).toContain('time (s)');
    for (const t of ['T = 0.05 K', 'T = 300 K']) expect(texts).toContain(t);
    expect(texts).toContain('at B0 = 0.5 T');
  });

  it('honours --x/--y, --format, --at and --out', async () => {
    const out = join(root, 'swapped');
    const r = await plotRunDirectory(mapDir, { out, x: 'B0', y: 'T', formats: ['svg'], at: { thermalization: 'bengs-levitt' } });
    expect(r.files.every((f) => f.endsWith('.svg') && f.startsWith(out))).toBe(true);
    const svg = readFileSync(join(out, 'rate_Mz.svg'), 'utf8');
    const texts = svgTexts(svg);
    expect(texts).toContain('at thermalization = bengs-levitt');
    expect(texts).not.toContain('rodin-abergel');
    // x is now B0: the axis title under the plot; with --at the models are no longer facets
    const run = await loadRunDirectory(mapDir);
    const fig = buildFigures(run, { x: 'B0', y: 'T' }).figures.find((f) => f.name === 'rate_Mz')?.spec as Record<string, any>;
    expect(fig.spec.encoding.x.title).toBe('B0 (T)');
    expect(fig.spec.encoding.y.title).toBe('T (K)');
    expect(fig.spec.encoding.y.scale.type).toBe('log');
  });
});

describe('the seed\'s Figures 1 and 2 from contributions.nc (initial x term x time)', () => {
  let files: Map<string, string>;
  let notes: string[];

  beforeAll(async () => {
    const r = await plotRunDirectory(paperDir);
    files = byName(r.files);
    notes = r.warnings;
  });

  it('writes one contribution figure per observable and says why there are no surfaces', () => {
    expect([...files.keys()].sort()).toEqual(
      ['contributions_Mz', 'contributions_singlet', 'traj_Mz', 'traj_singlet'].flatMap((s) => [`${s}.png`, `${s}.svg`]).sort(),
    );
    expect(notes.some((n) => n.includes('no numeric sweep axis'))).toBe(true);
  });

  it('has panels (a)-(d): dipolar and random field, from the inverted state then from the singlet', () => {
    const texts = svgTexts(readFileSync(files.get('contributions_Mz.svg') as string, 'utf8'));
    expect(texts).toEqual(
      expect.arrayContaining([
        '(a) dipolar(a,b), from inverted',
        '(b) random_field(a,b), from inverted',
        '(c) dipolar(a,b), from singlet(a,b)',
        '(d) random_field(a,b), from singlet(a,b)',
        'time (s)',
        'd⟨Mz⟩/dt (s⁻¹)',
      ]),
    );
    // reading order: (a) and (b) above (c) and (d)
    const order = ['(a)', '(b)', '(c)', '(d)'].map((p) => texts.findIndex((t) => t.startsWith(p)));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // legend: one dash pattern per mu, dc and thermal
    for (const mu of ['+2', '+1', '0', '-1', '-2']) expect(texts).toContain(mu);
    expect(texts).toContain('double commutator (dc)');
    expect(texts).toContain('thermal');
  });

  it('draws the double-commutator part in red and the thermal part in blue, one line per mu', async () => {
    const svg = readFileSync(files.get('contributions_singlet.svg') as string, 'utf8');
    expect(svg).toContain('stroke="#d62728"');
    expect(svg).toContain('stroke="#1f77b4"');
    const run = await loadRunDirectory(paperDir);
    const fig = buildFigures(run).figures.find((f) => f.name === 'contributions_Mz')?.spec as Record<string, any>;
    expect(fig.vconcat).toHaveLength(2);
    const panel = fig.vconcat[0].hconcat[0];
    const line = panel.layer[1].encoding;
    expect(line.color.scale).toEqual({ domain: ['dc', 'thermal'], range: ['#d62728', '#1f77b4'] });
    expect(line.strokeDash.field).toBe('mu');
    // 5 components x 2 parts x 41 times in the dipolar panel
    expect(panel.data.values).toHaveLength(5 * 2 * 41);
  });
});

describe('axes of other kinds', () => {
  it('draws a values axis as bands and a zipped group against its first member', async () => {
    const r = await plotRunDirectory(groupDir, { formats: ['svg'] });
    const texts = svgTexts(readFileSync(join(groupDir, 'figures', 'rate_Mz.svg'), 'utf8'));
    expect(texts).toContain('kappa');
    expect(texts).toContain('tau_c (s), zipped with b_hz from 20000 to 40000 Hz');
    for (const k of ['\u22120.5', '0', '0.5', '0.9']) expect(texts).toContain(k);
    // the zipped axis carries tau_c's values, not the group index 0..4
    for (const k of ['10⁻¹²', '10⁻¹¹', '10⁻¹⁰']) expect(texts).toContain(k);
    expect(r.warnings).toEqual([]);
  });
});

describe('large grids', () => {
  it('thins the heatmap axes beyond MAX_CELLS and says so, instead of writing a huge SVG', async () => {
    const dir = join(root, 'large');
    const n = 200;
    await writeFixtureRun(dir, {
      sweep: [
        { name: 'T', values: Array.from({ length: n }, (_, i) => 0.01 * 1.05 ** i), units: 'K', kind: 'log' },
        { name: 'B0', values: Array.from({ length: n }, (_, i) => 0.5 + i * 0.1), units: 'T', kind: 'lin' },
        { name: 'kappa', values: [0, 0.5], units: '1', kind: 'values' },
      ],
    });
    const run = await loadRunDirectory(dir);
    const fig = buildFigures(run).figures.find((f) => f.name === 'rate_Mz')?.spec as Record<string, any>;
    // kappa would make 2 x 40,000 cells: fixed instead of faceted, and the 200 x 200 grid thinned
    expect(fig.facet).toBeUndefined();
    expect(fig.data.values.length).toBeLessThanOrEqual(MAX_CELLS);
    expect(fig.data.values.length).toBeGreaterThan(MAX_CELLS / 2);
    expect(fig.title.subtitle).toEqual([expect.stringMatching(/^T: 1\d\d of 200 values shown, evenly spaced$/), expect.stringMatching(/^B0: 1\d\d of 200 values shown/), '1 of 19881 values undefined (NaN), left blank', 'at kappa = 0']);
  });
});

describe('fonts', () => {
  it(`finds DejaVu Sans (Debian ${FONT_PACKAGE}) and renders text into PNGs`, async () => {
    expect(figureFontFiles().length, `no DejaVu Sans: apt-get install -y ${FONT_PACKAGE}`).toBeGreaterThan(0);
    const withText = await renderSvg({ width: 200, height: 40, mark: 'text', data: { values: [{ t: 'T (K)' }] }, encoding: { text: { field: 't' } } });
    const blank = await renderSvg({ width: 200, height: 40, mark: 'text', data: { values: [{ t: '' }] }, encoding: { text: { field: 't' } } });
    expect(svgToPng(withText).equals(svgToPng(blank))).toBe(false);
  });
});

describe('bad input (exit code 2)', () => {
  const code = (e: unknown): number => reportError(e, { write: () => true } as unknown as NodeJS.WritableStream);

  async function usageError(p: Promise<unknown>): Promise<UsageError> {
    const e = await p.then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(UsageError);
    expect(code(e)).toBe(2);
    return e as UsageError;
  }

  it('rejects a missing directory, a directory that is no run and a run in progress', async () => {
    const quiet = { write: () => true } as unknown as NodeJS.WritableStream;
    expect((await usageError(plotCommand(join(root, 'nope'), {}, quiet, quiet))).message).toMatch(/no such run directory/);
    const empty = join(root, 'empty');
    mkdirSync(empty, { recursive: true });
    writeFileSync(join(empty, 'notes.txt'), 'x');
    expect((await usageError(plotCommand(empty, {}, quiet, quiet))).message).toMatch(/not a finished relaxmap run directory \(missing surfaces\.nc, run\.json, spec\.yaml/);
    const active = join(root, 'active');
    await writeFixtureRun(active, { ...GROUP_RUN, active: true });
    expect((await usageError(plotCommand(active, {}, quiet, quiet))).message).toMatch(/has not finished/);
    expect(existsSync(join(active, 'figures'))).toBe(false);
  });

  it('rejects unknown axes, formats and --at names, naming the choices', async () => {
    const quiet = { write: () => true } as unknown as NodeJS.WritableStream;
    expect((await usageError(plotCommand(mapDir, { x: 'kappa' }, quiet, quiet))).message).toMatch(/--x kappa: not a sweep dimension of this run \(one of T, B0\)/);
    expect((await usageError(plotCommand(mapDir, { format: 'pdf' }, quiet, quiet))).message).toMatch(/--format pdf/);
    expect((await usageError(plotCommand(mapDir, { at: ['tau=1'] }, quiet, quiet))).message).toMatch(/--at tau=\.\.\.: no dimension tau/);
    expect((await usageError(plotCommand(mapDir, { at: ['thermalization=redfield'] }, quiet, quiet))).message).toMatch(/no such thermalization/);
  });

  it('lists the files it wrote on stdout', async () => {
    const lines: string[] = [];
    const out = { write: (s: string) => lines.push(s) } as unknown as NodeJS.WritableStream;
    const quiet = { write: () => true } as unknown as NodeJS.WritableStream;
    await plotCommand(groupDir, { format: 'png', out: join(root, 'cli-out') }, out, quiet);
    const listed = lines.join('').trim().split('\n');
    expect(listed.length).toBeGreaterThan(3);
    for (const f of listed) {
      expect(f.endsWith('.png')).toBe(true);
      pngSize(readFileSync(f));
    }
  });
});
