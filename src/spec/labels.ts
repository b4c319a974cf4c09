import type { RelaxationSpec } from './schema.js';

/**
 * The label of each relaxation mechanism: its `label`, or `type(spins)` / `type(spin)`;
 * repeated labels get `#2`, `#3`, ... in order. Contributions are reported and
 * cross-correlations refer to mechanisms by these labels.
 */
export function mechanismLabels(relaxation: readonly RelaxationSpec[]): string[] {
  const seen = new Map<string, number>();
  return relaxation.map((m) => {
    const base = m.label ?? ('spins' in m ? `${m.type}(${m.spins.join(',')})` : `${m.type}(${m.spin})`);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    return count === 0 ? base : `${base}#${count + 1}`;
  });
}
