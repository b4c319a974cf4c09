/**
 * Eigen-decomposition of small dense real nonsymmetric matrices, allocation-free.
 *
 * Port of EISPACK orthes + hqr2 (by way of JAMA): Householder reduction to upper
 * Hessenberg form, shifted double-step Francis QR to real Schur form, then
 * back-substitution for the eigenvectors. It runs per grid point inside the
 * float64 worker kernels, so every buffer lives in an EigenWorkspace or is owned
 * by the caller, and the code is plain loops over row-major Float64Arrays.
 *
 * Departures from JAMA, each restoring EISPACK behaviour or bounding work:
 * - the negligible-subdiagonal test is `<=`, so an exactly zero subdiagonal with a
 *   zero norm (zero matrix) deflates instead of dividing 0/0 in the QR sweep;
 * - a vanished bulge column skips that reflector (EISPACK `go to 260`) instead of
 *   aborting the sweep, and a zero shift no longer aborts the first reflector, so
 *   matrices with a zero trailing diagonal (cyclic shifts, companions) still iterate;
 * - the QR iteration is capped (LAPACK dlahqr's 30 * max(10, n) per deflation) and
 *   reports failure instead of spinning forever on a non-finite or pathological input;
 * - eigenvectors are scaled to unit 2-norm (a complex pair jointly), so V's
 *   conditioning reflects the eigenproblem and not arbitrary back-substitution scale.
 *
 * No balancing: a detailed-balance generator P^(1/2) S P^(-1/2) with moderate population
 * ratios is solved to about eps ||A|| (see the "relaxation generator" test). Errors grow with
 * the spread of P (about eps ||A|| cond(P^(1/2)) on the slow rates); when P is known,
 * symmetrizing with it beats balancing.
 */
import { solveInPlace } from './dense.js';

const EPS = Number.EPSILON;

export class EigenWorkspace {
  readonly n: number;
  /** Hessenberg / Schur form, then back-substituted eigenvectors of the Schur form. */
  private readonly h: Float64Array;
  /** Householder vectors of orthes. */
  private readonly ort: Float64Array;
  /** One row of V during the final back-transformation. */
  private readonly row: Float64Array;
  /** LU factors for solveEigenvectorSystem (V must survive the solve). */
  private readonly lu: Float64Array;

  constructor(n: number) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`EigenWorkspace: invalid size ${n}`);
    this.n = n;
    this.h = new Float64Array(n * n);
    this.ort = new Float64Array(n);
    this.row = new Float64Array(n);
    this.lu = new Float64Array(n * n);
  }
}

/**
 * Eigen-decomposition of a (row-major n x n, NOT modified). Writes eigenvalues (wr[k] + i wi[k])
 * and eigenvectors into v (row-major n x n) in the JAMA real-block convention: a real eigenvalue k
 * has its eigenvector in column k; a complex pair occupies columns k, k+1 with wi[k] > 0, wi[k+1] = -wi[k],
 * column k = Re(x), column k+1 = Im(x) where x is the eigenvector of wr[k] + i wi[k].
 * Eigenvectors have unit 2-norm (for a pair, ||Re x||^2 + ||Im x||^2 = 1).
 * n may be smaller than ws.n (arrays are then used with row stride n).
 * Returns false when the QR iteration does not converge or a is not finite (then outputs are unspecified).
 */
export function realEigen(
  a: Float64Array,
  n: number,
  ws: EigenWorkspace,
  wr: Float64Array,
  wi: Float64Array,
  v: Float64Array,
): boolean {
  if (n > ws.n || n < 1) throw new RangeError(`realEigen: n = ${n} but workspace holds ${ws.n}`);
  // Bracket access reaches the private scratch without widening the public surface.
  const h = ws['h'];
  const ort = ws['ort'];
  const row = ws['row'];
  const nn2 = n * n;
  for (let k = 0; k < nn2; k++) h[k] = a[k] as number;
  orthes(n, h, ort, v);
  if (!hqr2(n, h, v, wr, wi, row)) return false;
  normalizeColumns(n, v, wi);
  return true;
}

