import type { SweepAxisSpec } from '../spec/schema.js';
import { powderNodes } from './powder.js';

/** Values of a sweep axis: lin is linspace(a, b, n), log is logspace with both ends included. */
export function axisValues(axis: SweepAxisSpec): Float64Array {
  if ('values' in axis) return Float64Array.from(axis.values);
  if ('powder' in axis) return powderNodes(axis.powder).degrees;
  const n = axis.points;
  const [a, b] = 'lin' in axis ? axis.lin : axis.log;
  if (n === 1) return Float64Array.of(a);
  const out = new Float64Array(n);
  if ('lin' in axis) {
    for (let k = 0; k < n; k++) out[k] = k === n - 1 ? b : a + ((b - a) * k) / (n - 1);
    return out;
  }
  const la = Math.log10(a);
  const lb = Math.log10(b);
  for (let k = 0; k < n; k++) out[k] = k === 0 ? a : k === n - 1 ? b : 10 ** (la + ((lb - la) * k) / (n - 1));
  return out;
}

export function axisKind(axis: SweepAxisSpec): 'lin' | 'log' | 'values' {
  // powder nodes are a numeric axis of angles (plotted per orientation on a linear scale)
  return 'values' in axis ? 'values' : 'lin' in axis || 'powder' in axis ? 'lin' : 'log';
}

export function axisLength(axis: SweepAxisSpec): number {
  return 'values' in axis ? axis.values.length : 'powder' in axis ? axis.powder : axis.points;
}
