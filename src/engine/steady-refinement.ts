import { buildupRates, refinedSteadyState, SteadyStateSolver } from '../evaluate/steady-state.js';
import { FLAG_MODES_FAILED, FLAG_UNPHYSICAL, type ChunkResult, type Want } from './chunk.js';
import type { CompiledProblem } from './compiled-problem.js';

/**
 * The per-point steady-state solve of the float64 kernel: for problems with coherent terms
 * (non-normal generators, whose eigenvector bases are too ill-conditioned for a steady state
 * read from modes: evaluate/steady-state.ts) it replaces the modes' steady state, and for
 * `buildup` outputs it gives the build-up rates. Allocation-free after construction.
 */
export class SteadyRefinement {
  private readonly solver: SteadyStateSolver;
  private readonly ss: Float64Array;
  private readonly work: Float64Array;
  private readonly wantSteady: boolean;

  constructor(
    private readonly cp: CompiledProblem,
    want: Want,
  ) {
    this.solver = new SteadyStateSolver(cp.r);
    this.ss = new Float64Array(cp.r);
    this.work = new Float64Array(2 * Math.max(1, cp.r - 1));
    this.wantSteady = cp.coherent && want.modes;
  }

  /** Writes steady states and build-up rates of row `row` for the generator g and initial state rho0; returns flag bits. */
  apply(g: Float64Array, rho0: Float64Array, out: ChunkResult, row: number): number {
    const wantBuildup = out.shape.buildup === true;
    if (!this.wantSteady && !wantBuildup) return 0;
    const { cp, ss, solver, work } = this;
    const { r, nObs } = cp;
    const ok = solver.factor(g) && refinedSteadyState(solver, g, rho0[0] as number, ss, work);
    if (this.wantSteady) {
      for (let o = 0; o < nObs; o++) {
        let v = 0;
        for (let i = 0; i < r; i++) v += (cp.observables[o * r + i] as number) * (ss[i] as number);
        out.steady[row * nObs + o] = ok ? v : NaN;
      }
    }
    if (wantBuildup) {
      if (ok) buildupRates(solver, rho0, ss, cp.observables, nObs, out.buildup, row * nObs, work);
      else out.buildup.fill(NaN, row * nObs, (row + 1) * nObs);
    }
    if (!ok) return FLAG_MODES_FAILED;
    return this.wantSteady && negativePopulation(cp.projectors, cp.nStates, r, ss) ? FLAG_UNPHYSICAL : 0;
  }
}

/**
 * A population of H0's eigenstates outside [0, 1] in a steady state: what a model that is not
 * completely positive (inhomogeneous, high-temperature) can produce once coherent terms pump
 * the spins far from equilibrium (the solid effect at 1.2 K: -0.23 under the inhomogeneous model).
 */
export function negativePopulation(projectors: Float64Array, nStates: number, r: number, state: Float64Array): boolean {
  for (let i = 0; i < nStates; i++) {
    let p = 0;
    for (let a = 0; a < r; a++) p += (projectors[i * r + a] as number) * (state[a] as number);
    if (p < -1e-9 || p > 1 + 1e-9) return true;
  }
  return false;
}
