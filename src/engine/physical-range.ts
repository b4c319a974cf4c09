import type { GeneratorModel } from '../physics/generator-model.js';
import { HIGH_TEMPERATURE_LIMIT, highTemperatureArgument } from '../physics/high-temperature-validity.js';
import type { ParamValues } from '../physics/scalar.js';
import type { ThermalModel } from '../physics/thermalization.js';
import { FLAG_UNPHYSICAL, type ChunkResult } from './chunk.js';

/**
 * FLAG_UNPHYSICAL on every point whose steady state or trajectory leaves the spectrum of an
 * observable (|<Sz>| > 1/2, a population outside [0, 1]); ranges from observableRanges.
 * Lindblad models cannot get there. Returns the number of points newly flagged.
 */
export function markUnphysical(r: ChunkResult, ranges: ReadonlyArray<readonly [number, number]>): number {
  const { count, nObs, nTimes } = r.shape;
  let flagged = 0;
  for (let p = 0; p < count; p++) {
    let bad = false;
    for (let o = 0; o < nObs && !bad; o++) {
      const [lo, hi] = ranges[o] as readonly [number, number];
      const tol = 1e-9 * Math.max(Math.abs(lo), Math.abs(hi), 1e-300);
      const out = (v: number): boolean => v < lo - tol || v > hi + tol;
      if (r.steady.length > 0 && out(r.steady[p * nObs + o] as number)) bad = true;
      for (let t = 0; t < nTimes && !bad; t++) if (out(r.trajectories[(p * nObs + o) * nTimes + t] as number)) bad = true;
    }
    if (bad && ((r.flags[p] as number) & FLAG_UNPHYSICAL) === 0) {
      r.flags[p] = (r.flags[p] as number) | FLAG_UNPHYSICAL;
      flagged++;
    }
  }
  return flagged;
}

/** FLAG_UNPHYSICAL where the high-temperature model is used beyond beta w = 2; returns how many points newly. */
export function markBeyondValidity(r: ChunkResult, model: GeneratorModel, thermal: ThermalModel, params: (i: number) => ParamValues): number {
  if (thermal !== 'high-temperature') return 0;
  let flagged = 0;
  for (let p = 0; p < r.shape.count; p++) {
    if (!(highTemperatureArgument(model, params(p)) > HIGH_TEMPERATURE_LIMIT)) continue;
    if (((r.flags[p] as number) & FLAG_UNPHYSICAL) === 0) flagged++;
    r.flags[p] = (r.flags[p] as number) | FLAG_UNPHYSICAL;
  }
  return flagged;
}
