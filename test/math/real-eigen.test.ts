import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { EigenWorkspace, realEigen, solveEigenvectorSystem } from '../../src/math/real-eigen.js';
import { mulberry32 } from '../../src/math/mulberry32.js';

function randomMatrix(n: number, rnd: () => number): Float64Array {
  const a = new Float64Array(n * n);
  for (let k = 0; k < n * n; k++) a[k] = 2 * rnd() - 1;
  return a;
}

function frob(a: Float64Array): number {
  let s = 0;
  for (const x of a) s += x * x;
  return Math.sqrt(s);
}

function mul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k]!;
      for (let j = 0; j < n; j++) c[i * n + j] = c[i * n + j]! + aik * b[k * n + j]!;
    }
  return c;
}

/** Orthogonal matrix from Gram-Schmidt (twice) on a random matrix. */
function randomOrthogonal(n: number, rnd: () => number): Float64Array {
  const q = randomMatrix(n, rnd);
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < n; j++) {
      for (let k = 0; k < j; k++) {
        let d = 0;
        for (let i = 0; i < n; i++) d += q[i * n + j]! * q[i * n + k]!;
        for (let i = 0; i < n; i++) q[i * n + j] = q[i * n + j]! - d * q[i * n + k]!;
      }
      let s = 0;
      for (let i = 0; i < n; i++) s += q[i * n + j]! ** 2;
      s = Math.sqrt(s);
      for (let i = 0; i < n; i++) q[i * n + j] = q[i * n + j]! / s;
    }
  }
  return q;
}

function transpose(a: Float64Array, n: number): Float64Array {
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) t[j * n + i] = a[i * n + j]!;
  return t;
}

interface Eig {
  ok: boolean;
  wr: Float64Array;
  wi: Float64Array;
  v: Float64Array;
}

function eig(a: Float64Array, n: number, ws = new EigenWorkspace(n)): Eig {
  const wr = new Float64Array(n);
  const wi = new Float64Array(n);
  const v = new Float64Array(n * n);
  const ok = realEigen(a, n, ws, wr, wi, v);
  return { ok, wr, wi, v };
}

/** ||A V - V D||_F / ||A||_F with D the real-block diagonal (1 when A = 0 is replaced by ||A V||). */
function relResidual(a: Float64Array, n: number, { wr, wi, v }: Eig): number {
  const d = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    d[k * n + k] = wr[k]!;
    if (wi[k]! > 0) d[k * n + k + 1] = wi[k]!;
    else if (wi[k]! < 0) d[k * n + k - 1] = wi[k]!;
  }
  const av = mul(a, v, n);
  const vd = mul(v, d, n);
  for (let k = 0; k < n * n; k++) av[k] = av[k]! - vd[k]!;
  const na = frob(a);
  return na === 0 ? frob(av) : frob(av) / na;
}

/** The JAMA pair layout: wi[k] > 0, wi[k+1] = -wi[k], real parts equal. */
function expectPairLayout(n: number, { wr, wi }: Eig): void {
  for (let k = 0; k < n; k++) {
    if (wi[k]! > 0) {
      expect(k + 1).toBeLessThan(n);
      expect(wi[k + 1]).toBe(-wi[k]!);
      expect(wr[k + 1]).toBe(wr[k]!);
      k++;
    } else {
      expect(wi[k]).toBe(0);
    }
  }
}

function sortedSpectrum(wr: ArrayLike<number>, wi: ArrayLike<number>): [number, number][] {
  const out: [number, number][] = [];
  for (let k = 0; k < wr.length; k++) out.push([wr[k]!, wi[k]!]);
  return out.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
}

