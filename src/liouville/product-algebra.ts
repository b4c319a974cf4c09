import type { CMatrix } from '../math/cmatrix.js';
import { multiplicity } from '../spin/spin-operators.js';
import type { SpinSystem } from '../spin/spin-system.js';
import { singleSpinBasis, type OperatorBasis } from './operator-basis.js';
import { SparseMatrix } from './sparse-matrix.js';

/**
 * Multiplication in the product operator basis: B_p B_q = sum_k c_k B_k, one spin at a time
 * (structure constants of each spin's basis, b_i b_j = sum_k f_ijk b_k with f_ijk = Tr(b_k b_i b_j)).
 * For spins 1/2 (normalised Pauli matrices) every product is a single basis element, so the
 * superoperator of X -> [A, [B, X]] costs |A| |B| products per basis element instead of the
 * dense d x d algebra per element: the relaxation terms of an electron and four protons
 * (1024 basis elements, 0.35% non-zero) are built in milliseconds.
 */
export class ProductAlgebra {
  readonly size: number;
  private readonly nSpins: number;
  /** Per spin: multiplicity squared (its basis size) and stride of its digit in a basis index. */
  private readonly radix: Int32Array;
  private readonly stride: Int32Array;
  /** Per spin: structure table [i * m + j] -> entries offset into the flat arrays below. */
  private readonly tabStart: Int32Array[];
  private readonly tabK: Int32Array[];
  private readonly tabRe: Float64Array[];
  private readonly tabIm: Float64Array[];
  /** Digits of every basis index [index * nSpins + s]. */
  private readonly digits: Uint16Array;
  /** Largest number of terms of one product (scratch sizing). */
  private readonly maxTerms: number;
  // scratch of products
  private bufIdx: Int32Array;
  private bufRe: Float64Array;
  private bufIm: Float64Array;
  private bufIdx2: Int32Array;
  private bufRe2: Float64Array;
  private bufIm2: Float64Array;
  /** All spins 1/2: every basis element is a Pauli string, by its x and z bit masks. */
  private readonly pauli: { readonly x: Int32Array; readonly z: Int32Array; readonly index: Int32Array; readonly nSpins: number } | undefined;

  constructor(system: SpinSystem) {
    this.nSpins = system.spins.length;
    const N = this.nSpins;
    this.radix = new Int32Array(N);
    this.stride = new Int32Array(N);
    this.tabStart = [];
    this.tabK = [];
    this.tabRe = [];
    this.tabIm = [];
    const cache = new Map<number, { start: Int32Array; k: Int32Array; re: Float64Array; im: Float64Array; maxLen: number }>();
    let maxTerms = 1;
    system.spins.forEach((s, i) => {
      const m = multiplicity(s.spin);
      let t = cache.get(m);
      if (!t) {
        t = structureTable(s.spin);
        cache.set(m, t);
      }
      this.radix[i] = m * m;
      this.tabStart.push(t.start);
      this.tabK.push(t.k);
      this.tabRe.push(t.re);
      this.tabIm.push(t.im);
      maxTerms *= t.maxLen;
    });
    let acc = 1;
    for (let s = N - 1; s >= 0; s--) {
      this.stride[s] = acc;
      acc *= this.radix[s] as number;
    }
    this.size = acc;
    this.digits = new Uint16Array(acc * N);
    for (let a = 0; a < acc; a++) {
      for (let s = 0; s < N; s++) this.digits[a * N + s] = Math.floor(a / (this.stride[s] as number)) % (this.radix[s] as number);
    }
    this.maxTerms = maxTerms;
    this.bufIdx = new Int32Array(maxTerms);
    this.bufRe = new Float64Array(maxTerms);
    this.bufIm = new Float64Array(maxTerms);
    this.bufIdx2 = new Int32Array(maxTerms);
    this.bufRe2 = new Float64Array(maxTerms);
    this.bufIm2 = new Float64Array(maxTerms);
    this.pauli = system.spins.every((sp) => multiplicity(sp.spin) === 2) && N <= 15 ? pauliMasks(N) : undefined;
  }

