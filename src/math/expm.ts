import { matmulFor, norm1, solveInPlace, type MatmulFn } from './dense.js';

/**
 * Matrix exponential of a small dense real matrix: scaling and squaring with diagonal
 * Pade approximants of degree 3..13 chosen by the 1-norm (Higham, SIAM J. Matrix Anal.
 * Appl. 26, 1179 (2005), Algorithm 2.3). Float64, allocation-free once a workspace exists.
 */
const THETA = { 3: 1.495585217958292e-2, 5: 2.539398330063230e-1, 7: 9.504178996162932e-1, 9: 2.097847961257068, 13: 5.371920351148152 } as const;
const B: Record<3 | 5 | 7 | 9 | 13, readonly number[]> = {
  3: [120, 60, 12, 1],
  5: [30240, 15120, 3360, 420, 30, 1],
  7: [17297280, 8648640, 1995840, 277200, 25200, 1512, 56, 1],
  9: [17643225600, 8821612800, 2075673600, 302702400, 30270240, 2162160, 110880, 3960, 90, 1],
  13: [
    64764752532480000, 32382376266240000, 7771770303897600, 1187353796428800, 129060195264000, 10559470521600, 670442572800,
    33522128640, 1323241920, 40840800, 960960, 16380, 182, 1,
  ],
};

export class ExpmWorkspace {
  readonly n: number;
  readonly a: Float64Array;
  readonly a2: Float64Array;
  readonly a4: Float64Array;
  readonly a6: Float64Array;
  readonly a8: Float64Array;
  readonly u: Float64Array;
  readonly v: Float64Array;
  readonly t1: Float64Array;
  readonly t2: Float64Array;
  readonly mm: MatmulFn;

  constructor(n: number) {
    this.n = n;
    this.mm = matmulFor(n);
    this.a = new Float64Array(n * n);
    this.a2 = new Float64Array(n * n);
    this.a4 = new Float64Array(n * n);
    this.a6 = new Float64Array(n * n);
    this.a8 = new Float64Array(n * n);
    this.u = new Float64Array(n * n);
    this.v = new Float64Array(n * n);
    this.t1 = new Float64Array(n * n);
    this.t2 = new Float64Array(n * n);
  }
}

/** out = exp(t * m). `out` must not alias `m`. */
export function expm(m: Float64Array, t: number, out: Float64Array, ws: ExpmWorkspace): void {
  expmFlex(m, t, out, ws, false);
}

/** out = exp(t * m) - I, accurate also where exp(t m) is within round-off of I. */
export function expm1(m: Float64Array, t: number, out: Float64Array, ws: ExpmWorkspace): void {
  expmFlex(m, t, out, ws, true);
}

function expmFlex(m: Float64Array, t: number, out: Float64Array, ws: ExpmWorkspace, minusIdentity: boolean): void {
  const n = ws.n;
  const nn = n * n;
  const { a, a2, a4, a6, a8, u, v, t1, t2 } = ws;
  // generated product for this n (no closures or arrays are created per call: this runs per point)
  const mm = ws.mm;
  for (let k = 0; k < nn; k++) a[k] = t * (m[k] as number);
  const eta = norm1(a, n);
  if (!Number.isFinite(eta)) {
    out.fill(NaN, 0, nn);
    return;
  }
  let s = 0;
  let deg: 3 | 5 | 7 | 9 | 13 = 13;
  if (eta <= THETA[3]) deg = 3;
  else if (eta <= THETA[5]) deg = 5;
  else if (eta <= THETA[7]) deg = 7;
  else if (eta <= THETA[9]) deg = 9;
  else {
    s = Math.max(0, Math.ceil(Math.log2(eta / THETA[13])));
    const f = 2 ** -s;
    for (let k = 0; k < nn; k++) a[k] = (a[k] as number) * f;
  }
  const b = B[deg];
  mm(a, a, a2);
  if (deg === 13) {
    mm(a2, a2, a4);
    mm(a4, a2, a6);
    const [b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13] = b as [number, number, number, number, number, number, number, number, number, number, number, number, number, number];
    for (let k = 0; k < nn; k++) t1[k] = b13 * (a6[k] as number) + b11 * (a4[k] as number) + b9 * (a2[k] as number);
    mm(a6, t1, t2);
    for (let k = 0; k < nn; k++) t2[k] = (t2[k] as number) + b7 * (a6[k] as number) + b5 * (a4[k] as number) + b3 * (a2[k] as number);
    for (let i = 0; i < n; i++) t2[i * n + i] = (t2[i * n + i] as number) + b1;
    mm(a, t2, u);
    for (let k = 0; k < nn; k++) t1[k] = b12 * (a6[k] as number) + b10 * (a4[k] as number) + b8 * (a2[k] as number);
    mm(a6, t1, v);
    for (let k = 0; k < nn; k++) v[k] = (v[k] as number) + b6 * (a6[k] as number) + b4 * (a4[k] as number) + b2 * (a2[k] as number);
    for (let i = 0; i < n; i++) v[i * n + i] = (v[i * n + i] as number) + b0;
  } else {
    // U = A (b1 I + b3 A^2 + b5 A^4 + ...), V = b0 I + b2 A^2 + b4 A^4 + ...
    if (deg >= 5) mm(a2, a2, a4);
    if (deg >= 7) mm(a4, a2, a6);
    if (deg >= 9) mm(a6, a2, a8);
    t1.fill(0, 0, nn);
    v.fill(0, 0, nn);
    for (let i = 0; i < n; i++) {
      t1[i * n + i] = b[1] as number;
      v[i * n + i] = b[0] as number;
    }
    const nPowers = (deg - 1) / 2;
    for (let j = 0; j < nPowers; j++) {
      const pw = j === 0 ? a2 : j === 1 ? a4 : j === 2 ? a6 : a8;
      const bo = b[2 * j + 3] as number;
      const be = b[2 * j + 2] as number;
      for (let k = 0; k < nn; k++) {
        t1[k] = (t1[k] as number) + bo * (pw[k] as number);
        v[k] = (v[k] as number) + be * (pw[k] as number);
      }
    }
    mm(a, t1, u);
  }
  // exp(A) - I = (V - U)^-1 (V + U) - I = (V - U)^-1 (2 U): work with D = exp(A) - I, and
  // square as exp(2A) - I = 2 D + D^2. Slow modes are tiny entries of D; in the exp(A) form
  // they are 1 - tiny and each of up to ~40 squarings (stiff generators over long steps)
  // would round them away (6e-5 drift from the steady state seen at |G t| ~ 1e12).
  for (let k = 0; k < nn; k++) {
    const vk = v[k] as number;
    const uk = u[k] as number;
    t1[k] = vk - uk;
    out[k] = 2 * uk;
  }
  if (!solveInPlace(t1, out, n, n)) {
    out.fill(NaN, 0, nn);
    return;
  }
  for (let k = 0; k < s; k++) {
    mm(out, out, t2);
    for (let i = 0; i < nn; i++) out[i] = 2 * (out[i] as number) + (t2[i] as number);
  }
  if (!minusIdentity) for (let i = 0; i < n; i++) out[i * n + i] = (out[i * n + i] as number) + 1;
}

/** Convenience allocation-owning form for code off the hot path. */
export function expmOf(m: Float64Array, n: number, t = 1): Float64Array {
  const out = new Float64Array(n * n);
  expm(m, t, out, new ExpmWorkspace(n));
  return out;
}
