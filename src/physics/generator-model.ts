import { adjoint, type CMatrix } from '../math/cmatrix.js';
import { productBasis, type OperatorBasis } from '../liouville/operator-basis.js';
import { algebraOf, expand, Triplets, type Expansion } from '../liouville/product-algebra.js';
import type { SparseMatrix } from '../liouville/sparse-matrix.js';
import { relaxationForms, toSparse } from '../liouville/superoperators.js';
import { SpinSystem } from '../spin/spin-system.js';
import { betaOf } from './constants.js';
import {
  decompose,
  isZeroSignature,
  jointEigenbasis,
  numericEigenstructure,
  signaturesEqual,
  type EigenStructure,
} from './eigenstructure.js';
import { coincidentGroupsAt, h0At, h0Parts, partsCommute, zeemanCoincidence, zeemanGroups, type H0Part, type ZeemanGroup } from './hamiltonian.js';
import { couplingPairs, type CouplingPair, type MechanismKind } from './mechanisms.js';
import type { Derived, ParamValues } from './scalar.js';
import { spectralAt, spectralDeps, type SpectralDensity } from './spectral-density.js';
import { B0, TEMPERATURE, type SystemDescription } from './system-description.js';
import { evenPart, oddPart, type ThermalModel } from './thermalization.js';
import { rotatingFrame, type CoherentTerm } from './coherent-terms.js';
import { normalisedEvenPart, normalisedOddPart } from './phenomenological.js';

/** dc, thermal: the two relaxation forms; coherent: -i [H_m, .] of the rotating-frame Hamiltonian. */
export type Part = 'dc' | 'thermal' | 'coherent';

/** What a basis superoperator stands for: the seed's Figures 1-2 split contributions this way. */
export interface TermLabel {
  readonly mechanism: number;
  readonly mechanismLabel: string;
  readonly mechanismType: MechanismKind;
  readonly mu: number;
  readonly operands: string;
  /** Index into GeneratorModel.frequencies (fixed-basis path) or -1 (per-point path). */
  readonly frequency: number;
  readonly frequencyLabel: string;
  readonly part: Part;
}

/**
 * Coefficient of a term: c = s(p) J(w(p)) e(beta w) for 'dc', sign * s J o(beta w) for
 * 'thermal', with w evaluated at the canonical signature (o is odd, so the sign of the
 * frequency moves into `sign`).
 */
export interface CoefficientRef {
  readonly strength: number;
  readonly spectral: number;
  readonly frequency: number;
  readonly part: Part;
  readonly sign: 1 | -1;
  /** Thermal factors divided by their even part (e -> 1, o -> o/e): t1t2 relaxation. */
  readonly normalised?: boolean;
}

/** A fine term: one mechanism, one mu, one eigenfrequency, one part. */
export interface Term {
  readonly label: TermLabel;
  readonly coefficient: CoefficientRef;
  /** -(1/2) Re[A^dag, [B, .]] (dc) or -(1/2) Re[A^dag, {B, .}] (thermal) in the real basis. */
  readonly matrix: SparseMatrix;
}

/** Terms with identical coefficient functions merged: what the batched engine multiplies. */
export interface CompactTerm {
  readonly coefficient: CoefficientRef;
  readonly matrix: SparseMatrix;
  /** Indices of the fine terms merged here. */
  readonly fine: readonly number[];
}

export interface FrequencyEntry {
  /** Canonical signature: first non-zero entry positive (or all zero). */
  readonly signature: Float64Array;
  readonly label: string;
  readonly isZero: boolean;
}

export interface StrengthEntry {
  readonly value: Derived;
  readonly label: string;
}

export type GeneratorPath = 'fixed-basis' | 'per-point';