describe('realEigen on random nonsymmetric matrices', () => {
  it('n = 1..12: residual < 1e-12 and eigenvalues agree with ml-matrix to 1e-10', () => {
    const rnd = mulberry32(0x5eed);
    let worstRes = 0;
    let worstDiff = 0;
    for (let n = 1; n <= 12; n++) {
      for (let trial = 0; trial < 20; trial++) {
        const a = randomMatrix(n, rnd);
        const copy = a.slice();
        const r = eig(a, n);
        expect(r.ok).toBe(true);
        expect(a).toEqual(copy);
        expectPairLayout(n, r);
        worstRes = Math.max(worstRes, relResidual(a, n, r));

        const rows = Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, i * n + n)));
        const ref = new EigenvalueDecomposition(new Matrix(rows));
        const ours = sortedSpectrum(r.wr, r.wi);
        const theirs = sortedSpectrum(ref.realEigenvalues, ref.imaginaryEigenvalues);
        const scale = frob(a);
        for (let k = 0; k < n; k++) {
          const [xr, xi] = ours[k]!;
          const [yr, yi] = theirs[k]!;
          worstDiff = Math.max(worstDiff, Math.hypot(xr - yr, xi - yi) / Math.max(Math.hypot(yr, yi), scale));
        }
      }
    }
    expect(worstRes).toBeLessThan(1e-12);
    expect(worstDiff).toBeLessThan(1e-10);
  });

  it('serves a smaller matrix from a larger workspace', () => {
    const rnd = mulberry32(7);
    const ws = new EigenWorkspace(10);
    for (const n of [3, 7, 10, 2]) {
      const a = randomMatrix(n, rnd);
      const r = eig(a, n, ws);
      expect(r.ok).toBe(true);
      expect(relResidual(a, n, r)).toBeLessThan(1e-12);
    }
    expect(() => eig(randomMatrix(11, rnd), 11, ws)).toThrow(RangeError);
  });
});

