import { modulus } from './modulus.js';

/**
 * Small dense complex matrices in split storage (separate real and imaginary
 * Float64Arrays, row-major). Hilbert-space operators of the spin systems relaxmap
 * handles are at most a few hundred wide, so plain loops are adequate; this module
 * is used to build the basis superoperators once, never inside per-point kernels.
 */
export class CMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly re: Float64Array;
  readonly im: Float64Array;

  constructor(rows: number, cols: number, re?: Float64Array, im?: Float64Array) {
    this.rows = rows;
    this.cols = cols;
    this.re = re ?? new Float64Array(rows * cols);
    this.im = im ?? new Float64Array(rows * cols);
    if (this.re.length !== rows * cols || this.im.length !== rows * cols) {
      throw new Error(`CMatrix: storage length ${this.re.length}/${this.im.length} does not match ${rows}x${cols}`);
    }
  }

  static zeros(rows: number, cols = rows): CMatrix {
    return new CMatrix(rows, cols);
  }

  static identity(n: number): CMatrix {
    const m = new CMatrix(n, n);
    for (let i = 0; i < n; i++) m.re[i * n + i] = 1;
    return m;
  }

  /** From nested arrays of real numbers or [re, im] pairs. */
  static from(rows: ReadonlyArray<ReadonlyArray<number | readonly [number, number]>>): CMatrix {
    const r = rows.length;
    const c = rows[0]?.length ?? 0;
    const m = new CMatrix(r, c);
    rows.forEach((row, i) => {
      if (row.length !== c) throw new Error('CMatrix.from: ragged rows');
      row.forEach((v, j) => {
        if (typeof v === 'number') m.re[i * c + j] = v;
        else {
          m.re[i * c + j] = v[0];
          m.im[i * c + j] = v[1];
        }
      });
    });
    return m;
  }

  get(i: number, j: number): [number, number] {
    const k = i * this.cols + j;
    return [this.re[k] as number, this.im[k] as number];
  }

  clone(): CMatrix {
    return new CMatrix(this.rows, this.cols, this.re.slice(), this.im.slice());
  }
}

function sameShape(a: CMatrix, b: CMatrix, op: string): void {
  if (a.rows !== b.rows || a.cols !== b.cols) {
    throw new Error(`${op}: shapes ${a.rows}x${a.cols} and ${b.rows}x${b.cols} differ`);
  }
}

export function add(a: CMatrix, b: CMatrix): CMatrix {
  sameShape(a, b, 'add');
  const out = new CMatrix(a.rows, a.cols);
  for (let k = 0; k < a.re.length; k++) {
    out.re[k] = (a.re[k] as number) + (b.re[k] as number);
    out.im[k] = (a.im[k] as number) + (b.im[k] as number);
  }
  return out;
}

export function sub(a: CMatrix, b: CMatrix): CMatrix {
  sameShape(a, b, 'sub');
  const out = new CMatrix(a.rows, a.cols);
  for (let k = 0; k < a.re.length; k++) {
    out.re[k] = (a.re[k] as number) - (b.re[k] as number);
    out.im[k] = (a.im[k] as number) - (b.im[k] as number);
  }
  return out;
}

/** (sr + i si) * a */
export function scale(a: CMatrix, sr: number, si = 0): CMatrix {
  const out = new CMatrix(a.rows, a.cols);
  for (let k = 0; k < a.re.length; k++) {
    const ar = a.re[k] as number;
    const ai = a.im[k] as number;
    out.re[k] = sr * ar - si * ai;
    out.im[k] = sr * ai + si * ar;
  }
  return out;
}

/** a += s * b, in place (real scalar). */
export function axpy(a: CMatrix, s: number, b: CMatrix): void {
  sameShape(a, b, 'axpy');
  for (let k = 0; k < a.re.length; k++) {
    a.re[k] = (a.re[k] as number) + s * (b.re[k] as number);
    a.im[k] = (a.im[k] as number) + s * (b.im[k] as number);
  }
}

