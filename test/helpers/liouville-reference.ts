/**
 * An independent float64 Liouville-space model of two spins 1/2 (electron S, nucleus I) for
 * the DNP tests, written from textbook formulas and sharing no code with relaxmap: complex
 * density matrices in the natural basis |i><j| (row-major vec), superoperators as dense
 * complex matrices, the rotating-frame Hamiltonian written out, Redfield relaxation from
 * Abragam's dipolar alphabet (A-F with the isotropic averages 4/5, 2/15, 8/15), random fields
 * from their Cartesian components, Lindblad T1/T2 with detailed-balance rates, and a steady
 * state by an equilibrated LU solve refined with double-double residuals.
 */

const HBAR = 1.054571817e-34;
const KB = 1.380649e-23;
export const GAMMA_E = -1.76085963023e11;
export const GAMMA_H = 2.6752218744e8;

/** Complex n x n matrix, row-major. */
export class Cm {
  readonly re: Float64Array;
  readonly im: Float64Array;
  constructor(
    readonly n: number,
    re?: Float64Array,
    im?: Float64Array,
  ) {
    this.re = re ?? new Float64Array(n * n);
    this.im = im ?? new Float64Array(n * n);
  }
  static eye(n: number): Cm {
    const m = new Cm(n);
    for (let i = 0; i < n; i++) m.re[i * n + i] = 1;
    return m;
  }
  plus(b: Cm, s = 1): Cm {
    const o = new Cm(this.n);
    for (let k = 0; k < this.re.length; k++) {
      o.re[k] = this.re[k]! + s * b.re[k]!;
      o.im[k] = this.im[k]! + s * b.im[k]!;
    }
    return o;
  }
  times(s: number): Cm {
    return new Cm(this.n, this.re.map((v) => v * s), this.im.map((v) => v * s));
  }
  mul(b: Cm): Cm {
    const n = this.n;
    const o = new Cm(n);
    for (let i = 0; i < n; i++)
      for (let k = 0; k < n; k++) {
        const ar = this.re[i * n + k]!;
        const ai = this.im[i * n + k]!;
        if (ar === 0 && ai === 0) continue;
        for (let j = 0; j < n; j++) {
          o.re[i * n + j] = o.re[i * n + j]! + ar * b.re[k * n + j]! - ai * b.im[k * n + j]!;
          o.im[i * n + j] = o.im[i * n + j]! + ar * b.im[k * n + j]! + ai * b.re[k * n + j]!;
        }
      }
    return o;
  }
  dag(): Cm {
    const n = this.n;
    const o = new Cm(n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        o.re[j * n + i] = this.re[i * n + j]!;
        o.im[j * n + i] = -this.im[i * n + j]!;
      }
    return o;
  }
  transpose(): Cm {
    const n = this.n;
    const o = new Cm(n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        o.re[j * n + i] = this.re[i * n + j]!;
        o.im[j * n + i] = this.im[i * n + j]!;
      }
    return o;
  }
}

function kron(a: Cm, b: Cm): Cm {
  const n = a.n * b.n;
  const o = new Cm(n);
  for (let i = 0; i < a.n; i++)
    for (let j = 0; j < a.n; j++)
      for (let k = 0; k < b.n; k++)
        for (let l = 0; l < b.n; l++) {
          const r = i * b.n + k;
          const c = j * b.n + l;
          const ar = a.re[i * a.n + j]!;
          const ai = a.im[i * a.n + j]!;
          const br = b.re[k * b.n + l]!;
          const bi = b.im[k * b.n + l]!;
          o.re[r * n + c] = ar * br - ai * bi;
          o.im[r * n + c] = ar * bi + ai * br;
        }
  return o;
}

const half = (rows: number[][], imag?: number[][]): Cm => {
  const m = new Cm(2);
  rows.forEach((r, i) => r.forEach((v, j) => (m.re[i * 2 + j] = v)));
  imag?.forEach((r, i) => r.forEach((v, j) => (m.im[i * 2 + j] = v)));
  return m;
};
const sx = half([[0, 0.5], [0.5, 0]]);
const sy = half([[0, 0], [0, 0]], [[0, -0.5], [0.5, 0]]);
const sz = half([[0.5, 0], [0, -0.5]]);
const sp = half([[0, 1], [0, 0]]);
const sm = half([[0, 0], [1, 0]]);
const e2 = Cm.eye(2);

/** Operators of the pair: spin 0 = electron S (left factor), spin 1 = nucleus I. */
export const S = { x: kron(sx, e2), y: kron(sy, e2), z: kron(sz, e2), p: kron(sp, e2), m: kron(sm, e2) };
export const I = { x: kron(e2, sx), y: kron(e2, sy), z: kron(e2, sz), p: kron(e2, sp), m: kron(e2, sm) };
export const E4 = Cm.eye(4);

