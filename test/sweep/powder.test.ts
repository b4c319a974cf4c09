/**
 * Powder averaging as an aggregation of the sweep (`theta: { powder: n }`): Gauss-Legendre
 * nodes and weights; linear outputs (steady states, Boltzmann values, enhancements, differences,
 * trajectories) averaged with the dimension removed, rates, eigenrates, amplitudes and build-up
 * rates kept per orientation; and the build-up rate against the area under a trajectory.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluatePoint } from '../../src/evaluate/point.js';
import { readNetcdf, type NcVariable } from '../../src/io/netcdf.js';
import { parseSpecText } from '../../src/spec/load.js';
import { baseParameters, buildProblem } from '../../src/spec/resolve.js';
import { runSweep } from '../../src/sweep/executor.js';
import { powderNodes } from '../../src/sweep/powder.js';

const NU_H = (2.6752218744e8 * 6.7) / (2 * Math.PI);
const OFFSETS = [-NU_H, -NU_H / 2, NU_H];
const TIMES = [0, 1, 3, 10, 30, 100];
const N = 6;

const SPEC = `
version: 1
name: powder
spins: [{ id: e, isotope: e }, { id: h, isotope: 1H }]
parameters: { T: 1.2, B0: 6.7, off: 0, theta: 30 }
hamiltonian:
  - { type: irradiation, spins: [e], nutation_hz: 0.5e6, offset_hz: off }
  - { type: hyperfine, spins: [e, h], distance_m: 4.5e-10, theta_deg: theta, fermi_hz: 0 }
relaxation:
  - { type: t1t2, spins: [e], t1_s: 1e-3, t2_s: 1e-7 }
  - { type: t1t2, spins: [h], t1_s: 20, t2_s: 1e-4 }
thermalization: [rodin-abergel, inhomogeneous]
initial: thermal
observables: { Hz: Iz(h), Ez: Iz(e) }
time: { values: [${TIMES.join(', ')}] }
sweep:
  off: { values: [${OFFSETS.join(', ')}] }
  theta: { powder: ${N} }
outputs: [rates, eigenrates, steady_state, trajectories, enhancement, buildup]
`;

describe('powder averaging', () => {
  it('Gauss-Legendre nodes in cos(theta): weights sum to 1, moments exact up to degree 2n - 1', () => {
    for (const n of [2, 5, 16, 64]) {
      const { degrees, weights } = powderNodes(n);
      expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
      for (let m = 0; m <= 2 * n - 1; m++) {
        let s = 0;
        degrees.forEach((d, i) => (s += (weights[i] as number) * Math.cos((d * Math.PI) / 180) ** m));
        expect(Math.abs(s - (m % 2 === 0 ? 1 / (m + 1) : 0)), `n = ${n}, m = ${m}`).toBeLessThan(1e-14);
      }
      for (let i = 1; i < n; i++) expect(degrees[i] as number).toBeGreaterThan(degrees[i - 1] as number);
    }
  });

  const dir = mkdtempSync(join(tmpdir(), 'relaxmap-powder-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('averages linear outputs over the orientations and keeps rates per orientation', async () => {
    const spec = join(dir, 'powder.yaml');
    writeFileSync(spec, SPEC);
    await runSweep({ specPath: spec, outDir: join(dir, 'out'), backend: 'inline', quiet: true });
    const surf = await readNetcdf(join(dir, 'out', 'surfaces.nc'));
    const traj = await readNetcdf(join(dir, 'out', 'trajectories.nc'));
    const v = (ds: typeof surf, name: string): NcVariable => {
      const x = ds.variables.find((y) => y.name === name);
      if (!x) throw new Error(`no ${name}`);
      return x;
    };
    expect(v(surf, 'ss_Hz').dims).toEqual(['thermalization', 'off']);
    expect(v(surf, 'enh_Hz').dims).toEqual(['thermalization', 'off']);
    expect(v(surf, 'boltzmann_Hz').dims).toEqual(['thermalization', 'off']);
    expect(v(surf, 'diff_ss_Hz').dims).toEqual(['thermalization', 'off']);
    expect(v(surf, 'rate_Hz').dims).toEqual(['thermalization', 'off', 'theta']);
    expect(v(surf, 'buildup_Hz').dims).toEqual(['thermalization', 'off', 'theta']);
    expect(v(surf, 'eigenrate').dims).toEqual(['thermalization', 'off', 'theta', 'mode']);
    expect(v(surf, 'powder_weight').dims).toEqual(['theta']);
    expect(v(traj, 'traj_Hz').dims).toEqual(['thermalization', 'off', 'time']);

    const { degrees, weights } = powderNodes(N);
    const checked = parseSpecText(SPEC, 'powder');
    const problem = buildProblem(checked);
    const base = baseParameters(checked);
    const models = ['rodin-abergel', 'inhomogeneous'] as const;
    models.forEach((model, m) => {
      OFFSETS.forEach((off, k) => {
        let ss = 0;
        let boltz = 0;
        const tr = new Array<number>(TIMES.length).fill(0);
        degrees.forEach((theta, i) => {
          const r = evaluatePoint(problem, { ...base, off, theta }, model);
          const w = weights[i] as number;
          ss += w * (r.steady_state.Hz as number);
          boltz += w * (r.boltzmann.Hz as number);
          r.trajectories.Hz?.forEach((x, q) => (tr[q] = (tr[q] as number) + w * x));
          const at = (m * OFFSETS.length + k) * N + i;
          expect(Math.abs((v(surf, 'rate_Hz').data[at] as number) / (r.rates.Hz as number) - 1)).toBeLessThan(1e-12);
          expect(Math.abs((v(surf, 'buildup_Hz').data[at] as number) / (r.buildup.Hz as number) - 1)).toBeLessThan(1e-9);
        });
        const at = m * OFFSETS.length + k;
        expect(Math.abs((v(surf, 'ss_Hz').data[at] as number) - ss)).toBeLessThan(1e-12 * Math.abs(boltz));
        expect(Math.abs((v(surf, 'enh_Hz').data[at] as number) - ss / boltz)).toBeLessThan(1e-9 * Math.abs(ss / boltz));
        tr.forEach((x, q) => expect(Math.abs((v(traj, 'traj_Hz').data[at * TIMES.length + q] as number) - x)).toBeLessThan(1e-10 * Math.abs(boltz)));
      });
    });
    // the powder average of the solid effect is large and keeps its sign at -+nu_H
    expect(v(surf, 'enh_Hz').data[0] as number).toBeGreaterThan(20);
    expect(v(surf, 'enh_Hz').data[2] as number).toBeLessThan(-20);
  }, 180_000);

  it('buildup_<O> is the rate of a single exponential with the same area: (<O>(0) - <O>_ss) / integral (<O>(t) - <O>_ss)', () => {
    const checked = parseSpecText(SPEC.replace(/time: .*\n/, 'time: { log: [1e-4, 2000], points: 1601 }\n'), 'powder');
    const problem = buildProblem(checked);
    const r = evaluatePoint(problem, { ...baseParameters(checked), off: -NU_H, theta: 40 }, 'rodin-abergel');
    const t = r.trajectories.t;
    const y = (r.trajectories.Hz as number[]).map((x) => x - (r.steady_state.Hz as number));
    // trapezoid from 0 (the log grid starts at 1e-4 s; <O> is still at its initial value there)
    let area = (y[0] as number) * (t[0] as number);
    for (let k = 1; k < t.length; k++) area += 0.5 * ((y[k] as number) + (y[k - 1] as number)) * ((t[k] as number) - (t[k - 1] as number));
    const y0 = (r.boltzmann.Hz as number) - (r.steady_state.Hz as number);
    expect(Math.abs(y0 / area / (r.buildup.Hz as number) - 1)).toBeLessThan(1e-4);
    // a single slow mode dominates the proton here: the build-up rate is near 1/T1n plus the solid-effect rate
    expect(r.buildup.Hz as number).toBeGreaterThan(1 / 20);
  });
});
