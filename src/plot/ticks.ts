/**
 * Tick values and labels for every axis and colour bar of the figures: explicit tick lists,
 * one notation per axis (plain decimals, or mantissa x 10^n when any tick is below 1e-3 or at
 * least 1e5), and labels that carry the digits down to the tick step, so neighbouring ticks
 * never print the same text. Pure; `registerTickFunction` makes the formatter callable from
 * vega label expressions.
 */
import * as vega from 'vega';

export type Notation = 'plain' | 'power';

export interface TickPlan {
  readonly values: readonly number[];
  readonly notation: Notation;
  /**
   * Decimal exponent of the tick step: labels print digits down to 10^stepExp. Null on log
   * and symlog axes, whose ticks are 1, 2 or 5 times a power of ten and print their own digits.
   */
  readonly stepExp: number | null;
}

const SUPERSCRIPT: Readonly<Record<string, string>> = { '-': '⁻', '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹' };
const MINUS = '\u2212';

/** Plain decimals between these magnitudes, powers of ten outside. */
export const PLAIN_MIN = 1e-3;
export const PLAIN_MAX = 1e5;

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

function superscript(n: number): string {
  return [...String(n)].map((c) => SUPERSCRIPT[c] ?? c).join('');
}

/** Decimal exponent of |v| after rounding to `decimals` mantissa digits (9.99 -> 1 at 0 digits). */
function exponentOf(v: number, decimals: number): number {
  let e = Math.floor(Math.log10(Math.abs(v)));
  if (Number(Math.abs(v / 10 ** e).toFixed(Math.max(0, decimals))) >= 10) e += 1;
  return e;
}

/**
 * Label of one tick. `stepExp` null: the value's own leading digit only (log ticks);
 * `power` notation prints `2.5×10⁻⁹`, and `10⁻⁹` for a mantissa of 1 on log axes.
 */
export function formatTick(v: number, notation: Notation, stepExp: number | null): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const sign = v < 0 ? MINUS : '';
  const a = Math.abs(v);
  if (notation === 'plain') {
    const own = Math.floor(Math.log10(a) + 1e-12);
    const decimals = Math.max(0, -(stepExp ?? own));
    return sign + trimZeros(a.toFixed(Math.min(decimals, 20)));
  }
  let e = Math.floor(Math.log10(a) + 1e-12);
  let decimals = stepExp === null ? 0 : Math.max(0, e - stepExp);
  e = exponentOf(a, decimals);
  decimals = stepExp === null ? 0 : Math.max(0, e - stepExp);
  const mantissa = trimZeros((a / 10 ** e).toFixed(Math.min(decimals, 20)));
  if (mantissa === '1' && stepExp === null) return `${sign}10${superscript(e)}`;
  return `${sign}${mantissa}×10${superscript(e)}`;
}

export function tickLabel(v: number, plan: TickPlan): string {
  return formatTick(v, plan.notation, plan.stepExp);
}

function notationFor(values: readonly number[]): Notation {
  let hi = 0;
  let lo = Infinity;
  for (const v of values) {
    const a = Math.abs(v);
    if (a === 0) continue;
    hi = Math.max(hi, a);
    lo = Math.min(lo, a);
  }
  if (hi === 0) return 'plain';
  return hi >= PLAIN_MAX || lo < PLAIN_MIN ? 'power' : 'plain';
}

/** d3's tick step: 1, 2 or 5 times a power of ten, about `count` steps over [lo, hi]. */
export function tickStep(lo: number, hi: number, count: number): { step: number; exp: number; factor: number } {
  const raw = (hi - lo) / Math.max(1, count);
  let exp = Math.floor(Math.log10(raw));
  const err = raw / 10 ** exp;
  let factor = err >= Math.sqrt(50) ? 10 : err >= Math.sqrt(10) ? 5 : err >= Math.sqrt(2) ? 2 : 1;
  if (factor === 10) {
    factor = 1;
    exp += 1;
  }
  return { step: factor * 10 ** exp, exp, factor };
}

/** k * factor * 10^exp computed without drift (negative exponents divide by an exact power). */
function multiple(k: number, factor: number, exp: number): number {
  return exp >= 0 ? k * factor * 10 ** exp : (k * factor) / 10 ** -exp;
}

/**
 * Ticks of a linear axis over [lo, hi]: about `count` of them (never fewer than two when the
 * range is not a point), labelled down to the step. A point range gets one tick.
 */
