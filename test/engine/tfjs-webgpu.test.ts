/**
 * The fused WGSL kernel on a real WebGPU device: SwiftShader in CI (.ci/run exports its
 * Vulkan driver), through Dawn and tfjs-backend-webgpu. Every test asserts that the
 * backend really is tfjs-webgpu on the fused kernel (strict loading: no silent fallback).
 * The physics cases shared with cpu and wasm are in tfjs-backend.test.ts; here: both
 * workgroup layouts (thread per point, a workgroup slice per point) for r = 4, 10 and 12
 * against the JavaScript kernel and float64, non-finite values confined to their point
 * (bit-pattern tests), an overflow grid where one bad point in 64 is the only one
 * recomputed, device traffic per chunk, tensor and GPU-memory leaks, and the backend
 * choice (a CPU adapter is never taken for a GPU; --tfjs webgpu exits 2 when it cannot be
 * honoured; run.json and plan --json record the adapter).
 *
 * SwiftShader is a CPU emulation: nothing here measures speed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planCommand, type PlanCommandOptions } from '../../src/cli/commands/plan.js';
import { FLAG_RECOMPUTED_F64, type Chunk, type ChunkResult } from '../../src/engine/chunk.js';
import { createJob } from '../../src/engine/create-job.js';
import { InlineBackend } from '../../src/engine/inline-backend.js';
import { kernelData, type Job } from '../../src/engine/job.js';
import { fusedOutputLength, fusedOutputViews, STATUS_NONFINITE } from '../../src/engine/fused/fused-constants.js';
import { FusedJsKernel } from '../../src/engine/fused/fused-js.js';
import { packFused } from '../../src/engine/fused/fused-pack.js';
import { fusedShape } from '../../src/engine/fused/fused-path.js';
import { buildFusedProblem } from '../../src/engine/fused/fused-problem.js';
import { dispatchFused } from '../../src/engine/fused/webgpu-program.js';
import { selectBackend } from '../../src/engine/select-backend.js';
import { loadTfjs } from '../../src/engine/tfjs/load-tfjs.js';
import { createTfjsBackend, pointError, type TfjsBackend, type TfjsBackendOptions } from '../../src/engine/tfjs/tfjs-backend.js';
import { python, relaxmap, ROOT } from '../helpers/cli.js';
import { WEBGPU_TESTS } from '../helpers/tfjs-backends.js';
import { textSink } from '../helpers/text-sink.js';

const TOL = 1e-5;

function specJob(file: string, edit: (text: string) => string = (t) => t): Job {
  const path = join(ROOT, 'sweeps', file);
  return createJob({ text: edit(readFileSync(path, 'utf8')), source: path, overrides: [] });
}

function textJob(text: string): Job {
  return createJob({ text, source: 'test-spec', overrides: [] });
}

/** The J-coupled 1H-1H-13C system from a singlet (r = 12; r = 10 under the inhomogeneous model). */
const HHC = (thermal: string, sweep: string, time: string): string => `version: 1
spins:
  - { id: h1, isotope: 1H }
  - { id: h2, isotope: 1H }
  - { id: c, isotope: 13C }
parameters: { T: 300, B0: 14.1, tau: 5e-11 }
hamiltonian:
  - { type: J, spins: [h1, h2], hz: 7 }
  - { type: J, spins: [h1, c], hz: 140 }
relaxation:
  - { type: dipolar, spins: [h1, h2], distance_m: 1.78e-10, tau_c: tau }
  - { type: dipolar, spins: [h1, c], distance_m: 1.09e-10, tau_c: tau }
  - { type: dipolar, spins: [h2, c], distance_m: 2.1e-10, tau_c: tau }
  - { type: csa, spin: c, delta_ppm: 50, eta: 0.2, tau_c: tau }
  - { type: random_field, spins: [h1, h2, c], rms_hz: 1500, tau_c: 60e-12, kappa: 0.3 }
thermalization: ${thermal}
initial: singlet(h1,h2)
observables:
  Hz: Iz(h1) + Iz(h2)
  Cz: Iz(c)
  singlet: singlet(h1,h2)
time: ${time}
sweep:
${sweep}
outputs: [rates, trajectories]
`;

/** Largest float32 error of `a` against the float64 `b` over all points. */
function worstError(a: ChunkResult, b: ChunkResult): number {
  let w = 0;
  for (let i = 0; i < a.shape.count; i++) {
    const e = pointError(a, i, b, i);
    w = Math.max(w, e.rate, e.trajectory);
  }
  return w;
}

