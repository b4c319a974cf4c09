import { liftVector } from '../liouville/reachable-subspace.js';
import type { ParamValues } from '../physics/scalar.js';
import type { ThermalModel } from '../physics/thermalization.js';
import { negativePopulation, outsideSpectrum, smallestPopulation, spectralRange, thermalValidity, type SpectralRange } from '../physics/validity.js';
import type { Problem } from './problem.js';

const rangeCache = new WeakMap<Problem, readonly SpectralRange[]>();

/** The spectrum of each observable's operator (computed once per problem). */
export function observableRanges(problem: Problem): readonly SpectralRange[] {
  let r = rangeCache.get(problem);
  if (!r) {
    r = problem.observables.map((o) => spectralRange(problem.model.basis.toOperator(o.vector)));
    rangeCache.set(problem, r);
  }
  return r;
}

/** Density matrices checked for negative populations per point: evenly spaced over the time grid. */
const MAX_STATES_CHECKED = 50;

export interface PointValues {
  readonly steady: Readonly<Record<string, number>>;
  readonly boltzmann: Readonly<Record<string, number>>;
  readonly trajectories: Readonly<Record<string, readonly number[]>>;
  readonly times: Float64Array;
  /** Reduced states rho(t_k) of the trajectory, when computed. */
  readonly states?: readonly Float64Array[];
}

/**
 * Why a point is unphysical, as messages (each contains "unphysical"): the thermal model
 * beyond its validity, an expectation value outside its operator's spectrum, a density
 * matrix with a negative population. Empty when the point is physical.
 */
export function unphysicalWarnings(problem: Problem, p: ParamValues, thermal: ThermalModel, v: PointValues): string[] {
  const out: string[] = [];
  const validity = thermalValidity(problem.model, p, thermal);
  if (validity) out.push(validity);
  const ranges = observableRanges(problem);
  const fmt = (x: number): string => x.toPrecision(4);
  problem.observables.forEach((o, k) => {
    const range = ranges[k] as SpectralRange;
    const where = `outside the spectrum [${fmt(range.min)}, ${fmt(range.max)}] of ${o.expression}`;
    const ss = v.steady[o.name] as number;
    if (outsideSpectrum(ss, range)) out.push(`unphysical state: the steady-state <${o.name}> = ${fmt(ss)} lies ${where}`);
    const traj = v.trajectories[o.name] ?? [];
    const t = traj.findIndex((x) => outsideSpectrum(x, range));
    if (t >= 0) out.push(`unphysical state: <${o.name}>(t = ${v.times[t]} s) = ${fmt(traj[t] as number)} lies ${where}`);
  });
  if (v.states && v.states.length > 0) {
    const { model, reduction } = problem;
    const n = model.basis.size;
    const step = Math.max(1, Math.ceil(v.states.length / MAX_STATES_CHECKED));
    const checked = new Set<number>();
    for (let k = 0; k < v.states.length; k += step) checked.add(k);
    checked.add(v.states.length - 1);
    for (const k of [...checked].sort((a, b) => a - b)) {
      const s = v.states[k] as Float64Array;
      if (s.some((x) => !Number.isFinite(x))) break;
      const rho = model.basis.toOperator(liftVector(reduction.q, reduction.r, s, n));
      if (negativePopulation(rho)) {
        out.push(`unphysical state: rho(t = ${v.times[k]} s) has a negative population (smallest eigenvalue ${fmt(smallestPopulation(rho))})`);
        break;
      }
    }
  }
  return out;
}
