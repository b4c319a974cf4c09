/**
 * Calibration of the fused float32 kernel's error estimate (precision-contract.ts): for
 * every point, the float32 error of the JavaScript kernel (the WGSL kernel's values, bit for
 * bit on SwiftShader) against the float64 kernel, and the kernel's own estimate. Reports per
 * sweep and variant: the worst error, the largest error / estimate ratio over points whose
 * error exceeds 1e-6 and 1e-5 (the estimate has a floor of a few u, so small errors give
 * large ratios that do not matter), and how many points the contract sends to float64 at
 * its margin, and how many above the tolerance it would have kept (missed).
 *
 *   npx tsx bench/fused-precision.ts [--grouping auto|folded|by-axes|terms] [--max-points N]
 *
 * Sweeps: the 1H-1H-13C singlet sweep (256 points, r = 12; log and uniform time grids; four
 * thermalization models), every example in sweeps/, and the second standard benchmark
 * (bench/baseline/dnp-e3h.yaml). The per-point path (parameter-dependent eigenbasis) is float64 only and skipped.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chunkViews } from '../src/engine/chunk.js';
import { createJob } from '../src/engine/create-job.js';
import { fusedOutputLength, fusedOutputViews } from '../src/engine/fused/fused-constants.js';
import { FusedJsKernel } from '../src/engine/fused/fused-js.js';
import { buildFusedProblem } from '../src/engine/fused/fused-problem.js';
import { chunkShape, kernelData, kernelFor, type Job } from '../src/engine/job.js';
import { DEFAULT_TFJS_TOLERANCE, ESTIMATE_MARGIN, pointError } from '../src/engine/tfjs/precision-contract.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const grouping = (arg('--grouping') ?? 'auto') as 'auto' | 'folded' | 'by-axes' | 'terms';
const maxPoints = Number(arg('--max-points') ?? 4096);

/** sweeps/hhc-singlet.yaml under another thermalization model and time grid. */
export const HHC_SINGLET = (thermal: string, time: string): string =>
  readFileSync(join('sweeps', 'hhc-singlet.yaml'), 'utf8')
    .replace(/^thermalization: .*$/m, `thermalization: ${thermal}`)
    .replace(/^time: .*$/m, `time: ${time}`);

function measure(label: string, job: Job): void {
  for (let v = 0; v < job.grid.variants.length; v++) {
    const data = kernelData(job, v);
    if (!data) {
      console.log(`${label}: per-point path, float64 only`);
      return;
    }
    const variant = job.grid.variants[v];
    const n = Math.min(job.grid.pointsPerVariant, maxPoints);
    // spread the points over the grid when it is larger than maxPoints
    const stride = Math.max(1, Math.floor(job.grid.pointsPerVariant / n));
    const fp = buildFusedProblem(data.cp, data.tables, job.grid, variant?.thermal === 'inhomogeneous', { wantRates: true, wantTrajectories: job.want.trajectories, grouping });
    const kernel = new FusedJsKernel(fp);
    const ref = kernelFor(job, v);
    const b = chunkViews(chunkShape(job, 1));
    const one = fusedOutputViews(new Float32Array(fusedOutputLength(1, fp.nObs, fp.nTimes)), 1, fp.nObs, fp.nTimes);
    const a = chunkViews(chunkShape(job, 1));
    let worst = 0;
    let ratio = 0;
    let ratio5 = 0;
    let routed = 0;
    let missed = 0;
    const limit = DEFAULT_TFJS_TOLERANCE / ESTIMATE_MARGIN;
    for (let k = 0; k < n; k++) {
      const p = k * stride;
      kernel.run(p, 1, one);
      a.rates.set(one.rates);
      a.trajectories.set(one.trajectories);
      ref.run(p, 1, b);
      const e = pointError(a, 0, b, 0);
      const err = Math.max(e.rate, e.trajectory);
      const est = one.estimate[0] as number;
      worst = Math.max(worst, err);
      if (err > 1e-6) ratio = Math.max(ratio, err / est);
      if (err > 1e-5) ratio5 = Math.max(ratio5, err / est);
      if (!(est <= limit) || one.status[0] !== 0) routed++;
      else if (err > DEFAULT_TFJS_TOLERANCE) missed++;
    }
    console.log(
      `${label} [${variant?.thermal}] r=${fp.r} groups=${fp.groups.length}: ${n} points, worst float32 error ${worst.toExponential(2)}, max error/estimate ${ratio.toFixed(2)} (errors > 1e-6), ${ratio5.toFixed(2)} (> 1e-5), routed to float64 ${routed}, missed ${missed}`,
    );
  }
}

const jobOf = (text: string, source: string): Job => createJob({ text, source, overrides: [] });
for (const thermal of ['rodin-abergel', 'bengs-levitt', 'high-temperature', 'inhomogeneous']) {
  for (const time of ['{ log: [1e-3, 100], points: 25 }', '{ stop: 100, points: 26 }']) measure(`hhc-singlet ${time}`, jobOf(HHC_SINGLET(thermal, time), 'hhc'));
}
for (const f of readdirSync('sweeps').filter((x) => x.endsWith('.yaml') && x !== 'hhc-singlet.yaml')) measure(f, jobOf(readFileSync(join('sweeps', f), 'utf8'), f));
const e3h = join('bench', 'baseline', 'dnp-e3h.yaml');
if (existsSync(e3h)) measure('dnp-e3h', jobOf(readFileSync(e3h, 'utf8'), e3h));