/**
 * Solve V y = b for the real eigenvector matrix v from realEigen (LU with partial pivoting, in workspace).
 * Returns false if singular (an exactly zero pivot). y may alias nothing else.
 */
export function solveEigenvectorSystem(
  v: Float64Array,
  n: number,
  ws: EigenWorkspace,
  b: Float64Array,
  y: Float64Array,
): boolean {
  if (n > ws.n || n < 1) throw new RangeError(`solveEigenvectorSystem: n = ${n} but workspace holds ${ws.n}`);
  const lu = ws['lu'];
  const nn2 = n * n;
  for (let k = 0; k < nn2; k++) lu[k] = v[k] as number;
  for (let k = 0; k < n; k++) y[k] = b[k] as number;
  return solveInPlace(lu, y, n, 1);
}

/**
 * Result of cdiv as [re, im]. A typed array, not two module-level `let`s: V8 boxes every
 * double stored into a module variable, which would allocate on each complex division.
 */
const cq = new Float64Array(2);

/** cq = (xr + i xi) / (yr + i yi), Smith's scaling to avoid overflow. */
function cdiv(xr: number, xi: number, yr: number, yi: number): void {
  if (Math.abs(yr) > Math.abs(yi)) {
    const r = yi / yr;
    const d = yr + r * yi;
    cq[0] = (xr + r * xi) / d;
    cq[1] = (xi - r * xr) / d;
  } else {
    const r = yr / yi;
    const d = yi + r * yr;
    cq[0] = (r * xr + xi) / d;
    cq[1] = (r * xi - xr) / d;
  }
}

/** Householder reduction of h to Hessenberg form; v receives the accumulated orthogonal transform. */
function orthes(nn: number, h: Float64Array, ort: Float64Array, v: Float64Array): void {
  const high = nn - 1;
  for (let m = 1; m <= high - 1; m++) {
    let scale = 0;
    for (let i = m; i <= high; i++) scale += Math.abs(h[i * nn + m - 1] as number);
    if (scale === 0) continue;

    let hh = 0;
    for (let i = high; i >= m; i--) {
      const o = (h[i * nn + m - 1] as number) / scale;
      ort[i] = o;
      hh += o * o;
    }
    const om = ort[m] as number;
    let g = Math.sqrt(hh);
    if (om > 0) g = -g;
    hh -= om * g;
    ort[m] = om - g;

    for (let j = m; j < nn; j++) {
      let f = 0;
      for (let i = high; i >= m; i--) f += (ort[i] as number) * (h[i * nn + j] as number);
      f /= hh;
      for (let i = m; i <= high; i++) h[i * nn + j] = (h[i * nn + j] as number) - f * (ort[i] as number);
    }
    for (let i = 0; i <= high; i++) {
      const ri = i * nn;
      let f = 0;
      for (let j = high; j >= m; j--) f += (ort[j] as number) * (h[ri + j] as number);
      f /= hh;
      for (let j = m; j <= high; j++) h[ri + j] = (h[ri + j] as number) - f * (ort[j] as number);
    }
    ort[m] = scale * (ort[m] as number);
    h[m * nn + m - 1] = scale * g;
  }

  // Explicit loops, not fill(): for n of a few, the builtin call costs more than the stores.
  for (let i = 0; i < nn; i++) for (let j = 0; j < nn; j++) v[i * nn + j] = i === j ? 1 : 0;
  for (let m = high - 1; m >= 1; m--) {
    const hm = h[m * nn + m - 1] as number;
    if (hm === 0) continue;
    // Below the subdiagonal, column m-1 of h still holds the Householder vector's tail.
    for (let i = m + 1; i <= high; i++) ort[i] = h[i * nn + m - 1] as number;
    const denom = (ort[m] as number) * hm;
    for (let j = m; j <= high; j++) {
      let g = 0;
      for (let i = m; i <= high; i++) g += (ort[i] as number) * (v[i * nn + j] as number);
      g /= denom;
      for (let i = m; i <= high; i++) v[i * nn + j] = (v[i * nn + j] as number) + g * (ort[i] as number);
    }
  }
  // The Householder tails are spent; clearing them makes h exactly Hessenberg for hqr2.
  for (let i = 2; i < nn; i++) for (let j = 0; j < i - 1; j++) h[i * nn + j] = 0;
}

