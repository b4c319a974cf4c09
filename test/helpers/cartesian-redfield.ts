/**
 * An independent semiclassical Redfield computation for tests, written from the physical
 * Hamiltonians in Cartesian form (no spherical tensors, no strength conventions):
 *
 *   H1(t) = sum_a sum_pq A^a_pq(t) X^a_pq,
 *   dipolar   X_pq = I_p S_q,               A = d (1 - 3 e e),  d = (mu0/4pi) g1 g2 hbar / r^3 (signed)
 *   csa       X_pq = I_p delta_qz,          A = gamma B0 (sigma - sigma_iso 1)  (shielding tensor)
 *   quadrupolar X_pq = (I_p I_q + I_q I_p)/2, A = (2 pi Cq / (2I (2I-1))) V / (eq)  (EFG tensor)
 *
 * with traceless symmetric tensors A^a fixed in a molecule that tumbles isotropically:
 * <A^a_pq(0) A^b_rs(t)> = (A^a:A^b)/10 (d_pr d_qs + d_ps d_qr - 2/3 d_pq d_rs) exp(-t/tau).
 * Secular approximation, no dynamic frequency shifts, H0 = sum_i w_i Iz_i (product basis):
 *   Gamma(rho) = -sum_ab sum_pqrs G^ab_pqrs sum_w j(w) [X^a_pq,w, [X^b_rs,-w, rho]],
 *   j(w) = tau / (1 + w^2 tau^2), [H0, X_w] = w X_w.
 * Which pairs (a, b) correlate is given explicitly (all auto terms always do).
 */

export interface CM {
  readonly n: number;
  readonly re: Float64Array;
  readonly im: Float64Array;
}

const zeros = (n: number): CM => ({ n, re: new Float64Array(n * n), im: new Float64Array(n * n) });

export function cadd(a: CM, b: CM, s = 1): CM {
  const o = zeros(a.n);
  for (let k = 0; k < a.re.length; k++) {
    o.re[k] = (a.re[k] as number) + s * (b.re[k] as number);
    o.im[k] = (a.im[k] as number) + s * (b.im[k] as number);
  }
  return o;
}

export function cscale(a: CM, s: number): CM {
  return { n: a.n, re: a.re.map((x) => x * s), im: a.im.map((x) => x * s) };
}

export function cmul(a: CM, b: CM): CM {
  const n = a.n;
  const o = zeros(n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const ar = a.re[i * n + k] as number;
      const ai = a.im[i * n + k] as number;
      if (ar === 0 && ai === 0) continue;
      for (let j = 0; j < n; j++) {
        const br = b.re[k * n + j] as number;
        const bi = b.im[k * n + j] as number;
        o.re[i * n + j] = (o.re[i * n + j] as number) + ar * br - ai * bi;
        o.im[i * n + j] = (o.im[i * n + j] as number) + ar * bi + ai * br;
      }
    }
  }
  return o;
}

function kron(a: CM, b: CM): CM {
  const n = a.n * b.n;
  const o = zeros(n);
  for (let i = 0; i < a.n; i++)
    for (let j = 0; j < a.n; j++)
      for (let k = 0; k < b.n; k++)
        for (let l = 0; l < b.n; l++) {
          const r = i * b.n + k;
          const c = j * b.n + l;
          const ar = a.re[i * a.n + j] as number;
          const ai = a.im[i * a.n + j] as number;
          const br = b.re[k * b.n + l] as number;
          const bi = b.im[k * b.n + l] as number;
          o.re[r * n + c] = ar * br - ai * bi;
          o.im[r * n + c] = ar * bi + ai * br;
        }
  return o;
}

const identity = (n: number): CM => {
  const o = zeros(n);
  for (let i = 0; i < n; i++) o.re[i * n + i] = 1;
  return o;
};

/** Ix, Iy, Iz of one spin I (basis m = I, I-1, ..., -I). */
function spinMatrices(I: number): [CM, CM, CM] {
  const n = Math.round(2 * I + 1);
  const x = zeros(n);
  const y = zeros(n);
  const z = zeros(n);
  for (let k = 0; k < n; k++) {
    const m = I - k;
    z.re[k * n + k] = m;
    if (k + 1 < n) {
      // <m|I+|m-1> = sqrt(I(I+1) - m(m-1))
      const c = Math.sqrt(I * (I + 1) - m * (m - 1));
      x.re[k * n + k + 1] = c / 2;
      x.re[(k + 1) * n + k] = c / 2;
      y.im[k * n + k + 1] = -c / 2;
      y.im[(k + 1) * n + k] = c / 2;
    }
  }
  return [x, y, z];
}

