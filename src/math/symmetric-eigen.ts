/**
 * Eigenvalues of a small dense real symmetric matrix A = U diag(lambda) U^T together with the
 * projections U^T y of a few "probe" vectors y, without forming U: Householder reduction to
 * tridiagonal form (lower triangle, LAPACK dsytd2 order), then implicit QL with Wilkinson shifts
 * (EISPACK tql2, by way of JAMA), every reflection and rotation applied to the probes instead
 * of accumulated into an n x n matrix. Relaxation modes need only (o . u_k) and (u_k . rho_0)
 * for a handful of observables and one initial state, so this is about 4/3 n^3 flops instead
 * of the ~9 n^3 of a full eigen-decomposition. Allocation-free once a workspace exists.
 *
 * Eigenvalues are exact to about eps * ||A|| (backward stable) and the probe projections to
 * about eps * ||A|| / gap, the same as LAPACK's dsyev.
 */

const EPS = 2 ** -52;

export class SymmetricWorkspace {
  readonly n: number;
  /** Working copy of the matrix (lower triangle, row-major n x n). */
  readonly a: Float64Array;
  readonly d: Float64Array;
  readonly e: Float64Array;
  readonly v: Float64Array;
  readonly p: Float64Array;
  readonly order: Int32Array;
  readonly tmp: Float64Array;

  constructor(n: number) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`SymmetricWorkspace: invalid size ${n}`);
    this.n = n;
    this.a = new Float64Array(n * n);
    this.d = new Float64Array(n);
    this.e = new Float64Array(n);
    this.v = new Float64Array(n);
    this.p = new Float64Array(n);
    this.order = new Int32Array(n);
    this.tmp = new Float64Array(n);
  }
}

/**
 * a: row-major n x n, only the lower triangle (j <= i) is read; not modified.
 * probes: m vectors of length n, row-major [m][n], overwritten by U^T y (entry j belongs to
 * eigenvalue j). Eigenvalues are written to `lambda` in ascending order. n may be smaller
 * than the workspace size (arrays are then used with row stride n).
 * Returns false when the QL iteration does not converge (non-finite input).
 */
export function symmetricEigen(a: Float64Array, n: number, ws: SymmetricWorkspace, lambda: Float64Array, probes: Float64Array, m: number): boolean {
  if (n > ws.n) throw new RangeError(`symmetricEigen: n = ${n} but workspace holds ${ws.n}`);
  const w = ws.a;
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) w[ri + j] = a[ri + j] as number;
  }
  tridiagonalize(w, n, ws.d, ws.e, ws.v, ws.p, probes, m);
  if (!tridiagonalQL(ws.d, ws.e, n, probes, m)) return false;
  // ascending order, probes permuted alongside
  const { d, order, tmp } = ws;
  for (let k = 0; k < n; k++) order[k] = k;
  for (let i = 1; i < n; i++) {
    const x = order[i] as number;
    const dx = d[x] as number;
    let j = i - 1;
    while (j >= 0 && (d[order[j] as number] as number) > dx) {
      order[j + 1] = order[j] as number;
      j--;
    }
    order[j + 1] = x;
  }
  for (let k = 0; k < n; k++) lambda[k] = d[order[k] as number] as number;
  for (let q = 0; q < m; q++) {
    const base = q * n;
    for (let k = 0; k < n; k++) tmp[k] = probes[base + (order[k] as number)] as number;
    for (let k = 0; k < n; k++) probes[base + k] = tmp[k] as number;
  }
  return true;
}

/**
 * Householder tridiagonalisation of the lower triangle of w (destroyed): T = H^T A H with
 * diagonal d and sub-diagonal e[0..n-2] (e[n-1] = 0); probes y <- H^T y.
 */
