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

/**
 * Both relaxation forms of one term at once, X -> [Adag, [B, X]] and X -> [Adag, {B, X}], in
 * the real basis (real parts; see superoperatorFromAction). B X and X B are shared between
 * the two, basis operators are applied by their non-zeros, and no matrix is allocated per
 * basis element: building a three-spin model (hundreds of terms) is dominated by this.
 */
export function relaxationForms(basis: OperatorBasis, aDag: CMatrix, b: CMatrix): { dc: Float64Array; thermal: Float64Array } {
  const n = basis.dim;
  const size = basis.size;
  const dc = new Float64Array(size * size);
  const thermal = new Float64Array(size * size);
  const nn = n * n;
  const bxr = new Float64Array(nn);
  const bxi = new Float64Array(nn);
  const xbr = new Float64Array(nn);
  const xbi = new Float64Array(nn);
  const yr = new Float64Array(nn);
  const yi = new Float64Array(nn);
  const zr = new Float64Array(nn);
  const zi = new Float64Array(nn);
  const { re: ar, im: ai } = aDag;
  const { re: br, im: bi } = b;
  const aNzList: number[] = [];
  for (let k = 0; k < nn; k++) if ((ar[k] as number) !== 0 || (ai[k] as number) !== 0) aNzList.push(k);
  const aNz = Int32Array.from(aNzList);
  basis.operators.forEach((op, col) => {
    bxr.fill(0);
    bxi.fill(0);
    xbr.fill(0);
    xbi.fill(0);
    for (const e of op.entries) {
      // (B X)[r][e.j] += B[r][e.i] x ; (X B)[e.i][c] += x B[e.j][c]
      for (let r = 0; r < n; r++) {
        const pr = br[r * n + e.i] as number;
        const pi = bi[r * n + e.i] as number;
        bxr[r * n + e.j] = (bxr[r * n + e.j] as number) + pr * e.re - pi * e.im;
        bxi[r * n + e.j] = (bxi[r * n + e.j] as number) + pr * e.im + pi * e.re;
        const qr = br[e.j * n + r] as number;
        const qi = bi[e.j * n + r] as number;
        xbr[e.i * n + r] = (xbr[e.i * n + r] as number) + e.re * qr - e.im * qi;
        xbi[e.i * n + r] = (xbi[e.i * n + r] as number) + e.re * qi + e.im * qr;
      }
    }
    for (const sign of [-1, 1]) {
      for (let k = 0; k < nn; k++) {
        yr[k] = (bxr[k] as number) + sign * (xbr[k] as number);
        yi[k] = (bxi[k] as number) + sign * (xbi[k] as number);
      }
      // Z = Adag Y - Y Adag, over the non-zeros of Adag (eigenoperator components are sparse)
      zr.fill(0);
      zi.fill(0);
      for (let z = 0; z < aNz.length; z++) {
        const idx = aNz[z] as number;
        const r = Math.floor(idx / n);
        const k = idx % n;
        const pr = ar[idx] as number;
        const pi = ai[idx] as number;
        for (let c = 0; c < n; c++) {
          // Z[r][c] += Adag[r][k] Y[k][c]
          const y1r = yr[k * n + c] as number;
          const y1i = yi[k * n + c] as number;
          zr[r * n + c] = (zr[r * n + c] as number) + pr * y1r - pi * y1i;
          zi[r * n + c] = (zi[r * n + c] as number) + pr * y1i + pi * y1r;
          // Z[c][k] -= Y[c][r] Adag[r][k]
          const y2r = yr[c * n + r] as number;
          const y2i = yi[c * n + r] as number;
          zr[c * n + k] = (zr[c * n + k] as number) - (y2r * pr - y2i * pi);
          zi[c * n + k] = (zi[c * n + k] as number) - (y2r * pi + y2i * pr);
        }
      }
      const target = sign < 0 ? dc : thermal;
      // S[a][col] = Re Tr(B_a Z) = Re sum_{ij} B_a[i][j] Z[j][i]
      basis.operators.forEach((bo, a) => {
        let s = 0;
        for (const e of bo.entries) s += e.re * (zr[e.j * n + e.i] as number) - e.im * (zi[e.j * n + e.i] as number);
        target[a * size + col] = s;
      });
    }
  });
  return { dc, thermal };
}
