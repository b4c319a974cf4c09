import type { CMatrix } from '../math/cmatrix.js';
import { hermitianEigen } from '../math/hermitian-eig.js';
import { betaOf } from './constants.js';
import { energiesAt, numericEigenstructure } from './eigenstructure.js';
import { frequencyAt, type GeneratorModel } from './generator-model.js';
import { h0At } from './hamiltonian.js';
import type { ParamValues } from './scalar.js';
import { TEMPERATURE } from './system-description.js';
import type { ThermalModel } from './thermalization.js';

/**
 * Where a computed point leaves physics. Pure functions of a point's numbers; the engine
 * sets FLAG_UNPHYSICAL from them and `relaxmap point` prints their messages.
 *
 * The high-temperature model replaces the odd thermal factor tanh(beta w / 2) by beta w / 2
 * (f(w) = 1 - beta w / 2). At beta w = 1 that is 8% off, at beta w = 2 a transition rate
 * f(w) reaches zero, and beyond it rates are negative and states leave the physical range
 * (an electron at 1 K, 14.1 T: beta w = 18.9, <Iz> = -4.7). The model is flagged where
 * beta * w_max exceeds HIGH_TEMPERATURE_BOUND.
 */
export const HIGH_TEMPERATURE_BOUND = 1;

/** Relative slack on spectral bounds and populations (round-off of float64 propagation). */
export const RANGE_TOLERANCE = 1e-9;

/** beta * w_max > HIGH_TEMPERATURE_BOUND: the high-temperature model is outside its validity. */
export function beyondHighTemperature(betaWMax: number): boolean {
  return Math.abs(betaWMax) > HIGH_TEMPERATURE_BOUND;
}

/** The spectrum [min, max] of a Hermitian operator: the range of its expectation values. */
export interface SpectralRange {
  readonly min: number;
  readonly max: number;
}

export function spectralRange(op: CMatrix): SpectralRange {
  const { values } = hermitianEigen(op);
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return { min, max };
}

/**
 * An expectation value outside its operator's spectrum (beyond RANGE_TOLERANCE of the
 * spectral radius). Non-finite values are not judged here (FLAG_NONFINITE covers them).
 */
export function outsideSpectrum(value: number, range: SpectralRange): boolean {
  if (!Number.isFinite(value)) return false;
  const tol = RANGE_TOLERANCE * Math.max(Math.abs(range.min), Math.abs(range.max), Number.MIN_VALUE);
  return value < range.min - tol || value > range.max + tol;
}

/** The smallest eigenvalue of a density matrix: negative means a negative population in its eigenbasis. */
export function smallestPopulation(rho: CMatrix): number {
  return spectralRange(rho).min;
}

export function negativePopulation(rho: CMatrix): boolean {
  return smallestPopulation(rho) < -RANGE_TOLERANCE;
}

/**
 * The largest transition frequency |w| (rad/s) the relaxation terms see at p: on the
 * fixed-basis path the largest of the model's eigenfrequencies; on the per-point path the
 * spread of H0's levels (an upper bound).
 */
export function maxTransitionFrequency(model: GeneratorModel, p: ParamValues): number {
  let w = 0;
  if (model.eigen) {
    for (let f = 0; f < model.frequencies.length; f++) w = Math.max(w, Math.abs(frequencyAt(model, f, p)));
    return w;
  }
  const es = numericEigenstructure(h0At(model.h0Parts, model.system.dim, p));
  const e = energiesAt(es, p);
  return Math.max(...e) - Math.min(...e);
}

/** The validity message of the thermal model at p, or undefined when it applies. */
export function thermalValidity(model: GeneratorModel, p: ParamValues, thermal: ThermalModel): string | undefined {
  if (thermal !== 'high-temperature') return undefined;
  const x = betaOf(p[TEMPERATURE] as number) * maxTransitionFrequency(model, p);
  if (!beyondHighTemperature(x)) return undefined;
  return `the high-temperature model is used beyond its validity (unphysical): beta*w_max = ${x.toPrecision(3)} exceeds ${HIGH_TEMPERATURE_BOUND} (docs/physics.md); use rodin-abergel or bengs-levitt at this temperature and field`;
}
