/**
 * The batched kernel evaluates the symmetric route two points at a time (their
 * eigen-decompositions side by side, SymmetricModes.evaluatePair); a point the pair cannot
 * take (Boltzmann weights spread too far, so the general route decides) is evaluated again on
 * its own. Every output must be bit for bit that of one point at a time (RELAXMAP_PAIRS=0),
 * for odd and even ranges, every thermal model and the test systems of log-grid-routes.test.ts.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { chunkViews, type ChunkResult } from '../../src/engine/chunk.js';
import { createJob } from '../../src/engine/create-job.js';
import { chunkShape, kernelFor, type Job } from '../../src/engine/job.js';
import { pairYaml } from '../helpers/problems.js';
import { ELECTRON_PROTON, SPIN1_SYSTEM, THREE_SPIN_SYSTEM } from '../helpers/systems.js';

const LOG = '{ log: [1e-6, 100], points: 31 }';
const E3H = readFileSync(new URL('../../bench/baseline/dnp-e3h.yaml', import.meta.url), 'utf8');

const SYSTEMS: Record<string, (thermal: string) => string> = {
  'pair from a singlet': (t) => `${pairYaml({ thermalization: t as never, time: LOG })}sweep:\n  T: { values: [0.05, 1, 4, 77, 300] }\noutputs: [rates, eigenrates, steady_state, trajectories]\n`,
  'electron-1H, saturated': (t) => `${ELECTRON_PROTON(t, 1, 'saturated')}sweep:\n  T: { values: [0.3, 1, 20] }\n  B0: { values: [3.4, 9.4, 14.1] }\noutputs: [rates, eigenrates, steady_state, trajectories]\n`,
  // 0.05-0.3 K: the Boltzmann weights of the electron spread beyond the weighted route's limit
  // at some points, which then take the general route (the pair's fallback)
  'electron + 3 1H, 0.05-100 K': (t) =>
    E3H.replace('thermalization: [rodin-abergel, bengs-levitt]', `thermalization: ${t}`)
      .replace('T: { log: [1, 100], points: 32 }', 'T: { log: [0.05, 100], points: 7 }')
      .replace('B0: { lin: [3.4, 14.1], points: 8 }', 'B0: { values: [3.4, 14.1] }'),
  '1H-1H-13C with J, thermal': (t) => `${THREE_SPIN_SYSTEM(t, 4)}sweep:\n  T: { values: [0.05, 1, 300] }\noutputs: [rates, eigenrates, steady_state, trajectories]\n`,
  'spin-1 + 1H, inverted': (t) => `${SPIN1_SYSTEM(t, 4, 'inverted')}sweep:\n  T: { values: [1, 10, 300] }\noutputs: [rates, eigenrates, steady_state, trajectories]\n`,
};

const MODELS = ['rodin-abergel', 'bengs-levitt', 'inhomogeneous', 'semiclassical'] as const;

/** Every variant evaluated over [start, start + count) in one call; all results concatenated. */
function evaluate(job: Job, start: number, count: number, pairs: boolean): { bytes: Uint8Array[]; general: number; paired: boolean } {
  const saved = process.env.RELAXMAP_PAIRS;
  if (pairs) delete process.env.RELAXMAP_PAIRS;
  else process.env.RELAXMAP_PAIRS = '0';
  try {
    const bytes: Uint8Array[] = [];
    let general = 0;
    let paired = false;
    job.grid.variants.forEach((_, v) => {
      const k = kernelFor(job, v);
      paired ||= (k as unknown as { modes2?: unknown }).modes2 !== undefined;
      const out: ChunkResult = chunkViews(chunkShape(job, count));
      k.run(start, count, out);
      bytes.push(new Uint8Array(out.buffer.buffer.slice(0)));
      general += k.counters?.general ?? 0;
    });
    return { bytes, general, paired };
  } finally {
    if (saved === undefined) delete process.env.RELAXMAP_PAIRS;
    else process.env.RELAXMAP_PAIRS = saved;
  }
}

afterEach(() => {
  delete process.env.RELAXMAP_PAIRS;
});

describe('symmetric route two points at a time', () => {
  for (const [name, yaml] of Object.entries(SYSTEMS)) {
    it(`${name}: every output bit for bit that of one point at a time, odd and even ranges`, () => {
      let fallbacks = 0;
      for (const thermal of MODELS) {
        const job = createJob({ text: yaml(thermal), source: name, overrides: [] });
        const n = job.grid.pointsPerVariant;
        // the whole variant, an odd range from an odd start, a single point
        for (const [start, count] of [[0, n], [1, Math.max(1, n - 2 - ((n - 2) % 2 === 0 ? 1 : 0))], [n - 1, 1]] as const) {
          const one = evaluate(job, start, count, false);
          const two = evaluate(job, start, count, true);
          expect(one.paired).toBe(false);
          expect(two.paired).toBe(true);
          expect(two.general).toBe(one.general);
          two.bytes.forEach((b, v) => expect(Buffer.from(b).equals(Buffer.from(one.bytes[v] as Uint8Array)), `${thermal}, variant ${v}, points ${start}..${start + count - 1}`).toBe(true));
          if (start === 0) fallbacks += one.general;
        }
      }
      // the low-temperature e+3H grid exercises the pair's fallback to the general route
      if (name.startsWith('electron + 3 1H')) expect(fallbacks).toBeGreaterThan(0);
    });
  }
});
