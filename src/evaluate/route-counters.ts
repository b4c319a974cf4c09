/**
 * Per-point routes of the float64 kernels. A log time grid must not take the per-interval
 * path: trajectories come from the modes (one decomposition per point), or on a uniform grid
 * from one reused propagator.
 */
export interface KernelCounters {
  /** Points whose modes came from the symmetric (detailed-balance or double-commutator) form. */
  symmetric: number;
  /** Points whose modes came from the general eigen-decomposition. */
  general: number;
  /** Points whose trajectories were evaluated from their modes. */
  trajectoriesFromModes: number;
  /** Points whose trajectories used one propagator reused over a uniform grid. */
  trajectoriesByStep: number;
  /** Points whose trajectories needed one matrix exponential per interval (the fallback). */
  trajectoriesPerInterval: number;
  /** Matrix exponentials computed on that fallback. */
  intervalExponentials: number;
}

export function emptyKernelCounters(): KernelCounters {
  return { symmetric: 0, general: 0, trajectoriesFromModes: 0, trajectoriesByStep: 0, trajectoriesPerInterval: 0, intervalExponentials: 0 };
}

/** a += b, field by field. */
export function addKernelCounters(a: KernelCounters, b: Readonly<KernelCounters>): void {
  a.symmetric += b.symmetric;
  a.general += b.general;
  a.trajectoriesFromModes += b.trajectoriesFromModes;
  a.trajectoriesByStep += b.trajectoriesByStep;
  a.trajectoriesPerInterval += b.trajectoriesPerInterval;
  a.intervalExponentials += b.intervalExponentials;
}