/**
 * Real Schur form of Hessenberg h by double-shift Francis QR, accumulating into v, then
 * eigenvectors of the Schur form back-transformed into v. row is n scratch.
 */
function hqr2(
  nn: number,
  h: Float64Array,
  v: Float64Array,
  d: Float64Array,
  e: Float64Array,
  row: Float64Array,
): boolean {
  const maxIter = 30 * Math.max(10, nn);
  const nn2 = nn * nn;
  let n = nn - 1;
  let exshift = 0;
  let p = 0;
  let q = 0;
  let r = 0;
  let s = 0;
  let z = 0;
  let t = 0;
  let w = 0;
  let x = 0;
  let y = 0;
  let iter = 0;

  let norm = 0;
  for (let i = 0; i < nn; i++) {
    for (let j = Math.max(i - 1, 0); j < nn; j++) norm += Math.abs(h[i * nn + j] as number);
  }
  if (!Number.isFinite(norm)) return false;

  while (n >= 0) {
    // Look for a single small subdiagonal element.
    let l = n;
    while (l > 0) {
      s = Math.abs(h[(l - 1) * nn + l - 1] as number) + Math.abs(h[l * nn + l] as number);
      if (s === 0) s = norm;
      if (Math.abs(h[l * nn + l - 1] as number) <= EPS * s) break;
      l--;
    }

    const rn = n * nn;
    const rn1 = (n - 1) * nn;
    if (l === n) {
      // One root found.
      h[rn + n] = (h[rn + n] as number) + exshift;
      d[n] = h[rn + n] as number;
      e[n] = 0;
      n--;
      iter = 0;
    } else if (l === n - 1) {
      // Two roots found.
      w = (h[rn + n - 1] as number) * (h[rn1 + n] as number);
      p = ((h[rn1 + n - 1] as number) - (h[rn + n] as number)) / 2;
      q = p * p + w;
      z = Math.sqrt(Math.abs(q));
      h[rn + n] = (h[rn + n] as number) + exshift;
      h[rn1 + n - 1] = (h[rn1 + n - 1] as number) + exshift;
      x = h[rn + n] as number;

      if (q >= 0) {
        // Real pair: rotate the 2x2 block to upper triangular.
        z = p >= 0 ? p + z : p - z;
        d[n - 1] = x + z;
        d[n] = z !== 0 ? x - w / z : x + z;
        e[n - 1] = 0;
        e[n] = 0;
        x = h[rn + n - 1] as number;
        s = Math.abs(x) + Math.abs(z);
        p = x / s;
        q = z / s;
        r = Math.sqrt(p * p + q * q);
        p /= r;
        q /= r;
        for (let j = n - 1; j < nn; j++) {
          z = h[rn1 + j] as number;
          h[rn1 + j] = q * z + p * (h[rn + j] as number);
          h[rn + j] = q * (h[rn + j] as number) - p * z;
        }
        for (let i = 0; i <= n; i++) {
          const ri = i * nn;
          z = h[ri + n - 1] as number;
          h[ri + n - 1] = q * z + p * (h[ri + n] as number);
          h[ri + n] = q * (h[ri + n] as number) - p * z;
        }
        for (let i = 0; i < nn; i++) {
          const ri = i * nn;
          z = v[ri + n - 1] as number;
          v[ri + n - 1] = q * z + p * (v[ri + n] as number);
          v[ri + n] = q * (v[ri + n] as number) - p * z;
        }
      } else {
        // Complex pair: the 2x2 block stays as is.
        d[n - 1] = x + p;
        d[n] = x + p;
        e[n - 1] = z;
        e[n] = -z;
      }
      n -= 2;
      iter = 0;
    } else {
      if (iter >= maxIter) return false;

      x = h[rn + n] as number;
      y = h[rn1 + n - 1] as number;
      w = (h[rn + n - 1] as number) * (h[rn1 + n] as number);

      // Ad hoc exceptional shifts break cycles of the standard Francis shift.
      if (iter === 10) {
        exshift += x;
        for (let i = 0; i <= n; i++) h[i * nn + i] = (h[i * nn + i] as number) - x;
        s = Math.abs(h[rn + n - 1] as number) + Math.abs(h[rn1 + n - 2] as number);
        x = 0.75 * s;
        y = x;
        w = -0.4375 * s * s;
      }
      if (iter === 30) {
        s = (y - x) / 2;
        s = s * s + w;
        if (s > 0) {
          s = Math.sqrt(s);
          if (y < x) s = -s;
          s = x - w / ((y - x) / 2 + s);
          for (let i = 0; i <= n; i++) h[i * nn + i] = (h[i * nn + i] as number) - s;
          exshift += s;
          x = 0.964;
          y = x;
          w = x;
        }
      }
      iter++;

      // Look for two consecutive small subdiagonal elements.
      let m = n - 2;
      while (m >= l) {
        const rm = m * nn;
        const rm1 = rm + nn;
        z = h[rm + m] as number;
        r = x - z;
        s = y - z;
        p = (r * s - w) / (h[rm1 + m] as number) + (h[rm + m + 1] as number);
        q = (h[rm1 + m + 1] as number) - z - r - s;
        r = h[rm1 + nn + m + 1] as number;
        s = Math.abs(p) + Math.abs(q) + Math.abs(r);
        p /= s;
        q /= s;
        r /= s;
        if (m === l) break;
        if (
          Math.abs(h[rm + m - 1] as number) * (Math.abs(q) + Math.abs(r)) <
          EPS *
            (Math.abs(p) *
              (Math.abs(h[rm - nn + m - 1] as number) + Math.abs(z) + Math.abs(h[rm1 + m + 1] as number)))
        ) {
          break;
        }
        m--;
      }

      for (let i = m + 2; i <= n; i++) {
        h[i * nn + i - 2] = 0;
        if (i > m + 2) h[i * nn + i - 3] = 0;
      }

      // Double QR step on rows l..n and columns m..n.
      for (let k = m; k <= n - 1; k++) {
        const notlast = k !== n - 1;
        const rk = k * nn;
        const rk1 = rk + nn;
        const rk2 = rk1 + nn;
        if (k !== m) {
          p = h[rk + k - 1] as number;
          q = h[rk1 + k - 1] as number;
          r = notlast ? (h[rk2 + k - 1] as number) : 0;
          x = Math.abs(p) + Math.abs(q) + Math.abs(r);
          if (x === 0) continue;
          p /= x;
          q /= x;
          r /= x;
        }
        s = Math.sqrt(p * p + q * q + r * r);
        if (p < 0) s = -s;
        if (k !== m) h[rk + k - 1] = -s * x;
        else if (l !== m) h[rk + k - 1] = -(h[rk + k - 1] as number);
        p += s;
        x = p / s;
        y = q / s;
        z = r / s;
        q /= p;
        r /= p;

        // Apply the reflector to rows k..k+2 of h, then columns k..k+2 of h and v. The
        // three-row and two-row (last step) forms are separate loops to keep the hot
        // loops branch-free.
        if (notlast) {
          for (let j = k; j < nn; j++) {
            const a0 = h[rk + j] as number;
            const a1 = h[rk1 + j] as number;
            const a2 = h[rk2 + j] as number;
            p = a0 + q * a1 + r * a2;
            h[rk + j] = a0 - p * x;
            h[rk1 + j] = a1 - p * y;
            h[rk2 + j] = a2 - p * z;
          }
          const iend = Math.min(n, k + 3);
          for (let o = k; o <= iend * nn + k; o += nn) {
            const a0 = h[o] as number;
            const a1 = h[o + 1] as number;
            const a2 = h[o + 2] as number;
            p = x * a0 + y * a1 + z * a2;
            h[o] = a0 - p;
            h[o + 1] = a1 - p * q;
            h[o + 2] = a2 - p * r;
          }
          for (let o = k; o < nn2; o += nn) {
            const a0 = v[o] as number;
            const a1 = v[o + 1] as number;
            const a2 = v[o + 2] as number;
            p = x * a0 + y * a1 + z * a2;
            v[o] = a0 - p;
            v[o + 1] = a1 - p * q;
            v[o + 2] = a2 - p * r;
          }
        } else {
          for (let j = k; j < nn; j++) {
            const a0 = h[rk + j] as number;
            const a1 = h[rk1 + j] as number;
            p = a0 + q * a1;
            h[rk + j] = a0 - p * x;
            h[rk1 + j] = a1 - p * y;
          }
          for (let o = k; o <= n * nn + k; o += nn) {
            const a0 = h[o] as number;
            const a1 = h[o + 1] as number;
            p = x * a0 + y * a1;
            h[o] = a0 - p;
            h[o + 1] = a1 - p * q;
          }
          for (let o = k; o < nn2; o += nn) {
            const a0 = v[o] as number;
            const a1 = v[o + 1] as number;
            p = x * a0 + y * a1;
            v[o] = a0 - p;
            v[o + 1] = a1 - p * q;
          }
        }
      }
    }
  }

  // A zero matrix: v is already the identity, which are valid eigenvectors.
  if (norm === 0) return true;

  // Back-substitute to find the eigenvectors of the upper triangular (block) form.
  for (n = nn - 1; n >= 0; n--) {
    p = d[n] as number;
    q = e[n] as number;
    if (q === 0) {
      // Real vector.
      let l = n;
      h[n * nn + n] = 1;
      for (let i = n - 1; i >= 0; i--) {
        const ri = i * nn;
        w = (h[ri + i] as number) - p;
        r = 0;
        for (let j = l; j <= n; j++) r += (h[ri + j] as number) * (h[j * nn + n] as number);
        if ((e[i] as number) < 0) {
          z = w;
          s = r;
        } else {
          l = i;
          if (e[i] === 0) {
            // A repeated eigenvalue gives w = 0: perturb it to eps * norm (defective matrices).
            h[ri + n] = w !== 0 ? -r / w : -r / (EPS * norm);
          } else {
            // Solve the real equations of a 2x2 block.
            x = h[ri + i + 1] as number;
            y = h[ri + nn + i] as number;
            const di = (d[i] as number) - p;
            q = di * di + (e[i] as number) * (e[i] as number);
            t = (x * s - z * r) / q;
            h[ri + n] = t;
            h[ri + nn + n] = Math.abs(x) > Math.abs(z) ? (-r - w * t) / x : (-s - y * t) / z;
          }
          // Overflow control.
          t = Math.abs(h[ri + n] as number);
          if (EPS * t * t > 1) {
            for (let j = i; j <= n; j++) h[j * nn + n] = (h[j * nn + n] as number) / t;
          }
        }
      }
    } else if (q < 0) {
      // Complex vector, stored in columns n-1 (real part) and n (imaginary part).
      let l = n - 1;
      const rn = n * nn;
      const rn1 = rn - nn;
      if (Math.abs(h[rn + n - 1] as number) > Math.abs(h[rn1 + n] as number)) {
        h[rn1 + n - 1] = q / (h[rn + n - 1] as number);
        h[rn1 + n] = -((h[rn + n] as number) - p) / (h[rn + n - 1] as number);
      } else {
        cdiv(0, -(h[rn1 + n] as number), (h[rn1 + n - 1] as number) - p, q);
        h[rn1 + n - 1] = cq[0] as number;
        h[rn1 + n] = cq[1] as number;
      }
      h[rn + n - 1] = 0;
      h[rn + n] = 1;
      for (let i = n - 2; i >= 0; i--) {
        const ri = i * nn;
        let ra = 0;
        let sa = 0;
        for (let j = l; j <= n; j++) {
          const hij = h[ri + j] as number;
          ra += hij * (h[j * nn + n - 1] as number);
          sa += hij * (h[j * nn + n] as number);
        }
        w = (h[ri + i] as number) - p;
        if ((e[i] as number) < 0) {
          z = w;
          r = ra;
          s = sa;
        } else {
          l = i;
          if (e[i] === 0) {
            cdiv(-ra, -sa, w, q);
            h[ri + n - 1] = cq[0] as number;
            h[ri + n] = cq[1] as number;
          } else {
            // Solve the complex equations of a 2x2 block.
            x = h[ri + i + 1] as number;
            y = h[ri + nn + i] as number;
            const di = (d[i] as number) - p;
            const ei = e[i] as number;
            let vr = di * di + ei * ei - q * q;
            const vi = di * 2 * q;
            if (vr === 0 && vi === 0) {
              vr = EPS * norm * (Math.abs(w) + Math.abs(q) + Math.abs(x) + Math.abs(y) + Math.abs(z));
            }
            cdiv(x * r - z * ra + q * sa, x * s - z * sa - q * ra, vr, vi);
            h[ri + n - 1] = cq[0] as number;
            h[ri + n] = cq[1] as number;
            if (Math.abs(x) > Math.abs(z) + Math.abs(q)) {
              h[ri + nn + n - 1] = (-ra - w * (h[ri + n - 1] as number) + q * (h[ri + n] as number)) / x;
              h[ri + nn + n] = (-sa - w * (h[ri + n] as number) - q * (h[ri + n - 1] as number)) / x;
            } else {
              cdiv(-r - y * (h[ri + n - 1] as number), -s - y * (h[ri + n] as number), z, q);
              h[ri + nn + n - 1] = cq[0] as number;
              h[ri + nn + n] = cq[1] as number;
            }
          }
          // Overflow control.
          t = Math.max(Math.abs(h[ri + n - 1] as number), Math.abs(h[ri + n] as number));
          if (EPS * t * t > 1) {
            for (let j = i; j <= n; j++) {
              h[j * nn + n - 1] = (h[j * nn + n - 1] as number) / t;
              h[j * nn + n] = (h[j * nn + n] as number) / t;
            }
          }
        }
      }
    }
  }

  // V <- V * (upper triangular eigenvector matrix of the Schur form), a row at a time so
  // that h is read along its rows.
  for (let i = 0; i < nn; i++) {
    const ri = i * nn;
    for (let j = 0; j < nn; j++) row[j] = 0;
    for (let k = 0; k < nn; k++) {
      const vik = v[ri + k] as number;
      if (vik === 0) continue;
      const rk = k * nn;
      for (let j = k; j < nn; j++) row[j] = (row[j] as number) + vik * (h[rk + j] as number);
    }
    for (let j = 0; j < nn; j++) v[ri + j] = row[j] as number;
  }
  return true;
}

function normalizeColumns(n: number, v: Float64Array, wi: Float64Array): void {
  for (let k = 0; k < n; k++) {
    const pair = (wi[k] as number) > 0 && k + 1 < n;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const a = v[i * n + k] as number;
      ss += a * a;
      if (pair) {
        const b = v[i * n + k + 1] as number;
        ss += b * b;
      }
    }
    if (ss > 0) {
      const f = 1 / Math.sqrt(ss);
      for (let i = 0; i < n; i++) {
        v[i * n + k] = (v[i * n + k] as number) * f;
        if (pair) v[i * n + k + 1] = (v[i * n + k + 1] as number) * f;
      }
    }
    if (pair) k++;
  }
}