/** Superoperators on row-major vec: vec(A X B) = (A (x) B^T) vec(X). */
export const left = (a: Cm): Cm => kron(a, E4);
export const right = (b: Cm): Cm => kron(E4, b.transpose());
export const commutatorSuper = (h: Cm): Cm => left(h).plus(right(h), -1);
/** X -> -i [H, X] */
export function hamiltonianSuper(h: Cm): Cm {
  const c = commutatorSuper(h);
  return new Cm(c.n, c.im.slice(), c.re.map((v) => -v));
}
/** X -> [A, [B, X]] */
export const doubleCommutatorSuper = (a: Cm, b: Cm): Cm => commutatorSuper(a).mul(commutatorSuper(b));
/** Lindblad dissipator D[L] X = L X L^dag - (1/2) {L^dag L, X}. */
export function lindbladSuper(l: Cm): Cm {
  const ldl = l.dag().mul(l);
  return left(l).mul(right(l.dag())).plus(left(ldl).plus(right(ldl)), -0.5);
}

export const beta = (T: number): number => HBAR / (KB * T);
export const lorentz = (w: number, tau: number): number => (2 * tau) / (1 + w * w * tau * tau);

/** A superoperator as a sum of coefficient x unit superoperator: kept apart until the real basis. */
export type Terms = Array<readonly [number, Cm]>;

/** -i [H, .] of H = sum_k h_k O_k. */
export function hamiltonianTerms(parts: ReadonlyArray<readonly [number, Cm]>): Terms {
  return parts.map(([h, o]) => [h, hamiltonianSuper(o)] as const);
}

/**
 * Heteronuclear dipolar Redfield superoperator (double commutator, secular), from Abragam's
 * alphabet: H_D = b [A + B + C + D + E + F] with orientation functions F0 = 1 - 3 cos^2,
 * F1 = sin cos e^{-i phi}, F2 = sin^2 e^{-2 i phi}, isotropic averages <|F0|^2> = 4/5,
 * <|F1|^2> = 2/15, <|F2|^2> = 8/15, and Gamma = -(1/2) b^2 sum_q <|F_q|^2> J(w_q) [V_q^dag, [V_q, .]]
 * over the frequency components V_q of each spin part. J(w) = 2 tau / (1 + w^2 tau^2).
 * b = (mu0/4pi) gamma_S gamma_I hbar / r^3; wS, wI signed Larmor frequencies (-gamma B0).
 */
export function dipolarRedfield(b: number, tau: number, wS: number, wI: number): Terms {
  const comps: Array<{ v: Cm; w: number; f2: number }> = [];
  // F0: A = Iz Sz F0, B = -(1/4)(I+S- + I-S+) F0
  comps.push({ v: I.z.mul(S.z), w: 0, f2: 4 / 5 });
  comps.push({ v: I.p.mul(S.m).times(-0.25), w: wI - wS, f2: 4 / 5 });
  comps.push({ v: I.m.mul(S.p).times(-0.25), w: wS - wI, f2: 4 / 5 });
  // F1 and its conjugate: C = -(3/2)(I+ Sz + Iz S+), D = C^dag
  for (const sgn of [1, -1]) {
    const ip = sgn > 0 ? I.p : I.m;
    const spp = sgn > 0 ? S.p : S.m;
    comps.push({ v: ip.mul(S.z).times(-1.5), w: sgn * wI, f2: 2 / 15 });
    comps.push({ v: I.z.mul(spp).times(-1.5), w: sgn * wS, f2: 2 / 15 });
  }
  // F2 and its conjugate: E = -(3/4) I+ S+, F = E^dag
  comps.push({ v: I.p.mul(S.p).times(-0.75), w: wI + wS, f2: 8 / 15 });
  comps.push({ v: I.m.mul(S.m).times(-0.75), w: -wI - wS, f2: 8 / 15 });
  return comps.map((c) => [-0.5 * b * b * c.f2 * lorentz(c.w, tau), doubleCommutatorSuper(c.v.dag(), c.v)] as const);
}

/**
 * Isotropic random field on one spin (Cartesian components, each <w_a^2> = rms^2):
 * Gamma = -(1/2) rms^2 [ (J(w)/2) ([S-, [S+, .]] + [S+, [S-, .]]) + J(0) [Sz, [Sz, .]] ].
 */
export function randomFieldRedfield(spin: typeof S, rms: number, tau: number, w: number): Terms {
  const k = -0.5 * rms * rms;
  return [
    [k * 0.5 * lorentz(w, tau), doubleCommutatorSuper(spin.m, spin.p)],
    [k * 0.5 * lorentz(w, tau), doubleCommutatorSuper(spin.p, spin.m)],
    [k * lorentz(0, tau), doubleCommutatorSuper(spin.z, spin.z)],
  ];
}

