import { observableRanges } from '../evaluate/unphysical.js';
import type { Problem } from '../evaluate/problem.js';
import { outsideSpectrum, type SpectralRange, thermalValidity } from '../physics/validity.js';
import { pointParams } from '../sweep/grid.js';
import { type Chunk, type ChunkResult, FLAG_UNPHYSICAL } from './chunk.js';
import type { Job } from './job.js';

/**
 * Set FLAG_UNPHYSICAL on the points of a chunk result that leave physics: an expectation
 * value (steady state, Boltzmann value, trajectory) outside its operator's spectrum, or the
 * high-temperature model beyond its bound (physics/validity.ts). Every backend's results
 * pass through here before they are checkpointed, so the flag does not depend on the
 * backend. Returns the number of flagged points.
 */
export function flagUnphysical(job: Job, chunk: Chunk, r: ChunkResult): number {
  const variant = job.grid.variants[chunk.variant];
  if (!variant) throw new Error(`variant ${chunk.variant} out of range`);
  const problem = job.problems[variant.initial] as Problem;
  const ranges = observableRanges(problem);
  const { count, nObs, nTimes } = r.shape;
  const checkThermal = variant.thermal === 'high-temperature';
  let flagged = 0;
  for (let j = 0; j < count; j++) {
    let bad = false;
    for (let k = 0; k < nObs && !bad; k++) {
      const range = ranges[k] as SpectralRange;
      const at = j * nObs + k;
      if (outsideSpectrum(r.steady[at] as number, range) || outsideSpectrum(r.boltzmann[at] as number, range)) bad = true;
      for (let t = 0; t < nTimes && !bad; t++) if (outsideSpectrum(r.trajectories[at * nTimes + t] as number, range)) bad = true;
    }
    if (!bad && checkThermal && thermalValidity(job.model, pointParams(job.grid, chunk.start + j), variant.thermal) !== undefined) bad = true;
    if (bad) {
      r.flags[j] = (r.flags[j] as number) | FLAG_UNPHYSICAL;
      flagged++;
    }
  }
  return flagged;
}
