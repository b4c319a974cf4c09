/**
 * The cases a spectroscopist reported (issue: figures, report, NetCDF), each on a small run
 * written by relaxmap run: round-off drawn as structure, asymmetric difference maps with a
 * blank reference panel, zipped axes drawn against their index, relaxation dispersion without
 * its natural plot, and the report's tick notation.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFigures, loadRunDirectory, plotRunDirectory } from '../../src/plot/index.js';
import { PROTON_MHZ_PER_T } from '../../src/plot/nmrd.js';
import { renderSvg } from '../../src/plot/render.js';
import { writeReport } from '../../src/report/index.js';
import { runSweep } from '../../src/sweep/executor.js';
import { figureProblems, REPORT_CHECKS } from '../helpers/figure-checks.js';
import { labelGroups, readFigure } from '../helpers/svg.js';

const PAIR = {
  version: 1,
  spins: [
    { id: 'a', isotope: '1H' },
    { id: 'b', isotope: '1H' },
  ],
  parameters: { T: 300, B0: 9.4, tau_c: 8e-12, tau_ran: 60e-12, kappa: 0 },
  relaxation: [
    { type: 'dipolar', spins: ['a', 'b'], b_hz: 35000, tau_c: 'tau_c' },
    { type: 'random_field', spins: ['a', 'b'], rms_hz: 2300, tau_c: 'tau_ran', kappa: 'kappa' },
  ],
  thermalization: 'rodin-abergel',
  observables: { Mz: 'Iz(a) + Iz(b)' },
};

let root: string;
const dirs: Record<string, string> = {};
let browser: Browser | undefined;

async function run(name: string, spec: Record<string, unknown>): Promise<void> {
  dirs[name] = join(root, name);
  await runSweep({ spec: { name, ...spec }, outDir: dirs[name] as string, backend: 'inline', quiet: true });
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'relaxmap-observed-'));
  // the seed's pair over T x kappa from a singlet: ss/Boltzmann is 1 to 1e-12; and from thermal: <Mz>(t) constant
  await run('roundoff', { ...PAIR, initial: 'singlet(a,b)', time: { stop: 60, points: 13 }, sweep: { T: { log: [0.05, 300], points: 6 }, kappa: { values: [-0.5, 0, 0.5, 0.9] } } });
  await run('thermal', { ...PAIR, initial: 'thermal', time: { stop: 60, points: 13 }, sweep: { T: { values: [300] } } });
  // DNP conditions, three models: the semiclassical steady state differs by -100 %, Bengs-Levitt by round-off
  await run('dnp', {
    version: 1,
    spins: [
      { id: 'e', isotope: 'e' },
      { id: 'h', isotope: '1H' },
    ],
    parameters: { T: 4, B0: 6.7, tau_c: 1e-9, tau_e: 1e-11, r_eh: 4.5e-10 },
    relaxation: [
      { type: 'dipolar', spins: ['e', 'h'], distance_m: 'r_eh', tau_c: 'tau_c' },
      { type: 'random_field', spins: ['e'], rms_hz: 5e8, tau_c: 'tau_e' },
    ],
    thermalization: ['rodin-abergel', 'bengs-levitt', 'semiclassical'],
    initial: 'saturated',
    observables: { Ez: 'Iz(e)', Hz: 'Iz(h)' },
    sweep: { T: { log: [1, 100], points: 5 }, B0: { values: [3.4, 9.4, 14.1] } },
    outputs: ['rates', 'eigenrates', 'steady_state'],
  });
  // T and tau_ran zipped in a group named arr, as the user wrote it
  await run('zipped', { ...PAIR, initial: 'singlet(a,b)', sweep: { T: { log: [1, 300], points: 5, group: 'arr' }, tau_ran: { values: [1e-11, 2e-11, 3e-11, 4e-11, 5e-11], group: 'arr' }, kappa: { values: [0, 0.5] } }, outputs: ['rates', 'eigenrates', 'steady_state'] });
  // relaxation dispersion over B0 and tau_c
  await run('nmrd', { ...PAIR, initial: 'thermal', sweep: { B0: { log: [0.01, 28], points: 12 }, tau_c: { values: [1e-12, 1e-10, 1e-8] } }, outputs: ['rates'] });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  rmSync(root, { recursive: true, force: true });
});

const svgOf = async (dir: string, name: string): Promise<string> => {
  await plotRunDirectory(dir, { formats: ['svg'] });
  return readFileSync(join(dir, 'figures', `${name}.svg`), 'utf8');
};

describe('round-off is not drawn as structure', () => {
  it('checks catch the observed figure: a colour bar 1 +- 7e-13 whose ticks all read "1"', async () => {
    // what the figures did: a label expression with d3's ~r (6 significant digits) on a domain of width 1.4e-12
    const svg = await renderSvg({
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      data: { values: [0, 1, 2, 3].map((i) => ({ x: i, v: 1 + (i - 1.5) * 4.7e-13 })) },
      mark: 'rect',
      encoding: { x: { field: 'x', type: 'ordinal' }, color: { field: 'v', type: 'quantitative', title: 'ss_over_boltzmann_Mz with a long title', legend: { labelExpr: "format(datum.value, '~r')", titleLimit: 100 } } },
    });
    const problems = figureProblems(svg);
    expect(problems.some((p) => p.startsWith('legend-labels repeat'))).toBe(true);
    expect(problems.some((p) => p.startsWith('truncated text'))).toBe(true);
  });

  it('draws ss_over_boltzmann (1 +- 1e-12) in one colour, with the value in the title and no colour bar', async () => {
    const svg = await svgOf(dirs.roundoff as string, 'ss_over_boltzmann_Mz');
    const fig = readFigure(svg);
    const title = fig.texts.filter((t) => t.role === 'title-text').map((t) => t.text).join(' ');
    expect(title).toMatch(/Steady state over Boltzmann value, Mz = Iz\(a\) \+ Iz\(b\) = 1 everywhere/);
    expect(new Set(fig.cellFills).size).toBe(1);
    expect(fig.cellFills.length).toBe(6 * 4);
    expect(fig.gradients).toBe(0);
    const subtitle = fig.texts.filter((t) => t.role === 'title-subtitle').map((t) => t.text).join(' ');
    expect(subtitle).toMatch(/constant to float64 round-off: values spread by \d(\.\d)?×10⁻¹[⁰¹²³⁴⁵⁶⁷⁸⁹]/);
    expect(figureProblems(svg)).toEqual([]);
  });

  it('draws a trajectory from the thermal state flat at its value, with distinct value ticks', async () => {
    const svg = await svgOf(dirs.thermal as string, 'traj_Mz');
    const fig = readFigure(svg);
    const [x, y] = labelGroups(fig, 'axis-label');
    expect(new Set(y).size).toBe(y?.length);
    expect(y?.length).toBeGreaterThanOrEqual(3);
    expect(x).toContain('60');
    const text = fig.texts.map((t) => t.text).join(' ');
    // <Mz> = 2 tanh(hbar w0 / 2kT) / 2 ... in the Boltzmann state at 300 K, 9.4 T: 3.2013e-5
    expect(text).toMatch(/constant to round-off: 3\.2013\d*×10⁻⁵/);
    expect(figureProblems(svg)).toEqual([]);
  });
});

describe('differences between models', () => {
  it('use a symmetric range, leave the reference out and name it, relative where values span decades', async () => {
    const run = await loadRunDirectory(dirs.dnp as string);
    const fig = buildFigures(run).figures.find((f) => f.name === 'diff_ss_Hz')?.spec as Record<string, any>;
    const scale = fig.spec.encoding.color.scale;
    expect(scale.scheme).toBe('redblue');
    expect(scale.domain[0]).toBe(-scale.domain[1]);
    expect(fig.title.text.join(' ')).toMatch(/from rodin-abergel \(reference\)/);
    const panels = new Set(fig.data.values.map((r: { f0: string }) => r.f0));
    expect(panels).toEqual(new Set(['bengs-levitt', 'semiclassical']));
    // the semiclassical model relaxes to infinite temperature: -100 % of the Boltzmann polarization
    const semi = fig.data.values.filter((r: { f0: string }) => r.f0 === 'semiclassical').map((r: { v: number }) => r.v);
    for (const v of semi) expect(Math.abs(v + 1)).toBeLessThan(1e-6);
    // Bengs-Levitt relaxes to the same Boltzmann state: its differences are round-off, drawn as 0
    const bl = fig.data.values.filter((r: { f0: string }) => r.f0 === 'bengs-levitt').map((r: { v: number }) => r.v);
    expect(bl.every((v: number) => v === 0)).toBe(true);
    expect(fig.title.text.join(' ')).toMatch(/relative difference/);
    expect(figureProblems(await svgOf(dirs.dnp as string, 'diff_ss_Hz'))).toEqual([]);
  });
});

describe('zipped axes', () => {
  it('are drawn against the member parameter, with its values and units', async () => {
    const svg = await svgOf(dirs.zipped as string, 'rate_Mz');
    const fig = readFigure(svg);
    const titles = fig.texts.filter((t) => t.role === 'axis-title').map((t) => t.text);
    expect(titles).toContain('T (K), zipped with tau_ran from 10⁻¹¹ to 5×10⁻¹¹ s');
    const labels = labelGroups(fig, 'axis-label').flat();
    for (const v of ['1', '10', '100']) expect(labels).toContain(v);
    // not the group index 0..4 with the unit of a parameter
    expect(titles.some((t) => t.includes('[arr]'))).toBe(false);
    expect(labels).not.toContain('4');
    expect(figureProblems(svg)).toEqual([]);
  });
});

describe('relaxation dispersion', () => {
  it('draws R1 over B0 on log-log axes, the 1H Larmor frequency on top, one line per tau_c', async () => {
    const run = await loadRunDirectory(dirs.nmrd as string);
    const spec = buildFigures(run).figures.find((f) => f.name === 'nmrd_Mz')?.spec as Record<string, any>;
    expect(spec).toBeDefined();
    const [line, top] = spec.layer;
    expect(line.encoding.x.scale.type).toBe('log');
    expect(line.encoding.y.scale.type).toBe('log');
    expect(top.encoding.x.axis.orient).toBe('top');
    expect(top.encoding.x.title).toBe('¹H Larmor frequency (MHz)');
    // the top axis is gamma_p / 2 pi times B0: 42.577 MHz at 1 T
    expect(PROTON_MHZ_PER_T).toBeCloseTo(42.577478, 5);
    expect(top.encoding.x.scale.domain[0] / line.encoding.x.scale.domain[0]).toBeCloseTo(PROTON_MHZ_PER_T, 9);
    expect(line.encoding.color.scale.domain).toEqual(['tau_c = 10⁻¹² s', 'tau_c = 10⁻¹⁰ s', 'tau_c = 10⁻⁸ s']);
    const svg = await svgOf(dirs.nmrd as string, 'nmrd_Mz');
    const fig = readFigure(svg);
    expect(fig.texts.some((t) => t.role === 'axis-title' && t.text === '¹H Larmor frequency (MHz)')).toBe(true);
    expect(figureProblems(svg)).toEqual([]);
  });
});

describe('report', () => {
  it('labels rates of 1e9 s-1 as powers of ten (no SI prefixes), keeps the toolbar off the titles, shows constants as constant', async () => {
    browser ??= await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(pathToFileURL((await writeReport(dirs.dnp as string)).file).href, { waitUntil: 'load' });
    await page.waitForSelector('#surface-plot svg.main-svg');
    // the electron's rate (about 1e9 s-1) on the colour bar
    await page.selectOption('#surface-var', 'rate_Ez');
    await page.waitForFunction("document.querySelector('#surface-plot').previousElementSibling.textContent.includes('Ez')");
    const ticks = (await page.evaluate("[...document.querySelectorAll('#surface-plot .cbaxis text, #surface-plot g.colorbar text')].map((t) => t.textContent)")) as string[];
    expect(ticks.length).toBeGreaterThan(1);
    for (const t of ticks) expect(t).not.toMatch(/[0-9](B|G|M|k|n|µ|u)$/);
    expect(((await page.evaluate(REPORT_CHECKS)) as { problems: string[] }).problems).toEqual([]);
    await page.close();

    const p2 = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await p2.goto(pathToFileURL((await writeReport(dirs.roundoff as string)).file).href, { waitUntil: 'load' });
    await p2.waitForSelector('#surface-plot svg.main-svg');
    await p2.selectOption('#surface-var', 'ss_over_boltzmann_Mz');
    await p2.waitForFunction("document.querySelector('#surface-plot').previousElementSibling.textContent.includes('everywhere')");
    expect(await p2.locator('#surface-plot .colorbar').count()).toBe(0);
    expect(((await p2.evaluate(REPORT_CHECKS)) as { problems: string[] }).problems).toEqual([]);
    await p2.close();
  });
});
