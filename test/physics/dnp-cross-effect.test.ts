/**
 * Electron-electron couplings (cross effect): two electrons with different g (shifts), J and a
 * secular dipolar coupling, a proton with a hyperfine coupling to the first electron.
 *  - the rotating-frame Hamiltonian the engine builds equals one written out here:
 *    offsets (w_i - w_ref) - 2 pi D of both electrons, 2 pi N (S1x + S2x) on the listed spins,
 *    2 pi J S1.S2 (a coherent term: not part of H0), 2 pi d (3 S1z S2z - S1.S2), the proton's
 *    lab Zeeman term and 2 pi (A S1z Iz + B S1z Ix);
 *  - steady states stay physical under the Lindblad model, and the proton is polarised most
 *    when the electron frequency difference matches nu_H (the cross-effect condition).
 */
import { describe, expect, it } from 'vitest';
import { chunkViews } from '../../src/engine/chunk.js';
import { createJob } from '../../src/engine/create-job.js';
import { chunkShape, kernelFor } from '../../src/engine/job.js';
import { CMatrix, axpy, maxAbs, mul, scale, sub } from '../../src/math/cmatrix.js';
import { buildGeneratorModel } from '../../src/physics/generator-model.js';
import { scalarProduct } from '../../src/physics/hamiltonian.js';
import { parseSpecText } from '../../src/spec/load.js';
import { systemDescription } from '../../src/spec/resolve.js';

const GE = -1.76085963023e11;
const GH = 2.6752218744e8;
const B0 = 6.7;
const NU_E = (-GE * B0) / (2 * Math.PI);
const NU_H = (GH * B0) / (2 * Math.PI);
const MATCH_PPM = (NU_H / NU_E) * 1e6;

const spec = (sweep = ''): string => `
version: 1
spins: [{ id: e1, isotope: e }, { id: e2, isotope: e }, { id: h, isotope: 1H }]
parameters: { T: 1.2, B0: ${B0}, off: 0, dg: ${MATCH_PPM} }
hamiltonian:
  - { type: shift, spin: e2, ppm: dg }
  - { type: irradiation, spins: [e1], nutation_hz: 0.3e6, offset_hz: off }
  - { type: J, spins: [e1, e2], hz: 3e6 }
  - { type: dipolar_coupling, spins: [e1, e2], d_hz: 4e6 }
  - { type: hyperfine, spins: [e1, h], a_hz: 0.4e6, b_hz: 0.6e6 }
relaxation:
  - { type: t1t2, spins: [e1, e2], t1_s: 1e-3, t2_s: 2e-7 }
  - { type: t1t2, spins: [h], t1_s: 30, t2_s: 1e-4 }
thermalization: rodin-abergel
observables:
  Hz: Iz(h)
  E1: Iz(e1)
  E2: Iz(e2)
${sweep}
outputs: [rates, steady_state, enhancement]
`;

describe('cross effect: electron-electron J and dipolar couplings in the rotating frame', () => {
  it('the coherent Hamiltonian equals the one written out, and e-e J is not part of H0', () => {
    const model = buildGeneratorModel(systemDescription(parseSpecText(spec(), 'ce')));
    const sys = model.system;
    const p = { T: 1.2, B0, off: 1.7e6, dg: MATCH_PPM };
    const h = new CMatrix(sys.dim, sys.dim);
    for (const c of model.coherent) axpy(h, c.coefficient.at(p), c.operator);
    const twoPi = 2 * Math.PI;
    const [s1z, s2z, s1x, iz, ix] = [sys.op(0, 'z'), sys.op(1, 'z'), sys.op(0, 'x'), sys.op(2, 'z'), sys.op(2, 'x')];
    const expected = new CMatrix(sys.dim, sys.dim);
    axpy(expected, -twoPi * 1.7e6, s1z);
    axpy(expected, -GE * B0 * 1e-6 * MATCH_PPM - twoPi * 1.7e6, s2z); // w_2 - w_1 - 2 pi D
    axpy(expected, twoPi * 0.3e6, s1x); // only the listed spin is driven
    axpy(expected, twoPi * 3e6, scalarProduct(sys, 0, 1));
    axpy(expected, twoPi * 4e6, sub(scale(mul(s1z, s2z), 3), scalarProduct(sys, 0, 1)));
    axpy(expected, -GH * B0, iz);
    axpy(expected, twoPi * 0.4e6, mul(s1z, iz));
    axpy(expected, twoPi * 0.6e6, mul(s1z, ix));
    // rad/s, against entries of 1.8e9 (the proton Zeeman) and 4e9 (the electron shift difference)
    expect(maxAbs(sub(h, expected))).toBeLessThan(1e-5);
    expect(model.h0Parts.some((x) => x.label.startsWith('J('))).toBe(false);
  });

  it('steady states stay physical, and the proton polarisation peaks at the cross-effect condition', () => {
    const ppm = [0.6, 0.9, 1, 1.1, 1.4].map((f) => f * MATCH_PPM);
    const job = createJob({ text: spec(`sweep: { dg: { values: [${ppm.join(', ')}] } }`), source: 'ce', overrides: [] });
    const n = job.grid.pointsPerVariant;
    const out = chunkViews(chunkShape(job, n));
    kernelFor(job, 0).run(0, n, out);
    const enh: number[] = [];
    for (let i = 0; i < n; i++) {
      for (let o = 0; o < 3; o++) expect(Math.abs(out.steady[i * 3 + o] as number)).toBeLessThanOrEqual(0.5);
      expect(((out.flags[i] as number) & 32) === 0).toBe(true);
      enh.push((out.steady[i * 3] as number) / (out.boltzmann[i * 3] as number));
    }
    const best = enh.map(Math.abs).indexOf(Math.max(...enh.map(Math.abs)));
    expect(best).toBe(2); // |nu_e1 - nu_e2| = nu_H
    expect(Math.abs(enh[2] as number)).toBeGreaterThan(5 * Math.abs(enh[0] as number));
  });
});
