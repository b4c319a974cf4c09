/**
 * DNP generators (coherent terms: non-normal, oscillating modes) through every batched path:
 * the float64 kernel against the one-point evaluator (steady states, build-up, rates,
 * trajectories), trajectories that reach the refined steady state, and the float32 tfjs
 * backend (cpu) within its precision contract (rates and trajectories to 1e-4 of the float64
 * kernel, or the chunk recomputed and flagged), the inhomogeneous source included.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { FLAG_RECOMPUTED_F64, type Chunk } from '../../src/engine/chunk.js';
import { createJob } from '../../src/engine/create-job.js';
import { InlineBackend } from '../../src/engine/inline-backend.js';
import { createTfjsBackend, DEFAULT_TFJS_TOLERANCE, pointError, type TfjsBackend } from '../../src/engine/tfjs/tfjs-backend.js';
import { evaluatePoint } from '../../src/evaluate/point.js';
import { pointParams } from '../../src/sweep/grid.js';

const NU_H = (2.6752218744e8 * 6.7) / (2 * Math.PI);
const OFFSETS = [-600e6, -NU_H - 1e6, -NU_H, -NU_H + 0.3e6, -150e6, -2e6, 0, 3e6, NU_H / 2, NU_H, NU_H + 1e6, 600e6];

const SPEC = (models: string, time: string): string => `
version: 1
spins: [{ id: e, isotope: e }, { id: h, isotope: 1H }]
parameters: { T: 4.2, B0: 6.7, off: 0 }
hamiltonian:
  - { type: irradiation, spins: [e], nutation_hz: 0.5e6, offset_hz: off }
  - { type: hyperfine, spins: [e, h], a_hz: 0.2e6, b_hz: 0.6e6 }
relaxation:
  - { type: t1t2, spins: [e], t1_s: 1e-4, t2_s: 1e-6 }
  - { type: t1t2, spins: [h], t1_s: 5, t2_s: 1e-4 }
thermalization: [${models}]
initial: thermal
observables: { Hz: Iz(h), Ez: Iz(e) }
time: ${time}
sweep: { off: { values: [${OFFSETS.join(', ')}] } }
outputs: [rates, eigenrates, steady_state, trajectories, enhancement, buildup]
`;

describe('DNP generators on the batched backends', () => {
  const backends: TfjsBackend[] = [];
  afterAll(async () => {
    for (const b of backends) await b.close();
  });

  it('float64 kernel = one-point evaluator; trajectories reach the refined steady state', async () => {
    const job = createJob({ text: SPEC('rodin-abergel, inhomogeneous', '{ log: [1e-6, 200], points: 16 }'), source: 'dnp', overrides: [] });
    const ref = new InlineBackend(job);
    for (let v = 0; v < job.grid.variants.length; v++) {
      const out = await ref.evaluate({ id: v, variant: v, start: 0, count: OFFSETS.length });
      const thermal = job.grid.variants[v]?.thermal ?? 'rodin-abergel';
      for (let i = 0; i < OFFSETS.length; i++) {
        const p = evaluatePoint(job.problems[0] ?? (undefined as never), pointParams(job.grid, i), thermal);
        ['Hz', 'Ez'].forEach((o, k) => {
          const scale = Math.abs(p.boltzmann[o] as number);
          expect(Math.abs((out.steady[i * 2 + k] as number) - (p.steady_state[o] as number))).toBeLessThan(1e-13 * scale);
          expect(Math.abs((out.buildup[i * 2 + k] as number) / (p.buildup[o] as number) - 1)).toBeLessThan(1e-9);
          expect(Math.abs((out.rates[i * 2 + k] as number) / (p.rates[o] as number) - 1)).toBeLessThan(1e-12);
          const traj = p.trajectories[o] as number[];
          traj.forEach((x, q) => expect(Math.abs((out.trajectories[(i * 2 + k) * 16 + q] as number) - x)).toBeLessThan(1e-9 * Math.max(scale, Math.abs(x))));
          // 200 s = 40 T1n: the trajectory has reached the steady state of the refined solve
          expect(Math.abs((traj[15] as number) - (p.steady_state[o] as number))).toBeLessThan(1e-8 * Math.max(scale, Math.abs(p.steady_state[o] as number)));
        });
      }
      // the coherent terms make modes oscillate (flag 16) wherever the electron is driven
      expect(Array.from(out.flags).some((f) => (f & 16) !== 0)).toBe(true);
    }
  });

  it('tfjs-cpu agrees with the float64 kernel within the precision contract (uniform and log grids, inhomogeneous included)', async () => {
    for (const time of ['{ stop: 20, points: 41 }', '{ log: [1e-6, 20], points: 12 }']) {
      const job = createJob({ text: SPEC('rodin-abergel, inhomogeneous', time), source: 'dnp', overrides: [] });
      const tb = await createTfjsBackend(job, { prefer: 'cpu' });
      backends.push(tb);
      const ref = new InlineBackend(job);
      for (let v = 0; v < job.grid.variants.length; v++) {
        const chunk: Chunk = { id: v, variant: v, start: 0, count: OFFSETS.length };
        const a = await tb.evaluate(chunk);
        const b = await ref.evaluate(chunk);
        for (let i = 0; i < OFFSETS.length; i++) {
          const e = pointError(a, i, b, i);
          const recomputed = ((a.flags[i] as number) & FLAG_RECOMPUTED_F64) !== 0;
          expect(recomputed || (e.rate <= DEFAULT_TFJS_TOLERANCE && e.trajectory <= DEFAULT_TFJS_TOLERANCE), `${time} variant ${v} point ${i}: ${e.rate} ${e.trajectory}`).toBe(true);
        }
        // steady states, build-up and Boltzmann values come from the float64 side kernel
        for (const key of ['steady', 'boltzmann', 'buildup'] as const) {
          for (let k = 0; k < a[key].length; k++) expect(Object.is(a[key][k], b[key][k]), key).toBe(true);
        }
      }
    }
  }, 180_000);
});
