/**
 * The float32 path per tfjs CPU backend: the fused JavaScript kernel against tfjs's tensor
 * operations (tensor-path.ts), side by side in one process, alternating, on the pair of
 * bench-pair-map (r = 4, 128 uniform times) and the 1H-1H-13C singlet system (r = 12, 26
 * uniform times). Medians of microseconds per point, everything included (float64 side
 * outputs, precision contract). tfjs-backend.ts's kernel choice follows from these numbers.
 *
 *   npx tsx bench/fused-vs-tensor.ts [rounds]
 */
import { readFileSync } from 'node:fs';
import { createJob } from '../src/engine/create-job.js';
import type { Job } from '../src/engine/job.js';
import { createTfjsBackend, type TfjsBackend } from '../src/engine/tfjs/tfjs-backend.js';
import { HHC_SINGLET } from './fused-precision.js';

const rounds = Number(process.argv[2] ?? 5);
const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

const cases: Array<{ label: string; job: Job; count: number }> = [
  { label: 'pair r=4', job: createJob({ text: readFileSync('sweeps/bench-pair-map.yaml', 'utf8'), source: 'bench-pair-map', overrides: [] }), count: 2048 },
  { label: 'hhc r=12', job: createJob({ text: HHC_SINGLET('rodin-abergel', '{ stop: 100, points: 26 }'), source: 'hhc', overrides: [] }), count: 128 },
];
for (const prefer of ['cpu', 'wasm'] as const) {
  for (const c of cases) {
    const be: Record<'fused' | 'tensor', TfjsBackend> = {
      fused: await createTfjsBackend(c.job, { prefer, kernel: 'fused', load: { strict: true } }),
      tensor: await createTfjsBackend(c.job, { prefer, kernel: 'tensor', load: { strict: true } }),
    };
    const us: Record<'fused' | 'tensor', number[]> = { fused: [], tensor: [] };
    const n = c.job.grid.pointsPerVariant;
    for (let r = 0; r <= rounds; r++) {
      for (const k of ['fused', 'tensor'] as const) {
        const start = ((r * 7919) % Math.max(1, n - c.count)) | 0;
        const t0 = performance.now();
        await be[k].evaluate({ id: r, variant: 0, start, count: c.count });
        // round 0 warms up (JIT, wasm compile)
        if (r > 0) us[k].push(((performance.now() - t0) * 1000) / c.count);
      }
    }
    console.log(`${prefer} ${c.label}: fused ${median(us.fused).toFixed(1)} us/point, tensor ${median(us.tensor).toFixed(1)} us/point, tensor/fused ${(median(us.tensor) / median(us.fused)).toFixed(2)}`);
    await be.fused.close();
    await be.tensor.close();
  }
}
