/**
 * One point for scripts, validated at the boundary like the command line: `point(spec, ...)`
 * is `relaxmap point SPEC --set ...` as a function, and `evaluatePoint` checks its parameter
 * values and model against the spec the problem was built from (the same semantic checks and
 * the same SpecError as a spec file with those values), so T = -5 or a misspelled model is an
 * error naming the field instead of a result.
 */
import { evaluatePoint as evaluateUnchecked, type PointOptions, type PointResult } from '../evaluate/point.js';
import type { Problem } from '../evaluate/problem.js';
import { THERMAL_MODELS, type ThermalModel } from '../physics/thermalization.js';
import { SpecError, UsageError, shown, type SpecIssue } from '../spec/errors.js';
import { loadSpec, type SpecInput } from '../spec/input.js';
import { applyOverrides, checkOverridesUsed, type Override } from '../spec/overrides.js';
import { baseParameters, buildProblem, specOfProblem } from '../spec/resolve.js';
import type { SpecV1 } from '../spec/schema.js';
import { checkSpec } from '../spec/semantic.js';

function thermalIssue(thermal: unknown): SpecIssue | null {
  if (typeof thermal === 'string' && (THERMAL_MODELS as readonly string[]).includes(thermal)) return null;
  return { path: 'thermalization', message: `expected one of ${THERMAL_MODELS.join(', ')}, got ${shown(thermal)}` };
}

/**
 * Throws SpecError unless `params` and `thermal` are valid for `problem`: every value a finite
 * number, no parameter the spec does not use, none it uses missing, and every value in the
 * range of every field that uses it (T > 0, tau_c > 0, |kappa| <= 1, ...).
 */
export function checkPointInputs(problem: Problem, params: Readonly<Record<string, number>>, thermal: string): void {
  const issues: SpecIssue[] = [];
  const t = thermalIssue(thermal);
  if (t) issues.push(t);
  if (params === null || typeof params !== 'object') throw new SpecError([{ path: 'params', message: `expected a map of parameter names to numbers, got ${shown(params)}` }]);
  for (const [k, v] of Object.entries(params)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) issues.push({ path: `params.${k}`, message: `expected a finite number, got ${shown(v)}` });
  }
  const checked = specOfProblem(problem);
  if (!checked) {
    // A problem built by hand: only the reserved parameters have known ranges.
    if (!(params.T !== undefined && params.T > 0)) issues.push({ path: 'params.T', message: `expected > 0 (temperature in K), got ${shown(params.T)}` });
    if (!(params.B0 !== undefined && params.B0 >= 0)) issues.push({ path: 'params.B0', message: `expected >= 0 (field in T), got ${shown(params.B0)}` });
    if (issues.length > 0) throw new SpecError(issues);
    return;
  }
  const used = checked.usedParameters;
  for (const k of Object.keys(params)) {
    if (!used.has(k)) issues.push({ path: `params.${k}`, message: `no field of the spec uses a parameter named ${shown(k)} (used: ${[...used].join(', ')})` });
  }
  for (const k of used) if (!Object.prototype.hasOwnProperty.call(params, k)) issues.push({ path: `params.${k}`, message: 'required: no value given' });
  if (issues.length > 0) throw new SpecError(issues);
  // The spec with these values as its parameters and no sweep: exactly what a file would be.
  const spec: SpecV1 = { ...checked.spec, parameters: { ...params }, thermalization: thermal as ThermalModel };
  delete (spec as { sweep?: unknown }).sweep;
  const result = checkSpec(spec);
  if (result.issues.length > 0) throw new SpecError(result.issues);
}

/** `evaluatePoint` with its inputs checked (the library's entry point; the engine uses the unchecked one). */
export function evaluatePoint(problem: Problem, params: Readonly<Record<string, number>>, thermal: ThermalModel, options: PointOptions = {}): PointResult {
  checkPointInputs(problem, params, thermal);
  return evaluateUnchecked(problem, { ...params }, thermal, options);
}

export interface PointRequest {
  /** Parameter values (a swept parameter gets this single value), as `--set NAME=VALUE`. */
  readonly set?: Readonly<Record<string, number>>;
  /** A model (default the spec's first). */
  readonly thermalization?: string;
  /** An initial state (`inverted`, `singlet(a,b)`, ...; default the spec's first). */
  readonly initial?: string;
  /** Contributions to d<O>/dt (default: when the spec's outputs ask for them). */
  readonly contributions?: boolean;
}

export interface SpecPointResult extends PointResult {
  /** The initial state evaluated (the first of a list unless `initial` was given). */
  readonly initial: string;
}

/** Overrides of a request, as `--set` gives them; bad values are UsageErrors, as on the command line. */
export function requestOverrides(request: PointRequest): Override[] {
  const out: Override[] = [];
  for (const [name, value] of Object.entries(request.set ?? {})) {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new UsageError(`set.${name}: expected a finite number, got ${shown(value)}`);
    out.push({ name, value });
  }
  if (request.thermalization !== undefined) {
    const t = thermalIssue(request.thermalization);
    if (t) throw new SpecError([t]);
    out.push({ name: 'thermalization', value: request.thermalization });
  }
  if (request.initial !== undefined) out.push({ name: 'initial', value: request.initial });
  return out;
}

/** One point of a spec (file or object) in float64, with overrides applied and checked like the CLI's. */
export function pointWithOverrides(
  spec: SpecInput,
  overrides: readonly Override[],
  contributions?: boolean,
): { result: SpecPointResult; name: string; thermalizationIsList: boolean; initialIsList: boolean; warnings: readonly string[] } {
  const checked = loadSpec(spec, overrides.length > 0 ? (raw) => applyOverrides(raw, overrides) : undefined);
  checkOverridesUsed(overrides, checked.usedParameters, checked.source);
  const problem = buildProblem(checked);
  const params = baseParameters(checked);
  const thermal = checked.thermalizations[0] as ThermalModel;
  const wantContrib = contributions ?? checked.outputs.includes('contributions');
  const res = evaluateUnchecked(problem, params, thermal, { contributions: wantContrib && problem.times.length > 0 });
  return {
    result: { ...res, initial: checked.initials[0]?.label ?? 'thermal' },
    name: checked.spec.name ?? checked.source,
    thermalizationIsList: checked.thermalizations.length > 1,
    initialIsList: checked.initials.length > 1,
    warnings: checked.warnings,
  };
}

/**
 * `relaxmap point` as a function: the spec's parameters (changed by `set`) at its first (or
 * the given) model and initial state.
 */
export function point(spec: SpecInput, request: PointRequest = {}): SpecPointResult {
  return pointWithOverrides(spec, requestOverrides(request), request.contributions).result;
}
