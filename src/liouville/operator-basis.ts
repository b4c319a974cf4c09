import { CMatrix } from '../math/cmatrix.js';
import { multiplicity } from '../spin/spin-operators.js';
import type { SpinSystem } from '../spin/spin-system.js';

/** One non-zero element of a basis operator: (row, col, value). */
export interface Entry {
  readonly i: number;
  readonly j: number;
  readonly re: number;
  readonly im: number;
}

/** A Hermitian basis operator stored by its non-zeros (basis operators are very sparse). */
export interface BasisOperator {
  readonly label: string;
  readonly entries: readonly Entry[];
}

/**
 * Orthonormal Hermitian basis of one spin's operator space, identity first:
 * normalised Pauli matrices for spin 1/2, generalised Gell-Mann matrices otherwise.
 * Orthonormal under Tr(A^dag B), so that the coefficients of a Hermitian operator and
 * the matrix of a Hermiticity-preserving superoperator are real.
 */
export function singleSpinBasis(spin: number): BasisOperator[] {
  const d = multiplicity(spin);
  const r = Math.SQRT1_2;
  if (d === 2) {
    // basis |alpha>, |beta>: sigma/sqrt(2)
    return [
      { label: 'E', entries: [{ i: 0, j: 0, re: r, im: 0 }, { i: 1, j: 1, re: r, im: 0 }] },
      { label: 'x', entries: [{ i: 0, j: 1, re: r, im: 0 }, { i: 1, j: 0, re: r, im: 0 }] },
      { label: 'y', entries: [{ i: 0, j: 1, re: 0, im: -r }, { i: 1, j: 0, re: 0, im: r }] },
      { label: 'z', entries: [{ i: 0, j: 0, re: r, im: 0 }, { i: 1, j: 1, re: -r, im: 0 }] },
    ];
  }
  const out: BasisOperator[] = [];
  const e = 1 / Math.sqrt(d);
  out.push({ label: 'E', entries: Array.from({ length: d }, (_, k) => ({ i: k, j: k, re: e, im: 0 })) });
  for (let j = 0; j < d; j++) {
    for (let k = j + 1; k < d; k++) {
      out.push({ label: `S${j}${k}`, entries: [{ i: j, j: k, re: r, im: 0 }, { i: k, j, re: r, im: 0 }] });
      out.push({ label: `A${j}${k}`, entries: [{ i: j, j: k, re: 0, im: -r }, { i: k, j, re: 0, im: r }] });
    }
  }
  for (let l = 1; l < d; l++) {
    const norm = 1 / Math.sqrt(l * (l + 1));
    const entries: Entry[] = [];
    for (let m = 0; m < l; m++) entries.push({ i: m, j: m, re: norm, im: 0 });
    entries.push({ i: l, j: l, re: -l * norm, im: 0 });
    out.push({ label: `D${l}`, entries });
  }
  return out;
}

/**
 * Product basis of the whole spin system: B_a = b_{a_1} (x) b_{a_2} (x) ..., index a in
 * mixed radix with the first spin most significant. Every B_a is Hermitian and
 * Tr(B_a B_b) = delta_ab.
 */
export class OperatorBasis {
  readonly dim: number;
  readonly size: number;
  readonly labels: readonly string[];
  readonly operators: readonly BasisOperator[];
  /** Index of the identity element E/sqrt(d). */
  readonly identityIndex = 0;

  constructor(system: SpinSystem) {
    this.dim = system.dim;
    let ops: BasisOperator[] = [{ label: '', entries: [{ i: 0, j: 0, re: 1, im: 0 }] }];
    let d = 1;
    for (const s of system.spins) {
      const single = singleSpinBasis(s.spin);
      const ds = multiplicity(s.spin);
      const next: BasisOperator[] = [];
      for (const a of ops) {
        for (const b of single) {
          const entries: Entry[] = [];
          for (const x of a.entries) {
            for (const y of b.entries) {
              entries.push({
                i: x.i * ds + y.i,
                j: x.j * ds + y.j,
                re: x.re * y.re - x.im * y.im,
                im: x.re * y.im + x.im * y.re,
              });
            }
          }
          next.push({ label: a.label === '' ? b.label : `${a.label} ${b.label}`, entries });
        }
      }
      ops = next;
      d *= ds;
    }
    this.operators = ops;
    this.size = ops.length;
    this.labels = ops.map((o) => o.label);
  }

