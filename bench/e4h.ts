/**
 * Electron + four 1H (reduced dimension 86): job build, per-point throughput of the batched
 * kernel on a 61-point log grid, and the numpy approach (batched eigh) on the same symmetric
 * generators dumped from the kernel. Run: npx tsx bench/e4h.ts [NT NB0]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chunkViews } from '../src/engine/chunk.js';
import { createJob } from '../src/engine/create-job.js';
import { chunkShape, kernelData, kernelFor } from '../src/engine/job.js';
import { SymmetricModes } from '../src/evaluate/symmetric-modes.js';

const nT = Number(process.argv[2] ?? 4);
const nB0 = Number(process.argv[3] ?? 4);
const spec = readFileSync(new URL('./baseline/dnp-e3h.yaml', import.meta.url), 'utf8')
  .replace('  - { id: h3, isotope: 1H }', '  - { id: h3, isotope: 1H }\n  - { id: h4, isotope: 1H }')
  .replace('  - { type: dipolar, spins: [h2, h3], distance_m: 1.8e-10, tau_c: tau_c }', '  - { type: dipolar, spins: [h2, h3], distance_m: 1.8e-10, tau_c: tau_c }\n  - { type: dipolar, spins: [e, h4], distance_m: 1.0e-9, tau_c: tau_c }\n  - { type: dipolar, spins: [h3, h4], distance_m: 1.8e-10, tau_c: tau_c }')
  .replace('Hz: Iz(h1) + Iz(h2) + Iz(h3)', 'Hz: Iz(h1) + Iz(h2) + Iz(h3) + Iz(h4)')
  .replace('T: { log: [1, 100], points: 32 }', `T: { log: [1, 100], points: ${nT} }`)
  .replace('B0: { lin: [3.4, 14.1], points: 8 }', `B0: { lin: [3.4, 14.1], points: ${nB0} }`);
const t0 = performance.now();
const job = createJob({ text: spec, source: 'e4h', overrides: [] });
const t1 = performance.now();
const kernels = job.grid.variants.map((_, v) => kernelFor(job, v));
const t2 = performance.now();
const n = job.grid.pointsPerVariant;
const out = chunkViews(chunkShape(job, n));
// passes over every variant: the first is cold (the JIT compiles the kernel on its first
// points); the median of the last PASSES - WARMUP is the rate of a long sweep
const PASSES = 8;
const WARMUP = 3;
const passUs: number[] = [];
for (let pass = 0; pass < PASSES; pass++) {
  const t3 = performance.now();
  for (const k of kernels) k.run(0, n, out);
  passUs.push(((performance.now() - t3) * 1e3) / (n * kernels.length));
}
const warm = passUs.slice(WARMUP).sort((a, b) => a - b);
const usWarm = warm[Math.floor(warm.length / 2)]!;
const r = job.problems[0]!.reduction.r;
const points = n * kernels.length;
console.log(JSON.stringify({ system: 'e+4H', r, points, job_build_s: (t1 - t0) / 1000, kernel_setup_s: (t2 - t1) / 1000, us_per_point_first_pass: passUs[0], us_per_point: usWarm, points_per_s: 1e6 / usWarm, passes: PASSES, median_of_passes: `${WARMUP + 1}-${PASSES}`, counters: kernels[0]!.counters }));
// dump the symmetric generators and probes of variant 0 for numpy
const data = kernelData(job, 0)!;
const nObs = job.nObs;
const buf = new Float64Array(n * r * r + n * (nObs + 1) * r + job.nTimes);
const k0 = kernels[0] as unknown as { sym: SymmetricModes; cursor: { seek(f: number, s: readonly number[]): void } };
for (let p = 0; p < n; p++) {
  const one = chunkViews(chunkShape(job, 1));
  kernels[0]!.run(p, 1, one);
  const { packed, w, ref, rho0 } = k0.sym.first;
  for (let i = 0; i < r; i++) for (let j = 0; j <= i; j++) buf[p * r * r + i * r + j] = buf[p * r * r + j * r + i] = packed[i * r + j]!;
  // probes: weighted observables and deviation
  for (let o = 0; o < nObs; o++) for (let i = 0; i < r; i++) buf[n * r * r + (p * (nObs + 1) + o) * r + i] = data.sym!.observables[o * r + i]! * w[i]!;
  for (let i = 0; i < r; i++) buf[n * r * r + (p * (nObs + 1) + nObs) * r + i] = (rho0[i]! - ref[i]!) / w[i]!;
}
buf.set(job.problems[0]!.times, n * r * r + n * (nObs + 1) * r);
const file = join(tmpdir(), `relaxmap-e4h-${process.pid}.bin`);
writeFileSync(file, Buffer.from(buf.buffer));
try {
  const res = execFileSync('python3', [new URL('./baseline/numpy_dumped_eigh.py', import.meta.url).pathname, file, String(n), String(r), String(nObs), String(job.nTimes)]).toString();
  console.log(res.trim());
} finally {
  rmSync(file, { force: true });
}
