/**
 * The float32 tfjs backend on its cpu and wasm backends (both always present): the same
 * results as the float64 kernel within float32 tolerances, the QuTiP peer vectors, the
 * precision contract (sampled float64 checks, whole-chunk recomputation), non-finite
 * handling and tensor bookkeeping. Loading and fallbacks: tfjs-load.test.ts.
 *
 * Tolerances: float32 errors measured on these grids (every thermalization model, the whole
 * 65,536-point bench grid) are at most 1.7e-6 for rates and 3.2e-6 for trajectories
 * relative to max|<O>(t)| of their point; the assertions use 1e-5.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FLAG_NONFINITE, FLAG_RECOMPUTED_F64, type Chunk, type ChunkResult } from '../../src/engine/chunk.js';
import { createJob } from '../../src/engine/create-job.js';
import { InlineBackend } from '../../src/engine/inline-backend.js';
import type { Job } from '../../src/engine/job.js';
import { createTfjsBackend, DEFAULT_TFJS_TOLERANCE, MIN_SAMPLES, pointError, sampleIndices, type TfjsBackend } from '../../src/engine/tfjs/tfjs-backend.js';
import { ROOT } from '../helpers/cli.js';
import { qutipCases, qutipCaseYaml } from '../helpers/qutip.js';
import { relErr } from '../helpers/problems.js';
import { TFJS_TEST_BACKENDS } from '../helpers/tfjs-backends.js';

const RATE_TOL = 1e-5;
const TRAJ_TOL = 1e-5;

function specJob(file: string, edit: (text: string) => string = (t) => t): Job {
  const path = join(ROOT, 'sweeps', file);
  return createJob({ text: edit(readFileSync(path, 'utf8')), source: path, overrides: [] });
}

function textJob(text: string): Job {
  return createJob({ text, source: 'test-spec', overrides: [] });
}

/** Largest float32 errors of `a` against the float64 `b`, and the float64-only parts compared bit for bit. */
function compare(a: ChunkResult, b: ChunkResult): { rate: number; traj: number } {
  expect(a.buffer.length).toBe(b.buffer.length);
  let rate = 0;
  let traj = 0;
  for (let i = 0; i < a.shape.count; i++) {
    const e = pointError(a, i, b, i);
    rate = Math.max(rate, e.rate);
    traj = Math.max(traj, e.trajectory);
  }
  for (const key of ['boltzmann', 'steady', 'eigenrates', 'amplitudes'] as const) {
    const x = a[key];
    const y = b[key];
    let differ = 0;
    for (let k = 0; k < x.length; k++) if (!Object.is(x[k], y[k])) differ++;
    expect(differ, key).toBe(0);
  }
  return { rate, traj };
}

function identical(a: ChunkResult, b: ChunkResult, key: 'rates' | 'trajectories'): boolean {
  const x = a[key];
  const y = b[key];
  for (let k = 0; k < x.length; k++) if (!Object.is(x[k], y[k])) return false;
  return true;
}

