/**
 * One variant on the fused kernel: the tables built and (on WebGPU) uploaded once, the
 * float64 kernels for what float32 does not do (Boltzmann values, modes and steady states,
 * recomputations), and the host side of a chunk once the kernel's output is back: copy,
 * side outputs, precision contract.
 */
import type { Tensor } from '@tensorflow/tfjs';
import { type Chunk, type ChunkResult, type Want } from '../chunk.js';
import { F64Kernel } from '../f64-kernel.js';
import type { Job, KernelData } from '../job.js';
import type { SweepGrid } from '../../sweep/grid.js';
import { enforceContract, ESTIMATE_FLOOR, ESTIMATE_MARGIN, type ContractOutcome } from '../tfjs/precision-contract.js';
import type { Tf } from '../tfjs/load-tfjs.js';
import { fusedOutputLength, fusedOutputViews, STATUS_NONFINITE, type FusedOutputViews } from './fused-constants.js';
import { FusedJsKernel } from './fused-js.js';
import { packFused } from './fused-pack.js';
import { buildFusedProblem, type FusedProblem } from './fused-problem.js';
import { chooseLayout, workgroupBytes, type FusedShape } from './fused-wgsl.js';
import { webgpuLimits } from './webgpu-program.js';

export interface FusedVariant {
  readonly kind: 'fused';
  readonly fp: FusedProblem;
  /** Float64 reference with the job's outputs: samples and recomputation. */
  readonly full: F64Kernel;
  /** Float64 side outputs: Boltzmann values, and modes / steady state when wanted. */
  readonly side: F64Kernel;
  readonly js: FusedJsKernel | undefined;
  readonly gpu: { readonly shape: FusedShape; readonly inputs: readonly [Tensor, Tensor, Tensor]; readonly uploadBytes: number } | undefined;
}

export interface FusedVariantOptions {
  /** 'webgpu': upload for the WGSL kernel; 'js': the JavaScript kernel. */
  readonly device: 'webgpu' | 'js';
  readonly layout?: 'thread' | 'group';
}

/** Rows row..row+count-1 of batch views as a compact buffer of their own (to hand to a worker). */
export function sliceViews(views: FusedOutputViews, row: number, count: number, nObs: number, nTimes: number): Float32Array {
  const buf = new Float32Array(fusedOutputLength(count, nObs, nTimes));
  const dst = fusedOutputViews(buf, count, nObs, nTimes);
  dst.rates.set(views.rates.subarray(row * nObs, (row + count) * nObs));
  dst.trajectories.set(views.trajectories.subarray(row * nObs * nTimes, (row + count) * nObs * nTimes));
  dst.estimate.set(views.estimate.subarray(row, row + count));
  dst.status.set(views.status.subarray(row, row + count));
  return buf;
}

/** Why the fused kernel cannot take a variant on this device, or undefined when it can. */
export function fusedUnsupported(tf: Tf, fp: FusedProblem, layout?: 'thread' | 'group'): string | undefined {
  const shape = fusedShape(fp, layout);
  const { workgroupBytes: limit, bindingBytes } = webgpuLimits(tf);
  const need = workgroupBytes(shape);
  if (need > limit) return `r = ${fp.r}: the workgroup layout needs ${need} bytes of workgroup memory, the device allows ${limit}`;
  if (fp.data.byteLength > bindingBytes) return `the tables take ${fp.data.byteLength} bytes, more than one storage binding (${bindingBytes})`;
  return undefined;
}

export function fusedShape(fp: FusedProblem, layout?: 'thread' | 'group'): FusedShape {
  return { r: fp.r, nObs: fp.nObs, nDims: fp.dimLengths.length, m: fp.time.kind === 'uniform' ? fp.time.m : 1, layout: chooseLayout(fp.r, layout) };
}

export function buildFused(tf: Tf | undefined, job: Job, data: KernelData, grid: SweepGrid, inhomogeneous: boolean, options: FusedVariantOptions): FusedVariant {
  const { cp, tables, sym } = data;
  const want = job.want;
  const fp = buildFusedProblem(cp, tables, grid, inhomogeneous, { wantRates: want.rates, wantTrajectories: want.trajectories });
  const sideWant: Want = { rates: false, modes: want.modes, trajectories: false };
  let gpu: FusedVariant['gpu'];
  if (options.device === 'webgpu') {
    if (!tf) throw new Error('webgpu fused path without tfjs');
    const p = packFused(fp);
    const inputs = [tf.tensor1d(p.tabs, 'float32'), tf.tensor1d(p.meta, 'int32'), tf.tensor1d(p.parm, 'float32')] as const;
    gpu = { shape: fusedShape(fp, options.layout), inputs, uploadBytes: p.tabs.byteLength + p.meta.byteLength + p.parm.byteLength };
  }
  return {
    kind: 'fused',
    fp,
    // the float64 side (modes, rechecks) is the batched kernel's own: same tables and symmetric form
    full: new F64Kernel(cp, tables, want, sym),
    side: new F64Kernel(cp, tables, sideWant, sym),
    js: options.device === 'js' ? new FusedJsKernel(fp) : undefined,
    gpu,
  };
}

export function disposeFused(v: FusedVariant): void {
  if (v.gpu) for (const t of v.gpu.inputs) t.dispose();
}

/** What finishing a chunk needs (in the main thread, or in a finisher worker). */
export interface FinishKernels {
  readonly nObs: number;
  readonly wantRates: boolean;
  readonly side: F64Kernel;
  readonly full: F64Kernel;
}

export function finishKernels(v: FusedVariant): FinishKernels {
  return { nObs: v.fp.nObs, wantRates: v.fp.wantRates, side: v.side, full: v.full };
}

/**
 * The host side of a chunk whose float32 results are rows `row`.. of `views`: side outputs
 * in float64 first (they write the flags and, on the rates-only path, zero the rates),
 * then the float32 values, then the precision contract.
 */
export function finishFusedChunk(v: FinishKernels, chunk: Chunk, views: FusedOutputViews, row: number, out: ChunkResult, tolerance: number, sampleFraction: number): ContractOutcome {
  const { count, start } = chunk;
  const { nObs } = v;
  const nT = out.shape.nTimes;
  v.side.run(start, count, out);
  if (v.wantRates) out.rates.set(views.rates.subarray(row * nObs, (row + count) * nObs));
  if (nT > 0) out.trajectories.set(views.trajectories.subarray(row * nObs * nT, (row + count) * nObs * nT));
  const limit = Math.max(tolerance, ESTIMATE_FLOOR) / ESTIMATE_MARGIN;
  const bad = new Set<number>();
  let stiffest = -1;
  let top = -1;
  for (let i = 0; i < count; i++) {
    const est = views.estimate[row + i] as number;
    if ((views.status[row + i] as number) & STATUS_NONFINITE || !(est <= limit)) bad.add(i);
    else if (est > top) {
      // the point closest to its limit joins the sample
      top = est;
      stiffest = i;
    }
  }
  return enforceContract(out, start, count, bad, v.full, tolerance, sampleFraction, stiffest);
}
