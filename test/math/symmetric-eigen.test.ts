/**
 * Householder + implicit QL with probe vectors, against ml-matrix's symmetric eigen-decomposition
 * (an independent implementation) and against the identity A = U diag(lambda) U^T, with the
 * identity matrix as probes (then U^T itself comes back).
 */
import { describe, expect, it } from 'vitest';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { symmetricEigen, SymmetricWorkspace } from '../../src/math/symmetric-eigen.js';
import { mulberry32 } from '../../src/math/mulberry32.js';

function randomSymmetric(n: number, rnd: () => number, graded = false): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      // graded: entries spanning many decades, as relaxation generators do
      const v = (2 * rnd() - 1) * (graded ? 10 ** (-8 * rnd()) : 1);
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  }
  return a;
}

describe('symmetric eigen-decomposition with probes', () => {
  for (const n of [1, 2, 3, 5, 12, 28, 64]) {
    it(`n = ${n}: A = U diag(lambda) U^T and U^T U = I to 1e-13, eigenvalues = ml-matrix's`, () => {
      const rnd = mulberry32(n);
      for (const graded of [false, true]) {
        const a = randomSymmetric(n, rnd, graded);
        let big = 0;
        for (const x of a) big = Math.max(big, Math.abs(x));
        const ws = new SymmetricWorkspace(n);
        const lambda = new Float64Array(n);
        const probes = new Float64Array(n * n);
        for (let i = 0; i < n; i++) probes[i * n + i] = 1;
        expect(symmetricEigen(a, n, ws, lambda, probes, n)).toBe(true);
        // probes[q][k] = (U^T e_q)_k = U[q][k]
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            let s = 0;
            let o = 0;
            for (let k = 0; k < n; k++) {
              s += probes[i * n + k]! * lambda[k]! * probes[j * n + k]!;
              o += probes[k * n + i]! * probes[k * n + j]!;
            }
            expect(Math.abs(s - a[i * n + j]!)).toBeLessThan(1e-13 * n * big);
            expect(Math.abs(o - (i === j ? 1 : 0))).toBeLessThan(1e-13 * n);
          }
        }
        const ref = new EigenvalueDecomposition(new Matrix(Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, i * n + n)))), { assumeSymmetric: true });
        const rv = [...ref.realEigenvalues].sort((x, y) => x - y);
        rv.forEach((x, k) => expect(Math.abs(lambda[k]! - x)).toBeLessThan(1e-13 * n * big));
        for (let k = 1; k < n; k++) expect(lambda[k]!).toBeGreaterThanOrEqual(lambda[k - 1]!);
      }
    });
  }
  it('a few probes give U^T y for those vectors only; only the lower triangle is read', () => {
    const n = 20;
    const rnd = mulberry32(99);
    const a = randomSymmetric(n, rnd);
    const y = new Float64Array(2 * n).map(() => 2 * rnd() - 1);
    const full = new Float64Array(n * n);
    for (let i = 0; i < n; i++) full[i * n + i] = 1;
    const ws = new SymmetricWorkspace(n);
    const l1 = new Float64Array(n);
    symmetricEigen(a, n, ws, l1, full, n);
    const upperGarbage = a.slice();
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) upperGarbage[i * n + j] = NaN;
    const l2 = new Float64Array(n);
    const p = y.slice();
    symmetricEigen(upperGarbage, n, ws, l2, p, 2);
    expect(Array.from(l2)).toEqual(Array.from(l1));
    for (let q = 0; q < 2; q++) {
      for (let k = 0; k < n; k++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += full[i * n + k]! * y[q * n + i]!;
        expect(Math.abs(p[q * n + k]! - s)).toBeLessThan(1e-13);
      }
    }
  });
  it('a non-finite matrix fails instead of looping', () => {
    const n = 4;
    const a = new Float64Array(n * n).fill(1);
    a[5] = NaN;
    const ws = new SymmetricWorkspace(n);
    expect(symmetricEigen(a, n, ws, new Float64Array(n), new Float64Array(n), 1)).toBe(false);
  });
});
