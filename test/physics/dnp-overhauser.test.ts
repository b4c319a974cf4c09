/**
 * The Overhauser effect in a liquid: an electron and a proton coupled by a fluctuating dipolar
 * interaction (Lorentzian tau_c), the electron saturated by strong irradiation at offset 0,
 * 300 K, inhomogeneous model. Three references, none of them the engine:
 *  - the textbook enhancement 1 - xi f s |gamma_e / gamma_H| with SIGNED Larmor frequencies
 *    w = -gamma B0 (gamma_e < 0 < gamma_H: the zero-quantum term is J(w_e - w_H) at
 *    |w_e| + |w_H|): within 1e-3 (it is linear in the polarisations); reading w_e +- w_H as
 *    magnitudes misses by about 5e-3;
 *  - the Solomon equation d<Iz>/dt = -rho (<Iz> - I0) - sigma (<Sz> - S0), exact in this model
 *    with the Boltzmann (tanh) polarisations: 1e-12;
 *  - an independent float64 Liouville-space computation (test/helpers/liouville-reference.ts:
 *    Abragam's dipolar alphabet, Cartesian random fields, refined steady-state solve): 1e-9.
 */
import { describe, expect, it } from 'vitest';
import { evaluatePoint } from '../../src/evaluate/point.js';
import { parseSpecText } from '../../src/spec/load.js';
import { baseParameters, buildProblem } from '../../src/spec/resolve.js';
import * as R from '../helpers/liouville-reference.js';

const HBAR = 1.054571817e-34;

interface Case {
  readonly B0: number;
  readonly tau: number;
}
// X-band (w_e tau = 1.5: J varies steeply at w_e, so the sign of w_H matters) and 1.2 T
const CASES: readonly Case[] = [
  { B0: 0.35, tau: 25e-12 },
  { B0: 1.2, tau: 8e-12 },
];
const T = 300;
const R_EH = 8e-10; // m
const RMS_E = 1.3e8; // Hz, electron random field (T1e ~ 0.1 us)
const TAU_E = 1e-11;
const RMS_H = 2.5e4; // Hz, proton random field: the leakage
const TAU_H = 1e-11;
const NUTATION = 5e8; // Hz: w1^2 T1e T2e ~ 1e5, the electron saturated

function spec(c: Case): string {
  return `
version: 1
spins: [{ id: e, isotope: e }, { id: h, isotope: 1H }]
parameters: { T: ${T}, B0: ${c.B0} }
hamiltonian:
  - { type: irradiation, spins: [e], nutation_hz: ${NUTATION}, offset_hz: 0 }
relaxation:
  - { type: dipolar, spins: [e, h], distance_m: ${R_EH}, tau_c: ${c.tau} }
  - { type: random_field, spins: [e], rms_hz: ${RMS_E}, tau_c: ${TAU_E} }
  - { type: random_field, spins: [h], rms_hz: ${RMS_H}, tau_c: ${TAU_H} }
thermalization: inhomogeneous
observables: { Ez: Iz(e), Hz: Iz(h) }
`;
}

function engine(c: Case): ReturnType<typeof evaluatePoint> {
  const checked = parseSpecText(spec(c), 'overhauser');
  return evaluatePoint(buildProblem(checked), baseParameters(checked), 'inhomogeneous');
}

/** Textbook quantities from the spectral densities (seed normalisation J = 2 tau / (1 + w^2 tau^2)). */
function textbook(c: Case): { rho: number; sigma: number; rho0: number; s: number; wS: number; wI: number } {
  const wS = -R.GAMMA_E * c.B0;
  const wI = -R.GAMMA_H * c.B0;
  const b = (1e-7 * R.GAMMA_E * R.GAMMA_H * HBAR) / R_EH ** 3;
  const J = (w: number): number => R.lorentz(w, c.tau);
  // Solomon rates of unlike spins: rho_I = (b^2/20)[J(wI - wS) + 3 J(wI) + 6 J(wI + wS)]
  const rho = ((b * b) / 20) * (J(wI - wS) + 3 * J(wI) + 6 * J(wI + wS));
  const sigma = ((b * b) / 20) * (6 * J(wI + wS) - J(wI - wS));
  const rho0 = (2 * Math.PI * RMS_H) ** 2 * R.lorentz(wI, TAU_H);
  // saturation from the Bloch equations with the electron's T1 and T2 (random field + dipolar T1)
  const rE = (2 * Math.PI * RMS_E) ** 2;
  const r1 = rE * R.lorentz(wS, TAU_E) + ((b * b) / 20) * (J(wS - wI) + 3 * J(wS) + 6 * J(wS + wI));
  const r2 = 0.5 * rE * (R.lorentz(wS, TAU_E) + R.lorentz(0, TAU_E));
  const w1 = 2 * Math.PI * NUTATION;
  const q = (w1 * w1) / (r1 * r2);
  return { rho, sigma, rho0, s: q / (1 + q), wS, wI };
}

