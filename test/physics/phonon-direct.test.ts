/**
 * Electron spin-lattice relaxation by the direct one-phonon process: a random field on the
 * electron with J(w) = 2 tau (|w| / 2 pi nu_ref)^n coth(hbar |w| / 2kT), through the batched
 * engine (temperature and field as sweep axes: the coefficient tables see T as a dependency
 * of this J). Laws (docs/physics.md):
 *   rodin-abergel, high-temperature, semiclassical, inhomogeneous (even part 1):
 *     1/T1e = rms^2 2 tau (nu_e / nu_ref)^n coth(h nu_e / 2kT)
 *   bengs-levitt: the same times cosh(h nu_e / 2kT).
 */
import { describe, expect, it } from 'vitest';
import { chunkViews } from '../../src/engine/chunk.js';
import { createJob } from '../../src/engine/create-job.js';
import { chunkShape, kernelFor, type Job } from '../../src/engine/job.js';
import { phononDirectValue } from '../../src/physics/phonon-direct.js';
import { pointParams } from '../../src/sweep/grid.js';

const HBAR = 1.054571817e-34;
const KB = 1.380649e-23;
const GAMMA_E = -1.76085963023e11;
const RMS = 3.6e6;
const TAU = 1e-12;
const N = 4;
const NU_REF = 188e9;

function job(sweep: string, models: string, nuRef = NU_REF, n = N): Job {
  const text = `
version: 1
spins: [{ id: e, isotope: e }]
parameters: { T: 1.2, B0: 6.7 }
relaxation:
  - { type: random_field, spins: [e], rms_hz: ${RMS}, tau_c: ${TAU}, spectral_density: { model: phonon-direct, exponent: ${n}, nu_ref_hz: ${nuRef} } }
thermalization: [${models}]
observables: { Ez: Iz(e), Ex: Ix(e) }
sweep: { ${sweep} }
outputs: [rates, steady_state]
`;
  return createJob({ text, source: 'phonon', overrides: [] });
}

/** Projection rates [variant][point][obs] from the batched float64 kernel. */
function rates(j: Job): Float64Array[] {
  return j.grid.variants.map((_, v) => {
    const n = j.grid.pointsPerVariant;
    const out = chunkViews(chunkShape(j, n));
    kernelFor(j, v).run(0, n, out);
    return out.rates.slice();
  });
}

const coth = (x: number): number => 1 / Math.tanh(x);

describe('phonon-direct spectral density: T1e(B0, T)', () => {
  it('rodin-abergel: 1/T1e(T) at fixed B0 follows coth(hbar w_e / 2kT), to 1e-9', () => {
    const temps = [0.05, 0.3, 1.2, 4.2, 20, 100, 300];
    const j = job(`T: { values: [${temps.join(', ')}] }`, 'rodin-abergel');
    const [r] = rates(j) as [Float64Array];
    const w = -GAMMA_E * 6.7;
    temps.forEach((T, i) => {
      const expected = (2 * Math.PI * RMS) ** 2 * 2 * TAU * (w / (2 * Math.PI * NU_REF)) ** N * coth((HBAR * w) / (2 * KB * T));
      expect(Math.abs((r[2 * i] as number) / expected - 1), `T = ${T}`).toBeLessThan(1e-9);
      // relative to the lowest temperature: exactly the coth ratio
      const ratio = (r[2 * i] as number) / (r[0] as number);
      expect(Math.abs(ratio / (coth((HBAR * w) / (2 * KB * T)) / coth((HBAR * w) / (2 * KB * 0.05))) - 1)).toBeLessThan(1e-9);
    });
    // 300 K: near the high-temperature limit 2kT / (hbar w_e) = 66.5 of the coth ratio
    expect((r[12] as number) / (r[0] as number)).toBeGreaterThan(60);
  });

  it('the field exponent holds in the low-temperature limit: 1/T1e ~ B0^n at 50 mK, to 1e-9', () => {
    const fields = [3.4, 6.7, 9.4, 14.1, 23.5];
    for (const n of [2, 4, 5]) {
      const j = job(`T: { values: [0.05] }, B0: { values: [${fields.join(', ')}] }`, 'rodin-abergel, inhomogeneous, high-temperature', NU_REF, n);
      for (const r of rates(j)) {
        fields.forEach((b, i) => {
          const ratio = (r[2 * i] as number) / (r[0] as number);
          expect(Math.abs(ratio / (b / 3.4) ** n - 1), `n = ${n}, B0 = ${b}`).toBeLessThan(1e-9);
        });
      }
    }
  });

  it('bengs-levitt: the same law times cosh(hbar w_e / 2kT); the semiclassical models give the rodin-abergel rates', () => {
    const j = job('T: { values: [0.3, 1.2, 4.2, 50] }, B0: { values: [3.4, 6.7] }', 'rodin-abergel, bengs-levitt, semiclassical, inhomogeneous, high-temperature');
    const [ra, bl, ...semi] = rates(j) as Float64Array[];
    for (let i = 0; i < j.grid.pointsPerVariant; i++) {
      const p = pointParams(j.grid, i);
      const x = (HBAR * -GAMMA_E * (p.B0 as number)) / (KB * (p.T as number));
      expect(Math.abs((bl?.[2 * i] as number) / ((ra?.[2 * i] as number) * Math.cosh(x / 2)) - 1)).toBeLessThan(1e-9);
      for (const s of semi) expect(Math.abs((s[2 * i] as number) / (ra?.[2 * i] as number) - 1)).toBeLessThan(1e-12);
    }
  });

  it('J at w = 0: 4 tau / (2 pi nu_ref beta) for n = 1 (the transverse rate gets it), 0 for n > 1', () => {
    const beta = HBAR / (KB * 4.2);
    expect(phononDirectValue(0, TAU, 1, NU_REF, 4.2)).toBeCloseTo((4 * TAU) / (2 * Math.PI * NU_REF * beta), 20);
    expect(Math.abs(phononDirectValue(1e-3, TAU, 1, NU_REF, 4.2) / phononDirectValue(0, TAU, 1, NU_REF, 4.2) - 1)).toBeLessThan(1e-12);
    expect(phononDirectValue(0, TAU, 4, NU_REF, 4.2)).toBe(0);
    // R2 = R1/2 + rms^2 J(0)/2 for a random field: with n = 1 the zero-frequency part is finite
    const j = job('T: { values: [4.2] }', 'rodin-abergel', NU_REF, 1);
    const [r] = rates(j) as [Float64Array];
    const j0 = (4 * TAU) / (2 * Math.PI * NU_REF * beta);
    expect(Math.abs((r[1] as number) / ((r[0] as number) / 2 + ((2 * Math.PI * RMS) ** 2 * j0) / 2) - 1)).toBeLessThan(1e-12);
  });
});