  /**
   * B_p B_q into the scratch buffers; returns the number of terms (indices in bufIdx,
   * coefficients in bufRe/bufIm).
   */
  private product(p: number, q: number): number {
    const N = this.nSpins;
    let idx = this.bufIdx;
    let re = this.bufRe;
    let im = this.bufIm;
    let idx2 = this.bufIdx2;
    let re2 = this.bufRe2;
    let im2 = this.bufIm2;
    idx[0] = 0;
    re[0] = 1;
    im[0] = 0;
    let len = 1;
    const dg = this.digits;
    for (let s = 0; s < N; s++) {
      const i = dg[p * N + s] as number;
      const j = dg[q * N + s] as number;
      const m = this.radix[s] as number;
      const start = this.tabStart[s] as Int32Array;
      const from = start[i * m + j] as number;
      const to = start[i * m + j + 1] as number;
      const tk = this.tabK[s] as Int32Array;
      const tr = this.tabRe[s] as Float64Array;
      const ti = this.tabIm[s] as Float64Array;
      const st = this.stride[s] as number;
      if (to - from === 1) {
        // one term (every spin 1/2): scale in place
        const k = (tk[from] as number) * st;
        const ar = tr[from] as number;
        const ai = ti[from] as number;
        for (let e = 0; e < len; e++) {
          const xr = re[e] as number;
          const xi = im[e] as number;
          idx[e] = (idx[e] as number) + k;
          re[e] = xr * ar - xi * ai;
          im[e] = xr * ai + xi * ar;
        }
        continue;
      }
      let n2 = 0;
      for (let e = 0; e < len; e++) {
        const base = idx[e] as number;
        const xr = re[e] as number;
        const xi = im[e] as number;
        for (let t = from; t < to; t++) {
          const ar = tr[t] as number;
          const ai = ti[t] as number;
          idx2[n2] = base + (tk[t] as number) * st;
          re2[n2] = xr * ar - xi * ai;
          im2[n2] = xr * ai + xi * ar;
          n2++;
        }
      }
      [idx, idx2] = [idx2, idx];
      [re, re2] = [re2, re];
      [im, im2] = [im2, im];
      len = n2;
    }
    if (idx !== this.bufIdx) {
      this.bufIdx2 = this.bufIdx;
      this.bufRe2 = this.bufRe;
      this.bufIm2 = this.bufIm;
      this.bufIdx = idx;
      this.bufRe = re;
      this.bufIm = im;
    }
    return len;
  }

  /** acc1 += s1 (cr + i ci) B_p B_q and acc2 += s2 (cr + i ci) B_p B_q (one product for both) */
  private addProduct(p: number, q: number, cr: number, ci: number, acc1: Accumulator, s1: number, acc2?: Accumulator, s2 = 0): void {
    const len = this.product(p, q);
    const idx = this.bufIdx;
    const re = this.bufRe;
    const im = this.bufIm;
    for (let e = 0; e < len; e++) {
      const xr = re[e] as number;
      const xi = im[e] as number;
      const vr = cr * xr - ci * xi;
      const vi = cr * xi + ci * xr;
      acc1.add(idx[e] as number, s1 * vr, s1 * vi);
      if (acc2) acc2.add(idx[e] as number, s2 * vr, s2 * vi);
    }
  }

