/**
 * Float32 errors of the tfjs backend against the float64 kernel (InlineBackend), point by
 * point: rates relative, trajectories relative to max_t |<O>(t)| of the same point and
 * observable. The numbers behind DEFAULT_TFJS_TOLERANCE; then how many points the default
 * precision contract sends back to float64 on the same ranges.
 *
 *   npx tsx bench/tfjs-precision.ts [cpu|wasm] [--full]
 *
 * --full: the whole 65,536-point bench grid (otherwise 8 chunks of 2048 spread over it).
 * Then every point and variant of the other example sweeps (sweeps/*.yaml) as written.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Job } from '../src/engine/job.js';
import { createJob } from '../src/engine/create-job.js';
import { InlineBackend } from '../src/engine/inline-backend.js';
import { createTfjsBackend, pointError, type TfjsBackend } from '../src/engine/tfjs/tfjs-backend.js';
import { pointParams } from '../src/sweep/grid.js';

const prefer = (process.argv[2] === 'wasm' ? 'wasm' : 'cpu') as 'cpu' | 'wasm';
const full = process.argv.includes('--full');
const THERMALS = ['rodin-abergel', 'bengs-levitt', 'high-temperature', 'semiclassical', 'inhomogeneous'];

function jobFor(file: string, thermal: string): Job {
  const text = readFileSync(file, 'utf8').replace(/^thermalization: .*$/m, `thermalization: ${thermal}`);
  return createJob({ text, source: file, overrides: [] });
}

interface Worst {
  rate: number;
  traj: number;
  where: string;
  recomputed: number;
  checked: number;
}

async function measure(job: Job, ranges: Array<[number, number]>, variant = 0): Promise<Worst> {
  const ref = new InlineBackend(job);
  // tolerance huge: keep the float32 values whatever they are (no recomputation at all)
  const tb: TfjsBackend = await createTfjsBackend(job, { prefer, tolerance: 1e300 });
  // and the default contract, to count what it recomputes
  const contract: TfjsBackend = await createTfjsBackend(job, { prefer });
  const worst: Worst = { rate: 0, traj: 0, where: '', recomputed: 0, checked: 0 };
  let id = 0;
  for (const [start, count] of ranges) {
    const chunk = { id: id++, variant, start, count };
    const a = await tb.evaluate(chunk);
    const b = await ref.evaluate(chunk);
    await contract.evaluate(chunk);
    for (let i = 0; i < count; i++) {
      const e = pointError(a, i, b, i);
      if (e.rate > worst.rate) worst.rate = e.rate;
      if (e.trajectory > worst.traj) {
        worst.traj = e.trajectory;
        worst.where = JSON.stringify(pointParams(job.grid, start + i));
      }
    }
  }
  worst.recomputed = contract.stats().precisionRecomputed;
  worst.checked = contract.stats().points;
  return worst;
}

for (const thermal of THERMALS) {
  const pp = jobFor('sweeps/paper-pair.yaml', thermal);
  const w1 = await measure(pp, [[0, pp.grid.pointsPerVariant]]);
  const bj = jobFor('sweeps/bench-pair-map.yaml', thermal);
  const n = bj.grid.pointsPerVariant;
  const ranges: Array<[number, number]> = full ? Array.from({ length: n / 4096 }, (_, k) => [k * 4096, 4096]) : Array.from({ length: 8 }, (_, k) => [Math.floor((k * (n - 2048)) / 7), 2048]);
  const w2 = await measure(bj, ranges);
  console.log(
    `${prefer} ${thermal.padEnd(16)} paper-pair: rate ${w1.rate.toExponential(2)} traj ${w1.traj.toExponential(2)} recomputed ${w1.recomputed}/${w1.checked}` +
      ` | bench${full ? ' (all)' : ' (8x2048)'}: rate ${w2.rate.toExponential(2)} traj ${w2.traj.toExponential(2)} recomputed ${w2.recomputed}/${w2.checked} (worst at ${w2.where})`,
  );
}

for (const file of readdirSync('sweeps').filter((f) => f.endsWith('.yaml') && !['paper-pair.yaml', 'bench-pair-map.yaml'].includes(f))) {
  const job = createJob({ text: readFileSync(`sweeps/${file}`, 'utf8'), source: file, overrides: [] });
  if (job.compiled.some((c) => !c)) {
    console.log(`${prefer} ${file}: per-point path, evaluated in float64 by every backend`);
    continue;
  }
  const n = job.grid.pointsPerVariant;
  const ranges: Array<[number, number]> = Array.from({ length: Math.ceil(n / 4096) }, (_, k) => [k * 4096, Math.min(4096, n - k * 4096)]);
  for (let v = 0; v < job.grid.variants.length; v++) {
    const w = await measure(job, ranges, v);
    const vv = job.grid.variants[v];
    console.log(
      `${prefer} ${file} [${vv?.thermal}, ${job.grid.initials[vv?.initial ?? 0]}] r=${job.compiled[vv?.initial ?? 0]?.r}: rate ${w.rate.toExponential(2)} traj ${w.traj.toExponential(2)} recomputed ${w.recomputed}/${w.checked} (worst at ${w.where})`,
    );
  }
}
