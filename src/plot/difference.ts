/**
 * How a difference between thermalization models is drawn (`diff_rate_<O>`, `diff_ss_<O>`):
 * - relative to the reference model's value where that value spans two decades or more over
 *   the plotted slice (otherwise the largest values alone would carry the colour);
 * - differences within float64 round-off of the values compared are drawn as 0;
 * - a red-blue scale symmetric about 0, so equal colours mean equal magnitudes;
 * - symlog where the remaining differences span three decades or more.
 * Pure.
 */
import type { ColorSpec } from './specs/common.js';
import { ROUNDOFF_REL } from './value-scale.js';

/** Dynamic range of a symlog colour scale: detail below max/1e6 is not readable as colour. */
export const SYMLOG_DECADES = 6;

export interface DifferencePlan {
  /** (model - reference) / |reference| instead of model - reference. */
  readonly relative: boolean;
  /** What is drawn, aligned with the input; within-round-off differences set to 0, NaN kept. */
  readonly values: Float64Array;
  readonly color: ColorSpec;
  /** Cells whose difference was within round-off. */
  readonly roundoff: number;
}

/**
 * `diff` is model - reference and `reference` the reference value, cell by cell; `spectrum`
 * the observable's scale for expectation values (round-off is relative to it), else 0.
 */
export function differencePlan(diff: ArrayLike<number>, reference: ArrayLike<number>, spectrum = 0): DifferencePlan {
  let lo = Infinity;
  let hi = 0;
  let sign = 0;
  let sameSign = true;
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i] as number;
    if (!Number.isFinite(r)) continue;
    const a = Math.abs(r);
    if (a === 0 || (sign !== 0 && Math.sign(r) !== sign)) sameSign = false;
    if (sign === 0) sign = Math.sign(r);
    lo = Math.min(lo, a);
    hi = Math.max(hi, a);
  }
  const relative = sameSign && lo > 0 && hi / lo >= 100;
  const values = new Float64Array(diff.length);
  let roundoff = 0;
  let max = 0;
  let minSignificant = Infinity;
  for (let i = 0; i < diff.length; i++) {
    const d = diff[i] as number;
    const r = reference[i] as number;
    if (!Number.isFinite(d) || !Number.isFinite(r)) {
      values[i] = NaN;
      continue;
    }
    const floor = ROUNDOFF_REL * Math.max(Math.abs(r), Math.abs(r + d), spectrum);
    if (Math.abs(d) <= floor) {
      values[i] = 0;
      roundoff++;
      continue;
    }
    const v = relative ? d / Math.abs(r) : d;
    values[i] = v;
    max = Math.max(max, Math.abs(v));
    minSignificant = Math.min(minSignificant, Math.abs(v));
  }
  if (max === 0) return { relative, values, color: { kind: 'constant', value: 0 }, roundoff };
  const symlog = max / minSignificant >= 1e3 ? Math.max(minSignificant, max / 10 ** SYMLOG_DECADES) : null;
  return { relative, values, color: { kind: 'diverging', max, symlog }, roundoff };
}
