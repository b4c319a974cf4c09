import type { CMatrix } from '../math/cmatrix.js';
import type { SpinSystem } from '../spin/spin-system.js';
import { HBAR, MU0_OVER_4PI, TWO_PI } from './constants.js';
import { derived, param, type Derived, type Scalar } from './scalar.js';
import type { SpectralDensity } from './spectral-density.js';
import { bilinearRank2, fieldRank2, rank1, type TensorComponents } from './spin-tensors.js';
import { B0, type CrossCorrelation, type Mechanism } from './system-description.js';

/** What a coupling pair belongs to: one mechanism, or the cross-correlation of two. */
export type MechanismKind = Mechanism['type'] | 'cross_correlation';

/**
 * One correlated pair of coupling operators of a mechanism, for one spatial component mu:
 * it contributes -(1/2) s J(w) D[w](A_w^dag, B_w) for every eigenfrequency w shared by the
 * eigen-components of A and B (secular approximation).
 */
export interface CouplingPair {
  readonly mechanism: number;
  readonly mechanismLabel: string;
  readonly mechanismType: MechanismKind;
  readonly mu: number;
  /** Which operators: e.g. 'a,b' for a random-field cross term. */
  readonly operands: string;
  readonly a: CMatrix;
  readonly b: CMatrix;
  /** Index into the model's strength list: pairs sharing a strength share the object. */
  readonly strength: Derived;
  readonly strengthLabel: string;
  readonly spectral: SpectralDensity;
}

/** Dipolar coupling constant b (rad/s) from a distance: (mu0/4pi) gamma1 gamma2 hbar / r^3. */
export function dipolarConstantFromDistance(gamma1: number, gamma2: number, r: number): number {
  return (MU0_OVER_4PI * gamma1 * gamma2 * HBAR) / (r * r * r);
}

const SQRT_6_5 = Math.sqrt(6 / 5);
const SQRT_3_10 = Math.sqrt(3 / 10);

/** Reduced anisotropy delta (ppm) from the spec's field: delta itself, or (2/3) Delta-sigma. */
function reducedAnisotropy(kind: 'delta_ppm' | 'delta_sigma_ppm', v: number): number {
  return kind === 'delta_ppm' ? v : (2 / 3) * v;
}

/** omega_Q = 2 pi Cq / (4 I (2I - 1)): H_Q = omega_Q [3 (I.n)^2 - I^2] for an axial gradient along n. */
export function quadrupolarFrequency(cqHz: number, spin: number): number {
  return (TWO_PI * cqHz) / (4 * spin * (2 * spin - 1));
}

/**
 * A rank-2 mechanism as H1(t) = xi sum_mu (-1)^mu sqrt6 C_{2,-mu}(Omega(t)) T_{2,mu} (C the
 * normalised spherical harmonics of the interaction's unique axis, T the spin tensors of
 * spin-tensors.ts), written through its signed amplitude k = sqrt(6/5) xi:
 *   dipolar   xi = -b                    (H = b [I.S - 3 (I.e)(S.e)], b signed by gamma1 gamma2)
 *   csa       xi = +gamma B0 delta / 2   (H = gamma I.sigma.B0, delta of the shielding tensor)
 *   quadrupolar xi = +omega_Q            (H = omega_Q [3 (I.n)^2 - I^2])
 * Isotropic tumbling makes every mu correlate with (1/5) e^{-t/tau}; the auto strength is
 * s = k^2 (1 + eta^2/3) and the cross term of two mechanisms k_a k_b p2 (docs/physics.md).
 */
export interface Rank2Coupling {
  readonly tensors: TensorComponents;
  /** k as a function of `inputs` (the eta factor is not part of it). */
  readonly inputs: readonly Scalar[];
  readonly amplitude: (...v: number[]) => number;
}

export function rank2Coupling(system: SpinSystem, m: Mechanism): Rank2Coupling | undefined {
  switch (m.type) {
    case 'dipolar': {
      const [i, j] = m.spins;
      const g1 = system.spin(i).gamma;
      const g2 = system.spin(j).gamma;
      const sign = Math.sign(g1 * g2);
      const amplitude =
        m.strength.kind === 'b_hz' ? (bhz: number) => -SQRT_6_5 * sign * TWO_PI * Math.abs(bhz) : (r: number) => -SQRT_6_5 * dipolarConstantFromDistance(g1, g2, r);
      return { tensors: bilinearRank2(system, i, j), inputs: [m.strength.value], amplitude };
    }
    case 'csa': {
      const g = system.spin(m.spin).gamma;
      const kind = m.anisotropy.kind;
      return {
        tensors: fieldRank2(system, m.spin),
        inputs: [param(B0), m.anisotropy.value],
        amplitude: (b0: number, d: number) => SQRT_3_10 * g * b0 * reducedAnisotropy(kind, d) * 1e-6,
      };
    }
    case 'quadrupolar': {
      const spin = system.spin(m.spin).spin;
      return {
        tensors: bilinearRank2(system, m.spin, m.spin),
        inputs: [m.cqHz],
        amplitude: (cq: number) => SQRT_6_5 * quadrupolarFrequency(cq, spin),
      };
    }
    case 'random_field':
      return undefined;
  }
}

/** P2(cos theta) for theta in degrees. */
export function p2OfAngle(deg: number): number {
  const c = Math.cos((deg * Math.PI) / 180);
  return 1.5 * c * c - 0.5;
}

/**
 * The cross-correlation pairs of two rank-2 mechanisms: for every mu both have, (T_a, T_b)
 * and (T_b, T_a) with the common strength k_a k_b p2 and the spectral density of the first
 * (the spec checks they are the same).
 */