  /**
   * Both relaxation forms X -> [Adag, [B, X]] (dc) and X -> [Adag, {B, X}] (thermal), real
   * parts, as sparse matrices in the product basis (entries below relTol times the largest
   * dropped, as the dense construction does). `aDag` and `b` are expansions in the basis.
   * With `columns`, only those columns are built (the others stay empty): what a problem on a
   * reachable subspace needs (term-columns.ts), a small part of the full Liouville space.
   */
  relaxationForms(aDag: Expansion, b: Expansion, relTol = 1e-14, columns?: ArrayLike<number>): { dc: SparseMatrix; thermal: SparseMatrix } {
    if (this.pauli) return this.pauliForms(aDag, b, relTol, columns);
    const n = this.size;
    const yDc = new Accumulator(n);
    const yTh = new Accumulator(n);
    const zDc = new Accumulator(n);
    const zTh = new Accumulator(n);
    const tripDc = new Triplets();
    const tripTh = new Triplets();
    const nCols = columns ? columns.length : n;
    for (let c = 0; c < nCols; c++) {
      const col = columns ? (columns[c] as number) : c;
      // Y = B X -+ X B
      for (let t = 0; t < b.index.length; t++) {
        const q = b.index[t] as number;
        const br = b.re[t] as number;
        const bi = b.im[t] as number;
        // B_q X and X B_q, into both accumulators with the sign of the form
        this.addProduct(q, col, br, bi, yDc, 1, yTh, 1);
        this.addProduct(col, q, br, bi, yDc, -1, yTh, 1);
      }
      // Z = Adag Y - Y Adag
      for (const [y, z] of [
        [yDc, zDc],
        [yTh, zTh],
      ] as const) {
        for (let u = 0; u < y.count; u++) {
          const k = y.touched[u] as number;
          const yr = y.re[k] as number;
          const yi = y.im[k] as number;
          if (yr === 0 && yi === 0) continue;
          for (let t = 0; t < aDag.index.length; t++) {
            const p = aDag.index[t] as number;
            const ar = aDag.re[t] as number;
            const ai = aDag.im[t] as number;
            const cr = ar * yr - ai * yi;
            const ci = ar * yi + ai * yr;
            this.addProduct(p, k, cr, ci, z, 1);
            this.addProduct(k, p, cr, ci, z, -1);
          }
        }
        y.clear();
      }
      zDc.drain(col, tripDc);
      zTh.drain(col, tripTh);
    }
    return { dc: tripDc.toSparse(n, relTol), thermal: tripTh.toSparse(n, relTol) };
  }

  /**
   * The same forms for spins 1/2, where products are Pauli strings: sigma_a sigma_b =
   * i^e sigma_(a xor b) (symplectic x/z bit masks), two strings commute or anticommute, so
   * [B_q, X] is 0 or 2 B_q X and {B_q, X} the other one: one product per pair of terms.
   */
  private pauliForms(aDag: Expansion, b: Expansion, relTol: number, columns?: ArrayLike<number>): { dc: SparseMatrix; thermal: SparseMatrix } {
    const tripDc = new Triplets();
    const tripTh = new Triplets();
    this.pauliTriplets(aDag, b, columns, tripDc, tripTh);
    return { dc: tripDc.toSparse(this.size, relTol), thermal: tripTh.toSparse(this.size, relTol) };
  }

  /** Whether basis elements are Pauli strings (all spins 1/2): relaxationColumnsInto applies. */
  get isPauli(): boolean {
    return this.pauli !== undefined;
  }

  /**
   * Spins 1/2: the raw entries (row, col, value; not summed, not dropped) of both forms in the
   * given columns, appended to tripDc and tripTh. No allocation per call beyond the triplets'
   * growth: the column builder of a sweep (physics/term-columns.ts) calls it per source.
   */
  relaxationColumnsInto(aDag: Expansion, b: Expansion, columns: ArrayLike<number>, tripDc: Triplets, tripTh: Triplets): void {
    if (!this.pauli) throw new Error('relaxationColumnsInto: only for spins 1/2');
    this.pauliTriplets(aDag, b, columns, tripDc, tripTh);
  }

  private scratchAcc: Accumulator[] | undefined;
  private scratchMasks: { bx: Int32Array; bz: Int32Array; bw: Int32Array; ax: Int32Array; az: Int32Array; aw: Int32Array } | undefined;

