/**
 * The example sweeps of the NMR mechanisms compute what their comments say (at sampled
 * points, against closed forms): sweeps/nh-trosy.yaml and sweeps/deuterium.yaml.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluatePoint } from '../../src/evaluate/point.js';
import { HBAR } from '../../src/physics/constants.js';
import { parseSpecText } from '../../src/spec/load.js';
import { baseParameters, buildProblem } from '../../src/spec/resolve.js';
import { ISOTOPES } from '../../src/spin/isotopes.js';
import { ROOT } from '../helpers/cli.js';
import { relErr } from '../helpers/problems.js';

function load(name: string): { problem: ReturnType<typeof buildProblem>; base: Record<string, number> } {
  const spec = parseSpecText(readFileSync(join(ROOT, 'sweeps', name), 'utf8'), name);
  return { problem: buildProblem(spec), base: baseParameters(spec) };
}

describe('sweeps/nh-trosy.yaml', () => {
  const { problem, base } = load('nh-trosy.yaml');
  const at = (B0: number, tau: number): Record<string, number> => evaluatePoint(problem, { ...base, B0, tau_c: tau }, 'rodin-abergel', { populations: false }).rates;
  it('takes the fixed-basis path', () => expect(problem.model.path).toBe('fixed-basis'));
  // to 1e-7, not 1e-9: the sweep's J = -92 Hz moves the spectral densities to w_N +- pi J (and
  // rodin-abergel's thermal part adds ~1e-8); test/physics/cross-correlation.test.ts has the 1e-9 checks
  it('anti-TROSY minus TROSY is 2 eta_xy (Goldman) at 18.8 T, tau_c = 10 ns, to 1e-7', () => {
    const tau = 1e-8;
    const B0 = 18.8;
    const gH = ISOTOPES['1H']!.gamma;
    const gN = ISOTOPES['15N']!.gamma;
    const d = (1e-7 * gH * gN * HBAR) / 1.02e-10 ** 3;
    const c = gN * B0 * -160e-6;
    const j = (w: number): number => tau / (1 + w * w * tau * tau);
    const p2 = 1.5 * Math.cos((17 * Math.PI) / 180) ** 2 - 0.5;
    const etaXY = -(1 / 15) * d * c * p2 * (4 * j(0) + 3 * j(gN * B0));
    const r = at(B0, tau);
    expect(relErr((r.antitrosy as number) - (r.trosy as number), 2 * etaXY)).toBeLessThan(1e-7);
  });
  it('the TROSY line is narrowest between 19 and 25 T at tau_c = 10 ns (the ~1 GHz optimum)', () => {
    const fields = Array.from({ length: 29 }, (_, k) => 0.5 * (28 / 0.5) ** (k / 28));
    const rates = fields.map((B0) => at(B0, 1e-8).trosy as number);
    const best = fields[rates.indexOf(Math.min(...rates))] as number;
    expect(best).toBeGreaterThan(19);
    expect(best).toBeLessThan(25);
  });
});

describe('sweeps/deuterium.yaml', () => {
  const { problem, base } = load('deuterium.yaml');
  it('R1 = (3 pi^2/10) Cq^2 [j(w0) + 4 j(2 w0)] at three (B0, tau_c), to 1e-9', () => {
    const g = ISOTOPES['2H']!.gamma;
    for (const [B0, tau] of [
      [0.5, 1e-12],
      [14.1, 1e-10],
      [28, 1e-7],
    ] as const) {
      const w0 = g * B0;
      const j = (w: number): number => tau / (1 + w * w * tau * tau);
      const want = ((3 * Math.PI ** 2) / 10) * 170e3 ** 2 * (j(w0) + 4 * j(2 * w0));
      const r = evaluatePoint(problem, { ...base, B0, tau_c: tau }, 'rodin-abergel', { populations: false });
      expect(relErr(r.rates.Dz as number, want)).toBeLessThan(1e-9);
    }
  });
});
