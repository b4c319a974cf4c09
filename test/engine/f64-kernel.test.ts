/**
 * The batched float64 kernel (per-axis factor tables, reduced basis, generated propagators)
 * against the one-point evaluator, which builds every generator from operators: the two
 * paths share only the basis superoperators, so agreement checks the tables, the cursor,
 * the reduction and the kernels.
 */
import { describe, expect, it } from 'vitest';
import { chunkViews } from '../../src/engine/chunk.js';
import { createJob } from '../../src/engine/create-job.js';
import { chunkShape, kernelFor } from '../../src/engine/job.js';
import { evaluatePoint } from '../../src/evaluate/point.js';
import { pointParams } from '../../src/sweep/grid.js';
import { ELECTRON_PROTON, THREE_SPIN_SYSTEM } from '../helpers/systems.js';

const withSweep = (yaml: string, sweep: string, outputs = '[rates, eigenrates, steady_state, trajectories]'): string => `${yaml}\nsweep:\n${sweep}\noutputs: ${outputs}\n`;

const CASES: Record<string, string> = {
  'pair, rodin-abergel and inhomogeneous, from a singlet': `version: 1
spins: [{ id: a, isotope: 1H }, { id: b, isotope: 1H }]
parameters: { T: 300, B0: 9.4, tau_c: 8e-12, tau_ran: 60e-12, kappa: 0 }
relaxation:
  - { type: dipolar, spins: [a, b], b_hz: 35000, tau_c: tau_c }
  - { type: random_field, spins: [a, b], rms_hz: 2300, tau_c: tau_ran, kappa: kappa }
thermalization: [rodin-abergel, inhomogeneous, bengs-levitt]
initial: ['singlet(a,b)', inverted]
observables: { Mz: Iz(a) + Iz(b), IS: Ia.Ib }
time: { stop: 60, points: 17 }
sweep:
  T: { log: [0.01, 300], points: 5 }
  B0: { lin: [0.5, 28.2], points: 3 }
  kappa: { values: [-0.5, 0.9] }
outputs: [rates, eigenrates, steady_state, trajectories]
`,
  '1H-1H-13C with J, log time grid': withSweep(THREE_SPIN_SYSTEM('bengs-levitt', 1), '  T: { log: [0.05, 300], points: 3 }\n  tau: { values: [1e-11, 1e-9] }'),
  'electron-1H, zipped T and B0': withSweep(ELECTRON_PROTON('rodin-abergel', 1, 'inverted'), '  T: { values: [1, 4, 100], group: g }\n  B0: { values: [3.4, 6.7, 9.4], group: g }'),
};

describe('float64 kernel = one-point evaluation', () => {
  for (const [name, yaml] of Object.entries(CASES)) {
    it(name, () => {
      const job = createJob({ text: yaml, source: name, overrides: [] });
      const n = job.grid.pointsPerVariant;
      job.grid.variants.forEach((variant, v) => {
        const k = kernelFor(job, v);
        const out = chunkViews(chunkShape(job, n));
        k.run(0, n, out);
        const problem = job.problems[variant.initial]!;
        const { nObs, nModes, nTimes } = out.shape;
        for (let p = 0; p < n; p++) {
          const ref = evaluatePoint(problem, pointParams(job.grid, p), variant.thermal);
          problem.observables.forEach((o, j) => {
            const rel = (a: number, b: number, scale = Math.abs(b)): number => Math.abs(a - b) / Math.max(scale, 1e-300);
            expect(rel(out.rates[p * nObs + j]!, ref.rates[o.name]!)).toBeLessThan(1e-12);
            expect(rel(out.boltzmann[p * nObs + j]!, ref.boltzmann[o.name]!, 1)).toBeLessThan(1e-13);
            expect(rel(out.steady[p * nObs + j]!, ref.steady_state[o.name]!, 1)).toBeLessThan(1e-10);
            const traj = ref.trajectories[o.name]!;
            const scale = Math.max(...traj.map(Math.abs));
            // round-off lives on the scale of the state (O(1) populations), not of a tiny signal
            // such as singlet order at 300 K (1e-12): hence the absolute floor
            traj.forEach((x, t) => expect(Math.abs(out.trajectories[(p * nObs + j) * nTimes + t]! - x)).toBeLessThan(1e-11 * scale + 1e-15));
            const amps = ref.amplitudes[o.name]!;
            amps.forEach((a, q) => expect(Math.abs(out.amplitudes[(p * nObs + j) * nModes + q]! - a)).toBeLessThan(1e-9 * Math.max(1, scale)));
          });
          ref.eigenrates.forEach((x, q) => expect(Math.abs(out.eigenrates[p * nModes + q]! - x) / x).toBeLessThan(1e-9));
          for (let q = ref.eigenrates.length; q < nModes; q++) expect(Number.isNaN(out.eigenrates[p * nModes + q])).toBe(true);
        }
      });
    });
  }
  it('the rates-only path gives the same rates and Boltzmann values', () => {
    const yaml = CASES['pair, rodin-abergel and inhomogeneous, from a singlet']!;
    const full = createJob({ text: yaml, source: 'full', overrides: [] });
    const rates = createJob({ text: yaml.replace('outputs: [rates, eigenrates, steady_state, trajectories]', 'outputs: [rates]'), source: 'rates', overrides: [] });
    const n = full.grid.pointsPerVariant;
    full.grid.variants.forEach((_, v) => {
      const a = chunkViews(chunkShape(full, n));
      const b = chunkViews(chunkShape(rates, n));
      kernelFor(full, v).run(0, n, a);
      kernelFor(rates, v).run(0, n, b);
      for (let i = 0; i < n * full.nObs; i++) {
        expect(Math.abs(b.rates[i]! - a.rates[i]!)).toBeLessThanOrEqual(1e-13 * Math.abs(a.rates[i]!));
        expect(b.boltzmann[i]).toBe(a.boltzmann[i]);
      }
    });
  });
});