  /** Scratch for pauliTriplets: x and z masks and |x & z| of up to `n` strings per side. */
  private tripletMasks(n: number): NonNullable<ProductAlgebra['scratchMasks']> {
    const have = this.scratchMasks;
    if (have && have.bx.length >= n) return have;
    const len = Math.max(n, 2 * (have?.bx.length ?? 0), 16);
    const m = { bx: new Int32Array(len), bz: new Int32Array(len), bw: new Int32Array(len), ax: new Int32Array(len), az: new Int32Array(len), aw: new Int32Array(len) };
    this.scratchMasks = m;
    return m;
  }

  /**
   * expand() for spins 1/2 from the non-zeros of X: (B_a)_ij = 2^(-N/2) (-i)^|x&z| (-1)^|i&z|
   * when i xor j = x (masks of B_a), so each X_ji feeds the 2^N strings of x-mask i xor j;
   * a coupling component with a few non-zeros costs a few hundred operations instead of a
   * pass over every basis element. Same result and threshold as expand().
   */
  expandMatrix(basis: OperatorBasis, x: CMatrix, relTol = 1e-15): Expansion {
    const pm = this.pauli;
    if (!pm) return expand(basis, x, relTol);
    const N = pm.nSpins;
    const d = 1 << N;
    const n = this.size;
    const re = new Float64Array(n);
    const im = new Float64Array(n);
    const norm = 1 / Math.sqrt(d);
    for (let j = 0; j < d; j++) {
      for (let i = 0; i < d; i++) {
        // Tr(B X) = sum_ij B_ij X_ji
        const xr = x.re[j * d + i] as number;
        const xi = x.im[j * d + i] as number;
        if (xr === 0 && xi === 0) continue;
        const xm = i ^ j;
        for (let z = 0; z < d; z++) {
          const a = pm.index[(xm << N) | z] as number;
          const ph = (popcount(xm & z) + 2 * (popcount(i & z) & 1)) & 3;
          // (-i)^ph * (xr + i xi)
          const vr = ph === 0 ? xr : ph === 1 ? xi : ph === 2 ? -xr : -xi;
          const vi = ph === 0 ? xi : ph === 1 ? -xr : ph === 2 ? -xi : xr;
          re[a] = (re[a] as number) + norm * vr;
          im[a] = (im[a] as number) + norm * vi;
        }
      }
    }
    return sparseExpansion(re, im, relTol);
  }

