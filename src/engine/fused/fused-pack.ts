/**
 * A FusedProblem packed into the three arrays the WGSL kernel reads: `tabs` (every table,
 * float32), `meta` (int32: a fixed header of counts and offsets, then the grid, the table
 * descriptors, the groups, the element pattern and the time plan) and `parm` (float32:
 * observables, fixed initial state, time steps). The header positions are constants of the
 * kernel source (fused-wgsl.ts); everything else is data, so one compiled kernel serves
 * every variant of the same shape.
 */
import { ESTIMATE_GAMMA, F32_U } from './fused-constants.js';
import type { FusedProblem } from './fused-problem.js';

/**
 * The estimate's perturbation relative to |G|abs: ESTIMATE_GAMMA u sqrt(number of groups),
 * as float32 (both kernels read this one value). A generator entry summed from n group
 * terms in float32 carries about sqrt(n) roundings of their absolute size.
 */
export function perturbationSize(fp: FusedProblem): number {
  return Math.fround(ESTIMATE_GAMMA * F32_U * Math.max(1, fp.groups.length) ** (2 / 3));
}

/** Header slots of `meta`. */
export const H = {
  nDims: 0,
  /** Offset of [nDims] dimension lengths, then [nDims] grid strides. */
  dims: 1,
  /** Offset of the table descriptors: per table [offset, stride_0 .. stride_{nDims-1}]. */
  tables: 2,
  nGroups: 3,
  /** Offset of the groups: per group [factor0, factor1, factor2, matrix, rates]. */
  groups: 4,
  /** Elements per group matrix (the union pattern of every group). */
  nnz: 5,
  /** Offset of the [nnz] element indices i * r + j. */
  pattern: 6,
  /** Initial state: table id, or -1 for the fixed state in parm. */
  initial: 7,
  /** Equilibrium-state table id (inhomogeneous model) or -1. */
  equilibrium: 8,
  /** 0: no trajectories; 1: uniform grid; 2: one exponential per interval. */
  timeKind: 9,
  nTimes: 10,
  /** Uniform grid: states per block (m) and blocks (nq). */
  m: 11,
  nq: 12,
  /** Offset of stepOf [nTimes] (timeKind 2). */
  stepOf: 13,
  /** 1 when projection rates are wanted. */
  wantRates: 14,
} as const;
export const HEADER_SLOTS = 16;

/** Positions in `parm`. */
export const PARM = {
  sqrtD: 0,
  /** Uniform time step. */
  dt: 1,
  /** Relative size of the estimate's perturbation: ESTIMATE_GAMMA u sqrt(groups), in float32. */
  gamma: 2,
  /** [nObs][r] observables, then [r] fixed initial state, then [nSteps] intervals. */
  observables: 4,
} as const;

export interface PackedFused {
  readonly tabs: Float32Array;
  readonly meta: Int32Array;
  readonly parm: Float32Array;
}

export function packFused(fp: FusedProblem): PackedFused {
  const nDims = fp.dimLengths.length;
  const meta: number[] = new Array<number>(HEADER_SLOTS).fill(0);
  const set = (slot: number, v: number): void => {
    meta[slot] = v;
  };
  set(H.nDims, nDims);
  set(H.dims, meta.length);
  meta.push(...fp.dimLengths, ...fp.gridStrides);
  set(H.tables, meta.length);
  for (const t of fp.tables) meta.push(t.offset, ...t.strides);
  set(H.nGroups, fp.groups.length);
  set(H.groups, meta.length);
  for (const g of fp.groups) meta.push(g.factors[0], g.factors[1], g.factors[2], g.matrix, g.rates);
  set(H.nnz, fp.pattern.length);
  set(H.pattern, meta.length);
  meta.push(...fp.pattern);
  set(H.initial, fp.initial.kind === 'table' ? fp.initial.table : -1);
  set(H.equilibrium, fp.equilibrium);
  set(H.nTimes, fp.nTimes);
  set(H.wantRates, fp.wantRates ? 1 : 0);
  const parm: number[] = [fp.sqrtD, 0, perturbationSize(fp), 0, ...fp.observables];
  parm.push(...(fp.initial.kind === 'fixed' ? fp.initial.values : new Float32Array(fp.r)));
  const time = fp.time;
  if (time.kind === 'uniform') {
    set(H.timeKind, 1);
    set(H.m, time.m);
    set(H.nq, time.nq);
    parm[PARM.dt] = time.dt;
  } else if (time.kind === 'steps') {
    set(H.timeKind, 2);
    set(H.stepOf, meta.length);
    meta.push(...time.stepOf);
    parm.push(...time.steps);
  }
  if (meta.some((v) => !Number.isInteger(v) || v > 2 ** 31 - 1 || v < -(2 ** 31))) throw new Error('fused problem: an index does not fit int32');
  return { tabs: fp.data, meta: Int32Array.from(meta), parm: Float32Array.from(parm) };
}

/** Offset in `parm` of the fixed initial state and of the time steps. */
export function parmOffsets(r: number, nObs: number): { initial: number; steps: number } {
  const initial = PARM.observables + nObs * r;
  return { initial, steps: initial + r };
}
