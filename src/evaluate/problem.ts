import { reachableSubspace } from '../liouville/reachable-subspace.js';
import { alignToCoordinates } from '../liouville/aligned-subspace.js';
import { closedTermColumns, hasColumnSources } from '../physics/term-columns.js';
import type { GeneratorModel } from '../physics/generator-model.js';
import type { ParamValues } from '../physics/scalar.js';
import { boltzmannVector, maximallyMixedVector } from '../physics/states.js';
import type { ThermalModel } from '../physics/thermalization.js';

/** Initial density operator: parameter dependent (Boltzmann) or fixed. */
export type InitialState =
  | { readonly kind: 'thermal' }
  | { readonly kind: 'inverted' }
  | { readonly kind: 'saturated' }
  | { readonly kind: 'fixed'; readonly label: string; readonly vector: Float64Array };

export interface Observable {
  readonly name: string;
  readonly expression: string;
  /** Real-basis vector of O: <O> = o . rho. */
  readonly vector: Float64Array;
  /** Traceless part O' (identity coefficient removed), used for projection rates. */
  readonly traceless: Float64Array;
}

export type TimeGrid =
  | { readonly kind: 'uniform'; readonly stop: number; readonly points: number }
  | { readonly kind: 'log'; readonly start: number; readonly stop: number; readonly points: number }
  | { readonly kind: 'values'; readonly values: Float64Array };

export function timePoints(grid: TimeGrid): Float64Array {
  if (grid.kind === 'values') return grid.values.slice();
  const n = grid.points;
  const out = new Float64Array(n);
  if (grid.kind === 'uniform') {
    for (let k = 0; k < n; k++) out[k] = n === 1 ? 0 : (grid.stop * k) / (n - 1);
    return out;
  }
  const { start, stop } = grid;
  for (let k = 0; k < n; k++) out[k] = n === 1 ? start : start * (stop / start) ** (k / (n - 1));
  return out;
}

/** Everything about a computation except the parameter values. */
export interface Problem {
  readonly model: GeneratorModel;
  readonly thermalizations: readonly ThermalModel[];
  readonly initial: InitialState;
  readonly observables: readonly Observable[];
  readonly timeGrid: TimeGrid;
  readonly times: Float64Array;
  /** Reachable subspace: Q (n x r) orthonormal columns. */
  readonly reduction: { readonly q: Float64Array; readonly r: number };
}

export function initialVector(problem: Pick<Problem, 'model' | 'initial'>, p: ParamValues): Float64Array {
  const init = problem.initial;
  switch (init.kind) {
    case 'thermal':
      return boltzmannVector(problem.model, p, 1);
    case 'inverted':
      return boltzmannVector(problem.model, p, -1);
    case 'saturated':
      return maximallyMixedVector(problem.model);
    case 'fixed':
      return init.vector;
  }
}

/**
 * The reachable subspace of a problem. On the fixed-basis path it is the closure of the
 * possible initial states under all basis superoperators (parameter independent); Boltzmann
 * states and the inhomogeneous source live in the span of H0's eigenprojectors. On the
 * per-point path the full space is kept.
 */
export function problemReduction(model: GeneratorModel, initial: InitialState, thermalizations: readonly ThermalModel[]): { q: Float64Array; r: number } {
  const n = model.basis.size;
  if (model.path === 'per-point') {
    const q = new Float64Array(n * n);
    for (let i = 0; i < n; i++) q[i * n + i] = 1;
    return { q, r: n };
  }
  const start: Float64Array[] = [maximallyMixedVector(model)];
  if (initial.kind === 'fixed') start.push(initial.vector);
  if (initial.kind === 'thermal' || initial.kind === 'inverted' || thermalizations.includes('inhomogeneous')) start.push(...model.projectors);
  // only the columns reachable from the start vectors are built (term-columns.ts)
  const red = reachableSubspace(n, hasColumnSources(model) ? closedTermColumns(model, start) : model.compact.map((c) => c.matrix), start);
  // coherent terms: keep their ~1e9 s^-1 entries out of the nuclear rows (aligned-subspace.ts)
  return model.coherent.length > 0 ? alignToCoordinates(red.q, n, red.r, model.basis.identityIndex) : red;
}