describe('realEigen on structured matrices', () => {
  it('symmetric: real eigenvalues and orthonormal eigenvectors', () => {
    const rnd = mulberry32(42);
    for (const n of [2, 5, 9, 16]) {
      const b = randomMatrix(n, rnd);
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = b[i * n + j]! + b[j * n + i]!;
      const r = eig(a, n);
      expect(r.ok).toBe(true);
      for (const x of r.wi) expect(x).toBe(0);
      expect(relResidual(a, n, r)).toBeLessThan(1e-12);
      const vtv = mul(transpose(r.v, n), r.v, n);
      let worst = 0;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) worst = Math.max(worst, Math.abs(vtv[i * n + j]! - (i === j ? 1 : 0)));
      }
      expect(worst).toBeLessThan(1e-12);
    }
  });

  it('rotation blocks: complex pairs in the JAMA convention', () => {
    const rnd = mulberry32(3);
    const n = 5;
    // Blocks a +- i b: (-1 +- 2i), (0.5 +- 0.25i), and a real -3.
    const blocks = new Float64Array(n * n);
    const set = (i: number, j: number, x: number) => (blocks[i * n + j] = x);
    set(0, 0, -1), set(0, 1, 2), set(1, 0, -2), set(1, 1, -1);
    set(2, 2, 0.5), set(2, 3, 0.25), set(3, 2, -0.25), set(3, 3, 0.5);
    set(4, 4, -3);
    const q = randomOrthogonal(n, rnd);
    const a = mul(mul(q, blocks, n), transpose(q, n), n);
    const r = eig(a, n);
    expect(r.ok).toBe(true);
    expectPairLayout(n, r);
    expect(relResidual(a, n, r)).toBeLessThan(1e-12);
    const got = sortedSpectrum(r.wr, r.wi);
    const want = sortedSpectrum([-3, -1, -1, 0.5, 0.5], [0, -2, 2, -0.25, 0.25]);
    for (let k = 0; k < n; k++) {
      expect(Math.abs(got[k]![0] - want[k]![0])).toBeLessThan(1e-13);
      expect(Math.abs(got[k]![1] - want[k]![1])).toBeLessThan(1e-13);
    }
    // Column k + i column k+1 is the eigenvector of wr[k] + i wi[k] (not of its conjugate).
    for (let k = 0; k < n; k++) {
      if (r.wi[k]! <= 0) continue;
      const lr = r.wr[k]!;
      const li = r.wi[k]!;
      let err = 0;
      for (let i = 0; i < n; i++) {
        let axr = 0;
        let axi = 0;
        for (let j = 0; j < n; j++) {
          axr += a[i * n + j]! * r.v[j * n + k]!;
          axi += a[i * n + j]! * r.v[j * n + k + 1]!;
        }
        const xr = r.v[i * n + k]!;
        const xi = r.v[i * n + k + 1]!;
        err = Math.max(err, Math.hypot(axr - (lr * xr - li * xi), axi - (lr * xi + li * xr)));
      }
      expect(err).toBeLessThan(1e-13);
      k++;
    }
  });

  it('Jordan block and a defective companion matrix: converges with a small residual', () => {
    const rnd = mulberry32(11);
    const n = 4;
    const j = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      j[i * n + i] = 2;
      if (i + 1 < n) j[i * n + i + 1] = 1;
    }
    const q = randomOrthogonal(n, rnd);
    // Companion of (x^2 - 1)^2: a classic stall case for the plain Francis shift.
    const day = Float64Array.from([0, 2, 0, -1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]);
    const cases: [Float64Array, number[]][] = [
      [j, [2, 2, 2, 2]],
      [mul(mul(q, j, n), transpose(q, n), n), [2, 2, 2, 2]],
      [day, [-1, -1, 1, 1]],
    ];
    for (const [a, exact] of cases) {
      const r = eig(a, n);
      expect(r.ok).toBe(true);
      expectPairLayout(n, r);
      expect(relResidual(a, n, r)).toBeLessThan(1e-12);
      // A k-fold defective eigenvalue is only determined to about eps^(1/k).
      const got = sortedSpectrum(r.wr, r.wi);
      for (let k = 0; k < n; k++) expect(Math.hypot(got[k]![0] - exact[k]!, got[k]![1])).toBeLessThan(1e-3);
    }
    const upper = eig(j, n);
    for (const x of upper.wr) expect(x).toBe(2);
  });

  it('cyclic shifts (zero diagonal, unit-modulus spectrum) converge', () => {
    for (let n = 2; n <= 9; n++) {
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) a[((i + 1) % n) * n + i] = 1;
      const r = eig(a, n);
      expect(r.ok).toBe(true);
      expect(relResidual(a, n, r)).toBeLessThan(1e-12);
      for (let k = 0; k < n; k++) expect(Math.abs(Math.hypot(r.wr[k]!, r.wi[k]!) - 1)).toBeLessThan(1e-13);
    }
  });

  it('diagonal matrix: its diagonal and the identity, exactly', () => {
    const diag = [3, -1, 0.5, -1, 7];
    const n = diag.length;
    const a = new Float64Array(n * n);
    diag.forEach((x, i) => (a[i * n + i] = x));
    const r = eig(a, n);
    expect(r.ok).toBe(true);
    expect(Array.from(r.wr)).toEqual(diag);
    expect(Array.from(r.wi)).toEqual([0, 0, 0, 0, 0]);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(Math.abs(r.v[i * n + j]!)).toBe(i === j ? 1 : 0);
  });

  it('zero matrix: zero eigenvalues and the identity', () => {
    for (const n of [1, 2, 3, 6]) {
      const r = eig(new Float64Array(n * n), n);
      expect(r.ok).toBe(true);
      for (let k = 0; k < n; k++) {
        expect(r.wr[k]).toBe(0);
        expect(r.wi[k]).toBe(0);
      }
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(r.v[i * n + j]).toBe(i === j ? 1 : 0);
    }
  });

  it('1x1', () => {
    const r = eig(Float64Array.of(-3.5), 1);
    expect(r.ok).toBe(true);
    expect(r.wr[0]).toBe(-3.5);
    expect(r.wi[0]).toBe(0);
    expect(r.v[0]).toBe(1);
  });

  it('non-finite input reports failure instead of spinning', () => {
    for (const n of [1, 2, 5]) {
      const a = new Float64Array(n * n).fill(1);
      a[n * n - 1] = Number.NaN;
      expect(eig(a, n).ok).toBe(false);
    }
  });

  it('relaxation generator: zero eigenvalue below 1e-12 ||A||, spectrum over 1e-3..1e4', () => {
    const rnd = mulberry32(2024);
    for (const n of [8, 16]) {
      // Detailed balance: A = P^(1/2) S P^(-1/2) with S symmetric negative semi-definite whose
      // null vector is sqrt(p), so p is the stationary state and columns of A sum to zero.
      const p = Array.from({ length: n }, () => Math.exp(-3 * rnd()));
      const ptot = p.reduce((x, y) => x + y, 0);
      const sq = p.map((x) => Math.sqrt(x / ptot));
      const q = randomOrthogonal(n, rnd);
      for (let i = 0; i < n; i++) q[i * n] = sq[i]!;
      // Re-orthogonalize the remaining columns against the prescribed null vector.
      for (let jj = 1; jj < n; jj++) {
        for (let pass = 0; pass < 2; pass++)
          for (let k = 0; k < jj; k++) {
            let d = 0;
            for (let i = 0; i < n; i++) d += q[i * n + jj]! * q[i * n + k]!;
            for (let i = 0; i < n; i++) q[i * n + jj] = q[i * n + jj]! - d * q[i * n + k]!;
          }
        let s = 0;
        for (let i = 0; i < n; i++) s += q[i * n + jj]! ** 2;
        for (let i = 0; i < n; i++) q[i * n + jj] = q[i * n + jj]! / Math.sqrt(s);
      }
      const rates = [0];
      for (let k = 1; k < n; k++) rates.push(-(10 ** (-3 + (7 * (k - 1)) / (n - 2))));
      const lam = new Float64Array(n * n);
      rates.forEach((x, i) => (lam[i * n + i] = x));
      const s = mul(mul(q, lam, n), transpose(q, n), n);
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = (sq[i]! * s[i * n + j]!) / sq[j]!;
      // Conservation exactly as a generator has it: the diagonal balances each column.
      for (let j = 0; j < n; j++) {
        let off = 0;
        for (let i = 0; i < n; i++) if (i !== j) off += a[i * n + j]!;
        a[j * n + j] = -off;
      }

      const r = eig(a, n);
      expect(r.ok).toBe(true);
      const norm = frob(a);
      expect(relResidual(a, n, r)).toBeLessThan(1e-12);
      for (const x of r.wi) expect(x).toBe(0);
      const got = Array.from(r.wr).sort((x, y) => y - x);
      const want = rates.slice().sort((x, y) => y - x);
      expect(Math.abs(got[0]!)).toBeLessThan(1e-12 * norm);
      for (let k = 1; k < n; k++) expect(Math.abs(got[k]! - want[k]!)).toBeLessThan(1e-12 * norm);
      // The zero mode's eigenvector is the stationary state p, determined to about eps ||A|| / gap.
      const gap = 1e-3;
      const k0 = r.wr.indexOf(got[0]!);
      let ratioMin = Infinity;
      let ratioMax = -Infinity;
      for (let i = 0; i < n; i++) {
        const ratio = r.v[i * n + k0]! / sq[i]! ** 2;
        ratioMin = Math.min(ratioMin, ratio);
        ratioMax = Math.max(ratioMax, ratio);
      }
      expect(Math.abs(ratioMax - ratioMin)).toBeLessThan(((1e-13 * norm) / gap) * Math.abs(ratioMax));
    }
  });
});

