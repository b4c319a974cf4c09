/**
 * Allocation-free kernels on small dense real matrices (row-major Float64Array, n x n).
 * These run inside per-point loops: callers own every buffer.
 */

/** c = a b */
export function matmul(a: Float64Array, b: Float64Array, c: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j < n; j++) c[ri + j] = 0;
    for (let k = 0; k < n; k++) {
      const aik = a[ri + k] as number;
      if (aik === 0) continue;
      const rk = k * n;
      for (let j = 0; j < n; j++) c[ri + j] = (c[ri + j] as number) + aik * (b[rk + j] as number);
    }
  }
}

/** y = a x */
export function matvec(a: Float64Array, x: Float64Array, y: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    let s = 0;
    const ri = i * n;
    for (let k = 0; k < n; k++) s += (a[ri + k] as number) * (x[k] as number);
    y[i] = s;
  }
}

/** Maximum absolute column sum. */
export function norm1(a: Float64Array, n: number): number {
  let best = 0;
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += Math.abs(a[i * n + j] as number);
    if (s > best) best = s;
  }
  return best;
}

export function setIdentity(a: Float64Array, n: number): void {
  a.fill(0, 0, n * n);
  for (let i = 0; i < n; i++) a[i * n + i] = 1;
}

/**
 * Solve A X = B in place (B overwritten by X; A overwritten by its LU factors),
 * Gaussian elimination with partial pivoting. Returns false if A is singular.
 */
export function solveInPlace(a: Float64Array, b: Float64Array, n: number, m: number): boolean {
  for (let k = 0; k < n; k++) {
    let p = k;
    let best = Math.abs(a[k * n + k] as number);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(a[i * n + k] as number);
      if (v > best) {
        best = v;
        p = i;
      }
    }
    if (best === 0) return false;
    if (p !== k) {
      for (let j = 0; j < n; j++) {
        const t = a[k * n + j] as number;
        a[k * n + j] = a[p * n + j] as number;
        a[p * n + j] = t;
      }
      for (let j = 0; j < m; j++) {
        const t = b[k * m + j] as number;
        b[k * m + j] = b[p * m + j] as number;
        b[p * m + j] = t;
      }
    }
    const piv = a[k * n + k] as number;
    for (let i = k + 1; i < n; i++) {
      const f = (a[i * n + k] as number) / piv;
      if (f === 0) continue;
      a[i * n + k] = f;
      for (let j = k + 1; j < n; j++) a[i * n + j] = (a[i * n + j] as number) - f * (a[k * n + j] as number);
      for (let j = 0; j < m; j++) b[i * m + j] = (b[i * m + j] as number) - f * (b[k * m + j] as number);
    }
  }
  for (let k = n - 1; k >= 0; k--) {
    const piv = a[k * n + k] as number;
    for (let j = 0; j < m; j++) {
      let s = b[k * m + j] as number;
      for (let i = k + 1; i < n; i++) s -= (a[k * n + i] as number) * (b[i * m + j] as number);
      b[k * m + j] = s / piv;
    }
  }
  return true;
}

export type MatmulFn = (a: Float64Array, b: Float64Array, c: Float64Array) => void;

const matmulCache = new Map<number, MatmulFn>();
/** Largest n for which matrix products are generated as straight-line code. */
export const MAX_UNROLLED_MATMUL = 8;

/**
 * c = a b for a fixed small n: generated straight-line code with every operand in a local
 * (about 5x faster than the indexed loops for n = 4, where a matrix exponential is a dozen
 * such products). Larger n fall back to matmul().
 */
export function matmulFor(n: number): MatmulFn {
  const hit = matmulCache.get(n);
  if (hit) return hit;
  let fn: MatmulFn;
  if (n > MAX_UNROLLED_MATMUL) fn = (a, b, c) => matmul(a, b, c, n);
  else {
    const lines: string[] = [];
    for (let k = 0; k < n * n; k++) lines.push(`const a${k} = a[${k}], b${k} = b[${k}];`);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const terms = Array.from({ length: n }, (_, k) => `a${i * n + k} * b${k * n + j}`).join(' + ');
        lines.push(`c[${i * n + j}] = ${terms};`);
      }
    }
    fn = new Function('a', 'b', 'c', lines.join('\n')) as MatmulFn;
  }
  matmulCache.set(n, fn);
  return fn;
}