export interface GeneratorModel {
  readonly description: SystemDescription;
  readonly system: SpinSystem;
  readonly basis: OperatorBasis;
  readonly h0Parts: readonly H0Part[];
  /** Spins sharing a Zeeman part (equal gamma, equal shifts). */
  readonly zeemanGroups: readonly ZeemanGroup[];
  readonly path: GeneratorPath;
  readonly pathReason: string;
  /** Parameter names the generator, H0 and states depend on. */
  readonly parameters: readonly string[];
  readonly strengths: readonly StrengthEntry[];
  readonly spectrals: readonly SpectralDensity[];
  /** Fixed-basis path only (empty otherwise). */
  readonly eigen: EigenStructure | undefined;
  readonly frequencies: readonly FrequencyEntry[];
  readonly terms: readonly Term[];
  readonly compact: readonly CompactTerm[];
  /** Eigen-projectors |i><i| of H0 as real vectors (fixed-basis path). */
  readonly projectors: readonly Float64Array[];
  readonly pairs: readonly CouplingPair[];
  /**
   * Coherent terms of the rotating-frame Hamiltonian (empty without irradiation or static
   * couplings); their compact terms follow the relaxation ones in `compact`. They make the
   * generator non-normal (oscillating modes): see docs/physics.md.
   */
  readonly coherent: readonly CoherentTerm[];
  /** How the frame was chosen (validate prints it). */
  readonly frameNotes: readonly string[];
}

const HALF = -0.5;

/**
 * -(1/2) [A^dag, [B, .]] and -(1/2) [A^dag, {B, .}] as sparse matrices: by the product-basis
 * algebra when the operators have short expansions (always for spins 1/2 in a Zeeman
 * eigenbasis), otherwise densely in the full Liouville space.
 */
function superTerms(basis: OperatorBasis, system: SpinSystem, aComp: CMatrix, bComp: CMatrix): { dc: SparseMatrix; thermal: SparseMatrix } {
  const aDag = adjoint(aComp);
  const alg = algebraOf(basis, system);
  const ea = expand(basis, aDag);
  const eb = expand(basis, bComp);
  if (alg.cost(ea, eb) < basis.size * basis.size * basis.dim) {
    const { dc, thermal } = alg.relaxationForms(ea, eb);
    return { dc: dc.scaled(HALF), thermal: thermal.scaled(HALF) };
  }
  const { dc, thermal } = relaxationForms(basis, aDag, bComp);
  return { dc: toSparse({ dense: dc, maxImag: 0 }, basis.size).scaled(HALF), thermal: toSparse({ dense: thermal, maxImag: 0 }, basis.size).scaled(HALF) };
}

/**
 * The pair of relaxation forms -(1/2)[A^dag, [B, .]] (dc) and -(1/2)[A^dag, {B, .}] (thermal)
 * of one eigen-component, kept as the operators' expansions: the full Liouville-space matrices
 * are built only when asked for (the `point` command, tests), while a sweep builds just the
 * columns its reachable subspace needs (physics/term-columns.ts).
 */
export class FormSource {
  readonly ea: Expansion;
  readonly eb: Expansion;
  /** The product-basis algebra is cheaper than the dense construction (always for spins 1/2). */
  readonly sparse: boolean;
  private readonly basis: OperatorBasis;
  private readonly system: SpinSystem;
  private readonly aDag: CMatrix;
  private readonly b: CMatrix;
  private built: { dc: SparseMatrix; thermal: SparseMatrix } | undefined;

  constructor(basis: OperatorBasis, system: SpinSystem, aComp: CMatrix, bComp: CMatrix) {
    this.basis = basis;
    this.system = system;
    this.aDag = adjoint(aComp);
    this.b = bComp;
    const alg = algebraOf(basis, system);
    this.ea = alg.expandMatrix(basis, this.aDag);
    this.eb = alg.expandMatrix(basis, bComp);
    this.sparse = alg.cost(this.ea, this.eb) < basis.size * basis.size * basis.dim;
  }

  /** No expansion terms: both forms vanish. */
  get empty(): boolean {
    return this.ea.index.length === 0 || this.eb.index.length === 0;
  }

  /** Both forms over the whole Liouville space. */
  full(): { dc: SparseMatrix; thermal: SparseMatrix } {
    if (!this.built) {
      if (this.sparse) {
        const { dc, thermal } = algebraOf(this.basis, this.system).relaxationForms(this.ea, this.eb);
        this.built = { dc: dc.scaled(HALF), thermal: thermal.scaled(HALF) };
      } else {
        const { dc, thermal } = relaxationForms(this.basis, this.aDag, this.b);
        const n = this.basis.size;
        this.built = { dc: toSparse({ dense: dc, maxImag: 0 }, n).scaled(HALF), thermal: toSparse({ dense: thermal, maxImag: 0 }, n).scaled(HALF) };
      }
    }
    return this.built;
  }