/**
 * Lindblad T1/T2 of one spin with detailed balance at lattice temperature T: the
 * energy-lowering jump (S- when w > 0, S+ when w < 0) at (1/T1)(1 + tanh(beta|w|/2))/2, the
 * raising one at (1/T1)(1 - tanh)/2, and dephasing sqrt(2/T2 - 1/T1) Sz.
 * `model`: 'thermal' (detailed balance), 'high-temperature' (1 -+ beta|w|/2 instead of
 * 1 -+ tanh) or 'infinite' (equal up and down rates, for the inhomogeneous model).
 */
export function t1t2Lindblad(spin: typeof S, t1: number, t2: number, w: number, T: number, model: 'thermal' | 'high-temperature' | 'infinite' = 'thermal'): Terms {
  const x = beta(T) * Math.abs(w);
  const o = model === 'thermal' ? Math.tanh(0.5 * x) : model === 'high-temperature' ? 0.5 * x : 0;
  const down = w > 0 ? spin.m : spin.p;
  const up = w > 0 ? spin.p : spin.m;
  return [
    [(1 / t1) * 0.5 * (1 + o), lindbladSuper(down)],
    [(1 / t1) * 0.5 * (1 - o), lindbladSuper(up)],
    [2 / t2 - 1 / t1, lindbladSuper(spin.z)],
  ];
}

/** exp(-beta H0)/Z for H0 = wS Sz + wI Iz (diagonal). */
export function boltzmann(wS: number, wI: number, T: number): Cm {
  const b = beta(T);
  const rho = new Cm(4);
  const levels = [0.5 * wS + 0.5 * wI, 0.5 * wS - 0.5 * wI, -0.5 * wS + 0.5 * wI, -0.5 * wS - 0.5 * wI];
  const ref = Math.min(...levels);
  const p = levels.map((e) => Math.exp(-b * (e - ref)));
  const z = p.reduce((a, c) => a + c, 0);
  p.forEach((v, i) => (rho.re[i * 4 + i] = v / z));
  return rho;
}

export function expect(rho: Cm, o: Cm): number {
  let s = 0;
  for (let i = 0; i < 4; i++) for (let k = 0; k < 4; k++) s += o.re[i * 4 + k]! * rho.re[k * 4 + i]! - o.im[i * 4 + k]! * rho.im[k * 4 + i]!;
  return s;
}

/** A x for a complex superoperator and a density matrix. */
export function apply(a: Cm, rho: Cm): Cm {
  const out = new Cm(4);
  for (let i = 0; i < 16; i++)
    for (let j = 0; j < 16; j++) {
      out.re[i] = out.re[i]! + a.re[i * 16 + j]! * rho.re[j]! - a.im[i * 16 + j]! * rho.im[j]!;
      out.im[i] = out.im[i]! + a.re[i * 16 + j]! * rho.im[j]! + a.im[i * 16 + j]! * rho.re[j]!;
    }
  return out;
}

/** Normalised Pauli products B_(a,b) = s_a (x) s_b / 2, s in {1, sx, sy, sz} scaled to sigma: Tr(B B') = delta. */
function pauliBasis(): Cm[] {
  const p = [e2, sx.times(2), sy.times(2), sz.times(2)];
  const out: Cm[] = [];
  for (const a of p) for (const b of p) out.push(kron(a, b).times(0.5));
  return out;
}

/**
 * The steady state of d rho/dt = L rho (+ Gamma_src (rho - rho_eq) for the inhomogeneous
 * model: `inhomogeneous` lists its terms and rho_eq) with Tr rho = 1. Solved in the real basis
 * of normalised Pauli products, where the populations of one spin (Iz, Sz, 2 SzIz) are
 * coordinates of their own: in the basis |i><j| the nuclear polarisation is a 1e-3 difference
 * of 0.5 populations dominated by the electron's. Each term is taken to the real basis on its
 * own and only then scaled and summed, so that the ~1e9 s^-1 entries of the Hamiltonian never
 * add round-off to the ~1e-2 s^-1 nuclear rows. The identity coordinate is 1/2 (unit trace);
 * the other 15 equations are equilibrated, LU-factored with partial pivoting and refined with
 * residuals in double-double until the correction stops shrinking.
 */
