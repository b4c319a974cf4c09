/**
 * The DNP profile in `relaxmap plot` and `relaxmap report`: a small solid-effect run (two
 * models, two temperatures, an offset axis), the static figure built from it, and the report
 * page in headless Chromium (no page errors, one line per model and panel).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFigures } from '../../src/plot/index.js';
import { loadRunDirectory } from '../../src/plot/run-directory.js';
import { writeReport } from '../../src/report/index.js';
import { runSweep } from '../../src/sweep/executor.js';

declare const document: { getElementById(id: string): unknown };

const SPEC = `
version: 1
name: dnp-report
spins: [{ id: e, isotope: e }, { id: h, isotope: 1H }]
parameters: { T: 1.2, B0: 6.7, offset: 0 }
hamiltonian:
  - { type: irradiation, spins: [e], nutation_hz: 0.5e6, offset_hz: offset }
  - { type: hyperfine, spins: [e, h], a_hz: 0.3e6, b_hz: 0.8e6 }
relaxation:
  - { type: t1t2, spins: [e], t1_s: 1e-3, t2_s: 1e-7 }
  - { type: t1t2, spins: [h], t1_s: 60, t2_s: 1e-4 }
thermalization: [rodin-abergel, high-temperature]
observables: { Hz: Iz(h) }
sweep:
  T: { values: [1.2, 100] }
  offset: { lin: [-400e6, 400e6], points: 41 }
`;

let root: string;
let browser: Browser | undefined;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'relaxmap-dnp-report-'));
  writeFileSync(join(root, 'spec.yaml'), SPEC);
  await runSweep({ specPath: join(root, 'spec.yaml'), outDir: join(root, 'run'), backend: 'inline', quiet: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('DNP profile figure and report section', () => {
  it('plot: one profile figure per observable, a line per model, panels by temperature, the flagged model named', async () => {
    const run = await loadRunDirectory(join(root, 'run'));
    expect(run.surfaces.attrs.dnp_offset_axis).toBe('offset');
    const { figures } = buildFigures(run);
    const fig = figures.find((f) => f.name === 'dnp_profile_Hz');
    expect(fig).toBeDefined();
    type Pt = { s: string; f0: string; x: number };
    const spec = fig?.spec as { title: { subtitle: string[] } };
    // the points of every panel (panels are concatenated, each with its own data)
    const points: Pt[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        const data = o.data as { values?: Pt[] } | undefined;
        if (data?.values && data.values.some((p) => p.s !== undefined)) points.push(...data.values);
        for (const [k, x] of Object.entries(o)) if (k !== 'data') walk(x);
      }
    };
    walk(fig?.spec);
    const series = new Set(points.map((p) => p.s));
    const panels = new Set(points.map((p) => p.f0));
    expect([...series]).toEqual(['rodin-abergel', 'high-temperature']);
    expect(panels.size).toBe(2);
    expect(Math.max(...points.map((p) => p.x))).toBe(400); // MHz
    expect(spec.title.subtitle.join(' ')).toMatch(/flagged unphysical .*high-temperature \(41 of 82 points\)/);
  });

  it('report: the DNP section draws every model in every panel without page errors', async () => {
    const { file } = await writeReport(join(root, 'run'));
    if (!existsSync('/usr/bin/chromium')) throw new Error('the report test needs Debian chromium (.ci/run installs it)');
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    await page.waitForSelector('#dnp-plot .scatterlayer', { timeout: 20_000 });
    const n = await page.evaluate(() => (document.getElementById('dnp-plot') as { data: unknown[] }).data.length);
    expect(n).toBe(4);
    const notes = await page.evaluate(() => (document.getElementById('dnp-notes') as { textContent: string }).textContent);
    expect(notes).toMatch(/high-temperature \(41 points\)/);
    expect(errors).toEqual([]);
  }, 120_000);
});