  /** Both forms with only the given columns (others empty; all of them on the dense route). */
  columns(cols: ArrayLike<number>): { dc: SparseMatrix; thermal: SparseMatrix } {
    if (!this.sparse || this.built) return this.full();
    const { dc, thermal } = algebraOf(this.basis, this.system).relaxationForms(this.ea, this.eb, 0, cols);
    return { dc: dc.scaled(HALF), thermal: thermal.scaled(HALF) };
  }
}

/** A fine term whose matrix is built on first use. */
class FineTerm implements Term {
  readonly label: TermLabel;
  readonly coefficient: CoefficientRef;
  readonly source: FormSource;
  constructor(label: TermLabel, coefficient: CoefficientRef, source: FormSource) {
    this.label = label;
    this.coefficient = coefficient;
    this.source = source;
  }
  get matrix(): SparseMatrix {
    const f = this.source.full();
    return this.label.part === 'dc' ? f.dc : f.thermal;
  }
}

/** Canonical sign: first entry (relative to the part scale) that is non-zero decides. */
function canonical(es: EigenStructure, sig: Float64Array): { sig: Float64Array; sign: 1 | -1 } {
  for (let m = 0; m < sig.length; m++) {
    const v = sig[m] as number;
    if (Math.abs(v) > 1e-9 * (es.scales[m] as number)) {
      return v > 0 ? { sig, sign: 1 } : { sig: sig.map((x) => -x), sign: -1 };
    }
  }
  return { sig: sig.map(() => 0), sign: 1 };
}

function frequencyLabel(es: EigenStructure, sig: Float64Array): string {
  const parts: string[] = [];
  es.parts.forEach((p, m) => {
    const v = sig[m] as number;
    if (Math.abs(v) <= 1e-9 * (es.scales[m] as number)) return;
    const unit = es.scales[m] as number;
    const c = v / unit;
    const txt = Math.abs(Math.abs(c) - 1) < 1e-9 ? (c > 0 ? '' : '-') : `${+c.toPrecision(6)}*`;
    parts.push(`${txt}|${p.label}|`);
  });
  return parts.length === 0 ? '0' : parts.join(' + ').replace(/\+ -/g, '- ');
}

// Set-up loops as module-level functions (README, "Layout": no per-job closures in set-up loops).

/** The component of `comps` with this frequency signature (secular approximation), if any. */
function componentAt(es: EigenStructure, comps: ReturnType<typeof decompose>, sig: Float64Array): ReturnType<typeof decompose>[number] | undefined {
  for (const x of comps) if (signaturesEqual(es, x.signature, sig)) return x;
  return undefined;
}

/** Index of a canonical frequency signature, appended on first sight. */
function frequencyIndex(es: EigenStructure, frequencies: FrequencyEntry[], sig: Float64Array): number {
  for (let f = 0; f < frequencies.length; f++) if (signaturesEqual(es, (frequencies[f] as FrequencyEntry).signature, sig)) return f;
  frequencies.push({ signature: sig, label: frequencyLabel(es, sig), isZero: isZeroSignature(es, sig) });
  return frequencies.length - 1;
}

/**
 * |v_i><v_i| in the real basis: Tr(B P_i) = sum B_jk v_k,i conj(v_j,i). Only eigenvectors with a
 * non-zero entry in both rows of an element contribute (in the product basis one per diagonal
 * element), so the loop visits those alone.
 */
