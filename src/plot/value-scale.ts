/**
 * When is a plotted quantity constant, and when does a difference carry information? Float64
 * round-off of an expectation value is relative to the observable's scale (its largest
 * eigenvalue, the `spectrum_range` attribute the run writes), that of a rate or a ratio is
 * relative to the values themselves. Anything that varies by less than ROUNDOFF_REL of that
 * scale is drawn as constant: its spread is numerical noise, not structure. Pure.
 */
import type { Field } from './run-directory.js';
import { finiteRange } from './slice.js';

/**
 * Relative spread below which values are one constant. A propagation or an eigen-decomposition
 * in float64 leaves errors of 1e-16..1e-12 of the scale (1 +- 7e-13 for a steady state over its
 * Boltzmann value); no physical variation this small can be read off a figure anyway.
 */
export const ROUNDOFF_REL = 1e-9;

/** Largest |eigenvalue| of the observable behind a field, from its `spectrum_range` attribute; 0 when absent. */
export function spectrumScale(field: Pick<Field, 'attrs'>): number {
  const r = field.attrs.spectrum_range;
  if (!Array.isArray(r)) return 0;
  return r.reduce((m: number, x) => (typeof x === 'number' && Number.isFinite(x) ? Math.max(m, Math.abs(x)) : m), 0);
}

/** The scale round-off is measured against: the largest |value|, or the observable's spectrum when larger. */
export function valueScale(data: ArrayLike<number>, spectrum = 0): number {
  const [lo, hi] = finiteRange(data);
  const m = Number.isFinite(lo) ? Math.max(Math.abs(lo), Math.abs(hi)) : 0;
  return Math.max(m, spectrum);
}

export interface Constancy {
  /** All finite values equal to within ROUNDOFF_REL of the scale. */
  readonly constant: boolean;
  /** Their mean (the value shown), NaN when there is none. */
  readonly value: number;
  readonly spread: number;
  readonly scale: number;
}

export function constancy(data: ArrayLike<number>, spectrum = 0): Constancy {
  const [lo, hi] = finiteRange(data);
  if (!Number.isFinite(lo)) return { constant: false, value: NaN, spread: NaN, scale: 0 };
  const scale = valueScale(data, spectrum);
  let sum = 0;
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (Number.isFinite(v)) {
      sum += v;
      n++;
    }
  }
  const spread = hi - lo;
  return { constant: spread <= ROUNDOFF_REL * scale, value: sum / n, spread, scale };
}

/** `3.2013×10⁻⁵` for the titles of constant figures (enough digits to tell it from neighbours). */
export function constantText(c: Constancy, format: (v: number) => string): string {
  return format(Math.abs(c.value) <= ROUNDOFF_REL * c.scale ? 0 : c.value);
}
