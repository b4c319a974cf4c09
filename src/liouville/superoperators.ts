import { CMatrix, mul, sub, add } from '../math/cmatrix.js';
import type { OperatorBasis, BasisOperator } from './operator-basis.js';
import { SparseMatrix } from './sparse-matrix.js';

/** Left and right products of an operator with a sparse basis operator. */
function leftTimes(a: CMatrix, x: BasisOperator): CMatrix {
  const n = a.rows;
  const out = new CMatrix(n, n);
  for (const e of x.entries) {
    // (A X)[r][e.j] += A[r][e.i] * x
    for (let r = 0; r < n; r++) {
      const ar = a.re[r * n + e.i] as number;
      const ai = a.im[r * n + e.i] as number;
      out.re[r * n + e.j] = (out.re[r * n + e.j] as number) + ar * e.re - ai * e.im;
      out.im[r * n + e.j] = (out.im[r * n + e.j] as number) + ar * e.im + ai * e.re;
    }
  }
  return out;
}

function rightTimes(x: BasisOperator, a: CMatrix): CMatrix {
  const n = a.rows;
  const out = new CMatrix(n, n);
  for (const e of x.entries) {
    // (X A)[e.i][c] += x * A[e.j][c]
    for (let c = 0; c < n; c++) {
      const ar = a.re[e.j * n + c] as number;
      const ai = a.im[e.j * n + c] as number;
      out.re[e.i * n + c] = (out.re[e.i * n + c] as number) + e.re * ar - e.im * ai;
      out.im[e.i * n + c] = (out.im[e.i * n + c] as number) + e.re * ai + e.im * ar;
    }
  }
  return out;
}

/** Re Tr(B_a Z) for every basis element a, written into column b of a dense matrix. */
function projectColumn(basis: OperatorBasis, z: CMatrix, b: number, out: Float64Array, imag?: Float64Array): void {
  const n = basis.dim;
  const size = basis.size;
  basis.operators.forEach((op, a) => {
    let sr = 0;
    let si = 0;
    for (const e of op.entries) {
      const zr = z.re[e.j * n + e.i] as number;
      const zi = z.im[e.j * n + e.i] as number;
      sr += e.re * zr - e.im * zi;
      si += e.re * zi + e.im * zr;
    }
    out[a * size + b] = sr;
    if (imag) imag[a * size + b] = si;
  });
}

export interface RealSuperoperator {
  /** Real part of the matrix in the operator basis (row-major size x size). */
  dense: Float64Array;
  /** Largest |imaginary part| dropped; zero for a Hermiticity-preserving map. */
  maxImag: number;
}

/**
 * Matrix S_ab = Tr(B_a S(B_b)) of a superoperator given by its action on basis
 * operators. Only the real part is kept: every generator relaxmap builds is a sum of
 * such terms with real coefficients whose total preserves Hermiticity, so the
 * imaginary parts cancel in the sum (see physics/generator-model.ts).
 */
export function superoperatorFromAction(
  basis: OperatorBasis,
  action: (x: BasisOperator) => CMatrix,
): RealSuperoperator {
  const size = basis.size;
  const dense = new Float64Array(size * size);
  const imag = new Float64Array(size * size);
  basis.operators.forEach((op, b) => projectColumn(basis, action(op), b, dense, imag));
  let maxImag = 0;
  for (const v of imag) maxImag = Math.max(maxImag, Math.abs(v));
  return { dense, maxImag };
}

/** X -> [Adag, [B, X]] */
export function doubleCommutator(basis: OperatorBasis, aDag: CMatrix, b: CMatrix): RealSuperoperator {
  return superoperatorFromAction(basis, (x) => {
    const y = sub(leftTimes(b, x), rightTimes(x, b));
    return sub(mul(aDag, y), mul(y, aDag));
  });
}

/** X -> [Adag, {B, X}] */
export function commutatorOfAnticommutator(basis: OperatorBasis, aDag: CMatrix, b: CMatrix): RealSuperoperator {
  return superoperatorFromAction(basis, (x) => {
    const y = add(leftTimes(b, x), rightTimes(x, b));
    return sub(mul(aDag, y), mul(y, aDag));
  });
}

/** X -> -i [H, X]: the coherent (Liouvillian) part for a Hermitian H. */
export function hamiltonianCommutator(basis: OperatorBasis, h: CMatrix): RealSuperoperator {
  return superoperatorFromAction(basis, (x) => {
    const c = sub(leftTimes(h, x), rightTimes(x, h));
    // -i (cr + i ci) = ci - i cr
    const out = new CMatrix(c.rows, c.cols);
    for (let k = 0; k < c.re.length; k++) {
      out.re[k] = c.im[k] as number;
      out.im[k] = -(c.re[k] as number);
    }
    return out;
  });
}

/** X -> A X and X -> X A */
export function leftMultiplication(basis: OperatorBasis, a: CMatrix): RealSuperoperator {
  return superoperatorFromAction(basis, (x) => leftTimes(a, x));
}

export function rightMultiplication(basis: OperatorBasis, a: CMatrix): RealSuperoperator {
  return superoperatorFromAction(basis, (x) => rightTimes(x, a));
}

export function toSparse(s: RealSuperoperator, size: number, relTol = 1e-14): SparseMatrix {
  let big = 0;
  for (const v of s.dense) big = Math.max(big, Math.abs(v));
  return SparseMatrix.fromDense(s.dense, size, relTol * big);
}