function eigenProjectors(basis: OperatorBasis, v: CMatrix, d: number): Float64Array[] {
  const nonZero: number[][] = [];
  for (let row = 0; row < d; row++) {
    const cols: number[] = [];
    for (let i = 0; i < d; i++) if ((v.re[row * d + i] as number) !== 0 || (v.im[row * d + i] as number) !== 0) cols.push(i);
    nonZero.push(cols);
  }
  const projectors: Float64Array[] = [];
  for (let i = 0; i < d; i++) projectors.push(new Float64Array(basis.size));
  const ops = basis.operators;
  for (let a = 0; a < ops.length; a++) {
    for (const e of (ops[a] as (typeof ops)[number]).entries) {
      for (const i of nonZero[e.j] as number[]) {
        const vjr = v.re[e.i * d + i] as number;
        const vji = v.im[e.i * d + i] as number;
        if (vjr === 0 && vji === 0) continue;
        const vkr = v.re[e.j * d + i] as number;
        const vki = v.im[e.j * d + i] as number;
        const pr = vkr * vjr + vki * vji;
        const pi = vki * vjr - vkr * vji;
        const proj = projectors[i] as Float64Array;
        proj[a] = (proj[a] as number) + (e.re * pr - e.im * pi);
      }
    }
  }
  return projectors;
}

/** Build the generator model of a system: basis superoperators and coefficient references. */
export function buildGeneratorModel(desc: SystemDescription): GeneratorModel {
  const system = new SpinSystem(desc.spins);
  const basis = productBasis(system);
  const zeeman = zeemanGroups(system, desc);
  const parts = h0Parts(system, desc, zeeman);
  const pairs = couplingPairs(system, desc.mechanisms, desc.crossCorrelations);

  const strengths: StrengthEntry[] = [];
  const strengthIndex = new Map<Derived, number>();
  const spectrals: SpectralDensity[] = [];
  const spectralIndex = new Map<SpectralDensity, number>();
  for (const p of pairs) {
    if (!strengthIndex.has(p.strength)) {
      strengthIndex.set(p.strength, strengths.length);
      strengths.push({ value: p.strength, label: `${p.mechanismLabel}: ${p.strengthLabel}` });
    }
    if (!spectralIndex.has(p.spectral)) {
      spectralIndex.set(p.spectral, spectrals.length);
      spectrals.push(p.spectral);
    }
  }

  const deps = new Set<string>([TEMPERATURE, B0]);
  for (const part of parts) part.theta.deps.forEach((d) => deps.add(d));
  for (const s of strengths) s.value.deps.forEach((d) => deps.add(d));
  for (const sd of spectrals) spectralDeps(sd).forEach((d) => deps.add(d));

  const commute = partsCommute(parts);
  const coincidence = desc.parameterDomain ? zeemanCoincidence(zeeman, desc.parameterDomain) : undefined;
  const eigen = commute.commute && coincidence === undefined ? jointEigenbasis(parts, system.dim) : undefined;
  const frame = rotatingFrame(system, desc, basis, !eigen);
  for (const c of frame.terms) c.coefficient.deps.forEach((d) => deps.add(d));
  const path: GeneratorPath = eigen ? 'fixed-basis' : 'per-point';
  const pathReason = eigen
    ? 'H0 parts commute: its eigenbasis and the eigenoperators are parameter independent, G(p) = sum_k c_k(p) M_k'
    : coincidence !== undefined
      ? `${coincidence} on the grid: degenerate levels there couple coherences that fixed Zeeman parts keep apart, so the generator is built per point`
      : `H0 eigenbasis depends on the parameters (${commute.culprit ?? 'no joint eigenbasis'}): generator built per point`;

  const frequencies: FrequencyEntry[] = [];
  const terms: Term[] = [];
  const projectors: Float64Array[] = [];
  if (eigen) {
    for (const pair of pairs) {
      const aComps = decompose(eigen, pair.a);
      const bComps = pair.b === pair.a ? aComps : decompose(eigen, pair.b);
      for (const bc of bComps) {
        const ac = componentAt(eigen, aComps, bc.signature);
        if (!ac) continue; // secular approximation: only components of equal frequency correlate
        const { sig, sign } = canonical(eigen, bc.signature);
        const f = frequencyIndex(eigen, frequencies, sig);
        const source = new FormSource(basis, system, ac.operator, bc.operator);
        const base = {
          mechanism: pair.mechanism,
          mechanismLabel: pair.mechanismLabel,
          mechanismType: pair.mechanismType,
          mu: pair.mu,
          operands: pair.operands,
          frequency: f,
          frequencyLabel: (sign < 0 ? '-' : '') + (frequencies[f] as FrequencyEntry).label,
        };
        const coef = {
          strength: strengthIndex.get(pair.strength) as number,
          spectral: spectralIndex.get(pair.spectral) as number,
          frequency: f,
          ...(pair.normalised ? { normalised: true } : {}),
        };
        // both forms of a component with non-empty expansions are non-zero (A, B traceless)
        if (source.empty) continue;
        terms.push(new FineTerm({ ...base, part: 'dc' }, { ...coef, part: 'dc', sign: 1 }, source));
        // o(0) = 0 in every model: zero-frequency thermal terms never contribute.
        if (!(frequencies[f] as FrequencyEntry).isZero) terms.push(new FineTerm({ ...base, part: 'thermal' }, { ...coef, part: 'thermal', sign }, source));
      }
    }
    projectors.push(...eigenProjectors(basis, eigen.vectors, system.dim));
  }

  // coherent terms: one strength entry each (the coefficient h_m(p)), after the relaxation terms
  const compact = compactTerms(terms, basis.size);
  for (const c of frame.terms) {
    strengths.push({ value: c.coefficient, label: `coherent: ${c.label}` });
    compact.push({ coefficient: { strength: strengths.length - 1, spectral: -1, frequency: -1, part: 'coherent', sign: 1 }, matrix: c.matrix, fine: [] });
  }

  return {
    description: desc,
    system,
    basis,
    h0Parts: parts,
    zeemanGroups: zeeman,
    path,
    pathReason,
    parameters: [...deps],
    strengths,
    spectrals,
    eigen,
    frequencies,
    terms,
    compact,
    projectors,
    pairs,
    coherent: frame.terms,
    frameNotes: frame.notes,
  };
}

