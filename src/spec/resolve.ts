import { buildGeneratorModel, type GeneratorModel } from '../physics/generator-model.js';
import { evaluateExpression, singletProjector } from '../physics/operator-expression.js';
import { constant, param, type Scalar } from '../physics/scalar.js';
import type { SpectralDensity } from '../physics/spectral-density.js';
import { densityVector, maximallyMixedVector } from '../physics/states.js';
import type { CrossCorrelation, Mechanism, SystemDescription } from '../physics/system-description.js';
import { lookupIsotope } from '../spin/isotopes.js';
import { axisValues } from '../sweep/axis-values.js';
import type { Spin, SpinSystem } from '../spin/spin-system.js';
import { problemReduction, timePoints, type InitialState, type Observable, type Problem, type TimeGrid } from '../evaluate/problem.js';
import { SpecError, shown } from './errors.js';
import { mechanismLabels } from './labels.js';
import type { Numeric, RelaxationSpec } from './schema.js';
import type { CheckedSpec } from './semantic.js';

const scalarOf = (v: Numeric): Scalar => (typeof v === 'number' ? constant(v) : param(v));

function spectralOf(m: RelaxationSpec): SpectralDensity {
  const tau = scalarOf(m.tau_c);
  const sd = m.spectral_density;
  if (sd && sd.model === 'lipari-szabo') {
    return { model: 'lipari-szabo', tau, S2: scalarOf(sd.S2 as Numeric), tauE: scalarOf(sd.tau_e as Numeric) };
  }
  return { model: 'lorentzian', tau };
}

/** The physics content of a checked spec. */
export function systemDescription(checked: CheckedSpec): SystemDescription {
  const { spec } = checked;
  const spins: Spin[] = spec.spins.map((s) => {
    if (s.isotope !== undefined) {
      const iso = lookupIsotope(s.isotope);
      if (!iso) throw new Error(`isotope ${s.isotope} vanished from the table`);
      return { id: s.id, spin: iso.spin, gamma: iso.gamma, isotope: iso.symbol };
    }
    return { id: s.id, spin: s.spin as number, gamma: s.gamma as number };
  });
  const index = new Map(spins.map((s, i) => [s.id, i]));
  const idx = (id: string): number => index.get(id) as number;
  const couplings = (spec.hamiltonian ?? []).flatMap((h) => (h.type === 'J' ? [{ a: idx(h.spins[0]), b: idx(h.spins[1]), hz: scalarOf(h.hz) }] : []));
  const shifts = (spec.hamiltonian ?? []).flatMap((h) => (h.type === 'shift' ? [{ spin: idx(h.spin), ppm: scalarOf(h.ppm) }] : []));
  const labels = mechanismLabels(spec.relaxation);
  const mechanisms: Mechanism[] = spec.relaxation.map((m, k) => {
    const label = labels[k] as string;
    const spectral = spectralOf(m);
    switch (m.type) {
      case 'dipolar':
        return {
          type: 'dipolar',
          label,
          spins: [idx(m.spins[0]), idx(m.spins[1])] as const,
          strength: m.b_hz !== undefined ? { kind: 'b_hz', value: scalarOf(m.b_hz) } : { kind: 'distance_m', value: scalarOf(m.distance_m as Numeric) },
          spectral,
        };
      case 'random_field':
        return { type: 'random_field', label, spins: m.spins.map(idx), rmsHz: scalarOf(m.rms_hz), kappa: scalarOf(m.kappa ?? 0), spectral };
      case 'csa':
        return {
          type: 'csa',
          label,
          spin: idx(m.spin),
          anisotropy: m.delta_ppm !== undefined ? { kind: 'delta_ppm', value: scalarOf(m.delta_ppm) } : { kind: 'delta_sigma_ppm', value: scalarOf(m.delta_sigma_ppm as Numeric) },
          eta: scalarOf(m.eta ?? 0),
          spectral,
        };
      case 'quadrupolar':
        return { type: 'quadrupolar', label, spin: idx(m.spin), cqHz: scalarOf(m.cq_hz), eta: scalarOf(m.eta ?? 0), spectral };
    }
  });
  const crossCorrelations: CrossCorrelation[] = (spec.cross_correlations ?? []).map((c) => {
    const a = labels.indexOf(c.between[0]);
    const b = labels.indexOf(c.between[1]);
    return {
      between: [a, b] as const,
      label: `cross(${c.between[0]},${c.between[1]})`,
      orientation: c.angle_deg !== undefined ? { kind: 'angle_deg', value: scalarOf(c.angle_deg) } : { kind: 'p2', value: scalarOf(c.p2 as Numeric) },
    };
  });
  return { spins, couplings, shifts, mechanisms, crossCorrelations, parameterDomain: parameterDomain(checked) };
}

