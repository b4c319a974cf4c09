import { betaOf } from './constants.js';
import { at, evalScalar, evalScalarBatch, scalarDeps, type ParamValues, type PointBatch, type Scalar } from './scalar.js';
import { TEMPERATURE } from './system-description.js';

/**
 * Spectral density of the direct (one-phonon) process, the electron spin-lattice relaxation
 * that dominates below ~4 K at high field (seed, section 5):
 *
 *   J(w) = 2 tau (|w| / 2 pi nu_ref)^n coth(hbar |w| / 2 k T).
 *
 * Even in w and temperature dependent: coth(x/2) = 2 n(w) + 1 with n the Bose occupation of
 * the resonant phonon mode, so under the thermalized double commutator (f(w) = 1 - tanh(x/2))
 * the downward and upward rates are J (1 + tanh)/2 ~ n + 1 and J (1 - tanh)/2 ~ n: the
 * Einstein rates of phonon emission and absorption. The power n carries the density of
 * phonon states times the field dependence of the spin-phonon coupling (n = 4 for a Kramers
 * doublet with the Van Vleck mechanism, 2 for non-Kramers; the field enters only through w).
 * At w = 0 the limit is taken: 4 tau / (2 pi nu_ref beta) for n = 1, 0 for n > 1 (n < 1 is
 * rejected by the spec check: it diverges).
 */
export interface PhononDirectDensity {
  readonly model: 'phonon-direct';
  readonly tau: Scalar;
  readonly exponent: Scalar;
  readonly nuRefHz: Scalar;
}

export function phononDirectValue(w: number, tau: number, n: number, nuRef: number, temperature: number): number {
  const aw = Math.abs(w);
  const beta = betaOf(temperature);
  if (aw === 0) return n === 1 ? (4 * tau) / (2 * Math.PI * nuRef * beta) : n > 1 ? 0 : Infinity;
  return (2 * tau * (aw / (2 * Math.PI * nuRef)) ** n) / Math.tanh(0.5 * beta * aw);
}

export function phononDirectDeps(sd: PhononDirectDensity): string[] {
  return [...scalarDeps(sd.tau), ...scalarDeps(sd.exponent), ...scalarDeps(sd.nuRefHz), TEMPERATURE];
}

export function phononDirect(sd: PhononDirectDensity, w: number, p: ParamValues): number {
  const temperature = p[TEMPERATURE];
  if (temperature === undefined) throw new Error('phonon-direct spectral density needs the temperature T');
  return phononDirectValue(w, evalScalar(sd.tau, p), evalScalar(sd.exponent, p), evalScalar(sd.nuRefHz, p), temperature);
}

export function phononDirectBatch(sd: PhononDirectDensity, w: Float64Array | number, batch: PointBatch, out: Float64Array): Float64Array {
  const tau = evalScalarBatch(sd.tau, batch);
  const n = evalScalarBatch(sd.exponent, batch);
  const nu = evalScalarBatch(sd.nuRefHz, batch);
  const temps = batch.columns[TEMPERATURE];
  if (temps === undefined) throw new Error('phonon-direct spectral density needs the temperature T in the batch');
  for (let i = 0; i < batch.size; i++) out[i] = phononDirectValue(at(w, i), at(tau, i), at(n, i), at(nu, i), at(temps, i));
  return out;
}
