import { CMatrix, add, scale, sub } from '../math/cmatrix.js';
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
  // products of operators of spins i and j (Kronecker products when i != j: SpinSystem.product)
  const t = new Map<number, CMatrix>();
  t.set(2, scale(system.product(i, 'p', j, 'p'), 0.5));
  t.set(1, scale(add(system.product(i, 'p', j, 'z'), system.product(i, 'z', j, 'p')), -0.5));
  t.set(0, scale(sub(sub(scale(system.product(i, 'z', j, 'z'), 4), system.product(i, 'p', j, 'm')), system.product(i, 'm', j, 'p')), 1 / (2 * Math.sqrt(6))));
  t.set(-1, scale(add(system.product(i, 'm', j, 'z'), system.product(i, 'z', j, 'm')), 0.5));
  t.set(-2, scale(system.product(i, 'm', j, 'm'), 0.5));
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
