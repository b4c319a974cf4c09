/**
 * Quadrupolar relaxation of spins I >= 1 against textbook closed forms (Abragam; Hubbard for
 * I = 3/2) and QuTiP's Bloch-Redfield tensor of the Cartesian quadrupolar coupling
 * (test/fixtures/qutip/make_quadrupolar.py). Semiclassical, isotropic tumbling.
 *
 * Prefactor convention: Cq = e^2 q Q / h in Hz; J(w) = 2 tau / (1 + w^2 tau^2) (the seed's, twice
 * the one-sided transform), j(w) = tau / (1 + w^2 tau^2) = J/2 in the classic forms below.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ISOTOPES } from '../../src/spin/isotopes.js';
import { ROOT } from '../helpers/cli.js';
import { pointOf, relErr } from '../helpers/problems.js';

const J = (w: number, tau: number): number => (2 * tau) / (1 + w * w * tau * tau);
const j = (w: number, tau: number): number => J(w, tau) / 2;

function quadSpec(isotope: string, o: { B0: number; cq: number; eta: number; tau: number; initial: string; times?: readonly number[] }): string {
  return `
version: 1
spins: [{ id: q, isotope: ${isotope} }]
parameters: { T: 300, B0: ${o.B0} }
relaxation: [{ type: quadrupolar, spin: q, cq_hz: ${o.cq}, eta: ${o.eta}, tau_c: ${o.tau} }]
thermalization: semiclassical
initial: { deviation: ${o.initial} }
observables: { z: Iz(q), x: Ix(q) }
time: { values: [${(o.times ?? [0]).join(', ')}] }
`;
}

describe('extreme narrowing: R1 = R2 = (3 pi^2/10) (2I+3)/(I^2 (2I-1)) Cq^2 (1 + eta^2/3) tau_c', () => {
  const cases = [
    { isotope: '2H', I: 1, cq: 170e3, eta: 0 },
    { isotope: '14N', I: 1, cq: 3.2e6, eta: 0.4 },
    { isotope: '23Na', I: 1.5, cq: 1.0e6, eta: 0 },
    { isotope: '7Li', I: 1.5, cq: 2.0e5, eta: 0.7 },
    { isotope: '17O', I: 2.5, cq: 7.6e6, eta: 0.8 },
  ];
  const tau = 1e-13;
  const B0 = 1; // w0 tau < 1e-5: corrections below 1e-10
  for (const c of cases) {
    it(`${c.isotope} (I = ${c.I}, Cq = ${c.cq} Hz, eta = ${c.eta}) to 1e-9`, () => {
      const want = ((3 * Math.PI ** 2) / 10) * ((2 * c.I + 3) / (c.I * c.I * (2 * c.I - 1))) * c.cq ** 2 * (1 + (c.eta * c.eta) / 3) * tau;
      const r = pointOf(quadSpec(c.isotope, { B0, cq: c.cq, eta: c.eta, tau, initial: 'Iz(q)' }));
      expect(relErr(r.rates.z as number, want)).toBeLessThan(1e-9);
      expect(relErr(r.rates.x as number, want)).toBeLessThan(1e-9);
      if (c.I === 1) expect(relErr(want, ((3 * Math.PI ** 2) / 2) * c.cq ** 2 * (1 + (c.eta * c.eta) / 3) * tau)).toBeLessThan(1e-14);
    });
  }
});

describe('I = 1 (2H) at w0 tau_c ~ 1', () => {
  const B0 = 9.4;
  const w0 = ISOTOPES['2H']!.gamma * B0;
  for (const [tau, eta] of [
    [1 / w0, 0],
    [2.6e-9, 0.3],
  ] as const) {
    it(`w0 tau_c = ${(w0 * tau).toFixed(3)}, eta = ${eta}: R1 = (3 pi^2/10) Cq^2 (1 + eta^2/3) [J(w0) + 4 J(2 w0)]/2, R2 = (3 pi^2/20) Cq^2 (1 + eta^2/3) [3 J(0) + 5 J(w0) + 2 J(2 w0)]/2, both single exponentials`, () => {
      const cq = 170e3;
      const k = Math.PI ** 2 * cq * cq * (1 + (eta * eta) / 3);
      const r1 = ((3 * k) / 10) * (J(w0, tau) + 4 * J(2 * w0, tau)) * 0.5;
      const r2 = ((3 * k) / 20) * (3 * J(0, tau) + 5 * J(w0, tau) + 2 * J(2 * w0, tau)) * 0.5;
      const z = pointOf(quadSpec('2H', { B0, cq, eta, tau, initial: 'Iz(q)' }));
      expect(relErr(z.rates.z as number, r1)).toBeLessThan(1e-9);
      expect(z.eigenrates.length).toBe(1);
      expect(relErr(z.eigenrates[0] as number, r1)).toBeLessThan(1e-9);
      const x = pointOf(quadSpec('2H', { B0, cq, eta, tau, initial: 'Ix(q)' }));
      expect(relErr(x.rates.x as number, r2)).toBeLessThan(1e-9);
      expect(x.eigenrates.length).toBe(1);
      expect(relErr(x.eigenrates[0] as number, r2)).toBeLessThan(1e-9);
    });
  }
});

describe('I = 3/2 (23Na) outside extreme narrowing: Hubbard biexponential relaxation', () => {
  const B0 = 9.4;
  const w0 = ISOTOPES['23Na']!.gamma * B0;
  const cq = 1.0e6;
  for (const [tau, eta] of [
    [1.5e-9, 0],
    [5e-9, 0.5],
  ] as const) {
    const c = (Math.PI ** 2 / 5) * cq * cq * (1 + (eta * eta) / 3);
    it(`w0 tau_c = ${(w0 * tau).toFixed(2)}, eta = ${eta}: <Iz> = 1/5 exp(-2C j(w0) t) + 4/5 exp(-2C j(2w0) t), C = (pi^2/5) Cq^2 (1 + eta^2/3), to 1e-9`, () => {
      const r = pointOf(quadSpec('23Na', { B0, cq, eta, tau, initial: 'Iz(q)' }));
      const fast = 2 * c * j(w0, tau);
      const slow = 2 * c * j(2 * w0, tau);
      expect(r.eigenrates.length).toBe(2);
      expect(relErr(r.eigenrates[0] as number, slow)).toBeLessThan(1e-9);
      expect(relErr(r.eigenrates[1] as number, fast)).toBeLessThan(1e-9);
      const a = r.amplitudes.z as number[];
      const total = (a[0] as number) + (a[1] as number);
      expect(relErr(total, 5)).toBeLessThan(1e-12); // <Iz>(0) = Tr Iz^2 = 5
      expect(relErr((a[0] as number) / total, 4 / 5)).toBeLessThan(1e-9);
      expect(relErr((a[1] as number) / total, 1 / 5)).toBeLessThan(1e-9);
    });
    it(`w0 tau_c = ${(w0 * tau).toFixed(2)}, eta = ${eta}: <Ix> = 3/5 exp(-C [j(0) + j(w0)] t) + 2/5 exp(-C [j(w0) + j(2w0)] t), to 1e-9`, () => {
      const r = pointOf(quadSpec('23Na', { B0, cq, eta, tau, initial: 'Ix(q)' }));
      const outer = c * (j(w0, tau) + j(2 * w0, tau));
      const central = c * (j(0, tau) + j(w0, tau));
      expect(r.eigenrates.length).toBe(2);
      expect(relErr(r.eigenrates[0] as number, outer)).toBeLessThan(1e-9);
      expect(relErr(r.eigenrates[1] as number, central)).toBeLessThan(1e-9);
      const a = r.amplitudes.x as number[];
      const total = (a[0] as number) + (a[1] as number);
      expect(relErr((a[0] as number) / total, 2 / 5)).toBeLessThan(1e-9);
      expect(relErr((a[1] as number) / total, 3 / 5)).toBeLessThan(1e-9);
    });
  }
});

interface QuadCase {
  readonly isotope: string;
  readonly B0: number;
  readonly cq_hz: number;
  readonly eta: number;
  readonly tau_c: number;
  readonly t_s: number[];
  readonly [k: string]: unknown;
}

describe('QuTiP Bloch-Redfield tensor of the Cartesian quadrupolar coupling (test/fixtures/qutip/qutip_quadrupolar.json)', () => {
  const fixture = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'qutip', 'qutip_quadrupolar.json'), 'utf8')) as { cases: QuadCase[] };
  it('has the seven cases (I = 1, 3/2, 5/2)', () => expect(fixture.cases.length).toBe(7));
  for (const c of fixture.cases) {
    it(`${c.isotope} at ${c.B0} T, Cq ${c.cq_hz} Hz, eta ${c.eta}, tau_c ${c.tau_c} s: rates, modes and trajectories of Iz and Ix to 1e-9`, () => {
      for (const [name, op] of [
        ['Iz', 'z'],
        ['Ix', 'x'],
      ] as const) {
        const r = pointOf(quadSpec(c.isotope, { B0: c.B0, cq: c.cq_hz, eta: c.eta, tau: c.tau_c, initial: `${name}(q)`, times: c.t_s }));
        expect(relErr(r.rates[op] as number, c[`rate_${name}_per_s`] as number)).toBeLessThan(1e-9);
        const modes = c[`modes_${name}`] as { rates_per_s: number[]; amplitudes: number[] };
        // modes this observable sees: amplitude above 1e-9 of the largest (both lists; which
        // barely excited modes a list keeps is the mode extractor's threshold, not physics)
        const scale = Math.max(...modes.amplitudes.map(Math.abs));
        const all = r.amplitudes[op] as number[];
        const seen = all.map((a, k) => [r.eigenrates[k] as number, a] as const).filter(([, a]) => Math.abs(a) > 1e-9 * scale);
        const want = modes.rates_per_s.map((x, k) => [x, modes.amplitudes[k] as number] as const).filter(([, a]) => Math.abs(a) > 1e-9 * scale);
        expect(seen.length).toBe(want.length);
        want.forEach(([rate, amp], k) => {
          expect(relErr((seen[k] as readonly [number, number])[0], rate)).toBeLessThan(1e-9);
          expect(Math.abs((seen[k] as readonly [number, number])[1] - amp)).toBeLessThan(1e-9 * scale);
        });
        const traj = c[`traj_${name}`] as number[];
        const got = r.trajectories[op] as number[];
        traj.forEach((want, k) => expect(Math.abs((got[k] as number) - want)).toBeLessThan(1e-9 * Math.max(...traj.map(Math.abs))));
      }
    });
  }
});