export function steadyState(terms: Terms, inhomogeneous?: { readonly terms: Terms; readonly rhoEq: Cm }): { rho: Cm; iterations: number } {
  const basis = pauliBasis();
  const toReal = (sup: Cm): Float64Array => {
    const out = new Float64Array(256);
    basis.forEach((bb, j) => {
      const col = apply(sup, bb);
      basis.forEach((ba, i) => (out[i * 16 + j] = expect(col, ba)));
    });
    return out;
  };
  const m = new Float64Array(256);
  for (const [c, sup] of [...terms, ...(inhomogeneous?.terms ?? [])]) {
    const r = toReal(sup);
    for (let k = 0; k < 256; k++) m[k] = m[k]! + c * r[k]!;
  }
  // inhomogeneous source -Gamma rho_eq
  const src = new Float64Array(16);
  if (inhomogeneous) {
    const xeq = basis.map((b) => expect(inhomogeneous.rhoEq, b));
    for (const [c, sup] of inhomogeneous.terms) {
      const r = toReal(sup);
      for (let i = 0; i < 16; i++) for (let j = 0; j < 16; j++) src[i] = src[i]! - c * r[i * 16 + j]! * xeq[j]!;
    }
  }
  const n = 15;
  const a = new Float64Array(n * n);
  const rhs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) a[i * n + j] = m[(i + 1) * 16 + j + 1]!;
    rhs[i] = -(m[(i + 1) * 16]! * 0.5 + src[i + 1]!);
  }
  const x = refinedSolve(a, rhs, n);
  let rho = basis[0]!.times(0.5);
  x.x.forEach((v, k) => (rho = rho.plus(basis[k + 1]!, v)));
  return { rho, iterations: x.iterations };
}

function twoProd(a: number, b: number): [number, number] {
  const p = a * b;
  const split = (v: number): [number, number] => {
    const c = 134217729 * v;
    const h = c - (c - v);
    return [h, v - h];
  };
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  return [p, al * bl - (p - ah * bh - al * bh - ah * bl)];
}

function refinedSolve(a0: Float64Array, b: Float64Array, n: number): { x: Float64Array; iterations: number } {
  // row then column equilibration (powers of two)
  const r = new Float64Array(n);
  const c = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let j = 0; j < n; j++) m = Math.max(m, Math.abs(a0[i * n + j]!));
    r[i] = m > 0 ? 2 ** -Math.round(Math.log2(m)) : 1;
  }
  for (let j = 0; j < n; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(a0[i * n + j]! * r[i]!));
    c[j] = m > 0 ? 2 ** -Math.round(Math.log2(m)) : 1;
  }
  const lu = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) lu[i * n + j] = a0[i * n + j]! * r[i]! * c[j]!;
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(lu[i * n + k]!) > Math.abs(lu[p * n + k]!)) p = i;
    if (lu[p * n + k] === 0) throw new Error('singular steady-state system');
    if (p !== k) {
      for (let j = 0; j < n; j++) [lu[k * n + j], lu[p * n + j]] = [lu[p * n + j]!, lu[k * n + j]!];
      [perm[k], perm[p]] = [perm[p]!, perm[k]!];
    }
    for (let i = k + 1; i < n; i++) {
      const f = lu[i * n + k]! / lu[k * n + k]!;
      lu[i * n + k] = f;
      for (let j = k + 1; j < n; j++) lu[i * n + j]! -= f * lu[k * n + j]!;
    }
  }
  const solveScaled = (v: Float64Array): Float64Array => {
    const y = Float64Array.from(perm, (pi) => v[pi]! * r[pi]!);
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) y[i]! -= lu[i * n + j]! * y[j]!;
    for (let i = n - 1; i >= 0; i--) {
      for (let j = i + 1; j < n; j++) y[i]! -= lu[i * n + j]! * y[j]!;
      y[i] = y[i]! / lu[i * n + i]!;
    }
    return y.map((v2, j) => v2 * c[j]!);
  };
  const x = solveScaled(b);
  let last = Infinity;
  let it = 0;
  for (; it < 20; it++) {
    const res = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let hi = b[i]!;
      let lo = 0;
      for (let j = 0; j < n; j++) {
        const [p, e] = twoProd(a0[i * n + j]!, -x[j]!);
        const s = hi + p;
        const bb = s - hi;
        lo += hi - (s - bb) + (p - bb) + e;
        hi = s;
      }
      res[i] = hi + lo;
    }
    const d = solveScaled(res);
    let corr = 0;
    let size = 0;
    for (let j = 0; j < n; j++) {
      x[j]! += d[j]!;
      corr = Math.max(corr, Math.abs(d[j]!) / c[j]!);
      size = Math.max(size, Math.abs(x[j]!) / c[j]!);
    }
    if (!(corr > 1e-17 * size) || !(corr < 0.9 * last)) break;
    last = corr;
  }
  return { x, iterations: it + 1 };
}
