/** Index arithmetic over row-major fields: slices, representative points, coordinate lookup. */
import { UsageError } from '../spec/errors.js';
import type { Dim, Field } from './run-directory.js';

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let k = shape.length - 2; k >= 0; k--) s[k] = (s[k + 1] as number) * (shape[k + 1] as number);
  return s;
}

/**
 * Values of `field` over the `keep` dims (in that order; each over `pick[dim]` or all its
 * indices), every other dim fixed at `fixed[dim]` (0 when absent).
 */
export function sliceField(
  field: Field,
  keep: readonly string[],
  fixed: Readonly<Record<string, number>>,
  pick: Readonly<Record<string, readonly number[]>> = {},
): { shape: number[]; data: Float64Array } {
  const strides = stridesOf(field.shape);
  let base = 0;
  field.dims.forEach((d, k) => {
    if (keep.includes(d)) return;
    const i = fixed[d] ?? 0;
    const n = field.shape[k] as number;
    if (i < 0 || i >= n) throw new Error(`index ${i} outside dimension ${d} (length ${n}) of ${field.name}`);
    base += i * (strides[k] as number);
  });
  const lists = keep.map((d) => {
    const k = field.dims.indexOf(d);
    if (k < 0) throw new Error(`${field.name} has no dimension ${d}`);
    const idx = pick[d] ?? Array.from({ length: field.shape[k] as number }, (_, i) => i);
    return { stride: strides[k] as number, idx };
  });
  const shape = lists.map((l) => l.idx.length);
  const total = shape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(total);
  const cursor = new Array<number>(lists.length).fill(0);
  for (let n = 0; n < total; n++) {
    let off = base;
    for (let k = 0; k < lists.length; k++) {
      const l = lists[k] as { stride: number; idx: readonly number[] };
      off += (l.idx[cursor[k] as number] as number) * l.stride;
    }
    out[n] = field.data[off] as number;
    for (let k = lists.length - 1; k >= 0; k--) {
      cursor[k] = (cursor[k] as number) + 1;
      if ((cursor[k] as number) < (shape[k] as number)) break;
      cursor[k] = 0;
    }
  }
  return { shape, data: out };
}

/** Up to `k` evenly spaced distinct indices of 0..n-1, both ends included. */
export function representativeIndices(n: number, k: number): number[] {
  if (n <= k) return Array.from({ length: n }, (_, i) => i);
  if (k <= 1) return [0];
  const out = new Set<number>();
  for (let j = 0; j < k; j++) out.add(Math.round((j * (n - 1)) / (k - 1)));
  return [...out];
}

/**
 * Index of the coordinate named by `text`: the exact label for string coordinates, otherwise
 * the nearest value (nearest in log space on a log axis).
 */
export function coordinateIndex(dim: Dim, text: string): number {
  const exact = dim.labels.indexOf(text);
  if (exact >= 0) return exact;
  if (!dim.values) {
    throw new UsageError(`${dim.name}=${text}: no such ${dim.name} (one of ${dim.labels.join(', ')})`);
  }
  const v = Number(text);
  if (!Number.isFinite(v)) throw new UsageError(`${dim.name}=${text}: expected a number`);
  const log = dim.axisKind === 'log' && v > 0;
  let best = 0;
  let bestD = Infinity;
  dim.values.forEach((c, i) => {
    const d = log && c > 0 ? Math.abs(Math.log(c / v)) : Math.abs(c - v);
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  });
  return best;
}

/** Finite minimum and maximum (NaN, NaN when none). */
export function finiteRange(data: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : [NaN, NaN];
}
