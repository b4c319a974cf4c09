/**
 * The sparse product-basis construction of the relaxation forms against the dense one
 * (operator products in Hilbert space, projected on every basis element): both Pauli strings
 * (spins 1/2) and the structure-constant path (spin 1, spin 3/2), with random dense operators
 * so that every product of basis elements is exercised.
 */
import { describe, expect, it } from 'vitest';
import { CMatrix } from '../../src/math/cmatrix.js';
import { OperatorBasis } from '../../src/liouville/operator-basis.js';
import { expand, ProductAlgebra, Triplets } from '../../src/liouville/product-algebra.js';
import { SparseMatrix } from '../../src/liouville/sparse-matrix.js';
import { relaxationForms } from '../../src/liouville/superoperators.js';
import { SpinSystem } from '../../src/spin/spin-system.js';
import { mulberry32 } from '../../src/math/mulberry32.js';

/** Uniform in [-0.5, 0.5). */
function rng(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() - 0.5;
}

const SYSTEMS: Record<string, Array<{ id: string; spin: number; gamma: number }>> = {
  'two spins 1/2': [
    { id: 'a', spin: 0.5, gamma: 1 },
    { id: 'b', spin: 0.5, gamma: 1 },
  ],
  'three spins 1/2': [
    { id: 'a', spin: 0.5, gamma: 1 },
    { id: 'b', spin: 0.5, gamma: 2 },
    { id: 'c', spin: 0.5, gamma: 3 },
  ],
  'spin 1 and spin 1/2': [
    { id: 'd', spin: 1, gamma: 1 },
    { id: 'h', spin: 0.5, gamma: 2 },
  ],
  'spin 3/2': [{ id: 'q', spin: 1.5, gamma: 1 }],
};

describe('product-basis algebra', () => {
  for (const [name, spins] of Object.entries(SYSTEMS)) {
    it(`${name}: [A, [B, .]] and [A, {B, .}] equal the dense construction to 1e-14`, () => {
      const system = new SpinSystem(spins);
      const basis = new OperatorBasis(system);
      const alg = new ProductAlgebra(system);
      const r = rng(11);
      const d = system.dim;
      const a = new CMatrix(d, d);
      const b = new CMatrix(d, d);
      for (let k = 0; k < d * d; k++) {
        a.re[k] = r();
        a.im[k] = r();
        b.re[k] = r();
        b.im[k] = r();
      }
      const dense = relaxationForms(basis, a, b);
      const sparse = alg.relaxationForms(expand(basis, a), expand(basis, b), 0);
      const n = basis.size;
      let big = 0;
      for (const v of dense.dc) big = Math.max(big, Math.abs(v));
      for (const [want, got] of [
        [dense.dc, sparse.dc.toDense()],
        [dense.thermal, sparse.thermal.toDense()],
      ] as const) {
        for (let k = 0; k < n * n; k++) expect(Math.abs((got[k] as number) - (want[k] as number))).toBeLessThan(1e-14 * big);
      }
    });
  }
  it('triplets: duplicates summed in order, columns sorted, relative drop', () => {
    const t = new Triplets();
    t.push(1, 2, 1);
    t.push(0, 1, 5);
    t.push(1, 0, 2);
    t.push(1, 2, 1e-20);
    t.push(0, 1, -5);
    t.push(2, 2, 3);
    const m = t.toSparse(3, 1e-14);
    expect(Array.from(m.rowPtr)).toEqual([0, 0, 2, 3]);
    expect(Array.from(m.col)).toEqual([0, 2, 2]);
    expect(Array.from(m.val)).toEqual([2, 1, 3]);
    expect(m).toBeInstanceOf(SparseMatrix);
  });
});