for (const prefer of TFJS_TEST_BACKENDS) {
  describe(`tfjs-${prefer} backend`, () => {
    const backends: TfjsBackend[] = [];
    const make = async (job: Job, options: Parameters<typeof createTfjsBackend>[1] = {}): Promise<TfjsBackend> => {
      // strict: a backend that cannot be had fails the test instead of falling back
      const b = await createTfjsBackend(job, { prefer, load: { strict: true }, ...options });
      expect(b.name).toBe(`tfjs-${prefer}`);
      backends.push(b);
      return b;
    };
    afterAll(async () => {
      for (const b of backends) await b.close();
    });

    it('reproduces the float64 kernel on every point of paper-pair (0.05-300 K)', async () => {
      const job = specJob('paper-pair.yaml');
      const tb = await make(job);
      expect(tb.name).toBe(`tfjs-${prefer}`);
      expect(tb.precision).toBe('float32');
      const chunk: Chunk = { id: 0, variant: 0, start: 0, count: job.grid.pointsPerVariant };
      const a = await tb.evaluate(chunk);
      const b = await new InlineBackend(job).evaluate(chunk);
      const e = compare(a, b);
      expect(e.rate).toBeLessThan(RATE_TOL);
      expect(e.traj).toBeLessThan(TRAJ_TOL);
      expect(Array.from(a.flags)).toEqual(Array.from(b.flags));
      const st = tb.stats();
      expect(st).toMatchObject({ chunks: 1, points: 48, precisionRecomputed: 0 });
      // the fused kernel computed it: one WGSL dispatch and one readback on webgpu, JavaScript on the CPU backends
      expect(st.device?.kernels).toEqual([prefer === 'webgpu' ? 'fused-wgsl' : 'fused-js']);
      if (prefer === 'webgpu') expect(st.device).toMatchObject({ device_dispatches: 1, device_readbacks: 1 });
      expect(st.precisionChecked).toBeGreaterThanOrEqual(MIN_SAMPLES);
      expect(st.precisionMaxError).toBeGreaterThan(0);
      expect(st.precisionMaxError).toBeLessThan(Math.min(TRAJ_TOL, DEFAULT_TFJS_TOLERANCE));
    });

    it('reproduces the float64 kernel on bench-pair-map chunks of 2048 points at 0.01 K and at 300 K', async () => {
      const job = specJob('bench-pair-map.yaml');
      const tb = await make(job);
      const ref = new InlineBackend(job);
      const n = job.grid.pointsPerVariant;
      for (const start of [0, n - 2048]) {
        const chunk: Chunk = { id: start, variant: 0, start, count: 2048 };
        const e = compare(await tb.evaluate(chunk), await ref.evaluate(chunk));
        expect(e.rate, `chunk at ${start}`).toBeLessThan(RATE_TOL);
        expect(e.traj, `chunk at ${start}`).toBeLessThan(TRAJ_TOL);
      }
      expect(tb.stats().precisionRecomputed).toBe(0);
    });

    it('handles every variant: thermalization models (inhomogeneous included) x fixed and Boltzmann initial states', async () => {
      const job = specJob('paper-pair.yaml', (t) =>
        t.replace(/^thermalization: .*$/m, 'thermalization: [rodin-abergel, bengs-levitt, inhomogeneous]').replace(/^initial: .*$/m, 'initial: ["singlet(a,b)", inverted]'),
      );
      expect(job.grid.variants.length).toBe(6);
      const tb = await make(job);
      const ref = new InlineBackend(job);
      for (let v = 0; v < job.grid.variants.length; v++) {
        const chunk: Chunk = { id: v, variant: v, start: 0, count: job.grid.pointsPerVariant };
        const e = compare(await tb.evaluate(chunk), await ref.evaluate(chunk));
        expect(e.rate, `variant ${v}`).toBeLessThan(RATE_TOL);
        expect(e.traj, `variant ${v}`).toBeLessThan(TRAJ_TOL);
      }
    });

    it('propagates a non-uniform time grid (one exponential per interval)', async () => {
      const job = specJob('paper-pair.yaml', (t) => t.replace(/^time: .*$/m, 'time: { values: [0, 0.1, 0.4, 1, 2.5, 7, 20, 33, 60] }'));
      const tb = await make(job);
      const chunk: Chunk = { id: 0, variant: 0, start: 0, count: job.grid.pointsPerVariant };
      const e = compare(await tb.evaluate(chunk), await new InlineBackend(job).evaluate(chunk));
      expect(e.rate).toBeLessThan(RATE_TOL);
      expect(e.traj).toBeLessThan(TRAJ_TOL);
    });

    it('matches the QuTiP peer vectors of the seed pair (rates, equilibrium, trajectories) within float32 tolerance', async () => {
      const ref = { cases: qutipCases() };
      expect(ref.cases.length).toBe(28);
      const recomputed: string[] = [];
      for (const c of ref.cases) {
        const yaml = qutipCaseYaml(c);
        const job = textJob(`${yaml}outputs: [rates, trajectories]\n`);
        const tb = await make(job);
        const r = await tb.evaluate({ id: 0, variant: 0, start: 0, count: 1 });
        const names = job.problems[0]?.observables.map((o) => o.name) ?? [];
        const at = (name: string): number => names.indexOf(name);
        expect(relErr(r.rates[at('Mz')] as number, c.R1_per_s), c.id).toBeLessThan(RATE_TOL);
        expect(relErr(r.rates[at('IS')] as number, c.RS_per_s), c.id).toBeLessThan(RATE_TOL);
        expect(relErr(r.boltzmann[at('Mz')] as number, c.Iz_total_eq), c.id).toBeLessThan(1e-9);
        const nT = c.t_s.length;
        for (const [name, theirs] of [
          ['Mz', c.Iz_total],
          ['singlet', c.singlet_population],
        ] as const) {
          const o = at(name);
          const scale = Math.max(...theirs.map(Math.abs));
          let worst = 0;
          theirs.forEach((v, k) => (worst = Math.max(worst, Math.abs((r.trajectories[o * nT + k] as number) - v))));
          expect(worst, `${c.id} ${name}`).toBeLessThan(Math.max(TRAJ_TOL * scale, 1e-11));
        }
        expect([0, FLAG_RECOMPUTED_F64], c.id).toContain(r.flags[0]);
        if (r.flags[0] === FLAG_RECOMPUTED_F64) recomputed.push(c.id);
      }
      // The electron-like pair at 1 K from an inverted state: its singlet population (3e-6 of
      // the state, read as 0.25 - 0.2499967) is beyond float32, and the a-priori conditioning
      // check sends that point to float64 on its own. Everything else stays float32.
      expect(recomputed).toEqual(['55_lowT_electronlike_263GHz_1K_schofield_theta_T1K_kappa+0_inverted_thermal']);
    });

    it('holds the contract per point on the 1H-1H-13C singlet sweep (256 points, r = 12): each point within 1e-4 of float64 or recomputed and counted', async () => {
      // nine uniform times (the spec's 25 log-spaced ones cost three times more on SwiftShader; the regime is the same)
      const job = specJob('hhc-singlet.yaml', (t) => t.replace(/^time: .*$/m, 'time: { stop: 100, points: 9 }'));
      expect(job.compiled[0]?.r).toBe(12);
      const n = job.grid.pointsPerVariant;
      expect(n).toBe(256);
      const chunk: Chunk = { id: 0, variant: 0, start: 0, count: n };
      const ref = await new InlineBackend(job).evaluate(chunk);
      const rawMisses = new Set<number>();
      if (prefer !== 'webgpu') {
        // float32 as computed (no routing, no recomputation): it misses 1e-4 at some points.
        // The JavaScript kernel's values are the WGSL kernel's bit for bit (test/engine/tfjs-webgpu.test.ts).
        const raw = await (await make(job, { tolerance: 1e300 })).evaluate(chunk);
        for (let i = 0; i < n; i++) {
          const e = pointError(raw, i, ref, i);
          if (Math.max(e.rate, e.trajectory) > DEFAULT_TFJS_TOLERANCE) rawMisses.add(i);
        }
        expect(rawMisses.size).toBeGreaterThanOrEqual(1);
      }
      const tb = await make(job);
      const a = await tb.evaluate(chunk);
      let recomputed = 0;
      let worstKept = 0;
      for (let i = 0; i < n; i++) {
        if ((a.flags[i] as number) & FLAG_RECOMPUTED_F64) {
          recomputed++;
          const e = pointError(a, i, ref, i);
          expect(Math.max(e.rate, e.trajectory), `recomputed point ${i}`).toBe(0);
        } else {
          expect(rawMisses.has(i), `point ${i} misses the contract in float32 and was kept`).toBe(false);
          const e = pointError(a, i, ref, i);
          worstKept = Math.max(worstKept, e.rate, e.trajectory);
        }
      }
      expect(worstKept).toBeLessThan(DEFAULT_TFJS_TOLERANCE);
      // routed by the a-priori estimate alone (no whole chunk), and counted
      const st = tb.stats();
      expect(st.precisionRecomputed).toBe(recomputed);
      expect(st.device?.precision_routed).toBe(recomputed);
      expect(st.device?.precision_whole_chunks).toBe(0);
      // selective: a minority of the points (51 of 256 measured), never the whole sweep
      expect(recomputed).toBeGreaterThan(0);
      expect(recomputed).toBeLessThan(n / 2);
    });

    it('recomputes a whole chunk in float64 when a sampled point exceeds the tolerance, and counts it', async () => {
      const job = specJob('bench-pair-map.yaml');
      const tb = await make(job, { tolerance: 1e-12 });
      const ref = new InlineBackend(job);
      const chunks: Chunk[] = [
        { id: 0, variant: 0, start: 100, count: 300 },
        { id: 1, variant: 0, start: 40_000, count: 200 },
      ];
      for (const c of chunks) {
        const a = await tb.evaluate(c);
        const b = await ref.evaluate(c);
        // recomputed by the same float64 kernel: bit for bit
        expect(identical(a, b, 'rates')).toBe(true);
        expect(identical(a, b, 'trajectories')).toBe(true);
        for (let i = 0; i < c.count; i++) expect((a.flags[i] as number) & FLAG_RECOMPUTED_F64).toBe(FLAG_RECOMPUTED_F64);
      }
      const st = tb.stats();
      expect(st.precisionRecomputed).toBe(500);
      expect(st.points).toBe(500);
      expect(st.precisionChecked).toBeGreaterThanOrEqual(2 * MIN_SAMPLES);
      expect(st.precisionMaxError).toBeGreaterThan(1e-12);
    });

    it('samples at least 8 points or sampleFraction of the chunk', async () => {
      expect(sampleIndices(5, 0.01)).toEqual([0, 1, 2, 3, 4]);
      expect(sampleIndices(1000, 0.001)).toHaveLength(8);
      expect(sampleIndices(1000, 0.001)[7]).toBe(999);
      expect(sampleIndices(1000, 0.1)).toHaveLength(100);
      expect(sampleIndices(1000, 0.001, 500)).toContain(500);
      const job = specJob('bench-pair-map.yaml');
      const tb = await make(job, { sampleFraction: 0.25 });
      await tb.evaluate({ id: 0, variant: 0, start: 0, count: 400 });
      expect(tb.stats().precisionChecked).toBeGreaterThanOrEqual(100);
      expect(tb.stats().precisionChecked).toBeLessThanOrEqual(101);
    });

    it('recomputes a point whose float32 values overflow, alone, in float64', async () => {
      // b = 2 pi 1e25 rad/s: coefficients ~1e40, beyond float32 (3.4e38), fine in float64
      const job = specJob('paper-pair.yaml', (t) => t.replace('b_hz: 35000', 'b_hz: 1e25'));
      const tb = await make(job);
      const chunk: Chunk = { id: 0, variant: 0, start: 0, count: 12 };
      const a = await tb.evaluate(chunk);
      const b = await new InlineBackend(job).evaluate(chunk);
      expect(identical(a, b, 'rates')).toBe(true);
      expect(identical(a, b, 'trajectories')).toBe(true);
      expect(Array.from(a.rates).every(Number.isFinite)).toBe(true);
      expect(Math.max(...Array.from(a.rates))).toBeGreaterThan(1e38);
      for (let i = 0; i < 12; i++) expect((a.flags[i] as number) & FLAG_RECOMPUTED_F64).toBe(FLAG_RECOMPUTED_F64);
      expect(tb.stats().precisionRecomputed).toBe(12);
    });

    it('flags values that stay non-finite in float64 instead of writing them as numbers', async () => {
      // bengs-levitt at 1 uK and 9.4 T: cosh(beta w / 2) overflows float64 too
      const job = specJob('paper-pair.yaml', (t) => t.replace(/^thermalization: .*$/m, 'thermalization: bengs-levitt').replace('T: { log: [0.05, 300], points: 12 }', 'T: { values: [1e-6, 300] }'));
      const tb = await make(job);
      const a = await tb.evaluate({ id: 0, variant: 0, start: 0, count: job.grid.pointsPerVariant });
      const { nObs, nTimes } = a.shape;
      let flagged = 0;
      for (let i = 0; i < a.shape.count; i++) {
        let finite = true;
        for (let o = 0; o < nObs; o++) if (!Number.isFinite(a.rates[i * nObs + o] as number)) finite = false;
        for (let q = 0; q < nObs * nTimes; q++) if (!Number.isFinite(a.trajectories[i * nObs * nTimes + q] as number)) finite = false;
        if (!finite) {
          expect((a.flags[i] as number) & FLAG_NONFINITE, `point ${i}`).toBe(FLAG_NONFINITE);
          flagged++;
        } else {
          expect((a.flags[i] as number) & FLAG_NONFINITE, `point ${i}`).toBe(0);
        }
      }
      expect(flagged).toBeGreaterThan(0);
    });

    it('leaks no tensors over several chunks (uniform and non-uniform grids, recomputation)', async () => {
      const job = specJob('bench-pair-map.yaml');
      const uneven = specJob('paper-pair.yaml', (t) => t.replace(/^time: .*$/m, 'time: { values: [0, 1, 3, 7, 15] }'));
      const tb = await make(job, { batchSize: 700 });
      const tu = await make(uneven, { tolerance: 1e-12 });
      await tb.evaluate({ id: 0, variant: 0, start: 0, count: 64 });
      await tu.evaluate({ id: 0, variant: 0, start: 0, count: 8 });
      const tf = tb.tfjs.tf;
      const before = tf.memory().numTensors;
      for (let k = 0; k < 4; k++) await tb.evaluate({ id: k, variant: 0, start: 5000 * k, count: 1500 });
      for (let k = 0; k < 3; k++) await tu.evaluate({ id: k, variant: 0, start: 10 * k, count: 10 });
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