export type Vec3 = readonly [number, number, number];
export type Mat3 = readonly (readonly number[])[];

export interface RefSpin {
  readonly I: number;
  /** Larmor frequency w = -gamma B0 (1 + shift), rad/s. */
  readonly omega: number;
}

export type RefInteraction =
  | { readonly kind: 'dipolar'; readonly i: number; readonly j: number; readonly d: number; readonly axis: Vec3 }
  | { readonly kind: 'csa'; readonly i: number; readonly gammaB0: number; readonly deltaSigma: number; readonly axis: Vec3 }
  | { readonly kind: 'quadrupolar'; readonly i: number; readonly cqHz: number; readonly eta: number; readonly axis: Vec3; readonly xAxis: Vec3 };

const unit = (v: Vec3): Vec3 => {
  const n = Math.hypot(...v);
  return [v[0] / n, v[1] / n, v[2] / n];
};
const outer = (u: Vec3, v: Vec3): number[][] => [0, 1, 2].map((p) => [0, 1, 2].map((q) => (u[p] as number) * (v[q] as number)));
const cross3 = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];

/** The traceless tensor A of an interaction in the molecular frame. */
export function interactionTensor(x: RefInteraction, spins: readonly RefSpin[]): number[][] {
  if (x.kind === 'dipolar') {
    const e = unit(x.axis);
    const ee = outer(e, e);
    return [0, 1, 2].map((p) => [0, 1, 2].map((q) => x.d * ((p === q ? 1 : 0) - 3 * (ee[p]?.[q] as number))));
  }
  if (x.kind === 'csa') {
    const n = unit(x.axis);
    const nn = outer(n, n);
    return [0, 1, 2].map((p) => [0, 1, 2].map((q) => x.gammaB0 * x.deltaSigma * ((nn[p]?.[q] as number) - (p === q ? 1 / 3 : 0))));
  }
  const I = (spins[x.i] as RefSpin).I;
  const z = unit(x.axis);
  const xa = unit(x.xAxis);
  const ya = cross3(z, xa);
  // V / eq = -(1 - eta)/2 xx - (1 + eta)/2 yy + zz in the principal frame
  const vx = outer(xa, xa);
  const vy = outer(ya, ya);
  const vz = outer(z, z);
  const c = (2 * Math.PI * x.cqHz) / (2 * I * (2 * I - 1));
  return [0, 1, 2].map((p) =>
    [0, 1, 2].map((q) => c * ((-(1 - x.eta) / 2) * (vx[p]?.[q] as number) - ((1 + x.eta) / 2) * (vy[p]?.[q] as number) + (vz[p]?.[q] as number))),
  );
}

export class CartesianRedfield {
  readonly dim: number;
  readonly ops: ReadonlyArray<readonly [CM, CM, CM]>;
  private readonly energies: Float64Array;
  private readonly tensors: number[][][];
  private readonly x: CM[][][];

  constructor(
    readonly spins: readonly RefSpin[],
    readonly interactions: readonly RefInteraction[],
    readonly tau: number,
    /** Pairs of interaction indices whose spatial parts correlate (both orders implied). */
    readonly correlated: ReadonlyArray<readonly [number, number]>,
  ) {
    const dims = spins.map((s) => Math.round(2 * s.I + 1));
    this.dim = dims.reduce((a, b) => a * b, 1);
    this.ops = spins.map((s, i) => {
      const m = spinMatrices(s.I);
      return m.map((op) => {
        let out: CM | undefined;
        dims.forEach((d, k) => {
          const f = k === i ? op : identity(d);
          out = out ? kron(out, f) : f;
        });
        return out as CM;
      }) as unknown as readonly [CM, CM, CM];
    });
    this.energies = new Float64Array(this.dim);
    spins.forEach((s, i) => {
      const z = (this.ops[i] as readonly [CM, CM, CM])[2];
      for (let k = 0; k < this.dim; k++) this.energies[k] = (this.energies[k] as number) + s.omega * (z.re[k * this.dim + k] as number);
    });
    this.tensors = interactions.map((x) => interactionTensor(x, spins));
    this.x = interactions.map((x) =>
      [0, 1, 2].map((p) =>
        [0, 1, 2].map((q) => {
          const op = (i: number, c: number): CM => (this.ops[i] as readonly [CM, CM, CM])[c] as CM;
          if (x.kind === 'dipolar') return cmul(op(x.i, p), op(x.j, q));
          if (x.kind === 'csa') return q === 2 ? op(x.i, p) : zeros(this.dim);
          return cscale(cadd(cmul(op(x.i, p), op(x.i, q)), cmul(op(x.i, q), op(x.i, p))), 0.5);
        }),
      ),
    );
  }

