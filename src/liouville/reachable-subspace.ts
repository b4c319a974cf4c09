import { SparseMatrix } from './sparse-matrix.js';

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
  // Path tracing first (Spinach's zero-track elimination): the basis elements reachable
  // through the non-zero patterns form a coordinate subspace containing the closure, so the
  // linear algebra below runs on vectors of that length only.
  const support = tracePaths(n, generators, start);
  const m = support.length;
  const where = new Int32Array(n).fill(-1);
  for (let k = 0; k < m; k++) where[support[k] as number] = k;
  // generators restricted to the support (rows and columns: the support is invariant)
  const local: SparseMatrix[] = [];
  for (const g of generators) local.push(restrict(g, support, where));
  const st: ClosureState = { m, relTol, cols: [], nzIdx: [], nzVal: [], queue: [], w: new Float64Array(m) };
  const tmp = new Float64Array(m);

  for (const s of start) {
    const v = new Float64Array(m);
    for (let k = 0; k < m; k++) v[k] = s[support[k] as number] as number;
    tryAdd(st, v);
  }
  const { cols, queue } = st;
  while (queue.length > 0 && cols.length < m) {
    const v = queue.shift() as Float64Array;
    for (const g of local) {
      g.matvec(v, tmp);
      tryAdd(st, tmp);
      if (cols.length >= m) break;
    }
  }
  const r = cols.length;
  const q = new Float64Array(n * r);
  for (let j = 0; j < r; j++) {
    const c = cols[j] as Float64Array;
    for (let k = 0; k < m; k++) q[(support[k] as number) * r + j] = c[k] as number;
  }
  return { q, r };
}

/**
 * The closure's state: the columns found so far, dense (inputs of the next products) and as
 * their non-zeros. Closures of basis-aligned systems are nearly coordinate vectors (an electron
 * and three 1H: 42 non-zeros in 28 columns of length 40), so Gram-Schmidt over the non-zeros
 * alone costs a few per column instead of the support's length; skipped entries are exact
 * zeros, so the arithmetic (and Q) is the same as the dense loops. The steps below are
 * module-level functions (README, "Layout": no per-job closures in set-up loops).
 */
interface ClosureState {
  readonly m: number;
  readonly relTol: number;
  readonly cols: Float64Array[];
  readonly nzIdx: Int32Array[];
  readonly nzVal: Float64Array[];
  readonly queue: Float64Array[];
  /** The vector being orthogonalised. */
  readonly w: Float64Array;
}

function orthogonalize(st: ClosureState): void {
  const { nzIdx, nzVal, w } = st;
  for (let c = 0; c < nzIdx.length; c++) {
    const idx = nzIdx[c] as Int32Array;
    const val = nzVal[c] as Float64Array;
    let d = 0;
    for (let z = 0; z < idx.length; z++) d += (val[z] as number) * (w[idx[z] as number] as number);
    if (d === 0) continue;
    for (let z = 0; z < idx.length; z++) {
      const i = idx[z] as number;
      w[i] = (w[i] as number) - d * (val[z] as number);
    }
  }
}

function norm2(w: Float64Array, m: number): number {
  let s = 0;
  for (let i = 0; i < m; i++) s += (w[i] as number) ** 2;
  return Math.sqrt(s);
}

function tryAdd(st: ClosureState, v: Float64Array): void {
  const { m, relTol, w } = st;
  let norm0 = 0;
  for (let i = 0; i < m; i++) norm0 += (v[i] as number) ** 2;
  norm0 = Math.sqrt(norm0);
  if (norm0 === 0) return;
  w.set(v);
  // modified Gram-Schmidt, twice ("twice is enough"); a vector already inside the span is
  // rejected after the first pass (its residual cannot be smaller than after two)
  orthogonalize(st);
  if (norm2(w, m) <= relTol * norm0) return;
  orthogonalize(st);
  const norm = norm2(w, m);
  if (norm <= relTol * norm0) return;
  const c = new Float64Array(m);
  const idx: number[] = [];
  for (let i = 0; i < m; i++) {
    const x = (w[i] as number) / norm;
    // snap round-off to exact zeros so that basis-aligned subspaces stay sparse
    c[i] = Math.abs(x) < 1e-15 ? 0 : x;
    if (c[i] !== 0) idx.push(i);
  }
  st.cols.push(c);
  st.nzIdx.push(Int32Array.from(idx));
  const val = new Float64Array(idx.length);
  for (let z = 0; z < idx.length; z++) val[z] = c[idx[z] as number] as number;
  st.nzVal.push(val);
  st.queue.push(c);
}

/** Indices reachable from the start vectors' non-zeros through the generators' patterns (sorted). */
function tracePaths(n: number, generators: readonly SparseMatrix[], start: readonly Float64Array[]): Int32Array {
  // edges j -> i for every non-zero M[i][j]: count, then fill (CSC of the union pattern)
  const deg = new Int32Array(n + 1);
  for (const g of generators) for (let p = 0; p < g.nnz; p++) deg[(g.col[p] as number) + 1] = (deg[(g.col[p] as number) + 1] as number) + 1;
  for (let j = 0; j < n; j++) deg[j + 1] = (deg[j + 1] as number) + (deg[j] as number);
  const fill = deg.slice(0, n);
  const to = new Int32Array(deg[n] as number);
  for (const g of generators) {
    for (let i = 0; i < g.n; i++) {
      for (let p = g.rowPtr[i] as number; p < (g.rowPtr[i + 1] as number); p++) {
        const j = g.col[p] as number;
        to[fill[j] as number] = i;
        fill[j] = (fill[j] as number) + 1;
      }
    }
  }
  const seen = new Uint8Array(n);
  const stack: number[] = [];
  for (const s of start) {
    for (let i = 0; i < n; i++) {
      if ((s[i] as number) !== 0 && seen[i] === 0) {
        seen[i] = 1;
        stack.push(i);
      }
    }
  }
  while (stack.length > 0) {
    const j = stack.pop() as number;
    for (let p = deg[j] as number; p < (deg[j + 1] as number); p++) {
      const i = to[p] as number;
      if (seen[i] === 0) {
        seen[i] = 1;
        stack.push(i);
      }
    }
  }
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (seen[i] === 1) out.push(i);
  return Int32Array.from(out);
}

/** The block of g on the coordinates `support` (where[global] = local index or -1). */
function restrict(g: SparseMatrix, support: Int32Array, where: Int32Array): SparseMatrix {
  const m = support.length;
  const rowPtr = new Int32Array(m + 1);
  const col: number[] = [];
  const val: number[] = [];
  for (let k = 0; k < m; k++) {
    const i = support[k] as number;
    for (let p = g.rowPtr[i] as number; p < (g.rowPtr[i + 1] as number); p++) {
      const j = where[g.col[p] as number] as number;
      if (j < 0) continue;
      col.push(j);
      val.push(g.val[p] as number);
    }
    rowPtr[k + 1] = col.length;
  }
  return new SparseMatrix(m, rowPtr, Int32Array.from(col), Float64Array.from(val));
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
