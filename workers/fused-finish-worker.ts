/**
 * Worker-thread entry of the fused kernel's finisher pool (src/engine/fused/finisher-pool.ts):
 * one chunk's float32 rows in, its float64 chunk result (side outputs, precision contract
 * applied) out, both as transferred buffers. The float64 kernels come from each variant's
 * compiled problem and coefficient tables, sent once per worker.
 */
import { workerData } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { chunkLength, chunkViews, type ChunkShape, type Want } from '../src/engine/chunk.js';
import { F64Kernel } from '../src/engine/f64-kernel.js';
import { FINISH_TAIL, type FinishTask } from '../src/engine/fused/finisher-pool.js';
import { fusedOutputViews } from '../src/engine/fused/fused-constants.js';
import { finishFusedChunk, type FinishKernels } from '../src/engine/fused/fused-path.js';
import type { KernelData } from '../src/engine/job.js';

interface FinisherSetup {
  readonly want: Want;
  readonly lean: ReadonlyArray<KernelData | undefined>;
  readonly shape: Omit<ChunkShape, 'count'>;
}

const setup = workerData as FinisherSetup;
const kernels = new Map<number, FinishKernels>();

function kernelsOf(variant: number): FinishKernels {
  let k = kernels.get(variant);
  if (k) return k;
  const lean = setup.lean[variant];
  if (!lean) throw new Error(`variant ${variant} has no fixed basis: nothing for the fused kernel to finish`);
  k = {
    nObs: lean.cp.nObs,
    wantRates: setup.want.rates,
    side: new F64Kernel(lean.cp, lean.tables, { rates: false, modes: setup.want.modes, trajectories: false }, lean.sym),
    full: new F64Kernel(lean.cp, lean.tables, setup.want, lean.sym),
  };
  kernels.set(variant, k);
  return k;
}

export default function finish(task: FinishTask): unknown {
  const t0 = performance.now();
  const k = kernelsOf(task.variant);
  const shape = { ...setup.shape, count: task.count };
  const len = chunkLength(shape);
  // the chunk result, then the contract's outcome (FINISH_TAIL values): one transferable
  const all = new Float64Array(len + FINISH_TAIL);
  const out = chunkViews(shape, all.subarray(0, len));
  const views = fusedOutputViews(new Float32Array(task.f32), task.count, k.nObs, setup.shape.nTimes);
  const o = finishFusedChunk(k, { id: 0, variant: task.variant, start: task.start, count: task.count }, views, 0, out, task.tolerance, task.sampleFraction);
  all.set([o.checked, o.recomputed, o.routed, o.maxError, o.wholeChunk ? 1 : 0, (performance.now() - t0) / 1000], len);
  return Piscina.move(all.buffer as ArrayBuffer);
}