export function mul(a: CMatrix, b: CMatrix): CMatrix {
  if (a.cols !== b.rows) throw new Error(`mul: ${a.rows}x${a.cols} times ${b.rows}x${b.cols}`);
  const n = a.rows;
  const m = b.cols;
  const p = a.cols;
  const out = new CMatrix(n, m);
  const { re: ar, im: ai } = a;
  const { re: br, im: bi } = b;
  const or = out.re;
  const oi = out.im;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < p; k++) {
      const xr = ar[i * p + k] as number;
      const xi = ai[i * p + k] as number;
      if (xr === 0 && xi === 0) continue;
      for (let j = 0; j < m; j++) {
        const yr = br[k * m + j] as number;
        const yi = bi[k * m + j] as number;
        or[i * m + j] = (or[i * m + j] as number) + xr * yr - xi * yi;
        oi[i * m + j] = (oi[i * m + j] as number) + xr * yi + xi * yr;
      }
    }
  }
  return out;
}

export function adjoint(a: CMatrix): CMatrix {
  const out = new CMatrix(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < a.cols; j++) {
      out.re[j * a.rows + i] = a.re[i * a.cols + j] as number;
      out.im[j * a.rows + i] = -(a.im[i * a.cols + j] as number);
    }
  }
  return out;
}

export function kron(a: CMatrix, b: CMatrix): CMatrix {
  const rows = a.rows * b.rows;
  const cols = a.cols * b.cols;
  const out = new CMatrix(rows, cols);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < a.cols; j++) {
      const xr = a.re[i * a.cols + j] as number;
      const xi = a.im[i * a.cols + j] as number;
      if (xr === 0 && xi === 0) continue;
      for (let k = 0; k < b.rows; k++) {
        for (let l = 0; l < b.cols; l++) {
          const yr = b.re[k * b.cols + l] as number;
          const yi = b.im[k * b.cols + l] as number;
          const idx = (i * b.rows + k) * cols + (j * b.cols + l);
          out.re[idx] = xr * yr - xi * yi;
          out.im[idx] = xr * yi + xi * yr;
        }
      }
    }
  }
  return out;
}

export function trace(a: CMatrix): [number, number] {
  let r = 0;
  let i = 0;
  for (let k = 0; k < Math.min(a.rows, a.cols); k++) {
    r += a.re[k * a.cols + k] as number;
    i += a.im[k * a.cols + k] as number;
  }
  return [r, i];
}

/** Hilbert-Schmidt inner product Tr(a^dag b). */
export function hsInner(a: CMatrix, b: CMatrix): [number, number] {
  sameShape(a, b, 'hsInner');
  let r = 0;
  let i = 0;
  for (let k = 0; k < a.re.length; k++) {
    const ar = a.re[k] as number;
    const ai = a.im[k] as number;
    const br = b.re[k] as number;
    const bi = b.im[k] as number;
    r += ar * br + ai * bi;
    i += ar * bi - ai * br;
  }
  return [r, i];
}

export function commutator(a: CMatrix, b: CMatrix): CMatrix {
  return sub(mul(a, b), mul(b, a));
}

export function anticommutator(a: CMatrix, b: CMatrix): CMatrix {
  return add(mul(a, b), mul(b, a));
}

export function frobeniusNorm(a: CMatrix): number {
  let s = 0;
  for (let k = 0; k < a.re.length; k++) s += (a.re[k] as number) ** 2 + (a.im[k] as number) ** 2;
  return Math.sqrt(s);
}

export function maxAbs(a: CMatrix): number {
  let m = 0;
  for (let k = 0; k < a.re.length; k++) m = Math.max(m, modulus(a.re[k] as number, a.im[k] as number));
  return m;
}

export function isHermitian(a: CMatrix, tol = 1e-12): boolean {
  if (a.rows !== a.cols) return false;
  return maxAbs(sub(a, adjoint(a))) <= tol * Math.max(1, maxAbs(a));
}

/** Sum of several matrices with real weights. */
export function linearCombination(terms: ReadonlyArray<readonly [number, CMatrix]>, rows: number, cols = rows): CMatrix {
  const out = new CMatrix(rows, cols);
  for (const [w, m] of terms) axpy(out, w, m);
  return out;
}