  private pauliTriplets(aDag: Expansion, b: Expansion, columns: ArrayLike<number> | undefined, tripDc: Triplets, tripTh: Triplets): void {
    const pm = this.pauli as NonNullable<ProductAlgebra['pauli']>;
    const n = this.size;
    const N = pm.nSpins;
    const { x: xm, z: zm, index } = pm;
    // B_p B_q = (1/sqrt d) i^e B_c for normalised strings B = sigma / sqrt(2)^N; the
    // (anti)commutator doubles it
    const f = 2 / Math.sqrt(2 ** N);
    const acc = (this.scratchAcc ??= [new Accumulator(n), new Accumulator(n), new Accumulator(n), new Accumulator(n)]);
    const yDc = acc[0] as Accumulator;
    const yTh = acc[1] as Accumulator;
    const zDc = acc[2] as Accumulator;
    const zTh = acc[3] as Accumulator;
    const nb = b.index.length;
    const na = aDag.index.length;
    // masks and weights of the terms' strings, in scratch reused across calls (this runs once
    // per source term and column set: a sweep's set-up calls it hundreds of times)
    const masks = this.tripletMasks(Math.max(na, nb));
    const { bx, bz, bw, ax, az, aw } = masks;
    for (let t = 0; t < nb; t++) {
      const q = b.index[t] as number;
      bx[t] = xm[q] as number;
      bz[t] = zm[q] as number;
      bw[t] = popcount((xm[q] as number) & (zm[q] as number));
    }
    for (let t = 0; t < na; t++) {
      const q = aDag.index[t] as number;
      ax[t] = xm[q] as number;
      az[t] = zm[q] as number;
      aw[t] = popcount((xm[q] as number) & (zm[q] as number));
    }
    const nCols = columns ? columns.length : n;
    for (let cc = 0; cc < nCols; cc++) {
      const col = columns ? (columns[cc] as number) : cc;
      const xc = xm[col] as number;
      const zc = zm[col] as number;
      const wc = popcount(xc & zc);
      // [B_q, X] = 2 B_q X when they anticommute, {B_q, X} = 2 B_q X when they commute
      for (let t = 0; t < nb; t++) {
        const xq = bx[t] as number;
        const zq = bz[t] as number;
        const xr = xq ^ xc;
        const zr = zq ^ zc;
        const e = ((bw[t] as number) + wc - popcount(xr & zr) + 2 * popcount(zq & xc)) & 3;
        const acc = (popcount((xq & zc) ^ (zq & xc)) & 1) === 1 ? yDc : yTh;
        // acc[k] += i^e (cr + i ci), written out: as a call (addPhased) its doubles were boxed, ~30,000
        // heap numbers (480 KB) per dnp-e3h job
        const cr = f * (b.re[t] as number);
        const ci = f * (b.im[t] as number);
        acc.add(index[(xr << N) | zr] as number, e === 0 ? cr : e === 1 ? -ci : e === 2 ? -cr : ci, e === 0 ? ci : e === 1 ? cr : e === 2 ? -ci : -cr);
      }
      // Z = [Adag, Y]: only anticommuting pairs survive
      for (let pass = 0; pass < 2; pass++) {
        const y = pass === 0 ? yDc : yTh;
        const z = pass === 0 ? zDc : zTh;
        for (let u = 0; u < y.count; u++) {
          const k = y.touched[u] as number;
          const yr = y.re[k] as number;
          const yi = y.im[k] as number;
          if (yr === 0 && yi === 0) continue;
          const xk = xm[k] as number;
          const zk = zm[k] as number;
          const wk = popcount(xk & zk);
          for (let t = 0; t < na; t++) {
            const xp = ax[t] as number;
            const zp = az[t] as number;
            if ((popcount((xp & zk) ^ (zp & xk)) & 1) === 0) continue;
            const ar = aDag.re[t] as number;
            const ai = aDag.im[t] as number;
            const xr = xp ^ xk;
            const zr = zp ^ zk;
            const e = ((aw[t] as number) + wk - popcount(xr & zr) + 2 * popcount(zp & xk)) & 3;
            const cr = f * (ar * yr - ai * yi);
            const ci = f * (ar * yi + ai * yr);
            z.add(index[(xr << N) | zr] as number, e === 0 ? cr : e === 1 ? -ci : e === 2 ? -cr : ci, e === 0 ? ci : e === 1 ? cr : e === 2 ? -ci : -cr);
          }
        }
        y.clear();
      }
      zDc.drain(col, tripDc);
      zTh.drain(col, tripTh);
    }
  }

  /** X -> (H X + X H) / 2 (real part), H given by its expansion: the mean-energy superoperator of H. */
  anticommutator(h: Expansion, relTol = 1e-14, columns?: ArrayLike<number>): SparseMatrix {
    const n = this.size;
    const acc = new Accumulator(n);
    const trip = new Triplets();
    const nCols = columns ? columns.length : n;
    for (let c = 0; c < nCols; c++) {
      const col = columns ? (columns[c] as number) : c;
      for (let t = 0; t < h.index.length; t++) {
        const q = h.index[t] as number;
        const hr = 0.5 * (h.re[t] as number);
        const hi = 0.5 * (h.im[t] as number);
        this.addProduct(q, col, hr, hi, acc, 1);
        this.addProduct(col, q, hr, hi, acc, 1);
      }
      acc.drain(col, trip);
    }
    return trip.toSparse(n, relTol);
  }

