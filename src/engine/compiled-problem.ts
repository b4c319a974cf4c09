import { projectVector } from '../liouville/reachable-subspace.js';
import { rowNonZeros, type SparseMatrix } from '../liouville/sparse-matrix.js';
import type { Observable, Problem } from '../evaluate/problem.js';
import type { CompactTerm } from '../physics/generator-model.js';
import { hasColumnSources, termColumns } from '../physics/term-columns.js';

/**
 * The numeric arrays a batched backend needs, in the reduced (reachable) coordinates:
 * G_r(p) = sum_k c_k(p) Mr[k], plus everything that turns a coefficient row into
 * rates, Boltzmann values and initial states without touching operators again.
 * Only for the fixed-basis path; per-point systems are evaluated point by point.
 */
export interface CompiledProblem {
  /** Reduced dimension. */
  readonly r: number;
  /** Hilbert-space dimension d (the identity coefficient of any state is 1/sqrt(d)). */
  readonly dim: number;
  readonly nTerms: number;
  readonly nObs: number;
  readonly nStates: number;
  /** Mr[k] = Q^T M_k Q, packed [nTerms][r][r]. */
  readonly termMatrices: Float64Array;
  /** Indices of the 'dc' terms (needed alone by the inhomogeneous source). */
  readonly isThermalTerm: Uint8Array;
  /**
   * Coherent terms (-i [H_m, .], antisymmetric): 1 where compact term k is one. They make the
   * generator non-normal (complex modes); they are left out of the inhomogeneous source and
   * their rate weights are exactly 0.
   */
  readonly isCoherentTerm: Uint8Array;
  /** True when any term is coherent (steady states then come from a refined solve). */
  readonly coherent: boolean;
  /** rateWeights[k * nObs + o] = (O'|M_k|O')/(O'|O'): rate_O = -sum_k c_k w_ko. */
  readonly rateWeights: Float64Array;
  /** Reduced observables [nObs][r]. */
  readonly observables: Float64Array;
  /** Fixed initial state (reduced) or undefined for Boltzmann states. */
  readonly initialFixed: Float64Array | undefined;
  /** +1 thermal, -1 inverted (populations exp(-s beta E)/Z), 0 fixed. */
  readonly initialSign: 1 | -1 | 0;
  /** Reduced eigenprojectors of H0 [nStates][r]. */
  readonly projectors: Float64Array;
  /** o . P_i: Boltzmann value weights [nStates][nObs]. */
  readonly boltzmannWeights: Float64Array;
  /** Energy tables e[m][i] of the H0 parts [nParts][nStates]. */
  readonly energies: Float64Array;
  readonly nParts: number;
  /** Reduced coordinate of the identity (always 0: the first Krylov vector is E/sqrt(d)). */
  readonly identity: number;
  readonly times: Float64Array;
}

/** The non-zeros of all reduced term matrices, term by term, each term's in element order: G[elem[z]] += c[term[z]] * val[z]. */
export interface TermNonZeros {
  readonly term: Int32Array;
  readonly elem: Int32Array;
  readonly val: Float64Array;
}

const nonZerosOf = new WeakMap<CompiledProblem, TermNonZeros>();

/**
 * The term matrices' non-zeros (once per compiled problem). About 3% of the dense entries for
 * an electron and three 1H (960 of 31,360), so workers are sent these instead of the matrices.
 */
export function termNonZeros(cp: CompiledProblem): TermNonZeros {
  let nz = nonZerosOf.get(cp);
  if (!nz) {
    const rr = cp.r * cp.r;
    if (cp.termMatrices.length !== cp.nTerms * rr) throw new Error('termNonZeros: the compiled problem carries no term matrices');
    const term: number[] = [];
    const elem: number[] = [];
    const val: number[] = [];
    for (let k = 0; k < cp.nTerms; k++) {
      for (let e = 0; e < rr; e++) {
        const v = cp.termMatrices[k * rr + e] as number;
        if (v !== 0) {
          term.push(k);
          elem.push(e);
          val.push(v);
        }
      }
    }
    nz = { term: Int32Array.from(term), elem: Int32Array.from(elem), val: Float64Array.from(val) };
    nonZerosOf.set(cp, nz);
  }
  return nz;
}

