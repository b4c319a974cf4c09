import type { CMatrix } from '../math/cmatrix.js';
import type { SpinSystem } from '../spin/spin-system.js';
import type { CouplingPair } from './mechanisms.js';
import { derived } from './scalar.js';
import { rank1 } from './spin-tensors.js';
import type { Mechanism } from './system-description.js';
import { oddPart, type ThermalModel } from './thermalization.js';

type T1T2 = Extract<Mechanism, { type: 't1t2' }>;

/**
 * Phenomenological T1/T2 relaxation with thermalization, as DNP studies in solids use it for
 * T1e, T2e, T1n, T2n: each listed spin (1/2) feels its own white-noise random field (J = 1,
 * no cross-correlation), transverse components (mu = +-1) of strength 1/T1 and a longitudinal
 * one (mu = 0) of strength 2/T2 - 1/T1 (the extra dephasing; T2 <= 2 T1 keeps it >= 0).
 *
 * The thermal factors of these terms are normalised by their even part, e -> 1 and
 * o -> o/e (`normalised` pairs), so that every thermalization model gives exactly
 * R1 = 1/T1 and R2 = 1/T2 at the point's temperature; the model then decides only where the
 * spin relaxes to. Since o/e = -tanh(beta w/2) for both Lindblad models, rodin-abergel and
 * bengs-levitt coincide here by construction (same rates, same fixed point).
 */
export function t1t2Pairs(system: SpinSystem, m: T1T2, mechanism: number): CouplingPair[] {
  const out: CouplingPair[] = [];
  const perp = derived([m.t1], (t1) => 1 / t1);
  const par = derived([m.t1, m.t2], (t1, t2) => 2 / t2 - 1 / t1);
  for (const i of m.spins) {
    const t = rank1(system, i);
    for (const mu of [1, 0, -1]) {
      const op = t.get(mu) as CMatrix;
      out.push({
        mechanism,
        mechanismLabel: m.label,
        mechanismType: m.type,
        spectral: m.spectral,
        mu,
        operands: system.spin(i).id,
        a: op,
        b: op,
        strength: mu === 0 ? par : perp,
        strengthLabel: mu === 0 ? '2/T2 - 1/T1' : '1/T1',
        normalised: true,
      });
    }
  }
  return out;
}

/** Even part of a normalised thermal factor: 1 in every model. */
export function normalisedEvenPart(): number {
  return 1;
}

/** Odd part of a normalised thermal factor, o(x)/e(x): -tanh(x/2) for both Lindblad models. */
export function normalisedOddPart(model: ThermalModel, x: number): number {
  // o/e for bengs-levitt is -sinh/cosh: computed as tanh, which neither overflows nor differs
  // in the last bit from rodin-abergel's value
  return model === 'bengs-levitt' ? -Math.tanh(0.5 * x) : oddPart(model, x);
}
