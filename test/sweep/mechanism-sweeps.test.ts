/**
 * The example sweeps of the NMR mechanisms compute what their comments say (at sampled
 * points, against closed forms): sweeps/nh-trosy.yaml and sweeps/deuterium.yaml.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chunkViews } from '../../src/engine/chunk.js';
import { createJob } from '../../src/engine/create-job.js';
import { chunkShape, kernelFor } from '../../src/engine/job.js';
import { evaluatePoint } from '../../src/evaluate/point.js';
import { pointParams } from '../../src/sweep/grid.js';
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

describe('the batched float64 kernel on cross-correlated and quadrupolar terms = one-point evaluation', () => {
  // signed cross strengths over swept angle, anisotropy and field go through the per-axis tables
  const yaml = `version: 1
spins: [{ id: d, isotope: 2H }, { id: n, isotope: 15N }, { id: h, isotope: 1H }]
parameters: { T: 300, B0: 14.1, tau: 5e-9, theta: 17, ds: -160, cq: 170e3 }
relaxation:
  - { type: dipolar, spins: [n, h], distance_m: 1.02e-10, tau_c: tau, label: NH }
  - { type: csa, spin: n, delta_sigma_ppm: ds, tau_c: tau, label: CSA }
  - { type: quadrupolar, spin: d, cq_hz: cq, tau_c: tau, label: Q }
  - { type: dipolar, spins: [d, h], distance_m: 2.5e-10, tau_c: tau, label: DH }
cross_correlations:
  - { between: [NH, CSA], angle_deg: theta }
  - { between: [Q, DH], p2: 0.4 }
thermalization: [rodin-abergel, high-temperature]
initial: { deviation: Ix(n) }
observables: { trosy: Ix(n) - 2*Ix(n)*Iz(h), Dz: Iz(d), Nz: Iz(n) }
time: { values: [0, 0.01, 0.1] }
sweep:
  B0: { values: [1, 23.5] }
  theta: { values: [0, 17, 90] }
  ds: { values: [-160, 150] }
  cq: { values: [-170e3, 200e3] }
outputs: [rates, eigenrates, steady_state, trajectories]
`;
  it('rates, steady states and trajectories to 1e-12 / 1e-10', () => {
    const job = createJob({ text: yaml, source: 'cross', overrides: [] });
    expect(job.model.path).toBe('fixed-basis');
    const n = job.grid.pointsPerVariant;
    job.grid.variants.forEach((variant, v) => {
      const out = chunkViews(chunkShape(job, n));
      kernelFor(job, v).run(0, n, out);
      const problem = job.problems[variant.initial]!;
      const { nObs, nTimes } = out.shape;
      for (let p = 0; p < n; p++) {
        const ref = evaluatePoint(problem, pointParams(job.grid, p), variant.thermal, { populations: false });
        // an observable that stays ~0 is compared on the scale of the point's largest <O>(t)
        const pointScale = Math.max(...problem.observables.flatMap((o) => ref.trajectories[o.name]!.map(Math.abs)));
        problem.observables.forEach((o, j) => {
          expect(relErr(out.rates[p * nObs + j]!, ref.rates[o.name]!)).toBeLessThan(1e-12);
          expect(Math.abs(out.steady[p * nObs + j]! - ref.steady_state[o.name]!)).toBeLessThan(1e-10);
          const traj = ref.trajectories[o.name]!;
          const scale = Math.max(...traj.map(Math.abs), 1e-3 * pointScale);
          traj.forEach((x, t) => expect(Math.abs(out.trajectories[(p * nObs + j) * nTimes + t]! - x)).toBeLessThan(1e-11 * scale + 1e-15));
        });
      }
    });
  });
});
