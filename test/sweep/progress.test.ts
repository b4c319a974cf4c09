/**
 * The progress display: ETAs from a simulated pipeline (lanes x chunks, a slow first chunk per
 * lane), and the real command line on a pseudo-terminal (util-linux `script`), read back
 * through a terminal emulator: header lines intact, no stale bar line above them, the bar
 * erased before the summary.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { formatDuration, Progress } from '../../src/sweep/progress.js';
import { ROOT } from '../helpers/cli.js';
import { screen } from '../helpers/terminal.js';

/** Completion times of `chunks` chunks run `lanes` at a time: tau each, the first of each lane `warm` longer. */
function schedule(lanes: number, chunks: number, tau: number, warm: number): number[] {
  const free = new Array<number>(lanes).fill(0);
  const done: number[] = [];
  for (let c = 0; c < chunks; c++) {
    const lane = free.indexOf(Math.min(...free));
    const t = (free[lane] as number) + tau + (c < lanes ? warm : 0);
    free[lane] = t;
    done.push(t);
  }
  return done.sort((a, b) => a - b);
}

function simulate(lanes: number, estimateSeconds?: number): { eta: number[]; truth: number[] } {
  const times = schedule(lanes, 24, 1, 1.5);
  const end = times[times.length - 1] as number;
  let clock = 0;
  const quiet = { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;
  const p = new Progress(24 * 100, 0, { lanes, stream: quiet, now: () => clock * 1000, ...(estimateSeconds !== undefined ? { estimateSeconds } : {}) });
  const eta: number[] = [];
  const truth: number[] = [];
  for (const t of times) {
    clock = t;
    p.advance(100);
    eta.push(p.etaSeconds());
    truth.push(end - t);
  }
  return { eta, truth };
}

describe('ETA', () => {
  it('starts from the calibrated estimate, then follows the throughput after the start-up', () => {
    // 3 lanes, 24 chunks of 1 s, the first chunk of each lane 1.5 s slower: the run takes 9.5 s
    const { eta, truth } = simulate(3, 9);
    // until every lane has delivered twice: the estimate (9 s) minus the time elapsed
    expect(eta[0]).toBeCloseTo(9 - 2.5, 9);
    expect(eta[4]).toBeCloseTo(9 - 3.5, 9);
    // from then on within 5% of the true remaining time
    for (let k = 5; k < eta.length && (truth[k] as number) > 0; k++) expect(Math.abs((eta[k] as number) / (truth[k] as number) - 1), `result ${k}`).toBeLessThan(0.05);
    expect(eta[eta.length - 1]).toBe(0);
  });

  it('without an estimate, never shows the lanes-fold overestimate of the first result', () => {
    const { eta, truth } = simulate(3);
    // the observed failure: points/elapsed after the first result says 2300 / (100 / 2.5 s) = 57.5 s for a 7 s rest
    expect(Number.isNaN(eta[0])).toBe(true);
    expect(Number.isNaN(eta[1])).toBe(true);
    // after the first round only the start-up (1.5 s on 1 s chunks) inflates it
    for (let k = 2; k < 5; k++) expect((eta[k] as number) / (truth[k] as number), `result ${k}`).toBeLessThan(3);
    for (let k = 5; k < eta.length && (truth[k] as number) > 0; k++) expect(Math.abs((eta[k] as number) / (truth[k] as number) - 1), `result ${k}`).toBeLessThan(0.05);
  });

  it('formats durations', () => {
    expect([39.4, 87, 230, 3725].map(formatDuration)).toEqual(['39s', '1m 27s', '3m 50s', '1h 02m']);
  });
});

describe('progress bar on a terminal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relaxmap-tty-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the header lines, leaves no stale bar line and erases the bar before the summary', async () => {
    writeFileSync(
      join(dir, 'spec.yaml'),
      `version: 1
name: tty
spins: [{ id: a, isotope: 1H }, { id: b, isotope: 1H }]
parameters: { T: 300, B0: 9.4, tau_c: 8e-12, spare: 1 }
relaxation: [{ type: dipolar, spins: [a, b], b_hz: 35000, tau_c: tau_c }]
thermalization: rodin-abergel
initial: singlet(a,b)
observables: { Mz: Iz(a) + Iz(b) }
time: { stop: 10, points: 11 }
sweep: { T: { log: [0.05, 300], points: 40 }, B0: { lin: [1, 20], points: 30 } }
outputs: [rates, eigenrates, steady_state, trajectories]
`,
    );
    const runner = join(dir, 'run.mjs');
    writeFileSync(
      runner,
      `const { main } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'src', 'cli', 'main.ts')).href)});
process.exitCode = await main(['node', 'relaxmap', 'run', ${JSON.stringify(join(dir, 'spec.yaml'))}, '--out', ${JSON.stringify(join(dir, 'out'))}, '--backend', 'inline', '--chunk-size', '40']);\n`,
    );
    const cmd = `stty cols 120 rows 40; cd ${JSON.stringify(ROOT)} && ${JSON.stringify(process.execPath)} --import tsx ${JSON.stringify(runner)}`;
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
    let raw = '';
    child.stdout.on('data', (d: Buffer) => (raw += d.toString()));
    child.stderr.on('data', (d: Buffer) => (raw += d.toString()));
    const code = await new Promise<number | null>((ok) => child.on('close', ok));
    expect(code).toBe(0);
    // the bar was drawn on the terminal (a pseudo-terminal, so the live bar, not periodic lines)
    expect(raw).toMatch(/\d+% \| \d+\/1200 points/);
    const shown = screen(raw).filter((l) => l !== '');
    expect(shown).toEqual([
      'relaxmap: warning: parameters.spare is not used by any field',
      expect.stringMatching(/^relaxmap: 1200 points in 30 chunks of 40; backend inline: requested with --backend inline$/),
      expect.stringMatching(/^relaxmap: 1200 points in \d+\.\d+ s \(30 chunks computed\); wrote surfaces\.nc, trajectories\.nc, points\.csv, spec\.yaml, run\.json to /),
    ]);
  }, 120_000);
});