  op(spin: number, c: 'x' | 'y' | 'z'): CM {
    return (this.ops[spin] as readonly [CM, CM, CM])[c === 'x' ? 0 : c === 'y' ? 1 : 2];
  }

  product(...factors: CM[]): CM {
    return factors.reduce((a, b) => cmul(a, b), identity(this.dim));
  }

  /** The component of X that raises the energy by w. */
  private component(x: CM, w: number, tol: number): CM {
    const n = this.dim;
    const o = zeros(n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        if (Math.abs((this.energies[i] as number) - (this.energies[j] as number) - w) > tol) continue;
        o.re[i * n + j] = x.re[i * n + j] as number;
        o.im[i * n + j] = x.im[i * n + j] as number;
      }
    return o;
  }

  /** Gamma(rho). */
  apply(rho: CM): CM {
    const n = this.dim;
    const scale = Math.max(...this.energies.map(Math.abs), 1);
    const tol = 1e-9 * scale;
    const freqs: number[] = [];
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        const w = (this.energies[i] as number) - (this.energies[j] as number);
        if (!freqs.some((f) => Math.abs(f - w) <= tol)) freqs.push(w);
      }
    const j = (w: number): number => this.tau / (1 + w * w * this.tau * this.tau);
    const pairs: Array<readonly [number, number]> = this.interactions.map((_, a) => [a, a] as const);
    for (const [a, b] of this.correlated) pairs.push([a, b], [b, a]);
    let out = zeros(n);
    for (const [a, b] of pairs) {
      const ta = this.tensors[a] as number[][];
      const tb = this.tensors[b] as number[][];
      let aa = 0;
      for (let p = 0; p < 3; p++) for (let q = 0; q < 3; q++) aa += (ta[p]?.[q] as number) * (tb[p]?.[q] as number);
      const xa = this.x[a] as CM[][];
      const xb = this.x[b] as CM[][];
      const trace = cadd(cadd(xb[0]?.[0] as CM, xb[1]?.[1] as CM), xb[2]?.[2] as CM);
      for (let p = 0; p < 3; p++)
        for (let q = 0; q < 3; q++) {
          // sum_rs G_pqrs X^b_rs = (A^a:A^b)/10 (X_pq + X_qp - 2/3 d_pq Tr X)
          let y = cadd(xb[p]?.[q] as CM, xb[q]?.[p] as CM);
          if (p === q) y = cadd(y, trace, -2 / 3);
          y = cscale(y, aa / 10);
          const x = xa[p]?.[q] as CM;
          for (const w of freqs) {
            const xw = this.component(x, w, tol);
            if (!xw.re.some((v) => v !== 0) && !xw.im.some((v) => v !== 0)) continue;
            const yw = this.component(y, -w, tol);
            const inner = cadd(cmul(yw, rho), cmul(rho, yw), -1);
            const dc = cadd(cmul(xw, inner), cmul(inner, xw), -1);
            out = cadd(out, dc, -j(w));
          }
        }
    }
    return out;
  }

  /** -Tr(B^dag Gamma(A)) / Tr(B^dag B): the rate from A into B (B = A: the projection rate). */
  rate(a: CM, b: CM = a): number {
    return projectedRate(this.apply(a), b);
  }
}

/** -Tr(B^dag G) / Tr(B^dag B) for G = Gamma(A) already computed. */
export function projectedRate(g: CM, b: CM): number {
  let num = 0;
  let den = 0;
  for (let k = 0; k < g.n * g.n; k++) {
    num += (b.re[k] as number) * (g.re[k] as number) + (b.im[k] as number) * (g.im[k] as number);
    den += (b.re[k] as number) ** 2 + (b.im[k] as number) ** 2;
  }
  return -num / den;
}
