import type { SparseMatrix } from './sparse-matrix.js';

/**
 * Smallest subspace that contains the start vectors and is invariant under every given
 * superoperator (block Krylov closure). Because G(p) = sum_k c_k(p) M_k, this subspace
 * is invariant under G at every parameter point, so evolving Q^T G Q is exact for any
 * state that starts inside it. Spinach calls the sparsity version of this idea path
 * tracing; the linear-algebra closure is tighter (it also sees symmetry, e.g. 4 instead
 * of 6 dimensions for a homonuclear pair starting from a singlet).
 *
 * Returns Q (n x r, row-major) with orthonormal columns.
 */
export function reachableSubspace(
  n: number,
  generators: readonly SparseMatrix[],
  start: readonly Float64Array[],
  relTol = 1e-10,
): { q: Float64Array; r: number } {
  const cols: Float64Array[] = [];
  const queue: Float64Array[] = [];
  const tmp = new Float64Array(n);

  const tryAdd = (v: Float64Array): void => {
    let norm0 = 0;
    for (let i = 0; i < n; i++) norm0 += (v[i] as number) ** 2;
    norm0 = Math.sqrt(norm0);
    if (norm0 === 0) return;
    const w = v.slice();
    // modified Gram-Schmidt, twice ("twice is enough")
    for (let pass = 0; pass < 2; pass++) {
      for (const c of cols) {
        let d = 0;
        for (let i = 0; i < n; i++) d += (c[i] as number) * (w[i] as number);
        for (let i = 0; i < n; i++) w[i] = (w[i] as number) - d * (c[i] as number);
      }
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += (w[i] as number) ** 2;
    norm = Math.sqrt(norm);
    if (norm <= relTol * norm0) return;
    for (let i = 0; i < n; i++) w[i] = (w[i] as number) / norm;
    // snap round-off to exact zeros so that basis-aligned subspaces stay sparse
    for (let i = 0; i < n; i++) if (Math.abs(w[i] as number) < 1e-15) w[i] = 0;
    cols.push(w);
    queue.push(w);
  };

  for (const s of start) tryAdd(s);
  while (queue.length > 0) {
    const v = queue.shift() as Float64Array;
    for (const m of generators) {
      m.matvec(v, tmp);
      tryAdd(tmp);
    }
    if (cols.length >= n) break;
  }
  const r = cols.length;
  const q = new Float64Array(n * r);
  cols.forEach((c, j) => {
    for (let i = 0; i < n; i++) q[i * r + j] = c[i] as number;
  });
  return { q, r };
}

/** Q^T v */
export function projectVector(q: Float64Array, r: number, v: ArrayLike<number>): Float64Array {
  const n = v.length;
  const out = new Float64Array(r);
  for (let i = 0; i < n; i++) {
    const vi = v[i] as number;
    if (vi === 0) continue;
    for (let c = 0; c < r; c++) out[c] = (out[c] as number) + (q[i * r + c] as number) * vi;
  }
  return out;
}

/** Q x */
export function liftVector(q: Float64Array, r: number, x: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < r; c++) s += (q[i * r + c] as number) * (x[c] as number);
    out[i] = s;
  }
  return out;
}

/** Q^T G Q for a dense n x n G. */
export function projectDense(q: Float64Array, r: number, g: Float64Array, n: number): Float64Array {
  const gq = new Float64Array(n * r);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const gij = g[i * n + j] as number;
      if (gij === 0) continue;
      for (let c = 0; c < r; c++) gq[i * r + c] = (gq[i * r + c] as number) + gij * (q[j * r + c] as number);
    }
  }
  const out = new Float64Array(r * r);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < r; a++) {
      const qa = q[i * r + a] as number;
      if (qa === 0) continue;
      for (let c = 0; c < r; c++) out[a * r + c] = (out[a * r + c] as number) + qa * (gq[i * r + c] as number);
    }
  }
  return out;
}
