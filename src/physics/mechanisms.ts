import type { CMatrix } from '../math/cmatrix.js';
import type { SpinSystem } from '../spin/spin-system.js';
import { HBAR, MU0_OVER_4PI, TWO_PI } from './constants.js';
import { t1t2Pairs } from './phenomenological.js';
import { derived, param, type Derived } from './scalar.js';
import type { SpectralDensity } from './spectral-density.js';
import { bilinearRank2, fieldRank2, rank1 } from './spin-tensors.js';
import { B0, type Mechanism } from './system-description.js';

/**
 * One correlated pair of coupling operators of a mechanism, for one spatial component mu:
 * it contributes -(1/2) s J(w) D[w](A_w^dag, B_w) for every eigenfrequency w shared by the
 * eigen-components of A and B (secular approximation).
 */
export interface CouplingPair {
  readonly mechanism: number;
  readonly mechanismLabel: string;
  readonly mechanismType: Mechanism['type'];
  readonly mu: number;
  /** Which operators: e.g. 'a,b' for a random-field cross term. */
  readonly operands: string;
  readonly a: CMatrix;
  readonly b: CMatrix;
  /** Index into the model's strength list: pairs sharing a strength share the object. */
  readonly strength: Derived;
  readonly strengthLabel: string;
  readonly spectral: SpectralDensity;
  /** Thermal factors normalised by their even part (e -> 1, o -> o/e): phenomenological t1t2. */
  readonly normalised?: boolean;
}

/** Dipolar coupling constant b (rad/s) from a distance: (mu0/4pi) gamma1 gamma2 hbar / r^3. */
export function dipolarConstantFromDistance(gamma1: number, gamma2: number, r: number): number {
  return (MU0_OVER_4PI * gamma1 * gamma2 * HBAR) / (r * r * r);
}

export function couplingPairs(system: SpinSystem, mechanisms: readonly Mechanism[]): CouplingPair[] {
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
        // s = (3/10) (gamma B0 delta)^2 (1 + eta^2/3): R1 = (3/10) (w0 delta)^2 tau_c in extreme narrowing.
        const strength = derived([param(B0), m.deltaPpm, m.eta], (b0, d, eta) => 0.3 * (g * b0 * d * 1e-6) ** 2 * (1 + (eta * eta) / 3));
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
      case 't1t2':
        out.push(...t1t2Pairs(system, m, k));
        return;
    }
  });
  return out;
}