function crossPairs(system: SpinSystem, mechanisms: readonly Mechanism[], c: CrossCorrelation, index: number): CouplingPair[] {
  const [ia, ib] = c.between;
  const ma = mechanisms[ia];
  const mb = mechanisms[ib];
  if (!ma || !mb) throw new Error(`cross-correlation ${c.label}: mechanism index out of range`);
  const a = rank2Coupling(system, ma);
  const b = rank2Coupling(system, mb);
  if (!a || !b) throw new Error(`cross-correlation ${c.label}: ${!a ? ma.label : mb.label} is not a rank-2 mechanism`);
  const na = a.inputs.length;
  const nb = b.inputs.length;
  const angle = c.orientation.kind === 'angle_deg';
  const strength = derived([...a.inputs, ...b.inputs, c.orientation.value], (...v) => {
    const p2 = angle ? p2OfAngle(v[na + nb] as number) : (v[na + nb] as number);
    return a.amplitude(...v.slice(0, na)) * b.amplitude(...v.slice(na, na + nb)) * p2;
  });
  const base = { mechanism: index, mechanismLabel: c.label, mechanismType: 'cross_correlation' as const, spectral: ma.spectral, strength, strengthLabel: 'k_a k_b P2' };
  const out: CouplingPair[] = [];
  for (const [mu, ta] of a.tensors) {
    const tb = b.tensors.get(mu);
    if (!tb) continue;
    out.push({ ...base, mu, operands: `${ma.label}|${mb.label}`, a: ta, b: tb });
    out.push({ ...base, mu, operands: `${mb.label}|${ma.label}`, a: tb, b: ta });
  }
  return out;
}

export function couplingPairs(system: SpinSystem, mechanisms: readonly Mechanism[], cross: readonly CrossCorrelation[] = []): CouplingPair[] {
  const out: CouplingPair[] = [];
  mechanisms.forEach((m, k) => {
    const base = { mechanism: k, mechanismLabel: m.label, mechanismType: m.type, spectral: m.spectral };
    switch (m.type) {
      case 'dipolar': {
        const [i, j] = m.spins;
        const g1 = system.spin(i).gamma;
        const g2 = system.spin(j).gamma;
        // s = (6/5) b^2 reproduces R1 = 3/2 b^2 tau_c for like spins in extreme narrowing.
        const strength =
          m.strength.kind === 'b_hz'
            ? derived([m.strength.value], (bhz) => 1.2 * (TWO_PI * bhz) ** 2)
            : derived([m.strength.value], (r) => 1.2 * dipolarConstantFromDistance(g1, g2, r) ** 2);
        for (const [mu, t] of bilinearRank2(system, i, j)) {
          out.push({ ...base, mu, operands: `${system.spin(i).id},${system.spin(j).id}`, a: t, b: t, strength, strengthLabel: '(6/5) b^2' });
        }
        return;
      }
      case 'csa': {
        const g = system.spin(m.spin).gamma;
        const kind = m.anisotropy.kind;
        // s = (3/10) (gamma B0 delta)^2 (1 + eta^2/3): R1 = (3/10) (w0 delta)^2 tau_c in extreme narrowing.
        const strength =
          kind === 'delta_ppm'
            ? derived([param(B0), m.anisotropy.value, m.eta], (b0, d, eta) => 0.3 * (g * b0 * d * 1e-6) ** 2 * (1 + (eta * eta) / 3))
            : derived([param(B0), m.anisotropy.value, m.eta], (b0, d, eta) => 0.3 * (g * b0 * reducedAnisotropy(kind, d) * 1e-6) ** 2 * (1 + (eta * eta) / 3));
        for (const [mu, t] of fieldRank2(system, m.spin)) {
          out.push({ ...base, mu, operands: system.spin(m.spin).id, a: t, b: t, strength, strengthLabel: '(3/10) (w0 delta)^2 (1 + eta^2/3)' });
        }
        return;
      }
      case 'random_field': {
        const auto = derived([m.rmsHz], (rms) => (TWO_PI * rms) ** 2);
        const cross = derived([m.rmsHz, m.kappa], (rms, kap) => kap * (TWO_PI * rms) ** 2);
        const tensors = m.spins.map((i) => rank1(system, i));
        m.spins.forEach((i, x) => {
          m.spins.forEach((j, y) => {
            const ti = tensors[x] as ReturnType<typeof rank1>;
            const tj = tensors[y] as ReturnType<typeof rank1>;
            for (const mu of [1, 0, -1]) {
              out.push({
                ...base,
                mu,
                operands: `${system.spin(i).id},${system.spin(j).id}`,
                a: ti.get(mu) as CMatrix,
                b: tj.get(mu) as CMatrix,
                strength: i === j ? auto : cross,
                strengthLabel: i === j ? 'w_rms^2' : 'kappa w_rms^2',
              });
            }
          });
        });
        return;
      }
      case 'quadrupolar': {
        const spin = system.spin(m.spin).spin;
        // s = (6/5) omega_Q^2 (1 + eta^2/3): R1 = R2 = (3 pi^2/10) (2I+3)/(I^2 (2I-1)) Cq^2 (1 + eta^2/3) tau_c in extreme narrowing.
        const strength = derived([m.cqHz, m.eta], (cq, eta) => 1.2 * quadrupolarFrequency(cq, spin) ** 2 * (1 + (eta * eta) / 3));
        const id = system.spin(m.spin).id;
        for (const [mu, t] of bilinearRank2(system, m.spin, m.spin)) {
          out.push({ ...base, mu, operands: id, a: t, b: t, strength, strengthLabel: '(6/5) omega_Q^2 (1 + eta^2/3)' });
        }
        return;
      }
    }
  });
  cross.forEach((c, k) => out.push(...crossPairs(system, mechanisms, c, mechanisms.length + k)));
  return out;
}
