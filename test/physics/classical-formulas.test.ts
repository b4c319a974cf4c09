/**
 * Textbook relaxation formulas (semiclassical limit) from the general machinery:
 * Solomon's heteronuclear dipolar rates, CSA R1/R2, random-field R1/R2, Lipari-Szabo
 * linearity and the distance form of the dipolar constant.
 */
import { describe, expect, it } from 'vitest';
import { HBAR } from '../../src/physics/constants.js';
import { ISOTOPES } from '../../src/spin/isotopes.js';
import { generatorOf, pointOf, relErr } from '../helpers/problems.js';

const jc = (w: number, tau: number): number => tau / (1 + w * w * tau * tau); // classic normalisation
const gH = ISOTOPES['1H']!.gamma;
const gC = ISOTOPES['13C']!.gamma;

function crossRate(yaml: string, from: string, to: string): number {
  const { g, n, problem } = generatorOf(yaml);
  const a = problem.observables.find((o) => o.name === from)!.traceless;
  const b = problem.observables.find((o) => o.name === to)!.traceless;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    den += (b[i] as number) ** 2;
    for (let j = 0; j < n; j++) num += (b[i] as number) * (g[i * n + j] as number) * (a[j] as number);
  }
  return -num / den;
}

describe('Solomon: heteronuclear 1H-13C dipolar relaxation', () => {
  const r = 1.09e-10;
  const tau = 1e-10;
  const B0 = 9.4;
  const yaml = `
version: 1
spins: [{ id: h, isotope: 1H }, { id: c, isotope: 13C }]
parameters: { T: 300, B0: ${B0} }
relaxation: [{ type: dipolar, spins: [h, c], distance_m: ${r}, tau_c: ${tau} }]
thermalization: semiclassical
observables: { Hz: Iz(h), Cz: Iz(c) }
`;
  const b = (1e-7 * gH * gC * HBAR) / r ** 3;
  const wH = -gH * B0;
  const wC = -gC * B0;
  it('R1(1H) = b^2/10 [J(wH - wC) + 3 J(wH) + 6 J(wH + wC)]', () => {
    const want = (b * b / 10) * (jc(wH - wC, tau) + 3 * jc(wH, tau) + 6 * jc(wH + wC, tau));
    expect(relErr(pointOf(yaml).rates.Hz as number, want)).toBeLessThan(1e-12);
  });
  it('R1(13C) = b^2/10 [J(wH - wC) + 3 J(wC) + 6 J(wH + wC)]', () => {
    const want = (b * b / 10) * (jc(wH - wC, tau) + 3 * jc(wC, tau) + 6 * jc(wH + wC, tau));
    expect(relErr(pointOf(yaml).rates.Cz as number, want)).toBeLessThan(1e-12);
  });
  it('cross-relaxation sigma = b^2/10 [6 J(wH + wC) - J(wH - wC)]', () => {
    const want = (b * b / 10) * (6 * jc(wH + wC, tau) - jc(wH - wC, tau));
    expect(relErr(crossRate(yaml, 'Hz', 'Cz'), want)).toBeLessThan(1e-12);
  });
});

