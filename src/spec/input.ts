/**
 * A spec as the library takes it: the path of a YAML file, or the spec itself as a plain
 * object (the same fields as the YAML, e.g. built in a loop by a batch script). An object is
 * validated with the same schema and semantic checks as a file, and the errors are the same
 * SpecError, with paths (`relaxation[1].kappa`) but no line numbers; it is then written as
 * YAML, which is what the run directory keeps (spec.yaml) and what its hash is taken of.
 */
import { stringify } from 'yaml';
import { SpecError, formatPath, shown, type SpecIssue } from './errors.js';
import { OBJECT_SOURCE, parseSpecText, readSpecText, validateSpecObject, type LoadedSpec } from './load.js';

/** The spec's fields, as in the YAML (`{ version: 1, spins: [...], ... }`). */
export type SpecObject = Readonly<Record<string, unknown>>;

/** A path to a YAML spec file, or a spec object. */
export type SpecInput = string | SpecObject;

export interface SpecSource {
  /** YAML text (as read, or written from the object). */
  readonly text: string;
  /** The file path, or `spec object "NAME"` for an object. */
  readonly source: string;
}

/**
 * A deep copy holding only what YAML can: plain objects, arrays, strings, finite numbers,
 * booleans, null (undefined entries are dropped, as JSON would). NaN, Infinity, typed arrays,
 * functions and class instances are errors at their path, so they never reach the schema as
 * something else (JSON would turn NaN into null).
 */
function plainCopy(v: unknown, path: PropertyKey[], issues: SpecIssue[]): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) issues.push({ path: formatPath(path), message: `expected a finite number, got ${shown(v)}` });
    return v;
  }
  if (Array.isArray(v)) return v.map((x, i) => plainCopy(x, [...path, i], issues));
  if (ArrayBuffer.isView(v)) {
    issues.push({ path: formatPath(path), message: 'expected a plain array (e.g. Array.from(values)), got a typed array' });
    return [];
  }
  if (typeof v === 'object' && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)) {
    const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (x !== undefined) out[k] = plainCopy(x, [...path, k], issues);
    return out;
  }
  issues.push({ path: formatPath(path), message: `expected a number, string, list or mapping, got ${typeof v === 'object' ? `an instance of ${(v as object).constructor?.name ?? 'a class'}` : `a ${typeof v}`}` });
  return null;
}

function objectLabel(spec: SpecObject): string {
  return typeof spec.name === 'string' && spec.name !== '' ? `${OBJECT_SOURCE} ${JSON.stringify(spec.name)}` : OBJECT_SOURCE;
}

/**
 * Text and source label of a spec input; an object is validated first (SpecError naming the
 * field), so a bad object is never written anywhere.
 */
export function specSource(input: SpecInput): SpecSource {
  if (typeof input === 'string') return { text: readSpecText(input), source: input };
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new SpecError([{ path: '(root)', message: `expected a spec object ({ version: 1, spins: [...], ... }) or the path of a YAML file, got ${Array.isArray(input) ? 'an array' : typeof input}` }]);
  }
  const source = objectLabel(input);
  const issues: SpecIssue[] = [];
  const copy = plainCopy(input, [], issues);
  if (issues.length > 0) throw new SpecError(issues, source);
  validateSpecObject(copy, source);
  return { text: stringify(copy, { lineWidth: 0 }), source };
}

/** Load and validate a spec from a file or an object; `overrides` edit the raw spec before validation. */
export function loadSpec(input: SpecInput, overrides?: (raw: Record<string, unknown>) => void): LoadedSpec {
  const { text, source } = specSource(input);
  return parseSpecText(text, source, overrides);
}
