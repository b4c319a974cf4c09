/**
 * `relaxmap report` as a user sees it: report.html opened in headless Debian Chromium
 * (through playwright-core) from a file URL, with no network. The page must load nothing,
 * raise no error, draw its plots, and redraw the heatmap when a selector changes the slice.
 *
 * Chromium is required, not optional: without it this suite fails with the install hint.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportCommand } from '../../src/cli/commands/report.js';
import { reportError } from '../../src/cli/exit-codes.js';
import { loadRunDirectory } from '../../src/plot/run-directory.js';
import { buildPayload, writeReport } from '../../src/report/index.js';
import { decodeFloat32 } from '../../src/report/payload.js';
import { UsageError } from '../../src/spec/errors.js';
import { MAP_RUN, PAPER_RUN, writeFixtureRun } from '../plot/run-fixture.js';

/** Only the page's DOM is touched, inside page.evaluate; the test itself compiles without the DOM lib. */
declare const document: { getElementById(id: string): unknown };

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

let root: string;
let mapDir: string;
let paperDir: string;
let browser: Browser | undefined;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'relaxmap-report-'));
  mapDir = join(root, 'map');
  paperDir = join(root, 'paper');
  await writeFixtureRun(mapDir, MAP_RUN);
  await writeFixtureRun(paperDir, PAPER_RUN);
});

afterAll(async () => {
  await browser?.close();
  rmSync(root, { recursive: true, force: true });
});

async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`the report test needs Debian's chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (.ci/run does this)`);
  }
  browser ??= await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  return browser;
}

interface Opened {
  readonly page: Page;
  readonly errors: string[];
  /** Every request other than the report itself. */
  readonly requests: string[];
}

async function open(file: string): Promise<Opened> {
  const b = await launch();
  const page = await b.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  const requests: string[] = [];
  const url = pathToFileURL(file).href;
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console error: ${m.text()}`);
  });
  page.on('request', (r) => {
    if (r.url() !== url) requests.push(r.url());
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, errors, requests };
}

const zOf = (page: Page, id: string): Promise<unknown> =>
  page.evaluate((el) => (document.getElementById(el) as unknown as { data: Array<{ z: unknown }> }).data[0]?.z, id);

describe('report.html for thermalization x T x B0 with trajectories and contributions', () => {
  let file: string;
  let opened: Opened;

  beforeAll(async () => {
    file = (await writeReport(mapDir)).file;
    opened = await open(file);
    await opened.page.waitForSelector('#surface-plot .heatmaplayer image', { timeout: 20_000 });
  });

  it('is one self-contained file: no external script, style, link or URL to load', () => {
    expect(file).toBe(join(mapDir, 'report.html'));
    const html = readFileSync(file, 'utf8');
    // the markup outside the inline scripts (plotly's code mentions URLs it never loads here)
    const markup = html.replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, (m) => m.slice(0, m.indexOf('>') + 1));
    expect(markup.match(/<script[^>]+src=/i)).toBeNull();
    expect(markup.match(/<link\b/i)).toBeNull();
    expect(markup.match(/(src|href)=["']?(https?:)?\/\//i)).toBeNull();
    expect(markup.match(/<script\b/gi)).toHaveLength(3);
    // and the page's own policy forbids fetching anything
    expect(markup).toContain(`content="default-src 'none'; script-src 'unsafe-inline'`);
    // spec and provenance are in the page
    expect(markup).toContain('thermalization: [rodin-abergel, bengs-levitt]');
    expect(markup).toContain('relaxmap run fixture.yaml --out DIR');
  });

  it('loads without page errors and without a single network request', () => {
    expect(opened.errors).toEqual([]);
    expect(opened.requests).toEqual([]);
  });

  it('renders every section with plotly', async () => {
    const { page } = opened;
    for (const id of ['surface-plot', 'compare-model-0', 'compare-model-1', 'compare-diff-1', 'traj-plot', 'contrib-plot']) {
      expect(await page.locator(`#${id} svg.main-svg`).count(), id).toBeGreaterThan(0);
    }
    expect(await page.locator('#compare-plots .heatmaplayer image').count()).toBe(3);
    // trajectories: one line per representative temperature (all 6 here)
    expect(await page.locator('#traj-plot .scatterlayer .trace').count()).toBe(6);
    // contributions: dipolar (5 mu x 2 parts) + random field (3 x 2) lines, two panels
    expect(await page.locator('#contrib-plot .scatterlayer .trace').count()).toBe(16);
    expect(await page.locator('#contrib-plot .subplot').count()).toBe(2);
  });

  it('shows values on hover', async () => {
    const { page } = opened;
    const box = await page.locator('#surface-plot .nsewdrag').first().boundingBox();
    expect(box).not.toBeNull();
    if (!box) return;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
    const hover = page.locator('#surface-plot .hoverlayer .hovertext');
    await hover.first().waitFor({ timeout: 5_000 });
    const text = await hover.first().textContent();
    expect(text).toMatch(/T \(K\) = .*B0 \(T\) = .*rate_Mz = [0-9.e+-]+/);
  });

  it('changes the displayed slice when a selector changes', async () => {
    const { page } = opened;
    const before = await zOf(page, 'surface-plot');
    expect(Array.isArray(before)).toBe(true);
    await page.selectOption('#surface-dim-thermalization', '1');
    await page.waitForFunction((b) => JSON.stringify((document.getElementById('surface-plot') as unknown as { data: Array<{ z: unknown }> }).data[0]?.z) !== b, JSON.stringify(before));
    const after = await zOf(page, 'surface-plot');
    expect(after).not.toEqual(before);
    // switching the quantity and the y axis redraws too: eigenrate over T x B0 has a mode selector
    await page.selectOption('#surface-var', 'eigenrate');
    await page.waitForSelector('#surface-dim-mode');
    const mode1 = await zOf(page, 'surface-plot');
    await page.selectOption('#surface-dim-mode', '2');
    await page.waitForFunction((b) => JSON.stringify((document.getElementById('surface-plot') as unknown as { data: Array<{ z: unknown }> }).data[0]?.z) !== b, JSON.stringify(mode1));
    // the trajectory selectors pick another point
    const t0 = await page.evaluate(() => JSON.stringify((document.getElementById('traj-plot') as unknown as { data: Array<{ y: unknown }> }).data[0]?.y));
    await page.selectOption('#traj-dim-B0', '4');
    await page.waitForFunction((b) => JSON.stringify((document.getElementById('traj-plot') as unknown as { data: Array<{ y: unknown }> }).data[0]?.y) !== b, t0);
    expect(opened.errors).toEqual([]);
    expect(opened.requests).toEqual([]);
  });
});

