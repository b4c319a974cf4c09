import { ascendingOrder } from './ascending-order.js';
import { CMatrix } from './cmatrix.js';

export interface HermitianEigen {
  /** Ascending eigenvalues. */
  values: Float64Array;
  /** Unitary whose columns are the eigenvectors, in the order of `values`. */
  vectors: CMatrix;
}

/**
 * |re + i im| exactly as Math.hypot computes it, with real entries (every real symmetric
 * input keeps its imaginary parts at zero through the rotations) taking Math.abs: V8's
 * Math.hypot is ~15x slower, and the sweeps call it n^2 times each.
 */
function abs2(re: number, im: number): number {
  return im === 0 ? Math.abs(re) : Math.hypot(re, im);
}

/**
 * Eigen-decomposition of a complex Hermitian matrix by cyclic Jacobi rotations.
 *
 * Jacobi is chosen over a Householder/QL route because the matrices are tiny
 * (spin Hamiltonians, density matrices), it is unconditionally accurate for
 * eigenvectors of nearly degenerate levels, and it returns the unit vectors
 * unchanged for an already diagonal matrix: Zeeman-diagonal Hamiltonians keep
 * their product-state eigenbasis, which makes eigenoperators readable.
 */
export function hermitianEigen(a: CMatrix, tol = 1e-15, maxSweeps = 100): HermitianEigen {
  const n = a.rows;
  if (a.cols !== n) throw new Error(`hermitianEigen: matrix is ${a.rows}x${a.cols}, not square`);
  const ar = a.re.slice();
  const ai = a.im.slice();
  // Hermitian part only: protects against round-off asymmetry in the input.
  for (let i = 0; i < n; i++) {
    ai[i * n + i] = 0;
    for (let j = i + 1; j < n; j++) {
      const r = 0.5 * ((ar[i * n + j] as number) + (ar[j * n + i] as number));
      const m = 0.5 * ((ai[i * n + j] as number) - (ai[j * n + i] as number));
      ar[i * n + j] = r;
      ar[j * n + i] = r;
      ai[i * n + j] = m;
      ai[j * n + i] = -m;
    }
  }
  const vr = new Float64Array(n * n);
  const vi = new Float64Array(n * n);
  for (let i = 0; i < n; i++) vr[i * n + i] = 1;

  let scaleRef = 0;
  for (let k = 0; k < n * n; k++) scaleRef = Math.max(scaleRef, abs2(ar[k] as number, ai[k] as number));
  const threshold = tol * Math.max(scaleRef, Number.MIN_VALUE);

  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) off = Math.max(off, abs2(ar[p * n + q] as number, ai[p * n + q] as number));
    }
    if (off <= threshold) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const xr = ar[p * n + q] as number;
        const xi = ai[p * n + q] as number;
        const mag = abs2(xr, xi);
        if (mag <= threshold * 1e-3) continue;
        // Phase that makes A_pq real, then a real rotation (see module notes).
        const er = xr / mag; // e^{i phi}
        const ei = xi / mag;
        const alpha = ar[p * n + p] as number;
        const gamma = ar[q * n + q] as number;
        const theta = 0.5 * Math.atan2(2 * mag, gamma - alpha);
        const c = Math.cos(theta);
        const s = Math.sin(theta);
        // U: U_pp = c, U_pq = s, U_qp = -s e^{-i phi}, U_qq = c e^{-i phi}
        const uqpR = -s * er;
        const uqpI = s * ei;
        const uqqR = c * er;
        const uqqI = -c * ei;
        // A <- A U (columns p, q) and V <- V U
        for (const [mr, mi] of [
          [ar, ai],
          [vr, vi],
        ] as const) {
          for (let k = 0; k < n; k++) {
            const kpR = mr[k * n + p] as number;
            const kpI = mi[k * n + p] as number;
            const kqR = mr[k * n + q] as number;
            const kqI = mi[k * n + q] as number;
            // new_p = kp*c + kq*U_qp ; new_q = kp*s + kq*U_qq
            mr[k * n + p] = kpR * c + (kqR * uqpR - kqI * uqpI);
            mi[k * n + p] = kpI * c + (kqR * uqpI + kqI * uqpR);
            mr[k * n + q] = kpR * s + (kqR * uqqR - kqI * uqqI);
            mi[k * n + q] = kpI * s + (kqR * uqqI + kqI * uqqR);
          }
        }
        // A <- U^dag A (rows p, q): row_p' = conj(U_pp) row_p + conj(U_qp) row_q, etc.
        for (let k = 0; k < n; k++) {
          const pkR = ar[p * n + k] as number;
          const pkI = ai[p * n + k] as number;
          const qkR = ar[q * n + k] as number;
          const qkI = ai[q * n + k] as number;
          ar[p * n + k] = c * pkR + (uqpR * qkR + uqpI * qkI);
          ai[p * n + k] = c * pkI + (uqpR * qkI - uqpI * qkR);
          ar[q * n + k] = s * pkR + (uqqR * qkR + uqqI * qkI);
          ai[q * n + k] = s * pkI + (uqqR * qkI - uqqI * qkR);
        }
        ar[p * n + q] = 0;
        ai[p * n + q] = 0;
        ar[q * n + p] = 0;
        ai[q * n + p] = 0;
        ai[p * n + p] = 0;
        ai[q * n + q] = 0;
      }
    }
  }

  const diag = new Float64Array(n);
  for (let i = 0; i < n; i++) diag[i] = ar[i * n + i] as number;
  const order = ascendingOrder(diag);
  const values = new Float64Array(n);
  const vectors = new CMatrix(n, n);
  for (let dst = 0; dst < n; dst++) {
    const src = order[dst] as number;
    values[dst] = ar[src * n + src] as number;
    for (let k = 0; k < n; k++) {
      vectors.re[k * n + dst] = vr[k * n + src] as number;
      vectors.im[k * n + dst] = vi[k * n + src] as number;
    }
  }
  return { values, vectors };
}

/** f(A) = V diag(f(lambda)) V^dag for Hermitian A. */
export function hermitianFunction(a: CMatrix, f: (x: number) => number): CMatrix {
  const { values, vectors } = hermitianEigen(a);
  const n = a.rows;
  const out = new CMatrix(n, n);
  for (let k = 0; k < n; k++) {
    const fk = f(values[k] as number);
    if (fk === 0) continue;
    for (let i = 0; i < n; i++) {
      const vir = vectors.re[i * n + k] as number;
      const vii = vectors.im[i * n + k] as number;
      for (let j = 0; j < n; j++) {
        const vjr = vectors.re[j * n + k] as number;
        const vji = vectors.im[j * n + k] as number;
        // v_i conj(v_j)
        out.re[i * n + j] = (out.re[i * n + j] as number) + fk * (vir * vjr + vii * vji);
        out.im[i * n + j] = (out.im[i * n + j] as number) + fk * (vii * vjr - vir * vji);
      }
    }
  }
  return out;
}