/** Values of `key` that differ (Object.is) between two results. */
function differing(a: ChunkResult, b: ChunkResult, key: 'rates' | 'trajectories'): number {
  let n = 0;
  for (let k = 0; k < a[key].length; k++) if (!Object.is(a[key][k], b[key][k])) n++;
  return n;
}

describe.skipIf(!WEBGPU_TESTS)('tfjs-webgpu: the fused WGSL kernel (needs the Vulkan environment of .ci/run)', () => {
  const backends: TfjsBackend[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'relaxmap-webgpu-'));
  afterAll(async () => {
    for (const b of backends) await b.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const make = async (job: Job, prefer: 'webgpu' | 'cpu', options: TfjsBackendOptions = {}): Promise<TfjsBackend> => {
    const b = await createTfjsBackend(job, { prefer, load: { strict: true }, ...options });
    backends.push(b);
    expect(b.name).toBe(`tfjs-${prefer}`);
    return b;
  };

  it('maps points to threads both ways (r = 4, 10, 12) with the same float32 values as the JavaScript kernel, within tolerance of float64', async () => {
    // tolerances: the pair's float32 errors stay below 1e-5; the 1H-1H-13C Cz channel is the
    // regime where float32 runs out (2e-5 here), held to the contract (1e-4) by the estimate
    const cases: Array<{ job: Job; r: number; tol: number }> = [
      { job: specJob('paper-pair.yaml'), r: 4, tol: TOL },
      { job: textJob(HHC('inhomogeneous', '  T: { values: [3, 300] }', '{ stop: 30, points: 9 }')), r: 10, tol: 1e-4 },
      { job: textJob(HHC('rodin-abergel', '  T: { values: [3, 300] }', '{ log: [1e-3, 100], points: 5 }')), r: 12, tol: 1e-4 },
    ];
    for (const { job, r, tol } of cases) {
      expect(job.compiled[0]?.r).toBe(r);
      const chunk: Chunk = { id: 0, variant: 0, start: 0, count: job.grid.pointsPerVariant };
      const ref = await new InlineBackend(job).evaluate(chunk);
      const js = await (await make(job, 'cpu')).evaluate(chunk);
      for (const layout of ['thread', 'group'] as const) {
        const tb = await make(job, 'webgpu', { kernel: 'fused', layout });
        const a = await tb.evaluate(chunk);
        expect(tb.stats().device?.kernels, `r=${r} ${layout}`).toEqual(['fused-wgsl']);
        expect(worstError(a, ref), `r=${r} ${layout}`).toBeLessThan(tol);
        // SwiftShader rounds like IEEE float32 without fused multiply-adds: the values are the
        // JavaScript kernel's bit for bit (on a GPU that contracts a*b+c they would differ by ulps)
        expect(differing(a, js, 'rates'), `r=${r} ${layout} rates`).toBe(0);
        expect(differing(a, js, 'trajectories'), `r=${r} ${layout} trajectories`).toBe(0);
      }
    }
  });

  it('confines NaN and infinity to their point: found from the bits on the device, neighbours unchanged', async () => {
    const job = specJob('paper-pair.yaml');
    const data = kernelData(job, 0);
    if (!data) throw new Error('fixed-basis expected');
    const clean = buildFusedProblem(data.cp, data.tables, job.grid, false, { wantRates: true, wantTrajectories: true });
    // one fully folded group: its matrix table has a row per point, so a value there touches one point
    expect(clean.groups).toHaveLength(1);
    const matrix = clean.tables[(clean.groups[0] as { matrix: number }).matrix];
    if (!matrix) throw new Error('no matrix table');
    const n = job.grid.pointsPerVariant;
    const rowOf = (p: number): number => {
      let s = matrix.offset;
      for (let d = 0; d < clean.dimLengths.length; d++) s += (Math.floor(p / (clean.gridStrides[d] as number)) % (clean.dimLengths[d] as number)) * (matrix.strides[d] as number);
      return s;
    };
    const dirty = { ...clean, data: clean.data.slice() };
    dirty.data[rowOf(17) + 2] = Number.NaN;
    dirty.data[rowOf(30) + 1] = Number.POSITIVE_INFINITY;
    const { tf } = await loadTfjs('webgpu', { strict: true });
    const run = async (fp: typeof clean): Promise<Float32Array> => {
      const p = packFused(fp);
      const ins = [tf.tensor1d(p.tabs, 'float32'), tf.tensor1d(p.meta, 'int32'), tf.tensor1d(p.parm, 'float32')] as const;
      const out = dispatchFused(tf, fusedShape(fp), ins, 0, n, fusedOutputLength(n, fp.nObs, fp.nTimes));
      try {
        return (await out.data()) as Float32Array;
      } finally {
        tf.dispose([...ins, out]);
      }
    };
    const [a, b] = [await run(clean), await run(dirty)];
    const va = fusedOutputViews(a, n, clean.nObs, clean.nTimes);
    const vb = fusedOutputViews(b, n, clean.nObs, clean.nTimes);
    const per = clean.nObs * clean.nTimes;
    for (let p = 0; p < n; p++) {
      const bad = p === 17 || p === 30;
      expect(vb.status[p], `status ${p}`).toBe(bad ? STATUS_NONFINITE : 0);
      if (bad) {
        expect(vb.estimate[p]).toBe(Number.POSITIVE_INFINITY);
        expect(Array.from(vb.trajectories.subarray(p * per, (p + 1) * per)).some((v) => !Number.isFinite(v))).toBe(true);
      } else {
        expect(Array.from(vb.trajectories.subarray(p * per, (p + 1) * per)), `point ${p}`).toEqual(Array.from(va.trajectories.subarray(p * per, (p + 1) * per)));
        expect(vb.estimate[p]).toBe(va.estimate[p]);
      }
    }
    // the JavaScript kernel agrees on which points are bad
    const js = fusedOutputViews(new Float32Array(fusedOutputLength(n, dirty.nObs, dirty.nTimes)), n, dirty.nObs, dirty.nTimes);
    new FusedJsKernel(dirty).run(0, n, js);
    expect(Array.from(js.status)).toEqual(Array.from(vb.status));
  });

  it('recomputes only the one point in 64 whose float32 values overflow', async () => {
    const values = Array.from({ length: 64 }, (_, k) => (k === 41 ? 1e25 : 20000 + 500 * k));
    const job = specJob('paper-pair.yaml', (t) =>
      t
        .replace('b_hz: 35000', 'b_hz: b')
        .replace('kappa: 0        # inter-spin correlation of the random field', 'kappa: 0.2\n  b: 35000')
        .replace(/^sweep:\n(?:  .*\n)+/m, `sweep:\n  b: { values: [${values.join(', ')}] }\n`),
    );
    expect(job.grid.pointsPerVariant).toBe(64);
    const tb = await make(job, 'webgpu');
    const chunk: Chunk = { id: 0, variant: 0, start: 0, count: 64 };
    const a = await tb.evaluate(chunk);
    const ref = await new InlineBackend(job).evaluate(chunk);
    for (let i = 0; i < 64; i++) expect((a.flags[i] as number) & FLAG_RECOMPUTED_F64, `point ${i}`).toBe(i === 41 ? FLAG_RECOMPUTED_F64 : 0);
    expect(tb.stats()).toMatchObject({ precisionRecomputed: 1, points: 64 });
    expect(tb.stats().device?.precision_routed).toBe(1);
    // the recomputed point is float64's exactly, the others float32 within tolerance
    expect(a.rates[41 * 2]).toBe(ref.rates[41 * 2]);
    expect(Math.max(...Array.from(a.rates))).toBeGreaterThan(1e38);
    expect(worstError(a, ref)).toBeLessThan(TOL);
  });

  it('finishes device batches in worker threads (float64 side outputs, contract) exactly as in the main thread', async () => {
    const job = specJob('paper-pair.yaml', (t) => t.replace(/^thermalization: .*$/m, 'thermalization: [rodin-abergel, inhomogeneous]'));
    const here = await make(job, 'webgpu', { finishers: 0 });
    const pool = await make(job, 'webgpu', { finishers: 1, deviceBatch: 64 });
    const chunks: Chunk[] = [0, 1].flatMap((variant) => [0, 24].map((start) => ({ id: 2 * variant + start, variant, start, count: 24 })));
    const a = await Promise.all(chunks.map((c) => here.evaluate(c)));
    const b = await Promise.all(chunks.map((c) => pool.evaluate(c)));
    chunks.forEach((c, k) => {
      const x = a[k] as ChunkResult;
      const y = b[k] as ChunkResult;
      let differ = 0;
      for (let q = 0; q < x.buffer.length; q++) if (!Object.is(x.buffer[q], y.buffer[q])) differ++;
      expect(differ, `chunk ${c.id}`).toBe(0);
    });
    expect(pool.stats().precisionChecked).toBe(here.stats().precisionChecked);
    // two chunks of a variant are contiguous: one device batch each variant
    expect(pool.stats().device?.device_batches).toBe(2);
  });

  it('leaks no tensors and no GPU memory over chunks of several variants and time grids', async () => {
    const job = specJob('bench-pair-map.yaml');
    const uneven = specJob('paper-pair.yaml', (t) => t.replace(/^time: .*$/m, 'time: { values: [0, 1, 3, 7, 15] }').replace(/^thermalization: .*$/m, 'thermalization: [rodin-abergel, inhomogeneous]'));
    const tb = await make(job, 'webgpu', { deviceBatch: 700 });
    const tu = await make(uneven, 'webgpu');
    await tb.evaluate({ id: 0, variant: 0, start: 0, count: 64 });
    await tu.evaluate({ id: 0, variant: 0, start: 0, count: 8 });
    await tu.evaluate({ id: 1, variant: 1, start: 0, count: 8 });
    const tf = tb.tfjs.tf;
    const before = tf.memory() as { numTensors: number; numBytesInGPU?: number };
    for (let k = 0; k < 3; k++) await Promise.all([0, 1, 2].map((j) => tb.evaluate({ id: k, variant: 0, start: 5000 * k + 600 * j, count: 600 })));
    for (let k = 0; k < 3; k++) await tu.evaluate({ id: k, variant: k % 2, start: 10 * k, count: 10 });
    const after = tf.memory() as { numTensors: number; numBytesInGPU?: number };
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytesInGPU).toBe(before.numBytesInGPU);
  });

  it('never takes a CPU adapter for a GPU: auto passes SwiftShader over and records why', async () => {
    const auto = await loadTfjs('auto');
    expect(auto.adapter?.cpu).toBe(true);
    expect(auto.adapter?.architecture).toBe('swiftshader');
    expect(auto.backend).not.toBe('webgpu');
    expect(auto.tried.find((t) => t.backend === 'webgpu')?.error).toMatch(/CPU implementation \(google swiftshader/);
    // a sweep large enough for auto to probe for a GPU stays on the float64 kernel
    const job = specJob('paper-pair.yaml');
    const sel = await selectBackend(job, 300_000, { backend: 'auto', workers: 1 });
    await sel.backend.close();
    expect(sel.backend.precision).toBe('float64');
    expect(sel.adapter).toMatchObject({ vendor: 'google', architecture: 'swiftshader', cpu: true });
    const passed = sel.candidates.find((c) => c.backend === 'tfjs-webgpu');
    expect(passed).toMatchObject({ chosen: false });
    expect(passed?.reason).toMatch(/CPU implementation/);
  });

  it('runs bench-pair-map (reduced) through relaxmap run with --tfjs webgpu: inline within the contract, at most 4 dispatches and 2 readbacks per chunk', { timeout: 180_000 }, async () => {
    const spec = join(dir, 'pair-map.yaml');
    writeFileSync(
      spec,
      readFileSync(join(ROOT, 'sweeps', 'bench-pair-map.yaml'), 'utf8')
        .replace('T: { log: [0.01, 300], points: 64 }', 'T: { log: [0.01, 300], points: 8 }')
        .replace('B0: { lin: [0.5, 28.2], points: 64 }', 'B0: { lin: [0.5, 28.2], points: 4 }'),
    );
    const gpuOut = join(dir, 'gpu');
    const cpuOut = join(dir, 'inline');
    const g = await relaxmap(['run', spec, '--out', gpuOut, '--backend', 'tfjs', '--tfjs', 'webgpu', '--chunk-size', '64', '--quiet']);
    expect(g.stderr).toBe('');
    expect(g.code).toBe(0);
    const c = await relaxmap(['run', spec, '--out', cpuOut, '--backend', 'inline', '--chunk-size', '64', '--quiet']);
    expect(c.code).toBe(0);
    const run = JSON.parse(readFileSync(join(gpuOut, 'run.json'), 'utf8')) as {
      backend: { name: string; adapter: { architecture: string } | null; stats: { kernels: string[]; device_dispatches: number; device_readbacks: number; device_batches: number; chunk_times: unknown[] } };
      chunks: { count: number };
      precision: { recomputed: number };
    };
    expect(run.backend.name).toBe('tfjs-webgpu');
    expect(run.backend.adapter?.architecture).toBe('swiftshader');
    expect(run.backend.stats.kernels).toEqual(['fused-wgsl']);
    const chunks = run.chunks.count;
    expect(chunks).toBe(8);
    expect(run.backend.stats.device_dispatches).toBeLessThanOrEqual(4 * chunks);
    expect(run.backend.stats.device_readbacks).toBeLessThanOrEqual(2 * chunks);
    // device batches span several checkpoint chunks
    expect(run.backend.stats.device_batches).toBeLessThan(chunks);
    expect(run.backend.stats.chunk_times).toHaveLength(chunks);
    expect(run.precision.recomputed).toBe(0);
    const cmp = await python<{ rate: number; traj: number; points: number }>(`
import json, numpy as np, xarray as xr
a = xr.open_dataset(${JSON.stringify(join(gpuOut, 'surfaces.nc'))}); b = xr.open_dataset(${JSON.stringify(join(cpuOut, 'surfaces.nc'))})
ta = xr.open_dataset(${JSON.stringify(join(gpuOut, 'trajectories.nc'))}); tb = xr.open_dataset(${JSON.stringify(join(cpuOut, 'trajectories.nc'))})
rate = max(float(np.max(np.abs(a[v].values - b[v].values) / np.abs(b[v].values))) for v in ['rate_Mz', 'rate_IS'])
x = ta['traj_Mz'].values; y = tb['traj_Mz'].values
scale = np.max(np.abs(y), axis=-1, keepdims=True)
traj = float(np.max(np.abs(x - y) / scale))
print(json.dumps({'rate': rate, 'traj': traj, 'points': int(a['rate_Mz'].size)}))
`);
    expect(cmp.points).toBe(512);
    expect(cmp.rate).toBeLessThan(1e-4);
    expect(cmp.traj).toBeLessThan(1e-4);
    expect(cmp.traj).toBeGreaterThan(0);
  });

  it('exits 2 when --tfjs webgpu cannot be honoured, and plan --json records the adapter and what was passed over', { timeout: 180_000 }, async () => {
    const spec = join(ROOT, 'sweeps', 'paper-pair.yaml');
    const saved = process.env.VK_ICD_FILENAMES;
    process.env.VK_ICD_FILENAMES = join(dir, 'no-such-driver.json');
    let r;
    try {
      r = await relaxmap(['run', spec, '--out', join(dir, 'none'), '--backend', 'tfjs', '--tfjs', 'webgpu', '--quiet']);
    } finally {
      process.env.VK_ICD_FILENAMES = saved;
    }
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--tfjs webgpu cannot be honoured: .*(no GPU adapter|Vulkan)/);
    expect(existsSync(join(dir, 'none')), 'nothing left behind').toBe(false);
    // plan in this process (the adapter is there): what it prints with --json
    const planJson = async (args: PlanCommandOptions): Promise<Record<string, unknown>> => {
      const sink = textSink();
      await planCommand(spec, { json: true, ...args }, sink.stream);
      return JSON.parse(sink.text().trim()) as Record<string, unknown>;
    };
    const plan = (await planJson({ backend: 'tfjs', tfjs: 'webgpu' })) as { backend: { name: string; adapter: { vendor: string; architecture: string; description: string; cpu: boolean }; candidates: Array<{ backend: string; chosen: boolean }> } };
    expect(plan.backend.name).toBe('tfjs-webgpu');
    expect(plan.backend.adapter).toMatchObject({ vendor: 'google', architecture: 'swiftshader', cpu: true });
    expect(plan.backend.adapter.description).toMatch(/SwiftShader/);
    expect(plan.backend.candidates.find((c) => c.chosen)?.backend).toBe('tfjs-webgpu');
    const autoPlan = (await planJson({ backend: 'auto' })) as { backend: { candidates: Array<{ backend: string; chosen: boolean; reason: string }> } };
    expect(autoPlan.backend.candidates.find((c) => c.backend === 'tfjs')?.reason).toMatch(/below the 200000/);
  });
});