describe('report.html for the seed\'s Figures 1-2 setting (initial x term x time, no sweep)', () => {
  it('draws the four contribution panels (a)-(d) with no errors and no requests', async () => {
    const { file } = await writeReport(paperDir, { out: join(root, 'out', 'paper.html') });
    expect(file).toBe(join(root, 'out', 'paper.html'));
    const { page, errors, requests } = await open(file);
    await page.waitForSelector('#contrib-plot svg.main-svg');
    expect(await page.locator('#contrib-plot .subplot').count()).toBe(4);
    const titles = await page.locator('#contrib-plot .annotation-text').allTextContents();
    expect(titles).toEqual(['(a) dipolar(a,b), from inverted', '(b) random_field(a,b), from inverted', '(c) dipolar(a,b), from singlet(a,b)', '(d) random_field(a,b), from singlet(a,b)']);
    const colors = await page.evaluate(() =>
      [...new Set((document.getElementById('contrib-plot') as unknown as { data: Array<{ line: { color: string } }> }).data.map((t) => t.line.color))].sort(),
    );
    expect(colors).toEqual(['#1f77b4', '#d62728']);
    // no sweep axis: the surfaces fall back to a plot over the initial states
    expect(await page.locator('#surface-plot svg.main-svg').count()).toBeGreaterThan(0);
    expect(await page.locator('#compare').count()).toBe(0);
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });
});

describe('compact embedded data', () => {
  it('rounds to float32 and decimates large sweeps with a note', async () => {
    const run = await loadRunDirectory(mapDir);
    const full = buildPayload(run);
    const rate = full.surfaces.vars.find((v) => v.name === 'rate_Mz');
    const src = run.surfaces.fields.get('rate_Mz')?.data as Float64Array;
    expect(Array.from(decodeFloat32(rate?.data ?? ''))).toEqual(Array.from(src, (x) => Math.fround(x)));
    expect(full.notes).toEqual([]);

    const small = buildPayload(run, { maxValues: 400 });
    const t = small.surfaces.dims.find((d) => d.name === 'T');
    expect(t?.length).toBeLessThan(6);
    expect(t?.fullLength).toBe(6);
    expect(t?.labels[0]).toBe('0.05');
    expect(t?.labels[(t?.labels.length ?? 1) - 1]).toBe('300');
    expect(small.notes.some((n) => n.startsWith('surfaces: decimated'))).toBe(true);
    expect(small.notes.some((n) => n.includes('mode amplitudes'))).toBe(true);
  });

  it('keeps a decimated report working in the browser', async () => {
    const { file, notes } = await writeReport(mapDir, { out: join(root, 'small.html'), maxValues: 400 });
    expect(notes.length).toBeGreaterThan(0);
    const { page, errors, requests } = await open(file);
    await page.waitForSelector('#surface-plot .heatmaplayer image');
    expect(await page.locator('.notes li').count()).toBe(notes.length);
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });
});

describe('reportCommand', () => {
  it('prints the path and rejects a directory that is not a finished run (exit code 2)', async () => {
    const lines: string[] = [];
    const out = { write: (s: string) => lines.push(s) } as unknown as NodeJS.WritableStream;
    const quiet = { write: () => true } as unknown as NodeJS.WritableStream;
    await reportCommand(paperDir, {}, out, quiet);
    expect(lines.join('')).toMatch(new RegExp(`^${join(paperDir, 'report.html').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(\\d+\\.\\d MB\\)\\n$`));
    const e = await reportCommand(join(root, 'missing'), {}, out, quiet).then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(UsageError);
    expect(reportError(e, quiet)).toBe(2);
  });
});
