/**
 * The kernel calibration behind `auto` and `relaxmap plan` (src/engine/select-backend.ts): its
 * bulk passes stay within a quarter of the run's own points, and a run too small for one block
 * per variant keeps the single points' rate. How close the rate comes to a run's is measured
 * in `relaxmap bench` (plan against run), not here: it is a timing.
 */
import { describe, expect, it } from 'vitest';
import { createJob } from '../../src/engine/create-job.js';
import { calibrate } from '../../src/engine/select-backend.js';
import { e3hSpec } from '../../src/bench/dnp-e3h.js';

describe('calibrate', () => {
  // an electron and three 1H, two models x 8 x 4 points: 64 points per variant
  const job = createJob({ text: e3hSpec(8, 4), source: 'dnp-e3h', overrides: [] });
  const runPoints = job.grid.pointsPerVariant * job.grid.variants.length;

  it('times blocks of the real grid on top of the sample, at most a quarter of the run in all', () => {
    const cal = calibrate(job, 8, runPoints);
    // the sample: the corners of every variant (4 each) and evenly spaced points, 8 per variant at most
    expect(cal.sampled).toBeGreaterThan(8);
    expect(cal.sampled).toBeLessThanOrEqual(2 * 8 + runPoints / 4);
    expect(cal.perPoint).toBeGreaterThan(0);
    expect(Number.isFinite(cal.perPoint)).toBe(true);
    expect(cal.setup).toBeGreaterThan(0);
  });

  it('keeps the single points rate when no block of 8 points per variant fits a quarter of the run', () => {
    const cal = calibrate(job, 8, 40);
    expect(cal.sampled).toBeLessThanOrEqual(2 * (4 + 8));
    expect(cal.perPoint).toBeGreaterThan(0);
  });

  it('runs at most four bulk passes, each at most every point of a variant', () => {
    const big = createJob({ text: e3hSpec(32, 8), source: 'dnp-e3h', overrides: [] });
    const cal = calibrate(big, 64);
    const n = big.grid.pointsPerVariant;
    // the sample (32 per variant and its 4 corners), then four passes of at most n points per variant
    expect(cal.sampled).toBeLessThanOrEqual(2 * (32 + 4) + 4 * 2 * n);
  });
});
