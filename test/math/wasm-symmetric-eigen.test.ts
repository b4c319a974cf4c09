/**
 * The WebAssembly symmetric eigensolver (wasm/symmetric-eigen.ts) against the identity
 * A = U diag(lambda) U^T with the identity as probes, against ml-matrix's eigenvalues (an
 * independent implementation), and the embedded binary against its source.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { WasmSymmetricEigen } from '../../src/math/wasm-symmetric-eigen.js';
import { SYMMETRIC_EIGEN_WASM_SOURCE_SHA256 } from '../../src/math/wasm-symmetric-eigen-binary.js';
import { mulberry32 } from '../../src/math/mulberry32.js';

describe('WebAssembly symmetric eigen-decomposition with probes', () => {
  it('the embedded binary was built from the current source (npm run build:wasm)', () => {
    const sha = createHash('sha256').update(readFileSync(new URL('../../wasm/symmetric-eigen.ts', import.meta.url))).digest('hex');
    expect(sha).toBe(SYMMETRIC_EIGEN_WASM_SOURCE_SHA256);
  });

  for (const n of [1, 2, 3, 5, 12, 28, 33, 86]) {
    it(`n = ${n}: A = U diag(lambda) U^T and U^T U = I to 1e-13, eigenvalues ascending = ml-matrix's`, () => {
      const rnd = mulberry32(100 + n);
      const ws = WasmSymmetricEigen.create(n, 2 * n * n + n);
      expect(ws).toBeDefined();
      const solver = ws as WasmSymmetricEigen;
      const a = solver.alloc(n * n);
      const probes = solver.alloc(n * n);
      const lambda = solver.alloc(n);
      for (const graded of [false, true]) {
        for (let i = 0; i < n; i++) {
          for (let j = 0; j <= i; j++) {
            const v = (2 * rnd() - 1) * (graded ? 10 ** (-8 * rnd()) : 1);
            a[i * n + j] = v;
            a[j * n + i] = v;
          }
        }
        const copy = a.slice();
        let big = 0;
        for (const x of a) big = Math.max(big, Math.abs(x));
        probes.fill(0);
        for (let i = 0; i < n; i++) probes[i * n + i] = 1;
        expect(solver.solve(a, n, lambda, probes, n)).toBe(true);
        expect(Array.from(a)).toEqual(Array.from(copy));
        for (let k = 1; k < n; k++) expect(lambda[k]!).toBeGreaterThanOrEqual(lambda[k - 1]!);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            let s = 0;
            let o = 0;
            for (let k = 0; k < n; k++) {
              s += probes[i * n + k]! * lambda[k]! * probes[j * n + k]!;
              o += probes[k * n + i]! * probes[k * n + j]!;
            }
            expect(Math.abs(s - copy[i * n + j]!)).toBeLessThan(1e-13 * n * big);
            expect(Math.abs(o - (i === j ? 1 : 0))).toBeLessThan(1e-13 * n);
          }
        }
        const ref = new EigenvalueDecomposition(new Matrix(Array.from({ length: n }, (_, i) => Array.from(copy.subarray(i * n, i * n + n)))), { assumeSymmetric: true });
        const want = [...ref.realEigenvalues].sort((x, y) => x - y);
        want.forEach((x, k) => expect(Math.abs(lambda[k]! - x)).toBeLessThan(1e-13 * n * big));
      }
    });
  }

  // solvePair runs the QL rotations of two problems in one loop; every value must be that of
  // two solve() calls, whichever of the two needs more iterations or longer sweeps
  for (const n of [1, 2, 3, 7, 12, 28, 86]) {
    it(`n = ${n}: solvePair gives bit for bit the eigenvalues and probes of two solve() calls`, () => {
      const rnd = mulberry32(300 + n);
      const m = 3;
      const solver = WasmSymmetricEigen.create(n, 6 * n * n + 8 * m * n) as WasmSymmetricEigen;
      const [aA, aB, a1, a2] = [0, 1, 2, 3].map(() => solver.alloc(n * n)) as [Float64Array, Float64Array, Float64Array, Float64Array];
      const [pA, pB, p1, p2] = [0, 1, 2, 3].map(() => solver.alloc(m * n)) as [Float64Array, Float64Array, Float64Array, Float64Array];
      const [lA, lB, l1, l2] = [0, 1, 2, 3].map(() => solver.alloc(n)) as [Float64Array, Float64Array, Float64Array, Float64Array];
      for (let trial = 0; trial < 6; trial++) {
        // graded and plain, with exact degeneracies (diagonal blocks) in some trials
        for (const [a, graded] of [[aA, trial % 2 === 0], [aB, trial % 3 === 0]] as const) {
          a.fill(0);
          for (let i = 0; i < n; i++) {
            for (let j = 0; j <= i; j++) {
              if (trial >= 4 && (i + j) % 3 === 1) continue;
              const v = (2 * rnd() - 1) * (graded ? 10 ** (-8 * rnd()) : 1);
              a[i * n + j] = v;
              a[j * n + i] = v;
            }
          }
        }
        for (const p of [pA, pB]) for (let i = 0; i < m * n; i++) p[i] = 2 * rnd() - 1;
        a1.set(aA);
        a2.set(aB);
        p1.set(pA);
        p2.set(pB);
        expect(solver.solvePair(aA, aB, n, lA, lB, pA, pB, m)).toBe(true);
        expect(solver.solve(a1, n, l1, p1, m)).toBe(true);
        expect(solver.solve(a2, n, l2, p2, m)).toBe(true);
        expect(Array.from(lA)).toEqual(Array.from(l1));
        expect(Array.from(lB)).toEqual(Array.from(l2));
        expect(Array.from(pA)).toEqual(Array.from(p1));
        expect(Array.from(pB)).toEqual(Array.from(p2));
      }
    });
  }

  it('refuses arrays that are not in its memory', () => {
    const solver = WasmSymmetricEigen.create(2, 8) as WasmSymmetricEigen;
    expect(() => solver.solve(new Float64Array(4), 2, solver.alloc(2), solver.alloc(4), 2)).toThrow(/alloc/);
    expect(() => solver.assemblePair(new Float64Array(1), solver.alloc(1), solver.allocInt32(0), solver.allocInt32(1), solver.allocInt32(0), solver.alloc(0), solver.alloc(1), solver.alloc(1))).toThrow(/alloc/);
  });

  it('assemblePair: each element the sum of its pieces in order, every other entry zero, bit for bit a plain loop', () => {
    const rnd = mulberry32(77);
    const total = 60;
    const nCoef = 13;
    const elems = [0, 3, 4, 17, 31, 32, 58];
    const perElem = [1, 4, 2, 7, 1, 3, 9];
    const nPieces = perElem.reduce((a, b) => a + b, 0);
    const solver = WasmSymmetricEigen.create(2, 2 * nCoef + 2 * total + 2 * nPieces + 2 * elems.length + 8) as WasmSymmetricEigen;
    const coefA = solver.alloc(nCoef);
    const coefB = solver.alloc(nCoef);
    const elem = solver.allocInt32(elems.length);
    const elemStart = solver.allocInt32(elems.length + 1);
    const sortedCoef = solver.allocInt32(nPieces);
    const sortedVal = solver.alloc(nPieces);
    const packedA = solver.alloc(total);
    const packedB = solver.alloc(total);
    for (let c = 0; c < nCoef; c++) {
      coefA[c] = (2 * rnd() - 1) * 10 ** (12 * rnd() - 6);
      coefB[c] = (2 * rnd() - 1) * 10 ** (12 * rnd() - 6);
    }
    let z = 0;
    elems.forEach((e, q) => {
      elem[q] = e;
      elemStart[q] = z;
      for (let k = 0; k < perElem[q]!; k++, z++) {
        sortedCoef[z] = Math.floor(rnd() * nCoef);
        sortedVal[z] = 2 * rnd() - 1;
      }
    });
    elemStart[elems.length] = z;
    packedA.fill(7);
    packedB.fill(-7);
    solver.assemblePair(coefA, coefB, elem, elemStart, sortedCoef, sortedVal, packedA, packedB);
    for (const [coef, packed] of [[coefA, packedA], [coefB, packedB]] as const) {
      const want = new Float64Array(total);
      elems.forEach((e, q) => {
        let x = 0;
        for (let p = elemStart[q]!; p < elemStart[q + 1]!; p++) x += coef[sortedCoef[p]!]! * sortedVal[p]!;
        want[e] = x;
      });
      expect(Array.from(packed)).toEqual(Array.from(want));
    }
  });
});