describe('CSA', () => {
  for (const eta of [0, 0.6]) {
    const delta = 120;
    const tau = 3e-9;
    const B0 = 14.1;
    const yaml = `
version: 1
spins: [{ id: c, isotope: 13C }]
parameters: { T: 300, B0: ${B0} }
relaxation: [{ type: csa, spin: c, delta_ppm: ${delta}, eta: ${eta}, tau_c: ${tau} }]
thermalization: semiclassical
observables: { Cz: Iz(c), Cx: Ix(c) }
`;
    const w0 = gC * B0;
    const k = (w0 * delta * 1e-6) ** 2 * (1 + (eta * eta) / 3);
    it(`R1 = 3/10 (w0 delta)^2 (1 + eta^2/3) J(w0), eta = ${eta}`, () => {
      expect(relErr(pointOf(yaml).rates.Cz as number, 0.3 * k * jc(w0, tau))).toBeLessThan(1e-12);
    });
    it(`R2 = 1/20 (w0 delta)^2 (1 + eta^2/3) [4 J(0) + 3 J(w0)], eta = ${eta}`, () => {
      expect(relErr(pointOf(yaml).rates.Cx as number, (k / 20) * (4 * jc(0, tau) + 3 * jc(w0, tau)))).toBeLessThan(1e-12);
    });
  }
  it('extreme narrowing: R1 = (3/10) (w0 delta)^2 tau_c (interface.md)', () => {
    const tau = 1e-16;
    const yaml = `
version: 1
spins: [{ id: c, isotope: 13C }]
parameters: { T: 300, B0: 9.4 }
relaxation: [{ type: csa, spin: c, delta_ppm: 100, tau_c: ${tau} }]
thermalization: rodin-abergel
observables: { Cz: Iz(c) }
`;
    expect(relErr(pointOf(yaml).rates.Cz as number, 0.3 * (gC * 9.4 * 100e-6) ** 2 * tau)).toBeLessThan(1e-9);
  });
});

describe('random field on one spin', () => {
  const tau = 5e-10;
  const rms = 3000;
  const B0 = 1.2;
  const yaml = `
version: 1
spins: [{ id: h, isotope: 1H }]
parameters: { T: 300, B0: ${B0} }
relaxation: [{ type: random_field, spins: [h], rms_hz: ${rms}, tau_c: ${tau} }]
thermalization: semiclassical
observables: { Hz: Iz(h), Hx: Ix(h) }
`;
  const w = 2 * Math.PI * rms;
  const w0 = gH * B0;
  it('R1 = w_rms^2 J(w0) (Eq. 73 without extreme narrowing)', () => {
    expect(relErr(pointOf(yaml).rates.Hz as number, w * w * 2 * jc(w0, tau))).toBeLessThan(1e-12);
  });
  it('R2 = w_rms^2 J(0) / 2 + R1 / 2', () => {
    expect(relErr(pointOf(yaml).rates.Hx as number, (w * w * 2 * jc(0, tau)) / 2 + (w * w * 2 * jc(w0, tau)) / 2)).toBeLessThan(1e-12);
  });
});

describe('Lipari-Szabo and the dipolar constant', () => {
  const spec = (sd: string, coupling = 'b_hz: 35000'): string => `
version: 1
spins: [{ id: a, isotope: 1H }, { id: b, isotope: 1H }]
parameters: { T: 300, B0: 9.4 }
relaxation: [{ type: dipolar, spins: [a, b], ${coupling}, tau_c: 2e-9${sd} }]
thermalization: rodin-abergel
observables: { Mz: Iz(a) + Iz(b) }
`;
  it('rates are S2 R(tau_c) + (1 - S2) R(tau_c tau_e / (tau_c + tau_e))', () => {
    const tauE = 5e-11;
    const ls = pointOf(spec(', spectral_density: { model: lipari-szabo, S2: 0.8, tau_e: 5e-11 }')).rates.Mz as number;
    const slow = pointOf(spec('')).rates.Mz as number;
    const fast = pointOf(spec('').replace('tau_c: 2e-9', `tau_c: ${(2e-9 * tauE) / (2e-9 + tauE)}`)).rates.Mz as number;
    expect(relErr(ls, 0.8 * slow + 0.2 * fast)).toBeLessThan(1e-12);
  });
  it('distance_m gives b = (mu0/4pi) gamma^2 hbar / r^3', () => {
    const r = 1.6e-10;
    const bHz = (1e-7 * gH * gH * HBAR) / r ** 3 / (2 * Math.PI);
    const a = pointOf(spec('', `distance_m: ${r}`)).rates.Mz as number;
    const b = pointOf(spec('', `b_hz: ${bHz}`)).rates.Mz as number;
    expect(relErr(a, b)).toBeLessThan(1e-12);
  });
});
