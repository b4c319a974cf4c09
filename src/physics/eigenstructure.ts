import { CMatrix, adjoint, axpy, maxAbs, mul } from '../math/cmatrix.js';
import { hermitianEigen } from '../math/hermitian-eig.js';
import type { H0Part } from './hamiltonian.js';
import type { ParamValues } from './scalar.js';

/**
 * Joint eigenbasis of commuting H0 parts. Each eigenstate i has an energy table
 * e[m][i] = <i|H_m|i>, so E_i(p) = sum_m theta_m(p) e[m][i] and every transition
 * frequency is a fixed "signature" vector sigma (one entry per part) dotted with theta(p).
 */
export interface EigenStructure {
  readonly parts: readonly H0Part[];
  readonly dim: number;
  /** Unitary; column i is eigenstate i. */
  readonly vectors: CMatrix;
  /** energies[m][i] */
  readonly energies: readonly Float64Array[];
  /** Per-part scale used for signature tolerances. */
  readonly scales: Float64Array;
}

const GENERIC_WEIGHTS = [1, Math.SQRT2, Math.sqrt(3), Math.PI / 2, Math.E / 2, Math.sqrt(5), Math.sqrt(7), Math.LN2 * 3];

function isDiagonal(m: CMatrix, tol: number): boolean {
  const n = m.rows;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i !== j && Math.hypot(m.re[i * n + j] as number, m.im[i * n + j] as number) > tol) return false;
    }
  }
  return true;
}

/**
 * Diagonalise a generic combination of the parts; if the parts commute its eigenvectors
 * diagonalise every part. Returns undefined when they do not (per-point path needed).
 * All-diagonal parts keep the product basis exactly.
 */
export function jointEigenbasis(parts: readonly H0Part[], dim: number): EigenStructure | undefined {
  const scales = Float64Array.from(parts.map((p) => Math.max(maxAbs(p.matrix), 1e-300)));
  const combo = new CMatrix(dim, dim);
  parts.forEach((p, m) => axpy(combo, (GENERIC_WEIGHTS[m % GENERIC_WEIGHTS.length] as number) * (1 + 0.1 * Math.floor(m / GENERIC_WEIGHTS.length)) / (scales[m] as number), p.matrix));
  const allDiagonal = parts.every((p) => isDiagonal(p.matrix, 0));
  const vectors = allDiagonal ? CMatrix.identity(dim) : hermitianEigen(combo).vectors;
  const vDag = adjoint(vectors);
  const energies: Float64Array[] = [];
  for (const [m, p] of parts.entries()) {
    const d = mul(vDag, mul(p.matrix, vectors));
    if (!isDiagonal(d, 1e-10 * (scales[m] as number))) return undefined;
    energies.push(Float64Array.from({ length: dim }, (_, i) => d.re[i * dim + i] as number));
  }
  return { parts, dim, vectors, energies, scales };
}

/** A structure for one numeric Hamiltonian (the per-point path): a single part with theta = 1. */
export function numericEigenstructure(h: CMatrix): EigenStructure {
  const { values, vectors } = hermitianEigen(h);
  const scale = Math.max(maxAbs(h), 1e-300);
  return {
    parts: [{ label: 'H0', matrix: h, theta: { deps: [], at: () => 1, batch: () => 1 } }],
    dim: h.rows,
    vectors,
    energies: [values],
    scales: Float64Array.of(scale),
  };
}

export function energiesAt(es: EigenStructure, p: ParamValues): Float64Array {
  const e = new Float64Array(es.dim);
  es.parts.forEach((part, m) => {
    const th = part.theta.at(p);
    const em = es.energies[m] as Float64Array;
    for (let i = 0; i < es.dim; i++) e[i] = (e[i] as number) + th * (em[i] as number);
  });
  return e;
}

/** sigma_ij = e[.][i] - e[.][j]: the signature of |i><j|. */
export function transitionSignature(es: EigenStructure, i: number, j: number): Float64Array {
  return Float64Array.from(es.energies, (em) => (em[i] as number) - (em[j] as number));
}

export function signaturesEqual(es: EigenStructure, a: ArrayLike<number>, b: ArrayLike<number>, rel = 1e-9): boolean {
  for (let m = 0; m < a.length; m++) {
    if (Math.abs((a[m] as number) - (b[m] as number)) > rel * (es.scales[m] as number)) return false;
  }
  return true;
}

export function isZeroSignature(es: EigenStructure, s: ArrayLike<number>, rel = 1e-9): boolean {
  for (let m = 0; m < s.length; m++) if (Math.abs(s[m] as number) > rel * (es.scales[m] as number)) return false;
  return true;
}

export interface EigenComponent {
  /** Signature: the component raises the energy by w = sum_m theta_m sigma_m ([H0, T] = w T). */
  readonly signature: Float64Array;
  readonly operator: CMatrix;
}

/**
 * Split A into eigenoperator components: A = sum_sigma A_sigma with [H0, A_sigma] = w_sigma A_sigma,
 * grouping the matrix elements <i|A|j> of the eigenbasis by transition signature.
 */
export function decompose(es: EigenStructure, a: CMatrix, dropRel = 1e-13): EigenComponent[] {
  const n = es.dim;
  const v = es.vectors;
  const at = mul(adjoint(v), mul(a, v));
  const big = Math.max(maxAbs(at), 1e-300);
  const groups: { signature: Float64Array; mask: CMatrix }[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const re = at.re[i * n + j] as number;
      const im = at.im[i * n + j] as number;
      if (Math.hypot(re, im) <= dropRel * big) continue;
      const sig = transitionSignature(es, i, j);
      let g = groups.find((x) => signaturesEqual(es, x.signature, sig));
      if (!g) {
        g = { signature: sig, mask: new CMatrix(n, n) };
        groups.push(g);
      }
      g.mask.re[i * n + j] = re;
      g.mask.im[i * n + j] = im;
    }
  }
  const vDag = adjoint(v);
  return groups.map((g) => ({ signature: g.signature, operator: mul(v, mul(g.mask, vDag)) }));
}
