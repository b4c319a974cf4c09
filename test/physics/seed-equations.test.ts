/**
 * The seed's analytic results (Rodin & Abergel, Eqs. 73-77) reproduced by the full
 * numerical machinery (spec -> operators -> eigenoperators -> real Liouville generator).
 */
import { describe, expect, it } from 'vitest';
import { hbarOverKT, populationBlock } from '../helpers/population-block.js';
import { pairYaml, pointOf, relErr } from '../helpers/problems.js';

const TWO_PI = 2 * Math.PI;
// Extreme narrowing: w0 tau ~ 2.5e-7 keeps (2 w0 tau)^2 below 1e-12.
const EN = { tau_c: 1e-16, tau_ran: 1e-16 };

describe('Eqs. 73-74: projection rates in extreme narrowing', () => {
  const b = TWO_PI * 35e3;
  const w = TWO_PI * 2.3e3 * 1e3; // a strong field so that rates are O(1) at tau = 1e-16
  for (const thermal of ['rodin-abergel', 'bengs-levitt', 'semiclassical', 'high-temperature', 'inhomogeneous'] as const) {
    it(`R1_DD = 3/2 b^2 tau_c (${thermal}, 300 K)`, () => {
      const r = pointOf(pairYaml({ mechanisms: 'dipolar', tau_c: EN.tau_c, thermalization: thermal, T: 300 }));
      // Eq. 73 with a general factor: 3/20 b^2 tau (4 f(2w) + 4 f(-2w) + f(w) + f(-w)); only
      // theta(w) + theta(-w) = 2 cosh(beta w / 2) differs from 2 (by 2e-9 at 300 K).
      const x = hbarOverKT(300) * 2.6752218744e8 * 9.4;
      const sum = thermal === 'bengs-levitt' ? 8 * Math.cosh(x) + 2 * Math.cosh(x / 2) : 10;
      expect(relErr(r.rates.Mz as number, 0.15 * b * b * EN.tau_c * sum)).toBeLessThan(1e-9);
    });
  }
  for (const kappa of [-0.7, 0, 0.4, 0.95]) {
    it(`R1_ran = 2 w_rms^2 tau and R_S = 4 w_rms^2 tau (1 - kappa), kappa = ${kappa}`, () => {
      const r = pointOf(pairYaml({ mechanisms: 'random', rms_hz: 2.3e6, tau_ran: EN.tau_ran, kappa }));
      expect(relErr(r.rates.Mz as number, 2 * w * w * EN.tau_ran)).toBeLessThan(1e-9);
      expect(relErr(r.rates.IS as number, 4 * w * w * EN.tau_ran * (1 - kappa))).toBeLessThan(1e-9);
    });
  }
  it('rodin-abergel rates do not depend on T even at 10 mK (Eq. 73: f(w) + f(-w) = 2)', () => {
    const r300 = pointOf(pairYaml({ mechanisms: 'dipolar', tau_c: EN.tau_c, T: 300 }));
    const r10m = pointOf(pairYaml({ mechanisms: 'dipolar', tau_c: EN.tau_c, T: 0.01 }));
    expect(relErr(r10m.rates.Mz as number, 1.5 * b * b * EN.tau_c)).toBeLessThan(1e-9);
    expect(relErr(r10m.rates.Mz as number, r300.rates.Mz as number)).toBeLessThan(1e-12);
  });
});