function tridiagonalize(w: Float64Array, n: number, d: Float64Array, e: Float64Array, v: Float64Array, p: Float64Array, probes: Float64Array, m: number): void {
  for (let k = 0; k < n - 2; k++) {
    // x = A[k+1..n-1][k]; reflector I - beta v v^T with v[0] = 1 mapping x to (alpha, 0, ...)
    const k1 = k + 1;
    let scale = 0;
    for (let i = k1; i < n; i++) scale += Math.abs(w[i * n + k] as number);
    d[k] = w[k * n + k] as number;
    if (scale === 0) {
      e[k] = 0;
      continue;
    }
    let sigma = 0;
    for (let i = k1 + 1; i < n; i++) {
      const x = (w[i * n + k] as number) / scale;
      sigma += x * x;
    }
    const x0 = (w[k1 * n + k] as number) / scale;
    if (sigma === 0) {
      // already tridiagonal in this column
      e[k] = w[k1 * n + k] as number;
      continue;
    }
    const mu = Math.sqrt(x0 * x0 + sigma);
    const alpha = x0 > 0 ? -mu : mu;
    // v = (x - alpha e1) / (x0 - alpha), beta = (alpha - x0) / alpha  (LAPACK dlarfg)
    const v0 = x0 - alpha;
    v[k1] = 1;
    for (let i = k1 + 1; i < n; i++) v[i] = (w[i * n + k] as number) / scale / v0;
    const beta = -v0 / alpha;
    e[k] = alpha * scale;
    // p = beta A22 v (symmetric product from the lower triangle)
    for (let i = k1; i < n; i++) p[i] = 0;
    for (let i = k1; i < n; i++) {
      const ri = i * n;
      const vi = v[i] as number;
      let s = (w[ri + i] as number) * vi;
      for (let j = k1; j < i; j++) {
        const aij = w[ri + j] as number;
        s += aij * (v[j] as number);
        p[j] = (p[j] as number) + aij * vi;
      }
      p[i] = (p[i] as number) + s;
    }
    let pv = 0;
    for (let i = k1; i < n; i++) {
      p[i] = beta * (p[i] as number);
      pv += (p[i] as number) * (v[i] as number);
    }
    // w = p - (beta/2)(p . v) v ; A22 <- A22 - v w^T - w v^T
    const c = 0.5 * beta * pv;
    for (let i = k1; i < n; i++) p[i] = (p[i] as number) - c * (v[i] as number);
    for (let i = k1; i < n; i++) {
      const ri = i * n;
      const vi = v[i] as number;
      const wi = p[i] as number;
      for (let j = k1; j <= i; j++) w[ri + j] = (w[ri + j] as number) - vi * (p[j] as number) - wi * (v[j] as number);
    }
    // probes: y <- (I - beta v v^T) y
    for (let q = 0; q < m; q++) {
      const base = q * n;
      let s = 0;
      for (let i = k1; i < n; i++) s += (v[i] as number) * (probes[base + i] as number);
      s *= beta;
      if (s === 0) continue;
      for (let i = k1; i < n; i++) probes[base + i] = (probes[base + i] as number) - s * (v[i] as number);
    }
  }
  if (n >= 2) {
    d[n - 2] = w[(n - 2) * n + n - 2] as number;
    e[n - 2] = w[(n - 1) * n + n - 2] as number;
  }
  d[n - 1] = w[(n - 1) * n + n - 1] as number;
  e[n - 1] = 0;
}

/**
 * Implicit QL on the tridiagonal (d, e) (EISPACK tql2 / JAMA): eigenvalues into d (unsorted),
 * each rotation applied to the probes (rows i, i+1 of every probe vector).
 */
function tridiagonalQL(d: Float64Array, e: Float64Array, n: number, probes: Float64Array, m: number): boolean {
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l] as number) + Math.abs(e[l] as number));
    let mm = l;
    while (mm < n) {
      if (Math.abs(e[mm] as number) <= EPS * tst1) break;
      mm++;
    }
    if (mm > l) {
      let iter = 0;
      do {
        if (++iter > 60) return false;
        // implicit shift
        let g = d[l] as number;
        let p = ((d[l + 1] as number) - g) / (2 * (e[l] as number));
        let r = Math.sqrt(p * p + 1);
        if (!Number.isFinite(r)) r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = (e[l] as number) / (p + r);
        d[l + 1] = (e[l] as number) * (p + r);
        const dl1 = d[l + 1] as number;
        let h = g - (d[l] as number);
        for (let i = l + 2; i < n; i++) d[i] = (d[i] as number) - h;
        f += h;
        // QL sweep
        p = d[mm] as number;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1] as number;
        let s = 0;
        let s2 = 0;
        for (let i = mm - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * (e[i] as number);
          h = c * p;
          const ei = e[i] as number;
          // sqrt instead of Math.hypot (several times slower in V8): entries of relaxation
          // generators stay far from overflow, and an overflow is caught right here
          r = Math.sqrt(p * p + ei * ei);
          if (!(r > 0 && r < Infinity)) r = Math.hypot(p, ei);
          e[i + 1] = s * r;
          const ir = 1 / r;
          s = ei * ir;
          c = p * ir;
          p = c * (d[i] as number) - s * g;
          d[i + 1] = h + s * (c * g + s * (d[i] as number));
          for (let q = 0; q < m; q++) {
            const base = q * n;
            const yi = probes[base + i] as number;
            const yj = probes[base + i + 1] as number;
            probes[base + i + 1] = s * yi + c * yj;
            probes[base + i] = c * yi - s * yj;
          }
        }
        p = (-s * s2 * c3 * el1 * (e[l] as number)) / dl1;
        e[l] = s * p;
        d[l] = c * p;
        if (!Number.isFinite(p)) return false;
      } while (Math.abs(e[l] as number) > EPS * tst1);
    }
    d[l] = (d[l] as number) + f;
    e[l] = 0;
  }
  return true;
}