describe('Overhauser effect (liquid, 300 K, inhomogeneous model, electron saturated at offset 0)', () => {
  for (const c of CASES) {
    const res = engine(c);
    const tb = textbook(c);
    const enh = (res.steady_state.Hz as number) / (res.boltzmann.Hz as number);

    it(`B0 = ${c.B0} T: the textbook enhancement with signed Larmor frequencies within 1e-3`, () => {
      const xi = tb.sigma / tb.rho;
      const f = tb.rho / (tb.rho + tb.rho0);
      const ratio = Math.abs(R.GAMMA_E / R.GAMMA_H);
      const formula = 1 - xi * f * tb.s * ratio;
      expect(Math.abs(formula / enh - 1)).toBeLessThan(1e-3);
      expect(enh).toBeLessThan(-50); // a large negative enhancement, as for a dipolar coupling
      // reading w_e + w_H as |w_e| + |w_H| swaps the zero- and double-quantum spectral densities
      const J = (w: number): number => R.lorentz(w, c.tau);
      const sum = Math.abs(tb.wS) + Math.abs(tb.wI);
      const diff = Math.abs(tb.wS) - Math.abs(tb.wI);
      const xiMag = (6 * J(sum) - J(diff)) / (6 * J(sum) + 3 * J(tb.wI) + J(diff));
      const wrong = 1 - xiMag * f * tb.s * ratio;
      if (c.B0 === 0.35) expect(Math.abs(wrong / enh - 1)).toBeGreaterThan(3e-3);
    });

    it(`B0 = ${c.B0} T: the Solomon form with the Boltzmann (tanh) polarisations holds to 1e-12`, () => {
      // S0, I0 from tanh(hbar w / 2kT), not from the engine: the engine's Boltzmann value of a
      // 1e-6 nuclear polarisation is a difference of 0.25 populations (1e-11 relative)
      const S0 = -0.5 * Math.tanh((HBAR * tb.wS) / (2 * 1.380649e-23 * T));
      const I0 = -0.5 * Math.tanh((HBAR * tb.wI) / (2 * 1.380649e-23 * T));
      expect(Math.abs((res.boltzmann.Ez as number) / S0 - 1)).toBeLessThan(1e-12);
      expect(Math.abs((res.boltzmann.Hz as number) / I0 - 1)).toBeLessThan(1e-9);
      // steady state of d<Iz>/dt = -rho (<Iz> - I0) - sigma (<Sz> - S0)
      const iz = I0 - (tb.sigma / (tb.rho + tb.rho0)) * ((res.steady_state.Ez as number) - S0);
      expect(Math.abs((res.steady_state.Hz as number) / iz - 1)).toBeLessThan(1e-12);
      // as an enhancement: 1 + xi f s (S0 / I0), the tanh ratio instead of gamma_e / gamma_H
      const s = 1 - (res.steady_state.Ez as number) / S0;
      const solomon = 1 + (tb.sigma / (tb.rho + tb.rho0)) * s * (S0 / I0);
      expect(Math.abs(solomon / ((res.steady_state.Hz as number) / I0) - 1)).toBeLessThan(1e-12);
    });

    it(`B0 = ${c.B0} T: equals an independent Liouville-space computation to 1e-9`, () => {
      const b = (1e-7 * R.GAMMA_E * R.GAMMA_H * HBAR) / R_EH ** 3;
      const relax = [
        ...R.dipolarRedfield(b, c.tau, tb.wS, tb.wI),
        ...R.randomFieldRedfield(R.S, 2 * Math.PI * RMS_E, TAU_E, tb.wS),
        ...R.randomFieldRedfield(R.I, 2 * Math.PI * RMS_H, TAU_H, tb.wI),
      ];
      const coherent = R.hamiltonianTerms([[2 * Math.PI * NUTATION, R.S.x]]);
      const { rho } = R.steadyState(coherent, { terms: relax, rhoEq: R.boltzmann(tb.wS, tb.wI, T) });
      const hz = R.expect(rho, R.I.z);
      const ez = R.expect(rho, R.S.z);
      expect(Math.abs((res.steady_state.Hz as number) / hz - 1)).toBeLessThan(1e-9);
      // the saturated electron is ~1e-5 of its Boltzmann value: compare on that scale
      expect(Math.abs((res.steady_state.Ez as number) - ez)).toBeLessThan(1e-9 * Math.abs(res.boltzmann.Ez as number));
      // the proton relaxation rate is the Solomon rho + leakage (projection rate of Iz)
      expect(Math.abs((res.rates.Hz as number) / (tb.rho + tb.rho0) - 1)).toBeLessThan(1e-12);
    });
  }
});