describe('realEigen in a hot loop', () => {
  it('10^5 calls on one workspace give bit-identical results', () => {
    const n = 6;
    const a = randomMatrix(n, mulberry32(99));
    // Make sure the fixture exercises the complex-pair path too.
    const ws = new EigenWorkspace(n);
    const first = eig(a, n, ws);
    expect(first.ok).toBe(true);
    expect(first.wi.some((x) => x !== 0)).toBe(true);
    const wr = new Float64Array(n);
    const wi = new Float64Array(n);
    const v = new Float64Array(n * n);
    let allOk = true;
    for (let it = 0; it < 100_000; it++) allOk = realEigen(a, n, ws, wr, wi, v) && allOk;
    expect(allOk).toBe(true);
    expect(wr).toEqual(first.wr);
    expect(wi).toEqual(first.wi);
    expect(v).toEqual(first.v);
  });

  it('does not allocate: no GC and no young-heap growth over 10^5 calls', async () => {
    const n = 6;
    const rnd = mulberry32(123);
    const pool = Array.from({ length: 16 }, () => randomMatrix(n, rnd));
    const ws = new EigenWorkspace(n);
    const wr = new Float64Array(n);
    const wi = new Float64Array(n);
    const v = new Float64Array(n * n);
    const b = new Float64Array(n).fill(1);
    const y = new Float64Array(n);
    let complexSeen = false;
    const loop = (calls: number): boolean => {
      let ok = true;
      for (let it = 0; it < calls; it++) {
        ok = realEigen(pool[it & 15]!, n, ws, wr, wi, v) && solveEigenvectorSystem(v, n, ws, b, y) && ok;
        complexSeen = complexSeen || wi[0] !== 0 || wi[n - 2] !== 0;
      }
      return ok;
    };
    // Let the optimizing compiler settle first: its own bookkeeping allocates.
    expect(loop(20_000)).toBe(true);
    expect(complexSeen).toBe(true);
    const youngUsed = () => getHeapSpaceStatistics().find((sp) => sp.space_name === 'new_space')!.space_used_size;

    // GC entries arrive asynchronously; count only those that started inside the loop, since
    // the test runner itself allocates while we wait for delivery.
    let gcs = 0;
    let t0 = Infinity;
    let t1 = Infinity;
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (e.startTime >= t0 && e.startTime <= t1) gcs++;
    });
    obs.observe({ entryTypes: ['gc'] });
    t0 = performance.now();
    const before = youngUsed();
    const ok = loop(100_000);
    const grown = youngUsed() - before;
    t1 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
    obs.disconnect();
    expect(ok).toBe(true);
    expect(gcs).toBe(0);
    // A single boxed double per call would already be 1.6 MB.
    expect(grown).toBeLessThan(64 * 1024);
  });
});

