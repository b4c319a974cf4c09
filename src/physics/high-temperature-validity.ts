import { betaOf } from './constants.js';
import { energiesAt, numericEigenstructure } from './eigenstructure.js';
import type { GeneratorModel } from './generator-model.js';
import { h0At } from './hamiltonian.js';
import type { ParamValues } from './scalar.js';
import { TEMPERATURE } from './system-description.js';

/**
 * The high-temperature model's factor f(w) = 1 - beta w / 2 turns negative for beta w > 2:
 * transition rates become negative and the generator is no longer a rate equation of any
 * state. The widest transition of H0 bounds every relaxation frequency, so a point is beyond
 * the model's validity when beta (E_max - E_min) > 2 (an electron at 6.7 T below 4.5 K).
 */
export const HIGH_TEMPERATURE_LIMIT = 2;

/** beta (E_max - E_min) of H0 at a point. */
export function highTemperatureArgument(model: GeneratorModel, p: ParamValues): number {
  const e = model.eigen ? energiesAt(model.eigen, p) : (numericEigenstructure(h0At(model.h0Parts, model.system.dim, p)).energies[0] as Float64Array);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of e) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return betaOf(p[TEMPERATURE] as number) * (hi - lo);
}
