/**
 * Log time grids no longer take one matrix exponential per interval: for every physics test
 * system the batched kernel evaluates trajectories from the modes (symmetric route for the
 * detailed-balance and double-commutator models, the general eigen-decomposition otherwise),
 * and agrees with the float64 reference evaluation (evaluatePoint, which still propagates
 * interval by interval with Pade exponentials) to the tolerances of f64-kernel.test.ts.
 * The route counters are reported in run.json.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addKernelCounters, emptyKernelCounters } from '../../src/engine/backend.js';
import { chunkViews } from '../../src/engine/chunk.js';
import { createJob } from '../../src/engine/create-job.js';
import { chunkShape, kernelFor } from '../../src/engine/job.js';
import { evaluatePoint } from '../../src/evaluate/point.js';
import { pointParams } from '../../src/sweep/grid.js';
import { runSweep } from '../../src/sweep/executor.js';
import { pairYaml } from '../helpers/problems.js';
import { ELECTRON_PROTON, SPIN1_SYSTEM, STRONG_COUPLING, THREE_SPIN_SYSTEM } from '../helpers/systems.js';

const LOG = '{ log: [1e-6, 100], points: 31 }';
const E3H = readFileSync(new URL('../../bench/baseline/dnp-e3h.yaml', import.meta.url), 'utf8');

const SYSTEMS: Record<string, (thermal: string) => string> = {
  'pair from a singlet': (t) => `${pairYaml({ thermalization: t as never, time: LOG })}sweep:\n  T: { values: [0.05, 300] }\noutputs: [rates, eigenrates, steady_state, trajectories]\n`,
  'electron-1H, saturated': (t) => `${ELECTRON_PROTON(t, 1, 'saturated')}sweep:\n  T: { values: [1, 20] }\n  B0: { values: [3.4, 9.4] }\noutputs: [rates, eigenrates, steady_state, trajectories]\n`,
  'electron + 3 1H (dnp-e3h corners)': (t) =>
    E3H.replace('thermalization: [rodin-abergel, bengs-levitt]', `thermalization: ${t}`)
      .replace('T: { log: [1, 100], points: 32 }', 'T: { values: [1, 100] }')
      .replace('B0: { lin: [3.4, 14.1], points: 8 }', 'B0: { values: [3.4, 14.1] }'),
  '1H-1H-13C with J, thermal': (t) => `${THREE_SPIN_SYSTEM(t, 4)}sweep:\n  T: { values: [0.05, 300] }\noutputs: [rates, eigenrates, steady_state, trajectories]\n`,
  'spin-1 + 1H, inverted': (t) => `${SPIN1_SYSTEM(t, 4, 'inverted')}sweep:\n  T: { values: [1, 300] }\noutputs: [rates, eigenrates, steady_state, trajectories]\n`,
  'strongly coupled pair (per-point path)': (t) =>
    `${STRONG_COUPLING(t, 300, 12).replace('time: { stop: 30, points: 16 }', `time: ${LOG}`)}sweep:\n  B0: { values: [1, 9.4] }\noutputs: [rates, eigenrates, steady_state, trajectories]\n`,
};

const MODELS = ['rodin-abergel', 'bengs-levitt', 'inhomogeneous', 'semiclassical', 'high-temperature'] as const;

/**
 * Relative tolerance (of the trajectory's largest value) against the reference: that of
 * f64-kernel.test.ts, except for e+3H at 1 K, where the reference itself is off by up to
 * 1.4e-9 at 14.1 T (its generator is assembled from e(x) +- o(x), which cancel there; the
 * modes are the more accurate path: test/physics/e3h-reference.test.ts checks them against
 * 30-digit values).
 */
const TOLERANCE: Record<string, number> = { 'electron + 3 1H (dnp-e3h corners)': 3e-9 };

describe('log time grids: trajectories from modes, no exponential per interval', () => {
  for (const [name, yaml] of Object.entries(SYSTEMS)) {
    it(`${name}: every model agrees with the per-interval reference; no point takes that path`, () => {
      for (const thermal of MODELS) {
        const job = createJob({ text: yaml(thermal), source: name, overrides: [] });
        const total = emptyKernelCounters();
        let points = 0;
        job.grid.variants.forEach((variant, v) => {
          const n = job.grid.pointsPerVariant;
          const k = kernelFor(job, v);
          const out = chunkViews(chunkShape(job, n));
          k.run(0, n, out);
          if (k.counters) addKernelCounters(total, k.counters);
          points += n;
          const problem = job.problems[variant.initial]!;
          const { nObs, nTimes } = out.shape;
          for (let p = 0; p < n; p++) {
            const ref = evaluatePoint(problem, pointParams(job.grid, p), variant.thermal);
            problem.observables.forEach((o, j) => {
              const traj = ref.trajectories[o.name]!;
              const scale = Math.max(...traj.map(Math.abs));
              traj.forEach((x, t) => {
                const got = out.trajectories[(p * nObs + j) * nTimes + t]!;
                if (!(Math.abs(got - x) < (TOLERANCE[name] ?? 1e-11) * scale + 1e-15)) {
                  throw new Error(`${thermal}, point ${p}, ${o.name}(t = ${ref.trajectories.t[t]}): ${got} vs reference ${x}`);
                }
              });
            });
          }
        });
        expect({ thermal, perInterval: total.trajectoriesPerInterval, exponentials: total.intervalExponentials }).toEqual({ thermal, perInterval: 0, exponentials: 0 });
        expect(total.trajectoriesFromModes).toBe(points);
        // the detailed-balance and double-commutator models take the symmetric route
        if (thermal !== 'high-temperature' && !name.includes('per-point')) expect(total.symmetric).toBe(points);
      }
    });
  }

  it('run.json reports the routes (kernel counters)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relaxmap-routes-'));
    try {
      const spec = join(dir, 'spec.yaml');
      writeFileSync(spec, SYSTEMS['electron-1H, saturated']!('bengs-levitt'));
      await runSweep({ specPath: spec, outDir: join(dir, 'out'), backend: 'inline', quiet: true });
      const info = JSON.parse(readFileSync(join(dir, 'out', 'run.json'), 'utf8')) as { kernel: Record<string, number> };
      expect(info.kernel).toEqual({ symmetric: 4, general: 0, trajectoriesFromModes: 4, trajectoriesByStep: 0, trajectoriesPerInterval: 0, intervalExponentials: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
