/**
 * The solid effect: electron + 1H with a static hyperfine coupling (secular A, pseudo-secular
 * B), phenomenological T1/T2 relaxation, microwaves in the electron's rotating frame.
 *  - sign convention: H = 2 pi (-offset Sz + nutation Sx) for the electron (offset = nu_irr - nu_e),
 *    +offset for a species with gamma > 0; irradiating at nu_e - nu_H (offset -nu_H) drives the
 *    double-quantum transition and gives a positive enhancement;
 *  - the enhancement profile (batched engine) has its extrema at offset = -+nu_H with opposite signs;
 *  - steady states equal an independent float64 Liouville-space solve (test/helpers/
 *    liouville-reference.ts) to 1e-9 and QuTiP's steadystate (Debian python3-qutip, live) to
 *    1e-7, both on the scale of the Boltzmann polarisation (QuTiP's own error at the wings is
 *    ~3e-8 there: it works with populations, whose differences carry the nuclear polarisation);
 *  - the point-dipole hyperfine model is the secular part of the dipolar Hamiltonian.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chunkViews } from '../../src/engine/chunk.js';
import { createJob } from '../../src/engine/create-job.js';
import { chunkShape, kernelFor, type Job } from '../../src/engine/job.js';
import { evaluatePoint } from '../../src/evaluate/point.js';
import { buildGeneratorModel } from '../../src/physics/generator-model.js';
import { hyperfineAB, pointDipoleHz } from '../../src/physics/coherent-terms.js';
import { parseSpecText } from '../../src/spec/load.js';
import { baseParameters, buildProblem, systemDescription } from '../../src/spec/resolve.js';
import { ROOT } from '../helpers/cli.js';
import * as R from '../helpers/liouville-reference.js';

const B0 = 6.7;
const NU_H = (R.GAMMA_H * B0) / (2 * Math.PI);
const P = { T: 1.2, nutation: 1e6, A: 0.5e6, B: 1e6, t1e: 1e-3, t2e: 1e-6, t1n: 10, t2n: 1e-3 };

function seSpec(sweep: string, thermalization = 'rodin-abergel'): string {
  return `
version: 1
spins: [{ id: e, isotope: e }, { id: h, isotope: 1H }]
parameters: { T: ${P.T}, B0: ${B0}, off: 0 }
hamiltonian:
  - { type: irradiation, spins: [e], nutation_hz: ${P.nutation}, offset_hz: off }
  - { type: hyperfine, spins: [e, h], a_hz: ${P.A}, b_hz: ${P.B} }
relaxation:
  - { type: t1t2, spins: [e], t1_s: ${P.t1e}, t2_s: ${P.t2e} }
  - { type: t1t2, spins: [h], t1_s: ${P.t1n}, t2_s: ${P.t2n} }
thermalization: ${thermalization}
observables: { Ez: Iz(e), Hz: Iz(h) }
${sweep}
outputs: [rates, steady_state, enhancement]
`;
}

/** Steady states over the job's grid from the batched float64 kernel. */
function batched(job: Job, variant = 0): { hz: Float64Array; ez: Float64Array; boltzHz: Float64Array } {
  const n = job.grid.pointsPerVariant;
  const out = chunkViews(chunkShape(job, n));
  kernelFor(job, variant).run(0, n, out);
  const hz = new Float64Array(n);
  const ez = new Float64Array(n);
  const boltzHz = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    ez[i] = out.steady[i * 2] as number;
    hz[i] = out.steady[i * 2 + 1] as number;
    boltzHz[i] = out.boltzmann[i * 2 + 1] as number;
  }
  return { hz, ez, boltzHz };
}

/** The same model, independently (rodin-abergel t1t2 = Lindblad with detailed balance). */
function reference(offset: number): { ez: number; hz: number } {
  const wS = -R.GAMMA_E * B0;
  const wI = -R.GAMMA_H * B0;
  const terms = [
    ...R.hamiltonianTerms([
      [-2 * Math.PI * offset, R.S.z],
      [2 * Math.PI * P.nutation, R.S.x],
      [wI, R.I.z],
      [2 * Math.PI * P.A, R.S.z.mul(R.I.z)],
      [2 * Math.PI * P.B, R.S.z.mul(R.I.x)],
    ]),
    ...R.t1t2Lindblad(R.S, P.t1e, P.t2e, wS, P.T),
    ...R.t1t2Lindblad(R.I, P.t1n, P.t2n, wI, P.T),
  ];
  const { rho } = R.steadyState(terms);
  return { ez: R.expect(rho, R.S.z), hz: R.expect(rho, R.I.z) };
}