describe('solveEigenvectorSystem', () => {
  it('V y = b with relative residual < 1e-12, V left intact', () => {
    const rnd = mulberry32(5);
    for (const n of [1, 2, 6, 12]) {
      const ws = new EigenWorkspace(n);
      const a = randomMatrix(n, rnd);
      const r = eig(a, n, ws);
      expect(r.ok).toBe(true);
      const vCopy = r.v.slice();
      const b = Float64Array.from({ length: n }, () => 2 * rnd() - 1);
      const bCopy = b.slice();
      const y = new Float64Array(n);
      expect(solveEigenvectorSystem(r.v, n, ws, b, y)).toBe(true);
      expect(r.v).toEqual(vCopy);
      expect(b).toEqual(bCopy);
      let res = 0;
      let nb = 0;
      for (let i = 0; i < n; i++) {
        let s = -b[i]!;
        for (let j = 0; j < n; j++) s += r.v[i * n + j]! * y[j]!;
        res += s * s;
        nb += b[i]! ** 2;
      }
      expect(Math.sqrt(res / nb)).toBeLessThan(1e-12);
    }
  });

  it('reports a singular V', () => {
    const ws = new EigenWorkspace(2);
    const y = new Float64Array(2);
    expect(solveEigenvectorSystem(Float64Array.of(1, 1, 1, 1), 2, ws, Float64Array.of(1, 2), y)).toBe(false);
  });
});