/** The values each used parameter takes: its fixed value and its sweep axis. */
export function parameterDomain(checked: CheckedSpec): Map<string, number[]> {
  const params = checked.spec.parameters ?? {};
  const sweep = checked.spec.sweep ?? {};
  const out = new Map<string, number[]>();
  for (const name of checked.usedParameters) {
    const values: number[] = [];
    if (Object.prototype.hasOwnProperty.call(params, name)) values.push(params[name] as number);
    const axis = sweep[name];
    if (axis) values.push(...axisValues(axis));
    out.set(name, [...new Set(values)]);
  }
  return out;
}

function hermitianVector(model: GeneratorModel, x: ReturnType<typeof evaluateExpression>, path: string, system: SpinSystem, expression: string): Float64Array {
  const op = typeof x === 'number' ? null : x;
  try {
    if (op === null) return maximallyMixedVector(model).map((v) => v * (x as number) * system.dim);
    return model.basis.vector(op, `the operator ${shown(expression)}`);
  } catch (e) {
    throw new SpecError([{ path, message: `${(e as Error).message}: expected a Hermitian operator (Ip/Im only in Hermitian combinations)` }]);
  }
}

export function timeGridOf(checked: CheckedSpec): TimeGrid | undefined {
  const t = checked.spec.time;
  if (!t) return undefined;
  if ('values' in t) return { kind: 'values', values: Float64Array.from(t.values) };
  return 'stop' in t ? { kind: 'uniform', stop: t.stop, points: t.points } : { kind: 'log', start: t.log[0], stop: t.log[1], points: t.points };
}

/** Everything needed to evaluate points of this spec (model, states, observables, times). */
export function buildProblem(checked: CheckedSpec, model: GeneratorModel = buildGeneratorModel(systemDescription(checked)), initialIndex = 0): Problem {
  const system = model.system;
  const init = checked.initials[initialIndex]?.spec;
  if (!init) throw new Error(`initial state ${initialIndex} does not exist`);
  let initial: InitialState;
  switch (init.kind) {
    case 'thermal':
    case 'inverted':
    case 'saturated':
      initial = { kind: init.kind };
      break;
    case 'singlet': {
      const { a, b } = init;
      initial = { kind: 'fixed', label: `singlet(${a},${b})`, vector: densityVector(model, singletProjector(system, system.indexOf(a), system.indexOf(b)), 'singlet state') };
      break;
    }
    case 'deviation': {
      const x = hermitianVector(model, evaluateExpression(init.parsed, system), 'initial.deviation', system, init.expression);
      const v = maximallyMixedVector(model);
      const trX = (x[model.basis.identityIndex] as number) * Math.sqrt(system.dim);
      if (Math.abs(trX) > 1e-12) {
        throw new SpecError([{ path: 'initial.deviation', message: `the deviation must be traceless (Tr = ${shown(trX)}): rho = E/d + X must keep unit trace` }]);
      }
      for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) + (x[i] as number);
      initial = { kind: 'fixed', label: `E/d + ${init.expression}`, vector: v };
      break;
    }
  }
  const observables: Observable[] = checked.observables.map((o) => {
    const vector = hermitianVector(model, evaluateExpression(o.parsed, system), `observables.${o.name}`, system, o.expression);
    const traceless = vector.slice();
    traceless[model.basis.identityIndex] = 0;
    return { name: o.name, expression: o.expression, vector, traceless };
  });
  const timeGrid = timeGridOf(checked) ?? { kind: 'uniform', stop: 0, points: 0 };
  const problem: Problem = {
    model,
    thermalizations: checked.thermalizations,
    initial,
    observables,
    timeGrid,
    times: timePoints(timeGrid),
    reduction: problemReduction(model, initial, checked.thermalizations),
  };
  problemSpecs.set(problem, checked);
  return problem;
}

/** The checked spec each problem was built from, for validating one-point inputs against it. */
const problemSpecs = new WeakMap<Problem, CheckedSpec>();

export function specOfProblem(problem: Problem): CheckedSpec | undefined {
  return problemSpecs.get(problem);
}

/** Base parameter values of a spec (its `parameters:` block) for one-point evaluation. */
export function baseParameters(checked: CheckedSpec): Record<string, number> {
  const params = checked.spec.parameters ?? {};
  const out: Record<string, number> = {};
  const missing: string[] = [];
  for (const name of checked.usedParameters) {
    const v = params[name];
    if (v === undefined) missing.push(name);
    else out[name] = v;
  }
  if (missing.length > 0) {
    throw new SpecError(
      missing.map((m) => ({
        path: `parameters.${m}`,
        message: checked.spec.sweep?.[m] ? 'swept but has no single value for a one-point evaluation: give it under parameters: or with --set' : 'required: no value given',
      })),
    );
  }
  return out;
}
