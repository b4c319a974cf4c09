import { CMatrix, add, mul, scale, sub } from '../math/cmatrix.js';
import type { SpinSystem } from '../spin/spin-system.js';

/**
 * Spin parts of the relaxation couplings as irreducible tensor components T_{l mu}
 * (docs/physics-conventions.md). Returned as a map mu -> operator.
 */
export type TensorComponents = ReadonlyMap<number, CMatrix>;

/**
 * Bilinear rank-2 tensor of spins i and j with the standard normalisation:
 * T2(+-2) = 1/2 I+- S+-, T2(+-1) = -+1/2 (I+- Sz + Iz S+-), T20 = (4 Iz Sz - I+ S- - I- S+)/(2 sqrt 6).
 */
export function bilinearRank2(system: SpinSystem, i: number, j: number): TensorComponents {
  const ip = system.op(i, 'p');
  const im = system.op(i, 'm');
  const iz = system.op(i, 'z');
  const sp = system.op(j, 'p');
  const sm = system.op(j, 'm');
  const sz = system.op(j, 'z');
  const t = new Map<number, CMatrix>();
  t.set(2, scale(mul(ip, sp), 0.5));
  t.set(1, scale(add(mul(ip, sz), mul(iz, sp)), -0.5));
  t.set(0, scale(sub(sub(scale(mul(iz, sz), 4), mul(ip, sm)), mul(im, sp)), 1 / (2 * Math.sqrt(6))));
  t.set(-1, scale(add(mul(im, sz), mul(iz, sm)), 0.5));
  t.set(-2, scale(mul(im, sm), 0.5));
  return t;
}

/**
 * Rank-2 tensor of spin i with the static field along z (the CSA spin part): the bilinear
 * form above with the second spin replaced by the unit vector z:
 * T2(+-1) = -+1/2 I+-, T20 = 2 Iz / sqrt 6, T2(+-2) = 0.
 */
export function fieldRank2(system: SpinSystem, i: number): TensorComponents {
  const t = new Map<number, CMatrix>();
  t.set(1, scale(system.op(i, 'p'), -0.5));
  t.set(0, scale(system.op(i, 'z'), 2 / Math.sqrt(6)));
  t.set(-1, scale(system.op(i, 'm'), 0.5));
  return t;
}

/** Rank-1 tensor of spin i: T1(+-1) = -+ I+- / sqrt 2, T10 = Iz. */
export function rank1(system: SpinSystem, i: number): TensorComponents {
  const t = new Map<number, CMatrix>();
  t.set(1, scale(system.op(i, 'p'), -Math.SQRT1_2));
  t.set(0, system.op(i, 'z'));
  t.set(-1, scale(system.op(i, 'm'), Math.SQRT1_2));
  return t;
}
