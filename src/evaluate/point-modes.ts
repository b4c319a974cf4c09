import { projectVector } from '../liouville/reachable-subspace.js';
import { rowNonZeros } from '../liouville/sparse-matrix.js';
import { betaOf } from '../physics/constants.js';
import { energiesAt } from '../physics/eigenstructure.js';
import { coefficientAt, frequencyAt, type GeneratorModel, type StrengthEntry } from '../physics/generator-model.js';
import type { ParamValues } from '../physics/scalar.js';
import { spectralAt, type SpectralDensity } from '../physics/spectral-density.js';
import { boltzmannPopulations } from '../physics/states.js';
import { TEMPERATURE } from '../physics/system-description.js';
import { balancedFactors, type ThermalModel } from '../physics/thermalization.js';
import type { ModeExtractor } from './mode-extractor.js';
import type { Problem } from './problem.js';
import { buildSymmetricForm, type ReducedTerms, type SymmetricForm } from './symmetric-form.js';
import { SymmetricModes } from './symmetric-modes.js';
import { symmetricEigen, SymmetricWorkspace } from '../math/symmetric-eigen.js';

/**
 * The symmetric route for one-point evaluation: the same form the batched kernel uses, with
 * its coefficients evaluated from the model's functions at the point instead of from tables.
 */
interface PointForm {
  readonly form: SymmetricForm | undefined;
  readonly modes: SymmetricModes | undefined;
}

const cache = new WeakMap<Problem, Map<ThermalModel, PointForm>>();

/** Q^T M_k Q and the reduced vectors of a problem (what engine/compiled-problem.ts also computes). */
export function reducedTerms(problem: Problem): ReducedTerms {
  const { model, reduction, observables, initial } = problem;
  const { q, r } = reduction;
  const nTerms = model.compact.length;
  const termMatrices = new Float64Array(nTerms * r * r);
  const qRows = rowNonZeros(q, r);
  model.compact.forEach((t, k) => termMatrices.set(t.matrix.project(q, r, qRows), k * r * r));
  const obs = new Float64Array(observables.length * r);
  observables.forEach((o, j) => obs.set(projectVector(q, r, o.vector), j * r));
  const nStates = model.projectors.length;
  const projectors = new Float64Array(nStates * r);
  model.projectors.forEach((p, i) => projectors.set(projectVector(q, r, p), i * r));
  let initialFixed: Float64Array | undefined;
  if (initial.kind === 'fixed') initialFixed = projectVector(q, r, initial.vector);
  else if (initial.kind === 'saturated') {
    initialFixed = new Float64Array(r);
    initialFixed[0] = 1 / Math.sqrt(model.system.dim);
  }
  return { r, dim: model.system.dim, nTerms, nObs: observables.length, nStates, termMatrices, observables: obs, projectors, initialFixed };
}

function pointForm(problem: Problem, thermal: ThermalModel): PointForm {
  let m = cache.get(problem);
  if (!m) {
    m = new Map();
    cache.set(problem, m);
  }
  let pf = m.get(thermal);
  if (!pf) {
    const form = problem.model.path === 'fixed-basis' ? buildSymmetricForm(problem.model, problem, reducedTerms(problem), thermal).form : undefined;
    pf = { form, modes: form ? new SymmetricModes(form, problem.observables.length, problem.model.projectors.length) : undefined };
    m.set(thermal, pf);
  }
  return pf;
}

/** The symmetric form of a problem for a thermal model, or undefined (general route). */
export function symmetricFormOf(problem: Problem, thermal: ThermalModel): SymmetricForm | undefined {
  return pointForm(problem, thermal).form;
}

/**
 * Modes of the point by the symmetric route into `me`. Returns false when the problem has
 * no symmetric form or the point cannot be weighted (then use me.extract on the generator).
 */
export function symmetricModesAt(problem: Problem, p: ParamValues, thermal: ThermalModel, me: ModeExtractor): boolean {
  const { form, modes } = pointForm(problem, thermal);
  if (!form || !modes) return false;
  const model: GeneratorModel = problem.model;
  const es = model.eigen;
  if (!es) return false;
  const beta = betaOf(p[TEMPERATURE] as number);
  const { coef: c, pops, rho0 } = modes.first;
  if (form.route === 'weighted') {
    for (let q = 0; q < form.groupTerm.length; q++) {
      const ref = (model.compact[form.groupTerm[q] as number] as { coefficient: { strength: number; spectral: number } }).coefficient;
      const w = frequencyAt(model, form.groupFrequency[q] as number, p);
      const sj = (model.strengths[ref.strength] as StrengthEntry).value.at(p) * spectralAt(model.spectrals[ref.spectral] as SpectralDensity, w, p);
      balancedFactors(thermal, beta * w, c, 3 * q);
      for (let part = 0; part < 3; part++) c[3 * q + part] = sj * (c[3 * q + part] as number);
    }
  } else {
    model.compact.forEach((t, k) => (c[k] = coefficientAt(model, t.coefficient, p, thermal)));
  }
  const energies = energiesAt(es, p);
  pops.set(boltzmannPopulations(energies, beta, 1));
  const r = form.r;
  if (form.initialFixed) rho0.set(form.initialFixed);
  else {
    const init = problem.initial.kind === 'inverted' ? boltzmannPopulations(energies, beta, -1) : pops;
    rho0.fill(0);
    for (let s = 0; s < init.length; s++) {
      const x = init[s] as number;
      for (let j = 0; j < r; j++) rho0[j] = (rho0[j] as number) + x * (form.projectors[s * r + j] as number);
    }
  }
  return modes.evaluate(me);
}

/**
 * The double-commutator models at a point without a compiled form (the per-point path): the
 * generator of deviations from rho_ref (E/d, or sigma_eq for inhomogeneous, whose source
 * column is dropped: the double commutator annihilates E) is symmetric in the real basis.
 * Modes by the symmetric eigensolver; false when the matrix is not symmetric to 1e-12.
 */
export function plainModesAt(g: Float64Array, r: number, rho0: Float64Array, ref: Float64Array, obs: Float64Array, me: ModeExtractor): boolean {
  const nObs = me.nObs;
  const a = new Float64Array(r * r);
  let big = 0;
  for (let i = 0; i < r; i++) for (let j = 1; j < r; j++) big = Math.max(big, Math.abs(g[i * r + j] as number));
  for (let i = 0; i < r; i++) {
    for (let j = 0; j <= i; j++) {
      const x = j === 0 ? 0 : (g[i * r + j] as number);
      const y = i === 0 ? 0 : (g[j * r + i] as number);
      if (!(Math.abs(x - y) <= 1e-12 * big)) return false;
      a[i * r + j] = x;
    }
  }
  const probes = new Float64Array((nObs + 1) * r);
  probes.set(obs.subarray(0, nObs * r));
  let norm2 = 0;
  for (let i = 0; i < r; i++) {
    probes[nObs * r + i] = (rho0[i] as number) - (ref[i] as number);
    norm2 += (rho0[i] as number) ** 2;
  }
  const lambda = new Float64Array(r);
  if (!symmetricEigen(a, r, new SymmetricWorkspace(r), lambda, probes, nObs + 1)) return false;
  me.addSymmetricModes(lambda, probes, r, 0);
  me.growth = 1;
  me.oscillating = false;
  me.finish(r, Math.sqrt(norm2));
  for (let o = 0; o < nObs; o++) {
    let s = 0;
    for (let i = 0; i < r; i++) s += (obs[o * r + i] as number) * (ref[i] as number);
    me.steady[o] = (me.steady[o] as number) + s;
  }
  return true;
}