/** A compact term: its matrix (the signed sum of its fine terms' matrices) is built on first use. */
class CompactGroup implements CompactTerm {
  readonly coefficient: CoefficientRef;
  readonly fine: readonly number[];
  private readonly terms: readonly Term[];
  private readonly size: number;
  private built: SparseMatrix | undefined;
  constructor(coefficient: CoefficientRef, fine: readonly number[], terms: readonly Term[], size: number) {
    this.coefficient = coefficient;
    this.fine = fine;
    this.terms = terms;
    this.size = size;
  }
  get matrix(): SparseMatrix {
    // summed in member order, then entries below 1e-14 of the largest dropped (cancellations)
    if (!this.built) {
      const trip = new Triplets();
      for (const k of this.fine) {
        const t = this.terms[k] as Term;
        const w = t.coefficient.sign;
        const m = t.matrix;
        for (let i = 0; i < m.n; i++) {
          for (let p = m.rowPtr[i] as number; p < (m.rowPtr[i + 1] as number); p++) trip.push(i, m.col[p] as number, w * (m.val[p] as number));
        }
      }
      this.built = trip.toSparse(this.size, 1e-14);
    }
    return this.built;
  }
}

/** Merge fine terms with identical coefficient functions (thermal sign folded in); matrices built on first use. */
export function compactTerms(terms: readonly Term[], size: number): CompactTerm[] {
  const groups = new Map<string, { coefficient: CoefficientRef; members: number[] }>();
  for (let k = 0; k < terms.length; k++) {
    const c = (terms[k] as Term).coefficient;
    const key = `${c.strength}|${c.spectral}|${c.frequency}|${c.part}${c.normalised ? '|n' : ''}`;
    const g = groups.get(key);
    if (g) g.members.push(k);
    else groups.set(key, { coefficient: { ...c, sign: 1 }, members: [k] });
  }
  const out: CompactTerm[] = [];
  for (const g of groups.values()) out.push(new CompactGroup(g.coefficient, g.members, terms, size));
  return out;
}

/** Angular frequency of a signature at a parameter point. */
export function frequencyAt(model: GeneratorModel, f: number, p: ParamValues): number {
  const es = model.eigen;
  const entry = model.frequencies[f];
  if (!es || !entry) throw new Error(`frequency index ${f} not available on the ${model.path} path`);
  let w = 0;
  es.parts.forEach((part, m) => {
    const s = entry.signature[m] as number;
    if (s !== 0) w += part.theta.at(p) * s;
  });
  return w;
}