describe('Eq. 76: population block in the singlet-triplet basis', () => {
  const b = TWO_PI * 35e3;
  const wr = TWO_PI * 2.3e6;
  const R1DD = 1.5 * b * b * EN.tau_c;
  const R1ran = 2 * wr * wr * EN.tau_ran;
  for (const [thermal, T, kappa] of [
    ['rodin-abergel', 0.01, 0.3],
    ['rodin-abergel', 300, -0.5],
    ['bengs-levitt', 0.01, 0.3],
    ['bengs-levitt', 0.05, 0.8],
  ] as const) {
    it(`${thermal} at ${T} K, kappa = ${kappa}: every entry as printed`, () => {
      const B0 = 9.4;
      const yaml = pairYaml({ thermalization: thermal, T, B0, kappa, rms_hz: 2.3e6, ...EN });
      const { block, w0 } = populationBlock(yaml);
      const beta = hbarOverKT(T);
      const f =
        thermal === 'rodin-abergel'
          ? (x: number): number => 2 / (1 + Math.exp(beta * x))
          : (x: number): number => Math.exp((-beta * x) / 2);
      const k = kappa;
      // rows/columns: S0, T+1, T0, T-1; entry (i, j) = rate from j into i
      const off = [
        [0, 0.5 * (1 - k) * R1ran * f(-w0), 0.5 * (1 - k) * R1ran, 0.5 * (1 - k) * R1ran * f(w0)],
        [0.5 * (1 - k) * R1ran * f(w0), 0, 0.2 * R1DD * f(w0) + 0.5 * R1ran * (1 + k) * f(w0), 0.4 * R1DD * f(2 * w0)],
        [0.5 * (1 - k) * R1ran, 0.2 * R1DD * f(-w0) + 0.5 * R1ran * (1 + k) * f(-w0), 0, 0.2 * R1DD * f(w0) + 0.5 * R1ran * (1 + k) * f(w0)],
        [0.5 * (1 - k) * R1ran * f(-w0), 0.4 * R1DD * f(-2 * w0), 0.2 * R1DD * f(-w0) + 0.5 * R1ran * (1 + k) * f(-w0), 0],
      ];
      const expected = off.map((row, i) => row.map((v, j) => (i === j ? -off.reduce((s, r) => s + (r[j] as number), 0) : v)));
      let scale = 0;
      for (const row of expected) for (const v of row) scale = Math.max(scale, Math.abs(v));
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 4; j++) {
          const got = block[i]?.[j] as number;
          const want = expected[i]?.[j] as number;
          expect(Math.abs(got - want), `entry (${i}, ${j}): got ${got}, want ${want}`).toBeLessThan(1e-12 * scale);
        }
      }
    });
  }
});

describe('Eq. 77: magnetization from a singlet, extreme narrowing, high temperature', () => {
  // R1 = 3/2 b^2 tau_c + 2 w^2 tau_ran = 0.55 /s and R_S = 4 w^2 tau_ran = 0.1 /s (kappa = 0)
  const tau = 1e-15;
  const wr = Math.sqrt(0.1 / (4 * tau));
  const b = Math.sqrt(0.5 / (1.5 * tau));
  const yaml = pairYaml({ b_hz: b / TWO_PI, rms_hz: wr / TWO_PI, tau_c: tau, tau_ran: tau, kappa: 0, T: 300, B0: 9.4 });
  const r = pointOf(yaml);
  const R1 = 0.55;
  const RS = 0.1;
  const A1 = RS / (2 * (R1 - RS));
  const AS = (-2 * R1 + RS) / (2 * (R1 - RS));

  it('the printed amplitudes are 0.1111111 and -1.1111111', () => {
    expect(A1).toBeCloseTo(0.1111111, 7);
    expect(AS).toBeCloseTo(-1.1111111, 7);
  });
  it('projection rates are R1 = 0.55 and R_S = 0.1', () => {
    expect(relErr(r.rates.Mz as number, R1)).toBeLessThan(1e-9);
    expect(relErr(r.rates.IS as number, RS)).toBeLessThan(1e-9);
  });
  it('<Iz>(t)/<Iz>_eq = 1 + A1 exp(-R1 t) + AS exp(-RS t): rates and amplitudes to 1e-6', () => {
    const eq = r.boltzmann.Mz as number;
    const rates = r.eigenrates;
    const amps = (r.amplitudes.Mz as number[]).map((a) => a / eq);
    const iS = rates.findIndex((x) => relErr(x, RS) < 1e-6);
    const i1 = rates.findIndex((x) => relErr(x, R1) < 1e-6);
    expect(iS).toBeGreaterThanOrEqual(0);
    expect(i1).toBeGreaterThanOrEqual(0);
    expect(Math.abs((amps[i1] as number) - A1)).toBeLessThan(1e-6);
    expect(Math.abs((amps[iS] as number) - AS)).toBeLessThan(1e-6);
    // any other mode is invisible in Mz
    amps.forEach((a, k) => {
      if (k !== i1 && k !== iS) expect(Math.abs(a)).toBeLessThan(1e-6);
    });
    expect(relErr((r.steady_state.Mz as number) / eq, 1)).toBeLessThan(1e-9);
    // and the trajectory follows the biexponential
    r.trajectories.t.forEach((t, k) => {
      const want = 1 + A1 * Math.exp(-R1 * t) + AS * Math.exp(-RS * t);
      expect(Math.abs((r.trajectories.Mz?.[k] as number) / eq - want)).toBeLessThan(1e-6);
    });
  });
});
