/**
 * Points beyond physics are flagged: the high-temperature model at beta*w_max above its bound,
 * expectation values outside their operator's spectrum, negative populations. `point` warns;
 * `run` sets flags bit 32 (FLAG_UNPHYSICAL) on every backend's results, lists the points in
 * run.json and warns at the end.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { FLAG_UNPHYSICAL } from '../../src/engine/chunk.js';
import { CMatrix } from '../../src/math/cmatrix.js';
import { betaOf } from '../../src/physics/constants.js';
import { beyondHighTemperature, HIGH_TEMPERATURE_BOUND, negativePopulation, outsideSpectrum, spectralRange } from '../../src/physics/validity.js';
import { ISOTOPES } from '../../src/spin/isotopes.js';
import { runSweep } from '../../src/sweep/executor.js';
import { pointOf } from '../helpers/problems.js';
import { ELECTRON_PROTON } from '../helpers/systems.js';

const at = (thermal: string, T: number, B0: number): string => ELECTRON_PROTON(thermal, T, 'thermal').replace('B0: 3.4', `B0: ${B0}`);

describe('validity checks (pure functions)', () => {
  it('the bound on beta*w_max is 1', () => {
    expect(HIGH_TEMPERATURE_BOUND).toBe(1);
    expect(beyondHighTemperature(1.0001)).toBe(true);
    expect(beyondHighTemperature(-1.0001)).toBe(true);
    expect(beyondHighTemperature(0.9999)).toBe(false);
  });
  it('spectral ranges and expectation values: Iz of a spin 1 spans [-1, 1]', () => {
    const iz = CMatrix.from([
      [1, 0, 0],
      [0, 0, 0],
      [0, 0, -1],
    ]);
    const r = spectralRange(iz);
    expect(r.min).toBeCloseTo(-1, 15);
    expect(r.max).toBeCloseTo(1, 15);
    expect(outsideSpectrum(1 + 1e-12, r)).toBe(false);
    expect(outsideSpectrum(1 + 1e-8, r)).toBe(true);
    expect(outsideSpectrum(-1.5, r)).toBe(true);
    expect(outsideSpectrum(Number.NaN, r)).toBe(false);
  });
  it('a density matrix with an eigenvalue -0.05 has a negative population even where its diagonal does not', () => {
    // rho = [[0.5, 0.55], [0.55, 0.5]]: diagonal positive, eigenvalues 1.05 and -0.05
    expect(negativePopulation(CMatrix.from([[0.5, 0.55], [0.55, 0.5]]))).toBe(true);
    expect(negativePopulation(CMatrix.from([[0.5, 0.45], [0.45, 0.5]]))).toBe(false);
  });
});

describe('relaxmap point: the electron-1H pair of the issue', () => {
  it('high-temperature at 1 K, 14.1 T: <Iz(e)> = -4.74 in the steady state; flagged beyond validity (beta*w_max = 19) and unphysical', () => {
    const r = pointOf(at('high-temperature', 1, 14.1));
    expect(r.steady_state.Ez as number).toBeCloseTo(-4.74, 2);
    const w = (r.warnings ?? []).join('\n');
    const bw = betaOf(1) * (Math.abs(ISOTOPES.e!.gamma) + ISOTOPES['1H']!.gamma) * 14.1;
    expect(w).toContain(`beta*w_max = ${bw.toPrecision(3)} exceeds 1`);
    expect(w).toMatch(/unphysical state: the steady-state <Ez> = -4.741 lies outside the spectrum \[-0.5000, 0.5000\] of Iz\(e\)/);
    expect(w).toMatch(/negative population/);
  });
  it('high-temperature at 2 K, 6.7 T: <Iz(e)> = -1.13, flagged', () => {
    const r = pointOf(at('high-temperature', 2, 6.7));
    expect(r.steady_state.Ez as number).toBeCloseTo(-1.126, 3);
    expect((r.warnings ?? []).join('\n')).toMatch(/beyond its validity[\s\S]*steady-state <Ez> = -1.126/);
  });
  it('rodin-abergel at the same points and high-temperature at 300 K are clean', () => {
    expect(pointOf(at('rodin-abergel', 1, 14.1)).warnings).toBeUndefined();
    expect(pointOf(at('rodin-abergel', 2, 6.7)).warnings).toBeUndefined();
    expect(pointOf(at('high-temperature', 300, 14.1)).warnings).toBeUndefined();
  });
});

describe('relaxmap run: flags bit 32 where the points are unphysical, on every backend', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relaxmap-validity-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const spec = `${at('[high-temperature, rodin-abergel]', 2, 6.7).replace('time: { log: [1e-9, 100], points: 25 }', 'time: { log: [1e-6, 10], points: 5 }')}sweep:\n  T: { values: [2, 300] }\n`;
  const file = join(dir, 'ep.yaml');
  writeFileSync(file, spec);
  for (const backend of ['inline', 'workers'] as const) {
    it(`${backend}: the high-temperature point at 2 K is flagged, the others are not; run.json lists it; a warning ends the run`, async () => {
      const out = join(dir, backend);
      const writes: string[] = [];
      const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
        writes.push(String(s));
        return true;
      });
      try {
        await runSweep({ specPath: file, outDir: out, backend, workers: 1, quiet: false });
      } finally {
        spy.mockRestore();
      }
      const csv = readFileSync(join(out, 'points.csv'), 'utf8').trim().split('\n');
      const head = (csv[0] as string).split(',');
      const rows = csv.slice(1).map((l) => l.split(','));
      const flag = (thermal: string, T: string): number => Number(rows.find((r) => r[head.indexOf('thermalization')] === thermal && r[head.indexOf('T')] === T)?.[head.indexOf('flags')]);
      expect(flag('high-temperature', '2') & FLAG_UNPHYSICAL).toBe(FLAG_UNPHYSICAL);
      expect(flag('high-temperature', '300') & FLAG_UNPHYSICAL).toBe(0);
      expect(flag('rodin-abergel', '2') & FLAG_UNPHYSICAL).toBe(0);
      expect(flag('rodin-abergel', '300') & FLAG_UNPHYSICAL).toBe(0);
      const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { unphysical: { count: number; first: Array<{ variant: string; params: Record<string, number> }> } };
      expect(run.unphysical.count).toBe(1);
      expect(run.unphysical.first[0]?.variant).toMatch(/^high-temperature/);
      expect(run.unphysical.first[0]?.params.T).toBe(2);
      expect(writes.join('')).toMatch(/relaxmap: warning: 1 point left the physical range or the model's validity \(flags bit 32/);
    });
  }
});