/** Value of one coefficient at a point (fixed-basis path). */
export function coefficientAt(model: GeneratorModel, c: CoefficientRef, p: ParamValues, thermal: ThermalModel): number {
  const s = (model.strengths[c.strength] as StrengthEntry).value.at(p);
  if (c.part === 'coherent') return s;
  const w = frequencyAt(model, c.frequency, p);
  const j = spectralAt(model.spectrals[c.spectral] as SpectralDensity, w, p);
  const x = betaOf(p[TEMPERATURE] as number) * w;
  if (c.normalised) return c.part === 'dc' ? s * j * normalisedEvenPart() : c.sign * s * j * normalisedOddPart(thermal, x);
  return c.part === 'dc' ? s * j * evenPart(thermal, x) : c.sign * s * j * oddPart(thermal, x);
}

/** A coherent term with its coefficient at a point (any path). */
export interface EvaluatedCoherent {
  readonly label: string;
  readonly value: number;
  readonly matrix: SparseMatrix;
}

export function coherentAt(model: GeneratorModel, p: ParamValues): EvaluatedCoherent[] {
  return model.coherent.map((c) => ({ label: c.label, value: c.coefficient.at(p), matrix: c.matrix }));
}

/** A term with its coefficient evaluated at a point. */
export interface EvaluatedTerm {
  readonly label: TermLabel;
  readonly value: number;
  readonly matrix: SparseMatrix;
}

/** Per-point construction (any H0): decompose couplings under the numeric H0(p). */
function termsPerPoint(model: GeneratorModel, p: ParamValues, thermal: ThermalModel): EvaluatedTerm[] {
  const h = h0At(model.h0Parts, model.system.dim, p);
  const es = numericEigenstructure(h);
  const beta = betaOf(p[TEMPERATURE] as number);
  const out: EvaluatedTerm[] = [];
  for (const pair of model.pairs) {
    const aComps = decompose(es, pair.a);
    const bComps = decompose(es, pair.b);
    const s = pair.strength.at(p);
    for (const bc of bComps) {
      const ac = aComps.find((x) => signaturesEqual(es, x.signature, bc.signature));
      if (!ac) continue;
      const w = bc.signature[0] as number;
      const j = spectralAt(pair.spectral, w, p);
      const { dc, thermal: th } = superTerms(model.basis, model.system, ac.operator, bc.operator);
      const base = {
        mechanism: pair.mechanism,
        mechanismLabel: pair.mechanismLabel,
        mechanismType: pair.mechanismType,
        mu: pair.mu,
        operands: pair.operands,
        frequency: -1,
        frequencyLabel: `${w.toPrecision(8)} rad/s`,
      };
      const e = pair.normalised ? normalisedEvenPart() : evenPart(thermal, beta * w);
      const o = pair.normalised ? normalisedOddPart(thermal, beta * w) : oddPart(thermal, beta * w);
      out.push({ label: { ...base, part: 'dc' }, value: s * j * e, matrix: dc });
      if (!isZeroSignature(es, bc.signature)) out.push({ label: { ...base, part: 'thermal' }, value: s * j * o, matrix: th });
    }
  }
  return out;
}

/** All fine terms at a point with their coefficient values. */
export function termsAt(model: GeneratorModel, p: ParamValues, thermal: ThermalModel): EvaluatedTerm[] {
  if (model.path === 'per-point') return termsPerPoint(model, p, thermal);
  const hit = coincidentGroupsAt(model.zeemanGroups, p);
  if (hit) {
    const ids = (g: ZeemanGroup): string => g.ids.join(',');
    throw new Error(
      `the Larmor frequencies of spins [${ids(hit[0])}] and [${ids(hit[1])}] coincide at this point, outside the parameter values the fixed-basis model was built for: build it with a parameterDomain that includes this point`,
    );
  }
  return model.terms.map((t) => ({ label: t.label, value: coefficientAt(model, t.coefficient, p, thermal), matrix: t.matrix }));
}