  /**
   * Work estimate of relaxationForms (products of basis elements): the dense construction
   * costs about size^2 * dim, so callers can pick the cheaper one when expansions are dense.
   */
  cost(aDag: Expansion, b: Expansion): number {
    const nb = b.index.length;
    const na = aDag.index.length;
    if (this.pauli) return this.size * (nb + 2 * na * nb);
    return this.size * (4 * nb + 4 * na * Math.min(this.size, 2 * nb * this.maxTerms)) * this.maxTerms;
  }
}

function popcount(v: number): number {
  let x = v - ((v >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/**
 * Symplectic form of the normalised Pauli product basis: digit E, x, y, z of spin s (first spin
 * most significant) is the bit pair (x, z) = (0,0), (1,0), (1,1), (0,1) at bit N-1-s.
 */
function pauliMasks(N: number): { x: Int32Array; z: Int32Array; index: Int32Array; nSpins: number } {
  const n = 4 ** N;
  const x = new Int32Array(n);
  const z = new Int32Array(n);
  const index = new Int32Array(n);
  for (let a = 0; a < n; a++) {
    let xa = 0;
    let za = 0;
    let rest = a;
    for (let s = N - 1; s >= 0; s--) {
      const d = rest & 3;
      rest >>>= 2;
      const bit = 1 << (N - 1 - s);
      if (d === 1 || d === 2) xa |= bit;
      if (d === 2 || d === 3) za |= bit;
    }
    x[a] = xa;
    z[a] = za;
    index[(xa << N) | za] = a;
  }
  return { x, z, index, nSpins: N };
}

const algebras = new WeakMap<OperatorBasis, ProductAlgebra>();

/** The (cached) algebra of a basis. */
export function algebraOf(basis: OperatorBasis, system: SpinSystem): ProductAlgebra {
  let a = algebras.get(basis);
  if (!a) {
    a = new ProductAlgebra(system);
    algebras.set(basis, a);
  }
  return a;
}

/** Sparse expansion of an operator in the product basis: X = sum_t (re_t + i im_t) B_{index_t}. */
export interface Expansion {
  readonly index: Int32Array;
  readonly re: Float64Array;
  readonly im: Float64Array;
}

/** Coefficients Tr(B_a X) above relTol times the largest. */
export function expand(basis: OperatorBasis, x: CMatrix, relTol = 1e-15): Expansion {
  const { re, im } = basis.coefficients(x);
  return sparseExpansion(re, im, relTol);
}

function sparseExpansion(re: Float64Array, im: Float64Array, relTol: number): Expansion {
  // squared magnitudes (Math.hypot is several times slower in V8; coefficients of operators are far from overflow)
  let big2 = 0;
  const size = re.length;
  for (let a = 0; a < size; a++) big2 = Math.max(big2, (re[a] as number) ** 2 + (im[a] as number) ** 2);
  const tol2 = relTol * relTol * big2;
  const idx: number[] = [];
  for (let a = 0; a < size; a++) if ((re[a] as number) ** 2 + (im[a] as number) ** 2 > tol2) idx.push(a);
  // loops rather than mapping callbacks (README, "Layout": no per-job closures in set-up loops)
  const outRe = new Float64Array(idx.length);
  const outIm = new Float64Array(idx.length);
  for (let z = 0; z < idx.length; z++) {
    outRe[z] = re[idx[z] as number] as number;
    outIm[z] = im[idx[z] as number] as number;
  }
  return { index: Int32Array.from(idx), re: outRe, im: outIm };
}

/** Structure constants of one spin's normalised basis: b_i b_j = sum_k f_ijk b_k. */
function structureTable(spin: number): { start: Int32Array; k: Int32Array; re: Float64Array; im: Float64Array; maxLen: number } {
  const ops = singleSpinBasis(spin);
  const d = multiplicity(spin);
  const m = ops.length;
  const dense = ops.map((op) => {
    const re = new Float64Array(d * d);
    const im = new Float64Array(d * d);
    for (const e of op.entries) {
      re[e.i * d + e.j] = e.re;
      im[e.i * d + e.j] = e.im;
    }
    return { re, im };
  });
  const start = new Int32Array(m * m + 1);
  const ks: number[] = [];
  const res: number[] = [];
  const ims: number[] = [];
  let maxLen = 1;
  const pr = new Float64Array(d * d);
  const pi = new Float64Array(d * d);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      const a = dense[i] as { re: Float64Array; im: Float64Array };
      const b = dense[j] as { re: Float64Array; im: Float64Array };
      pr.fill(0);
      pi.fill(0);
      for (let r = 0; r < d; r++) {
        for (let c = 0; c < d; c++) {
          let sr = 0;
          let si = 0;
          for (let t = 0; t < d; t++) {
            const ar = a.re[r * d + t] as number;
            const ai = a.im[r * d + t] as number;
            const br = b.re[t * d + c] as number;
            const bi = b.im[t * d + c] as number;
            sr += ar * br - ai * bi;
            si += ar * bi + ai * br;
          }
          pr[r * d + c] = sr;
          pi[r * d + c] = si;
        }
      }
      let len = 0;
      for (let k = 0; k < m; k++) {
        // f = Tr(b_k P) = sum_rc b_k[c][r] P[r][c]
        let fr = 0;
        let fi = 0;
        for (const e of (ops[k] as { entries: readonly { i: number; j: number; re: number; im: number }[] }).entries) {
          const xr = pr[e.j * d + e.i] as number;
          const xi = pi[e.j * d + e.i] as number;
          fr += e.re * xr - e.im * xi;
          fi += e.re * xi + e.im * xr;
        }
        // the structure constants of these bases are simple algebraic numbers: snap round-off
        if (Math.abs(fr) < 1e-15) fr = 0;
        if (Math.abs(fi) < 1e-15) fi = 0;
        if (fr === 0 && fi === 0) continue;
        ks.push(k);
        res.push(fr);
        ims.push(fi);
        len++;
      }
      maxLen = Math.max(maxLen, len);
      start[i * m + j + 1] = ks.length;
    }
  }
  return { start, k: Int32Array.from(ks), re: Float64Array.from(res), im: Float64Array.from(ims), maxLen };
}

/** Dense complex accumulator with a list of touched indices (cleared in O(touched)). */
class Accumulator {
  readonly re: Float64Array;
  readonly im: Float64Array;
  readonly touched: Int32Array;
  private readonly mark: Uint8Array;
  count = 0;
  constructor(n: number) {
    this.re = new Float64Array(n);
    this.im = new Float64Array(n);
    this.touched = new Int32Array(n);
    this.mark = new Uint8Array(n);
  }
  add(k: number, r: number, i: number): void {
    if (this.mark[k] === 0) {
      this.mark[k] = 1;
      this.touched[this.count++] = k;
    }
    this.re[k] = (this.re[k] as number) + r;
    this.im[k] = (this.im[k] as number) + i;
  }
  clear(): void {
    for (let u = 0; u < this.count; u++) {
      const k = this.touched[u] as number;
      this.re[k] = 0;
      this.im[k] = 0;
      this.mark[k] = 0;
    }
    this.count = 0;
  }
  /** Real parts as column `col` of a sparse matrix, then clear. */
  drain(col: number, out: Triplets): void {
    for (let u = 0; u < this.count; u++) {
      const k = this.touched[u] as number;
      const v = this.re[k] as number;
      if (v !== 0) out.push(k, col, v);
    }
    this.clear();
  }
}

/** (row, col, value) lists, turned into CSR with sorted columns. */
export class Triplets {
  private rows: Int32Array;
  private cols: Int32Array;
  private vals: Float64Array;
  length = 0;
  /**
   * `capacity`: entries before the first growth (doubling). Small by default: a column cache
   * holds one per compact term (40 for an electron and three 1H, most with a few dozen
   * entries), and 1,024 each was 640 KB of every job's allocation.
   */
  constructor(capacity = 64) {
    this.rows = new Int32Array(capacity);
    this.cols = new Int32Array(capacity);
    this.vals = new Float64Array(capacity);
  }
  /** Entry k (for callers that redistribute raw entries). */
  row(k: number): number {
    return this.rows[k] as number;
  }
  colAt(k: number): number {
    return this.cols[k] as number;
  }
  value(k: number): number {
    return this.vals[k] as number;
  }
  clear(): void {
    this.length = 0;
  }
  push(r: number, c: number, v: number): void {
    if (this.length === this.vals.length) {
      const grow = <T extends Int32Array | Float64Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(2 * a.length);
        b.set(a);
        return b;
      };
      this.rows = grow(this.rows);
      this.cols = grow(this.cols);
      this.vals = grow(this.vals);
    }
    this.rows[this.length] = r;
    this.cols[this.length] = c;
    this.vals[this.length] = v;
    this.length++;
  }
  /** CSR, duplicates summed in push order, entries with |v| <= relTol * max|v| dropped. */
  toSparse(n: number, relTol = 0): SparseMatrix {
    const m = this.length;
    const { rows, cols, vals } = this;
    // bucket by row (stable), then order each row by column (insertion sort: rows are short)
    const ptr = new Int32Array(n + 1);
    for (let k = 0; k < m; k++) ptr[(rows[k] as number) + 1] = (ptr[(rows[k] as number) + 1] as number) + 1;
    for (let i = 0; i < n; i++) ptr[i + 1] = (ptr[i + 1] as number) + (ptr[i] as number);
    const fill = ptr.slice(0, n);
    const c = new Int32Array(m);
    const v = new Float64Array(m);
    for (let k = 0; k < m; k++) {
      const r = rows[k] as number;
      const at = fill[r] as number;
      fill[r] = at + 1;
      c[at] = cols[k] as number;
      v[at] = vals[k] as number;
    }
    const outPtr = new Int32Array(n + 1);
    let w = 0;
    for (let i = 0; i < n; i++) {
      const from = ptr[i] as number;
      const to = ptr[i + 1] as number;
      for (let a = from + 1; a < to; a++) {
        const ca = c[a] as number;
        const va = v[a] as number;
        let b = a - 1;
        while (b >= from && (c[b] as number) > ca) {
          c[b + 1] = c[b] as number;
          v[b + 1] = v[b] as number;
          b--;
        }
        c[b + 1] = ca;
        v[b + 1] = va;
      }
      // merge duplicates (kept in push order by the stable sorts) into position w
      for (let a = from; a < to; a++) {
        if (w > (outPtr[i] as number) && c[w - 1] === c[a]) v[w - 1] = (v[w - 1] as number) + (v[a] as number);
        else {
          c[w] = c[a] as number;
          v[w] = v[a] as number;
          w++;
        }
      }
      outPtr[i + 1] = w;
    }
    let big = 0;
    for (let k = 0; k < w; k++) big = Math.max(big, Math.abs(v[k] as number));
    const tol = relTol * big;
    const rowPtr = new Int32Array(n + 1);
    let z = 0;
    for (let i = 0; i < n; i++) {
      for (let k = outPtr[i] as number; k < (outPtr[i + 1] as number); k++) {
        const x = v[k] as number;
        if (!(Math.abs(x) > tol)) continue;
        c[z] = c[k] as number;
        v[z] = x;
        z++;
      }
      rowPtr[i + 1] = z;
    }
    return new SparseMatrix(n, rowPtr, c.slice(0, z), v.slice(0, z));
  }
}
