/**
 * Phenomenological T1/T2 relaxation with thermalization (t1t2): normalised so that every
 * thermalization model gives exactly 1/T1 and 1/T2 at the point's temperature; the model only
 * decides where the spin relaxes to (Boltzmann for the Lindblad and inhomogeneous models, E/d
 * for the semiclassical one). Through the batched engine, including trajectories.
 */
import { describe, expect, it } from 'vitest';
import { chunkViews } from '../../src/engine/chunk.js';
import { createJob } from '../../src/engine/create-job.js';
import { chunkShape, kernelFor, type Job } from '../../src/engine/job.js';
import { THERMAL_MODELS } from '../../src/physics/thermalization.js';

const T1 = 2e-3;
const HBAR = 1.054571817e-34;
const KB = 1.380649e-23;
/** The high-temperature model's fixed point: <Iz> = -beta w / 4 (linear in beta w, unbounded). */
const linearPolarisation = (gamma: number, T: number): number => (-(HBAR / (KB * T)) * (-gamma * 6.7)) / 4;
const GAMMA = [-1.76085963023e11, 0, 2.6752218744e8];
const T2 = 3e-6;
const TEMPS = [0.3, 1.2, 4.2, 300];

function job(initial: string, time = ''): Job {
  return createJob({
    text: `
version: 1
spins: [{ id: e, isotope: e }, { id: h, isotope: 1H }]
parameters: { T: 1.2, B0: 6.7 }
relaxation:
  - { type: t1t2, spins: [e], t1_s: ${T1}, t2_s: ${T2} }
  - { type: t1t2, spins: [h], t1_s: 30, t2_s: 1e-3 }
thermalization: [${THERMAL_MODELS.join(', ')}]
initial: ${initial}
observables: { Ez: Iz(e), Ex: Ix(e), Hz: Iz(h), Hx: Ix(h) }
${time}
sweep: { T: { values: [${TEMPS.join(', ')}] } }
outputs: [rates, steady_state${time ? ', trajectories' : ''}]
`,
    source: 't1t2',
    overrides: [],
  });
}

function run(j: Job, v: number): ReturnType<typeof chunkViews> {
  const n = j.grid.pointsPerVariant;
  const out = chunkViews(chunkShape(j, n));
  kernelFor(j, v).run(0, n, out);
  return out;
}

describe('t1t2 relaxation', () => {
  const j = job('thermal');
  const results = new Map(j.grid.variants.map((v, k) => [v.thermal, run(j, k)]));

  it('every model gives exactly 1/T1 and 1/T2 at every temperature (1e-12)', () => {
    for (const [model, r] of results) {
      TEMPS.forEach((T, i) => {
        expect(Math.abs((r.rates[4 * i] as number) * T1 - 1), `${model} ${T} K R1e`).toBeLessThan(1e-12);
        expect(Math.abs((r.rates[4 * i + 1] as number) * T2 - 1), `${model} ${T} K R2e`).toBeLessThan(1e-12);
        expect(Math.abs((r.rates[4 * i + 2] as number) * 30 - 1), `${model} ${T} K R1n`).toBeLessThan(1e-12);
        expect(Math.abs((r.rates[4 * i + 3] as number) * 1e-3 - 1), `${model} ${T} K R2n`).toBeLessThan(1e-12);
      });
    }
  });

  it('the model decides the fixed point: Boltzmann, except E/d for semiclassical', () => {
    for (const [model, r] of results) {
      for (let i = 0; i < TEMPS.length; i++) {
        for (const o of [0, 2]) {
          const ss = r.steady[4 * i + o] as number;
          const b = r.boltzmann[4 * i + o] as number;
          if (model === 'semiclassical') expect(Math.abs(ss)).toBeLessThan(1e-15);
          // (far outside its validity at 0.3 K, <Sz> = -7.5: the eigenvector steady state loses 2e-8 there)
          else if (model === 'high-temperature') expect(Math.abs(ss / linearPolarisation(GAMMA[o] as number, TEMPS[i] as number) - 1)).toBeLessThan(1e-7);
          // (steady states of these detailed-balance generators come from their eigen-decomposition: 1e-10 at 0.3 K)
          else expect(Math.abs(ss / b - 1), `${model} ${TEMPS[i]} K`).toBeLessThan(1e-9);
        }
      }
    }
    // the two Lindblad models coincide bit for bit
    const ra = results.get('rodin-abergel');
    const bl = results.get('bengs-levitt');
    expect(ra && bl && ra.rates.every((v, k) => Object.is(v, bl.rates[k]))).toBe(true);
    expect(ra && bl && ra.steady.every((v, k) => Object.is(v, bl.steady[k]))).toBe(true);
  });

  it('trajectories: <Sz>(t) = S0 (1 - exp(-t/T1)) from saturation, <Sx>(t) = <Sx>(0) exp(-t/T2)', () => {
    const t = job('[saturated, { deviation: 0.2*Ix(e) }]', `time: { values: [0, 1e-6, 3e-6, 1e-5, 1e-4, 1e-3, 5e-3] }`);
    const times = [0, 1e-6, 3e-6, 1e-5, 1e-4, 1e-3, 5e-3];
    t.grid.variants.forEach((v, k) => {
      if (v.thermal === 'semiclassical') return;
      const r = run(t, k);
      const nT = times.length;
      for (let i = 0; i < TEMPS.length; i++) {
        const s0 = v.thermal === 'high-temperature' ? linearPolarisation(GAMMA[0] as number, TEMPS[i] as number) : (r.boltzmann[4 * i] as number);
        times.forEach((tt, q) => {
          const traj = r.trajectories[(4 * i + (v.initial === 0 ? 0 : 1)) * nT + q] as number;
          const expected = v.initial === 0 ? s0 * (1 - Math.exp(-tt / T1)) : 0.2 * Math.exp(-tt / T2); // Tr((Sx (x) E)^2) = 1
          const scale = v.initial === 0 ? Math.abs(s0) : 0.2;
          expect(Math.abs(traj - expected), `${v.thermal} ${TEMPS[i]} K t = ${tt}`).toBeLessThan(1e-10 * scale);
        });
      }
    });
  });
});
