import { CMatrix, kron, mul } from '../math/cmatrix.js';
import { multiplicity, singleSpinOperator, type Component } from './spin-operators.js';

export interface Spin {
  readonly id: string;
  /** Spin quantum number. */
  readonly spin: number;
  /** Gyromagnetic ratio, rad s^-1 T^-1. */
  readonly gamma: number;
  /** Isotope symbol, or undefined for an explicit spin/gamma. */
  readonly isotope?: string;
}

/**
 * N spins in the product Hilbert space; spin 0 is the leftmost Kronecker factor, so
 * for two spins 1/2 the basis is |aa>, |ab>, |ba>, |bb>.
 */
export class SpinSystem {
  readonly spins: readonly Spin[];
  readonly dims: readonly number[];
  /** Hilbert-space dimension. */
  readonly dim: number;
  private readonly cache = new Map<string, CMatrix>();

  constructor(spins: readonly Spin[]) {
    if (spins.length === 0) throw new Error('a spin system needs at least one spin');
    const ids = new Set<string>();
    for (const s of spins) {
      if (ids.has(s.id)) throw new Error(`duplicate spin id '${s.id}'`);
      ids.add(s.id);
    }
    this.spins = spins;
    this.dims = spins.map((s) => multiplicity(s.spin));
    this.dim = this.dims.reduce((a, b) => a * b, 1);
  }

  indexOf(id: string): number {
    const i = this.spins.findIndex((s) => s.id === id);
    if (i < 0) throw new Error(`unknown spin '${id}' (known: ${this.spins.map((s) => s.id).join(', ')})`);
    return i;
  }

  spin(i: number): Spin {
    const s = this.spins[i];
    if (!s) throw new Error(`spin index ${i} out of range`);
    return s;
  }

  /** Single-spin operator of spin i embedded in the full space. */
  op(i: number, c: Component): CMatrix {
    const key = `${i}:${c}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    let out: CMatrix | undefined;
    this.spins.forEach((s, k) => {
      const f = k === i ? singleSpinOperator(s.spin, c) : singleSpinOperator(s.spin, 'e');
      out = out ? kron(out, f) : f;
    });
    if (!out) throw new Error('empty spin system');
    this.cache.set(key, out);
    return out;
  }

  /**
   * op(i, a) op(j, b). For two different spins this is the Kronecker product with both
   * factors in place, built directly: the same entries as the dense product (each has one
   * non-zero term), for O(d) work instead of O(d^3) (the rank-2 couplings of an electron and
   * three 1H take 60 such products per job).
   */
  product(i: number, a: Component, j: number, b: Component): CMatrix {
    if (i === j) return mul(this.op(i, a), this.op(j, b));
    let out: CMatrix | undefined;
    for (let k = 0; k < this.spins.length; k++) {
      const s = this.spins[k] as Spin;
      const f = singleSpinOperator(s.spin, k === i ? a : k === j ? b : 'e');
      out = out ? kron(out, f) : f;
    }
    if (!out) throw new Error('empty spin system');
    return out;
  }

  identity(): CMatrix {
    return CMatrix.identity(this.dim);
  }

  /** True when every spin has the same gyromagnetic ratio (a homonuclear system). */
  isHomonuclear(): boolean {
    const g = this.spins[0]?.gamma;
    return this.spins.every((s) => s.gamma === g);
  }
}