  /** Dense matrix of basis operator a. */
  operator(a: number): CMatrix {
    const op = this.operators[a];
    if (!op) throw new Error(`basis index ${a} out of range`);
    const m = new CMatrix(this.dim, this.dim);
    for (const e of op.entries) {
      m.re[e.i * this.dim + e.j] = e.re;
      m.im[e.i * this.dim + e.j] = e.im;
    }
    return m;
  }

  /**
   * Coefficients x_a = Tr(B_a X). Real for Hermitian X; the imaginary parts are
   * returned too so that callers can verify Hermiticity where it matters.
   */
  coefficients(x: CMatrix): { re: Float64Array; im: Float64Array } {
    const n = this.dim;
    const re = new Float64Array(this.size);
    const im = new Float64Array(this.size);
    // plain loops (README, "Layout": no per-job closures in set-up loops)
    const ops = this.operators;
    for (let a = 0; a < ops.length; a++) {
      let sr = 0;
      let si = 0;
      // Tr(B X) = sum_{ij} B_ij X_ji
      for (const e of (ops[a] as BasisOperator).entries) {
        const xr = x.re[e.j * n + e.i] as number;
        const xi = x.im[e.j * n + e.i] as number;
        sr += e.re * xr - e.im * xi;
        si += e.re * xi + e.im * xr;
      }
      re[a] = sr;
      im[a] = si;
    }
    return { re, im };
  }

  /** Real coefficient vector of a Hermitian operator; throws if X is not Hermitian. */
  vector(x: CMatrix, what = 'operator'): Float64Array {
    const { re, im } = this.coefficients(x);
    let big = 0;
    let bad = 0;
    for (let a = 0; a < this.size; a++) {
      big = Math.max(big, Math.abs(re[a] as number));
      bad = Math.max(bad, Math.abs(im[a] as number));
    }
    if (bad > 1e-10 * Math.max(big, 1e-300)) throw new Error(`${what} is not Hermitian`);
    return re;
  }

  /** X = sum_a x_a B_a */
  toOperator(v: ArrayLike<number>): CMatrix {
    if (v.length !== this.size) throw new Error(`toOperator: vector length ${v.length}, basis size ${this.size}`);
    const m = new CMatrix(this.dim, this.dim);
    const ops = this.operators;
    for (let a = 0; a < ops.length; a++) {
      const c = v[a] as number;
      if (c === 0) continue;
      for (const e of (ops[a] as BasisOperator).entries) {
        m.re[e.i * this.dim + e.j] = (m.re[e.i * this.dim + e.j] as number) + c * e.re;
        m.im[e.i * this.dim + e.j] = (m.im[e.i * this.dim + e.j] as number) + c * e.im;
      }
    }
    return m;
  }
}

/** Product bases by spin multiplicities (most recently used last): a basis is a pure function of them. */
const productBases = new Map<string, OperatorBasis>();
/** Distinct spin systems whose bases are kept (a 6-spin basis holds ~260k entries). */
const KEPT_BASES = 4;

/**
 * The product basis of a system, shared by every system of the same spin multiplicities (in
 * order). Why: a sweep's set-up builds it per job (~0.5 MB of entries for an electron and three
 * 1H), and the algebra cached on it (product-algebra.ts: structure tables, scratch) comes with
 * it; nothing in a basis depends on gyromagnetic ratios, couplings or parameters.
 */
export function productBasis(system: SpinSystem): OperatorBasis {
  const key = system.spins.map((s) => multiplicity(s.spin)).join(',');
  const hit = productBases.get(key);
  if (hit) {
    productBases.delete(key);
    productBases.set(key, hit);
    return hit;
  }
  const basis = new OperatorBasis(system);
  productBases.set(key, basis);
  while (productBases.size > KEPT_BASES) productBases.delete(productBases.keys().next().value as string);
  return basis;
}