export function compileProblem(problem: Problem): CompiledProblem {
  const { model, reduction, observables } = problem;
  if (model.path !== 'fixed-basis' || !model.eigen) throw new Error('compileProblem: only the fixed-basis path has parameter-independent basis matrices');
  const { q, r } = reduction;
  const n = model.basis.size;
  if (Math.abs((q[model.basis.identityIndex * r] as number) - 1) > 1e-12) throw new Error('reduced basis must start with the identity');
  const compact: readonly CompactTerm[] = model.compact;
  const nTerms = compact.length;
  const nObs = observables.length;
  const termMatrices = new Float64Array(nTerms * r * r);
  const isThermalTerm = new Uint8Array(nTerms);
  const isCoherentTerm = new Uint8Array(nTerms);
  const rateWeights = new Float64Array(nTerms * nObs);
  // the columns on Q's and the observables' supports suffice (term-columns.ts)
  const matrices = hasColumnSources(model) ? termColumns(model, observables.map((o) => o.traceless), reduction) : compact.map((t) => t.matrix);
  // (O'|O') once per observable
  // plain loops (README, "Layout": no per-job closures in set-up loops)
  const norms: number[] = [];
  for (const o of observables) {
    let den = 0;
    for (let i = 0; i < n; i++) den += (o.traceless[i] as number) ** 2;
    norms.push(den);
  }
  const qRows = rowNonZeros(q, r);
  for (let k = 0; k < nTerms; k++) {
    const t = compact[k] as CompactTerm;
    const m = matrices[k] as SparseMatrix;
    termMatrices.set(m.project(q, r, qRows), k * r * r);
    isThermalTerm[k] = t.coefficient.part === 'thermal' ? 1 : 0;
    isCoherentTerm[k] = t.coefficient.part === 'coherent' ? 1 : 0;
    // (O'|A|O') = 0 for antisymmetric A: exactly, not as round-off of a 1e9 s^-1 matrix
    if (t.coefficient.part === 'coherent') continue;
    for (let j = 0; j < nObs; j++) {
      const o = observables[j] as Observable;
      const den = norms[j] as number;
      rateWeights[k * nObs + j] = den === 0 ? 0 : m.bilinear(o.traceless, o.traceless) / den;
    }
  }
  const obs = new Float64Array(nObs * r);
  for (let j = 0; j < nObs; j++) obs.set(projectVector(q, r, (observables[j] as Observable).vector), j * r);
  const nStates = model.projectors.length;
  const projectors = new Float64Array(nStates * r);
  const boltzmannWeights = new Float64Array(nStates * nObs);
  for (let i = 0; i < nStates; i++) {
    const p = model.projectors[i] as Float64Array;
    projectors.set(projectVector(q, r, p), i * r);
    for (let j = 0; j < nObs; j++) {
      const o = observables[j] as Observable;
      let s = 0;
      for (let a = 0; a < n; a++) s += (o.vector[a] as number) * (p[a] as number);
      boltzmannWeights[i * nObs + j] = s;
    }
  }
  const es = model.eigen;
  const energies = new Float64Array(es.parts.length * nStates);
  es.energies.forEach((e, m) => energies.set(e, m * nStates));
  const init = problem.initial;
  return {
    r,
    dim: model.system.dim,
    nTerms,
    nObs,
    nStates,
    termMatrices,
    isThermalTerm,
    isCoherentTerm,
    coherent: isCoherentTerm.some((x) => x === 1),
    rateWeights,
    observables: obs,
    initialFixed: init.kind === 'fixed' ? projectVector(q, r, init.vector) : init.kind === 'saturated' ? unitIdentity(r, model.system.dim) : undefined,
    initialSign: init.kind === 'thermal' ? 1 : init.kind === 'inverted' ? -1 : 0,
    projectors,
    boltzmannWeights,
    energies,
    nParts: es.parts.length,
    identity: 0,
    times: problem.times,
  };
}

function unitIdentity(r: number, dim: number): Float64Array {
  const v = new Float64Array(r);
  v[0] = 1 / Math.sqrt(dim);
  return v;
}