const OFFSETS = [-1e9, -400e6, -NU_H, -200e6, -NU_H / 2, -50e6, 0, 50e6, NU_H / 2, NU_H, 400e6, 1e9];

describe('solid effect: e + 1H, static hyperfine, t1t2 relaxation, 1.2 K, 6.7 T', () => {
  const job = createJob({ text: seSpec(`sweep: { off: { values: [${OFFSETS.join(', ')}] } }`), source: 'se', overrides: [] });
  const se = batched(job);

  it('sign convention: H = 2 pi (-offset Sz + nutation Sx) for the electron, +offset Sz for gamma > 0', () => {
    const checked = parseSpecText(seSpec(''), 'se');
    const model = buildGeneratorModel(systemDescription(checked));
    const offset = model.coherent.find((c) => c.label.startsWith('irradiation: offset'));
    const nutation = model.coherent.find((c) => c.label.startsWith('irradiation: nutation'));
    expect(offset?.coefficient.at({ off: 1e6, B0, T: 1 })).toBeCloseTo(-2 * Math.PI * 1e6, 6);
    expect(nutation?.coefficient.at({})).toBeCloseTo(2 * Math.PI * P.nutation, 6);
    // the operators are Sz and Sx of the electron (Tr(Sz O) = 1 for Sz = diag(1,1,-1,-1)/2)
    const sz = model.system.op(0, 'z');
    const sx = model.system.op(0, 'x');
    const maxDiff = (a: Float64Array | undefined, b: Float64Array): number => Math.max(...Array.from(b, (v, i) => Math.abs(v - ((a?.[i] as number) ?? NaN))));
    expect(maxDiff(offset?.operator.re, sz.re)).toBe(0);
    expect(maxDiff(nutation?.operator.re, sx.re)).toBe(0);
    expect(maxDiff(offset?.operator.im, sz.im) + maxDiff(nutation?.operator.im, sx.im)).toBe(0);
    // a proton irradiated: its precession sense is the opposite one
    const h = parseSpecText(
      `
version: 1
spins: [{ id: h, isotope: 1H }]
parameters: { T: 300, B0: 9.4 }
hamiltonian: [{ type: irradiation, spins: [h], nutation_hz: 1000, offset_hz: 500 }]
relaxation: [{ type: t1t2, spins: [h], t1_s: 1, t2_s: 0.1 }]
thermalization: rodin-abergel
observables: { Hx: Ix(h) }
`,
      'h',
    );
    const hm = buildGeneratorModel(systemDescription(h));
    expect(hm.coherent.find((c) => c.label.startsWith('irradiation: offset'))?.coefficient.at({})).toBeCloseTo(2 * Math.PI * 500, 6);
  });

  it('irradiation at nu_e - nu_H (offset -nu_H) enhances positively, at nu_e + nu_H negatively', () => {
    const k = OFFSETS.indexOf(-NU_H);
    const l = OFFSETS.indexOf(NU_H);
    const enhMinus = (se.hz[k] as number) / (se.boltzHz[k] as number);
    const enhPlus = (se.hz[l] as number) / (se.boltzHz[l] as number);
    expect(enhMinus).toBeGreaterThan(100);
    expect(enhPlus).toBeLessThan(-100);
    // bounded by the electron polarisation: |<Iz>| <= 1/2
    expect(Math.abs(se.hz[k] as number)).toBeLessThanOrEqual(0.5);
  });

  it('extrema of the profile at offset = -nu_H (maximum) and +nu_H (minimum), within 1 kHz of 285 MHz', () => {
    // a coarse profile over +-500 MHz: the global extrema lie next to -+nu_H
    const coarse = createJob({ text: seSpec('sweep: { off: { lin: [-500e6, 500e6], points: 201 } }'), source: 'se', overrides: [] });
    const c = batched(coarse);
    const off = coarse.grid.dims[0]?.values[0] as Float64Array;
    const enh = c.hz.map((v, i) => v / (c.boltzHz[i] as number));
    const imax = enh.indexOf(Math.max(...enh));
    const imin = enh.indexOf(Math.min(...enh));
    expect(Math.abs((off[imax] as number) + NU_H)).toBeLessThan(5e6);
    expect(Math.abs((off[imin] as number) - NU_H)).toBeLessThan(5e6);
    // fine windows around each: parabola through the three best points
    for (const sign of [-1, 1]) {
      const fine = createJob({ text: seSpec(`sweep: { off: { lin: [${sign * NU_H - 20e3}, ${sign * NU_H + 20e3}], points: 41 } }`), source: 'se', overrides: [] });
      const f = batched(fine);
      const x = fine.grid.dims[0]?.values[0] as Float64Array;
      const y = f.hz.map((v, i) => (-sign * v) / (f.boltzHz[i] as number));
      const j = y.indexOf(Math.max(...y));
      expect(j).toBeGreaterThan(0);
      expect(j).toBeLessThan(40);
      const [a, b, cc] = [y[j - 1] as number, y[j] as number, y[j + 1] as number];
      const h = (x[1] as number) - (x[0] as number);
      const peak = (x[j] as number) + (0.5 * h * (a - cc)) / (a - 2 * b + cc);
      expect(Math.abs(peak - sign * NU_H)).toBeLessThan(1e3);
      expect(Math.sign(f.hz[j] as number)).toBe(-sign);
    }
  });

  it('steady states equal an independent refined float64 Liouville-space solve to 1e-9', () => {
    OFFSETS.forEach((off, i) => {
      const ref = reference(off);
      const scaleH = Math.abs(se.boltzHz[i] as number);
      expect(Math.abs((se.hz[i] as number) - ref.hz), `Hz at ${off}`).toBeLessThan(1e-9 * scaleH);
      expect(Math.abs((se.ez[i] as number) - ref.ez), `Ez at ${off}`).toBeLessThan(1e-9 * 0.5);
    });
    // the one-point evaluator agrees with the batched kernel
    const checked = parseSpecText(seSpec(''), 'se');
    const res = evaluatePoint(buildProblem(checked), { ...baseParameters(checked), off: NU_H }, 'rodin-abergel');
    const k = OFFSETS.indexOf(NU_H);
    expect(Math.abs((res.steady_state.Hz as number) - (se.hz[k] as number))).toBeLessThan(1e-13);
  });

  it("steady states equal QuTiP's steadystate of the same model to 1e-7", () => {
    const cases = OFFSETS.map((offset) => ({ T: P.T, B0, offset, nutation: P.nutation, A: P.A, B: P.B, t1e: P.t1e, t2e: P.t2e, t1n: P.t1n, t2n: P.t2n }));
    const script = join(ROOT, 'test', 'fixtures', 'qutip', 'dnp_solid_effect.py');
    const q = JSON.parse(execFileSync('/usr/bin/python3', [script], { input: JSON.stringify(cases), env: { ...process.env, OMP_NUM_THREADS: '1' } }).toString()) as Array<{ Sz: number; Iz: number }>;
    OFFSETS.forEach((off, i) => {
      const scaleH = Math.abs(se.boltzHz[i] as number);
      expect(Math.abs((se.hz[i] as number) - (q[i]?.Iz as number)), `Iz at ${off}`).toBeLessThan(1e-7 * scaleH);
      expect(Math.abs((se.ez[i] as number) - (q[i]?.Sz as number)), `Sz at ${off}`).toBeLessThan(1e-7 * 0.5);
    });
  }, 120_000);

  it('point-dipole hyperfine: A and B are the secular parts of b [S.I - 3 (S.r)(I.r)], d > 0 for e-1H', () => {
    const r = 5e-10;
    const d = pointDipoleHz(R.GAMMA_E, R.GAMMA_H, r);
    expect(d).toBeGreaterThan(0);
    // b (rad/s) and the secular projection of the Cartesian dipolar Hamiltonian: with r along
    // (sin th, 0, cos th), the Sz terms are b Sz [(1 - 3 cos^2) Iz - 3 sin cos Ix]
    const b = (1e-7 * R.GAMMA_E * R.GAMMA_H * 1.054571817e-34) / r ** 3;
    for (const th of [0, 20, 54.7356, 90, 130]) {
      const c = Math.cos((th * Math.PI) / 180);
      const s = Math.sin((th * Math.PI) / 180);
      const ab = hyperfineAB(
        { type: 'hyperfine', electron: 0, nucleus: 1, strength: { kind: 'point-dipole', distance: { kind: 'const', value: r }, thetaDeg: { kind: 'const', value: th }, fermiHz: { kind: 'const', value: 1.5e6 } } },
        R.GAMMA_E,
        R.GAMMA_H,
      );
      const aHz = ab.a.at({});
      const bHz = ab.b.at({});
      expect(Math.abs(2 * Math.PI * (aHz - 1.5e6) - b * (1 - 3 * c * c))).toBeLessThan(1e-12 * Math.abs(b));
      expect(Math.abs(2 * Math.PI * bHz - -3 * b * s * c)).toBeLessThan(1e-12 * Math.abs(b));
    }
  });
});