export function linearTicks(lo: number, hi: number, count = 5): TickPlan {
  if (!(Number.isFinite(lo) && Number.isFinite(hi))) return { values: [], notation: 'plain', stepExp: 0 };
  if (lo > hi) [lo, hi] = [hi, lo];
  if (!(hi > lo)) return { values: [lo], notation: notationFor([lo]), stepExp: lo === 0 ? 0 : Math.floor(Math.log10(Math.abs(lo))) - 6 };
  for (let c = count; c <= 8 * count; c *= 2) {
    const { exp, factor } = tickStep(lo, hi, c);
    const eps = 1e-9 * (hi - lo);
    const k0 = Math.ceil((lo - eps) / (factor * 10 ** exp));
    const k1 = Math.floor((hi + eps) / (factor * 10 ** exp));
    if (k1 - k0 >= 1 || c >= 8 * count) {
      const values: number[] = [];
      for (let k = k0; k <= k1; k++) values.push(multiple(k, factor, exp));
      return { values, notation: notationFor(values), stepExp: exp };
    }
  }
  return { values: [lo, hi], notation: notationFor([lo, hi]), stepExp: Math.floor(Math.log10(hi - lo)) };
}

/**
 * Ticks of a log axis over [lo, hi] (lo > 0): every decade, or every k-th one over many
 * decades; 1-2-5 within one to three decades; below about a decade, linear ticks.
 */
export function logTicks(lo: number, hi: number): TickPlan {
  if (!(lo > 0 && hi > 0)) return linearTicks(lo, hi);
  if (lo > hi) [lo, hi] = [hi, lo];
  const decades = Math.log10(hi / lo);
  if (decades < 0.9) return linearTicks(lo, hi, 4);
  const mults = decades > 3.2 ? [1] : decades > 1.6 ? [1, 2, 5] : [1, 2, 3, 5];
  const every = decades > 8 ? Math.ceil(decades / 7) : 1;
  const e0 = Math.floor(Math.log10(lo));
  const e1 = Math.ceil(Math.log10(hi));
  const values: number[] = [];
  const tol = 1e-9;
  for (let e = e0; e <= e1; e++) {
    if (every > 1 && ((e % every) + every) % every !== 0) continue;
    for (const m of mults) {
      const v = e >= 0 ? m * 10 ** e : m / 10 ** -e;
      if (v >= lo * (1 - tol) && v <= hi * (1 + tol)) values.push(v);
    }
  }
  if (values.length < 2) return linearTicks(lo, hi, 4);
  return { values, notation: notationFor(values), stepExp: null };
}

/**
 * Ticks of a symmetric symlog colour scale over [-max, max] with linear threshold `constant`:
 * 0 and plus/minus powers of ten from the threshold up, at most four a side.
 */
export function symlogTicks(max: number, constant: number): TickPlan {
  const e1 = Math.floor(Math.log10(max) + 1e-12);
  const e0 = Math.ceil(Math.log10(constant) - 1e-12);
  const exps: number[] = [];
  const every = Math.max(1, Math.ceil((e1 - e0 + 1) / 4));
  for (let e = e1; e >= e0; e -= every) exps.unshift(e);
  const pos = exps.map((e) => (e >= 0 ? 10 ** e : 1 / 10 ** -e));
  const values = [...pos.map((v) => -v).reverse(), 0, ...pos];
  return { values, notation: notationFor(values), stepExp: null };
}

/** The vega label expression of a plan (the formatter is registered as `rmTick`). */
export function labelExpr(plan: TickPlan): string {
  return `rmTick(datum.value, ${plan.notation === 'power' ? 1 : 0}, ${plan.stepExp === null ? 'null' : plan.stepExp})`;
}

/** Axis or legend properties that draw exactly the planned ticks with their labels. */
export function tickProps(plan: TickPlan): Record<string, unknown> {
  return { values: [...plan.values], labelExpr: labelExpr(plan) };
}

let registered = false;

/** Make `rmTick(value, power, stepExp)` available to vega expressions (once per process). */
export function registerTickFunction(): void {
  if (registered) return;
  vega.expressionFunction('rmTick', (v: number, power: number, stepExp: number | null) => formatTick(v, power ? 'power' : 'plain', stepExp));
  registered = true;
}

/** Labels for a list of coordinate values (band axes, legends): the fewest significant digits that keep them distinct. */
export function distinctLabels(values: ArrayLike<number>): string[] {
  const arr = Array.from(values);
  for (let digits = 3; digits <= 17; digits++) {
    const labels = arr.map((v) => shortNumber(v, digits));
    if (new Set(labels).size === new Set(arr).size) return labels;
  }
  return arr.map((v) => String(v));
}

/** A coordinate value in the figures' notation with `digits` significant digits. */
export function shortNumber(v: number, digits = 4): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  const sign = v < 0 ? MINUS : '';
  if (a >= PLAIN_MIN && a < PLAIN_MAX) return sign + trimZeros(String(Number(a.toPrecision(digits))));
  const [m, e] = a.toExponential(digits - 1).split('e') as [string, string];
  const mant = trimZeros(m);
  const exp = Number(e);
  return mant === '1' ? `${sign}10${superscript(exp)}` : `${sign}${mant}×10${superscript(exp)}`;
}
