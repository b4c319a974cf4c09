import { THERMAL_MODELS } from '../physics/thermalization.js';
import { UsageError } from './errors.js';

export interface Override {
  readonly name: string;
  readonly value: number | string;
}

/** Parse repeated `--set NAME=VALUE` options. */
export function parseSets(sets: readonly string[]): Override[] {
  return sets.map((s) => {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(s.trim());
    if (!m) throw new UsageError(`--set ${s}: expected NAME=VALUE`);
    const name = m[1] as string;
    const text = (m[2] as string).trim();
    if (name === 'thermalization') {
      if (!(THERMAL_MODELS as readonly string[]).includes(text)) throw new UsageError(`--set thermalization=${text}: expected one of ${THERMAL_MODELS.join(', ')}`);
      return { name, value: text };
    }
    // an initial state such as inverted or singlet(a,b); checked with the spec
    if (name === 'initial') return { name, value: text };
    const v = Number(text);
    if (text === '' || !Number.isFinite(v)) throw new UsageError(`--set ${name}=${text}: expected a finite number`);
    return { name, value: v };
  });
}

/** Apply overrides to the raw spec object (before validation, so range checks see them). */
export function applyOverrides(raw: Record<string, unknown>, overrides: readonly Override[]): void {
  for (const o of overrides) {
    if (o.name === 'thermalization' || o.name === 'initial') {
      raw[o.name] = o.value;
      continue;
    }
    const params = (raw.parameters && typeof raw.parameters === 'object' ? raw.parameters : {}) as Record<string, unknown>;
    params[o.name] = o.value;
    raw.parameters = params;
    // a one-point override replaces the sweep axis of that parameter
    if (raw.sweep && typeof raw.sweep === 'object') delete (raw.sweep as Record<string, unknown>)[o.name];
  }
}

/** Every --set must name a parameter that some field uses (or thermalization / initial). */
export function checkOverridesUsed(overrides: readonly Override[], used: ReadonlySet<string>, specPath: string): void {
  for (const s of overrides) {
    if (s.name !== 'thermalization' && s.name !== 'initial' && !used.has(s.name)) {
      throw new UsageError(`--set ${s.name}=...: no field of ${specPath} uses a parameter named '${s.name}' (used: ${[...used].join(', ')})`);
    }
  }
}
