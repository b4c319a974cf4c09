import { CMatrix } from '../math/cmatrix.js';
import { hermitianEigen } from '../math/hermitian-eig.js';
import { algebraOf, expand } from '../liouville/product-algebra.js';
import { rowNonZeros, type RowNonZeros } from '../liouville/sparse-matrix.js';
import { rowSupport } from '../physics/term-columns.js';
import type { Problem } from './problem.js';
import type { CompactTerm, GeneratorModel } from '../physics/generator-model.js';
import { balancedFactors, isDetailedBalance, type ThermalModel } from '../physics/thermalization.js';
import { mulberry32 } from '../math/mulberry32.js';

/**
 * The reduced problem a symmetric form is built from (engine/compiled-problem.ts's
 * CompiledProblem has these fields): term matrices Q^T M_k Q in the order of model.compact,
 * observables, H0 eigenprojectors and a fixed initial state in reduced coordinates.
 */
export interface ReducedTerms {
  readonly r: number;
  readonly dim: number;
  readonly nTerms: number;
  readonly nObs: number;
  readonly nStates: number;
  readonly termMatrices: Float64Array;
  readonly observables: Float64Array;
  readonly projectors: Float64Array;
  readonly initialFixed: Float64Array | undefined;
}

/**
 * A symmetric form of the reduced generator, found once per sweep and variant, so that modes
 * come from a symmetric eigensolver (real eigenvalues, orthogonal eigenvectors, no
 * ill-conditioning from near-defective matrices):
 *
 * - 'weighted' (rodin-abergel, bengs-levitt): the secular generator obeys detailed balance,
 *   f(w)/f(-w) = exp(-beta w), and is self-adjoint in the Boltzmann-weighted (KMS) inner
 *   product. In coordinates where every basis vector has a definite mean energy
 *   s = (E_a + E_b)/2 (joint eigenvectors of X -> (H_m X + X H_m)/2 for every part H_m of H0),
 *   W = diag((p_a p_b)^(1/4)) makes Gs = W^-1 G W symmetric. Gs is assembled directly from
 *   f(x), f(-x) (energy-conserving entries) and g(x) = sqrt(f(x) f(-x)) (entries that move
 *   the mean energy by the transition frequency), so no entry comes from the cancellation
 *   e(x) +- o(x). Modes are those of rho - rho_eq.
 * - 'plain' (semiclassical, inhomogeneous): the double commutator alone is symmetric in the
 *   real operator basis; modes are those of rho - E/d or rho - sigma_eq.
 *
 * The route is chosen from the actual term matrices, never assumed: every term must split
 * into energy-conserving and energy-shifting parts as detailed balance requires, the assembled
 * form must be symmetric for random coefficients, and W^-1 G W must equal it at random
 * temperatures and fields. A term that does not fit (the high-temperature model, coherent
 * terms such as irradiation or an H0 outside the interaction frame) leaves the generator to
 * the general route (engine/f64-kernel.ts).
 *
 * Plain data (typed arrays), so workers receive it with the compiled problem.
 */
export interface SymmetricForm {
  readonly route: 'weighted' | 'plain';
  readonly r: number;
  /** Assembly: Gs[pieceElem[z]] += coef[pieceCoef[z]] * pieceVal[z] over the lower triangle (row-major, i >= j). */
  readonly pieceCoef: Int32Array;
  readonly pieceElem: Int32Array;
  readonly pieceVal: Float64Array;
  /**
   * Coefficients: weighted route, 3 per group g (sJ f(x), sJ f(-x), sJ g(x)) with sJ from the
   * strength and spectral tables of compact term groupTerm[g] at frequency groupFrequency[g];
   * plain route, coef[k] = c_k of compact term k.
   */
  readonly nCoef: number;
  readonly groupTerm: Int32Array;
  readonly groupFrequency: Int32Array;
  /** Weighted route: class of each coordinate and a level pair (a, b) of each class, w = (p_a p_b)^(1/4). */
  readonly classOf: Int32Array;
  readonly classA: Int32Array;
  readonly classB: Int32Array;
  /** Observables [nObs][r], H0 eigenprojectors [nStates][r], in form coordinates. */
  readonly observables: Float64Array;
  readonly projectors: Float64Array;
  /** Fixed initial state (form coordinates), or undefined for Boltzmann states. */
  readonly initialFixed: Float64Array | undefined;
  /** Reference state: the Boltzmann state, or E/d (semiclassical: a fixed vector). */
  readonly reference: 'boltzmann' | 'identity';
  readonly identity: Float64Array;
  /** Diagonal blocks [start_0 = 0, start_1, ..., r]: Gs has no entries between blocks. */
  readonly blocks: Int32Array;
  /** Form coordinates from reduced ones: x_form = V^T x_reduced (row-major r x r). */
  readonly v: Float64Array;
  /** Why this route (for run.json and tests). */
  readonly why: string;
}

export interface SymmetricFormResult {
  readonly form: SymmetricForm | undefined;
  readonly why: string;
}

/**
 * out = V^T T V (row-major r x r), with V given by its rows' non-zeros. Term matrices and the
 * mean-energy rotation are sparse (an electron and three 1H: ~24 of 784 entries per term, 304
 * in V); every product is formed from non-zeros only, each sum in the order of the dense
 * loops (skipped terms are exact zeros), so the result is the dense product's.
 */
function congruence(vRows: RowNonZeros, t: Float64Array, r: number, tmp: Float64Array, out: Float64Array): void {
  const { start, col, val } = vRows;
  // tmp = T V
  tmp.fill(0);
  for (let i = 0; i < r; i++) {
    for (let k = 0; k < r; k++) {
      const x = t[i * r + k] as number;
      if (x === 0) continue;
      for (let z = start[k] as number; z < (start[k + 1] as number); z++) {
        const j = col[z] as number;
        tmp[i * r + j] = (tmp[i * r + j] as number) + x * (val[z] as number);
      }
    }
  }
  // out = V^T tmp: row k of V scatters v_ki tmp[k][.] into out[i][.], over tmp's non-zeros
  out.fill(0);
  for (let k = 0; k < r; k++) {
    const z0 = start[k] as number;
    const z1 = start[k + 1] as number;
    if (z0 === z1) continue;
    for (let j = 0; j < r; j++) {
      const y = tmp[k * r + j] as number;
      if (y === 0) continue;
      for (let z = z0; z < z1; z++) {
        const i = col[z] as number;
        out[i * r + j] = (out[i * r + j] as number) + (val[z] as number) * y;
      }
    }
  }
}

function vtx(v: Float64Array, x: Float64Array, r: number, out: Float64Array, offset = 0): void {
  for (let j = 0; j < r; j++) {
    let s = 0;
    for (let i = 0; i < r; i++) s += (v[i * r + j] as number) * (x[i] as number);
    out[offset + j] = s;
  }
}

function maxAbsOf(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] as number));
  return m;
}

/**
 * Mean-energy coordinates of the reduced space: V (r x r orthogonal) whose columns are joint
 * eigenvectors of K_m = (H_m . + . H_m)/2 restricted to span(Q), and each column's signature
 * s[j][m]. Undefined when span(Q) is not invariant under the K_m (not graded).
 */
function meanEnergyBasis(model: GeneratorModel, problem: Problem): { v: Float64Array; sig: Float64Array[] } | undefined {
  const es = model.eigen;
  if (!es) return undefined;
  const { q, r } = problem.reduction;
  const basis = model.basis;
  const n = basis.size;
  const alg = algebraOf(basis, model.system);
  const nParts = es.parts.length;
  const kred: Float64Array[] = [];
  // K_m is applied to the columns of Q only: build just those columns
  const qCols = rowSupport(q, r);
  const col = new Float64Array(n);
  const kcol = new Float64Array(n);
  const qRows = rowNonZeros(q, r);
  for (let m = 0; m < nParts; m++) {
    const h = (es.parts[m] as { matrix: CMatrix }).matrix;
    const scale = es.scales[m] as number;
    const kfull = alg.anticommutator(expand(basis, h), 1e-14, qCols);
    const k = kfull.project(q, r, qRows);
    // span(Q) invariant under K_m: |K q_j|^2 = sum_i (q_i . K q_j)^2 (Pythagoras; resolves ~1e-8)
    for (let j = 0; j < r; j++) {
      for (let a = 0; a < n; a++) col[a] = q[a * r + j] as number;
      kfull.matvec(col, kcol);
      let ny2 = 0;
      for (let a = 0; a < n; a++) ny2 += (kcol[a] as number) ** 2;
      let nk2 = 0;
      for (let i = 0; i < r; i++) nk2 += (k[i * r + j] as number) ** 2;
      if (ny2 - nk2 > 1e-14 * ny2 + (1e-12 * scale) ** 2) return undefined;
    }
    kred.push(k);
  }
  // successive refinement: diagonalise K_1, then K_2 inside each eigenspace of K_1, ...
  const v = new Float64Array(r * r);
  for (let i = 0; i < r; i++) v[i * r + i] = 1;
  let clusters: number[][] = [Array.from({ length: r }, (_, i) => i)];
  const lambda = new Float64Array(r);
  for (let m = 0; m < nParts; m++) {
    const k = kred[m] as Float64Array;
    const tol = 1e-9 * (es.scales[m] as number);
    const next: number[][] = [];
    for (const c of clusters) {
      const nc = c.length;
      // block = V_c^T K V_c, from V_c gathered (r x nc) and the non-zeros of K and V_c; each sum
      // runs in the order of the plain dot products (skipped terms are exact zeros)
      const vc = new Float64Array(r * nc);
      for (let t = 0; t < r; t++) for (let b = 0; b < nc; b++) vc[t * nc + b] = v[t * r + (c[b] as number)] as number;
      const kv = new Float64Array(r * nc);
      for (let i = 0; i < r; i++) {
        for (let t = 0; t < r; t++) {
          const x = k[i * r + t] as number;
          if (x === 0) continue;
          for (let b = 0; b < nc; b++) kv[i * nc + b] = (kv[i * nc + b] as number) + x * (vc[t * nc + b] as number);
        }
      }
      const block = new Float64Array(nc * nc);
      for (let i = 0; i < r; i++) {
        for (let a = 0; a < nc; a++) {
          const x = vc[i * nc + a] as number;
          if (x === 0) continue;
          for (let b = 0; b < nc; b++) block[a * nc + b] = (block[a * nc + b] as number) + x * (kv[i * nc + b] as number);
        }
      }
      // Jacobi (not QL): inside degenerate eigenspaces it leaves unit vectors as they are, which
      // keeps the form sparse (e+3H: 1,452 pieces against 3,616 from QL's mixed bases)
      const cm = new CMatrix(nc, nc);
      cm.re.set(block);
      const eig = hermitianEigen(cm);
      for (let b = 0; b < nc; b++) lambda[b] = eig.values[b] as number;
      const er = eig.vectors.re;
      const rotated = new Float64Array(r * nc);
      for (let i = 0; i < r; i++) {
        for (let a = 0; a < nc; a++) {
          const x = vc[i * nc + a] as number;
          if (x === 0) continue;
          for (let b = 0; b < nc; b++) rotated[i * nc + b] = (rotated[i * nc + b] as number) + x * (er[a * nc + b] as number);
        }
      }
      for (let i = 0; i < r; i++) for (let b = 0; b < nc; b++) v[i * r + (c[b] as number)] = rotated[i * nc + b] as number;
      let group: number[] = [];
      let last = NaN;
      for (let b = 0; b < nc; b++) {
        const x = lambda[b] as number;
        if (group.length > 0 && Math.abs(x - last) > tol) {
          next.push(group);
          group = [];
        }
        group.push(c[b] as number);
        last = x;
      }
      if (group.length > 0) next.push(group);
    }
    clusters = next;
  }
  // signatures, and the check that every column is an exact joint eigenvector
  const sig: Float64Array[] = [];
  for (let j = 0; j < r; j++) sig.push(new Float64Array(nParts));
  const kv = new Float64Array(r);
  for (let m = 0; m < nParts; m++) {
    // K_m from its rows' non-zeros, each sum in the dense loop's order (skipped terms are
    // exact zeros): e+4H (r = 86) spent a third of this function in the dense products
    const kRows = rowNonZeros(kred[m] as Float64Array, r);
    const tol = 1e-9 * (es.scales[m] as number);
    for (let j = 0; j < r; j++) {
      for (let i = 0; i < r; i++) {
        let s = 0;
        for (let z = kRows.start[i] as number; z < (kRows.start[i + 1] as number); z++) s += (kRows.val[z] as number) * (v[(kRows.col[z] as number) * r + j] as number);
        kv[i] = s;
      }
      let lam = 0;
      for (let i = 0; i < r; i++) lam += (v[i * r + j] as number) * (kv[i] as number);
      let res = 0;
      for (let i = 0; i < r; i++) res += ((kv[i] as number) - lam * (v[i * r + j] as number)) ** 2;
      if (Math.sqrt(res) > tol) return undefined;
      (sig[j] as Float64Array)[m] = lam;
    }
  }
  return { v, sig };
}

function sameSignature(a: ArrayLike<number>, b: ArrayLike<number>, scales: Float64Array, sign = 1, shift?: ArrayLike<number>): boolean {
  for (let m = 0; m < a.length; m++) {
    const want = (b[m] as number) + (shift ? sign * (shift[m] as number) : 0);
    if (Math.abs((a[m] as number) - want) > 1e-9 * (scales[m] as number)) return false;
  }
  return true;
}

/** Blocks of the union pattern of the pieces (connected components), as a permutation of coordinates. */
function findBlocks(r: number, elems: readonly number[]): { perm: Int32Array; blocks: Int32Array } {
  const parent = Int32Array.from({ length: r }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i] as number] as number;
      i = parent[i] as number;
    }
    return i;
  };
  for (const e of elems) {
    const i = Math.floor(e / r);
    const j = e % r;
    const a = find(i);
    const b = find(j);
    if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
  }
  const groups = new Map<number, number[]>();
  for (let i = 0; i < r; i++) {
    const g = find(i);
    const list = groups.get(g);
    if (list) list.push(i);
    else groups.set(g, [i]);
  }
  const ordered = [...groups.values()].sort((a, b) => (a[0] as number) - (b[0] as number));
  const perm = Int32Array.from(ordered.flat());
  const blocks = new Int32Array(ordered.length + 1);
  let at = 0;
  ordered.forEach((g, k) => {
    at += g.length;
    blocks[k + 1] = at;
  });
  return { perm, blocks };
}

/** Mean-energy coordinates and rotated term matrices, shared by every thermal variant of a problem. */
const graded = new WeakMap<Problem, { v: Float64Array; sig: Float64Array[]; rot: Float64Array } | null>();

function gradedTerms(model: GeneratorModel, problem: Problem, cp: ReducedTerms): { v: Float64Array; sig: Float64Array[]; rot: Float64Array } | undefined {
  const hit = graded.get(problem);
  if (hit !== undefined) return hit ?? undefined;
  const mb = meanEnergyBasis(model, problem);
  if (!mb) {
    graded.set(problem, null);
    return undefined;
  }
  const r = cp.r;
  const rot = new Float64Array(cp.nTerms * r * r);
  const tmp = new Float64Array(r * r);
  const out = new Float64Array(r * r);
  const vRows = rowNonZeros(mb.v, r);
  for (let k = 0; k < cp.nTerms; k++) {
    congruence(vRows, cp.termMatrices.subarray(k * r * r, (k + 1) * r * r), r, tmp, out);
    rot.set(out, k * r * r);
  }
  const res = { ...mb, rot };
  graded.set(problem, res);
  return res;
}

/**
 * The weighted form's pieces, classes and blocks depend on the term matrices and the
 * mean-energy classes alone, not on which detailed-balance model supplies f(x) (that enters
 * through the coefficients), so they are built once per compiled problem and every weighted
 * variant only runs its own numerical check.
 */
const weightedForms = new WeakMap<ReducedTerms, { problem: Problem; result: SymmetricFormResult }>();

/** Predicates of the checks below, module-level like the helpers above. */
const isNotRelaxation = (t: CompactTerm): boolean => t.coefficient.part !== 'dc' && t.coefficient.part !== 'thermal';
const isNormalised = (t: CompactTerm): boolean => t.coefficient.normalised === true;

/** Build the symmetric form of one variant, or say why the general route is needed. */
export function buildSymmetricForm(model: GeneratorModel, problem: Problem, cp: ReducedTerms, thermal: ThermalModel): SymmetricFormResult {
  const none = (why: string): SymmetricFormResult => ({ form: undefined, why });
  const es = model.eigen;
  if (model.path !== 'fixed-basis' || !es) return none('per-point generator');
  if (model.compact.some(isNotRelaxation)) return none('terms other than relaxation (dc, thermal) are present');
  const plain = thermal === 'semiclassical' || thermal === 'inhomogeneous';
  if (!plain && !isDetailedBalance(thermal)) return none(`the ${thermal} model does not satisfy detailed balance`);
  // t1t2 terms take rodin-abergel's factors whatever the model (normalised: e -> 1, o -> o/e),
  // which the weighted assembly (the model's own f(x)) does not know; on the general route the
  // two Lindblad models then also stay bit-identical for t1t2 relaxation, as documented
  if (!plain && model.compact.some(isNormalised)) return none('normalised (t1t2) thermal factors');
  let built: SymmetricFormResult;
  if (plain) built = formStructure(model, problem, cp, thermal);
  else {
    const hit = weightedForms.get(cp);
    if (hit && hit.problem === problem) built = hit.result;
    else {
      built = formStructure(model, problem, cp, thermal);
      weightedForms.set(cp, { problem, result: built });
    }
  }
  if (!built.form) return built;
  const why = plain
    ? `${thermal}: the double commutator is symmetric in the operator basis`
    : `${thermal}: detailed balance, symmetrized with Boltzmann weights in mean-energy coordinates`;
  const form: SymmetricForm = { ...built.form, reference: thermal === 'semiclassical' ? 'identity' : 'boltzmann', why };
  const check = verifyForm(form, model, cp, thermal);
  if (check) return none(check);
  return { form, why };
}

// Helpers of the form's construction and check, module-level (README, "Layout": no per-job closures in set-up loops).

/** The form's pieces under construction: G[elem] += coef[c] * val. */
interface Pieces {
  readonly coefs: number[];
  readonly elems: number[];
  readonly vals: number[];
}

function pushPiece(p: Pieces, c: number, e: number, x: number): void {
  p.coefs.push(c);
  p.elems.push(e);
  p.vals.push(x);
}

/** Indices of a matrix's non-zero entries, ascending. */
function nonZeroIndices(m: Float64Array): Int32Array {
  const out: number[] = [];
  for (let e = 0; e < m.length; e++) if ((m[e] as number) !== 0) out.push(e);
  return Int32Array.from(out);
}

/** x = beta w of frequency f at H0-part scales theta. */
function thermalArgument(model: GeneratorModel, theta: Float64Array, beta: number, f: number): number {
  const sg = (model.frequencies[f] as { signature: Float64Array }).signature;
  let w = 0;
  for (let m = 0; m < theta.length; m++) w += (theta[m] as number) * (sg[m] as number);
  return beta * w;
}

/** One random strength times spectral density per coefficient function (its dc and thermal parts share it). */
function randomStrength(sjOf: Map<string, number>, c: { strength: number; spectral: number; frequency: number }, rnd: () => number): number {
  const key = `${c.strength}|${c.spectral}|${c.frequency}`;
  let sj = sjOf.get(key);
  if (sj === undefined) {
    sj = 0.5 + rnd();
    sjOf.set(key, sj);
  }
  return sj;
}

/** Pieces, classes and blocks of the form (the route given by the model), before its numerical check. */
function formStructure(model: GeneratorModel, problem: Problem, cp: ReducedTerms, thermal: ThermalModel): SymmetricFormResult {
  const none = (why: string): SymmetricFormResult => ({ form: undefined, why });
  const es = model.eigen;
  if (!es) return none('per-point generator');
  const r = cp.r;
  const nTerms = cp.nTerms;
  const plain = thermal === 'semiclassical' || thermal === 'inhomogeneous';
  const termMax: number[] = [];
  for (let k = 0; k < nTerms; k++) termMax.push(maxAbsOf(cp.termMatrices.subarray(k * r * r, (k + 1) * r * r)));

  const coefs: number[] = [];
  const elems: number[] = [];
  const vals: number[] = [];
  const pieces: Pieces = { coefs, elems, vals };
  let v: Float64Array;
  let classOf = new Int32Array(r);
  let classA = new Int32Array(0);
  let classB = new Int32Array(0);
  const groupTerm: number[] = [];
  const groupFrequency: number[] = [];
  let nCoef: number;

  if (plain) {
    v = new Float64Array(r * r);
    for (let i = 0; i < r; i++) v[i * r + i] = 1;
    for (let k = 0; k < nTerms; k++) {
      const t = model.compact[k];
      if (!t || t.coefficient.part !== 'dc') continue; // odd parts vanish in these models
      const m = cp.termMatrices.subarray(k * r * r, (k + 1) * r * r);
      const big = termMax[k] as number;
      for (let i = 0; i < r; i++) {
        for (let j = 0; j < i; j++) {
          if (Math.abs((m[i * r + j] as number) - (m[j * r + i] as number)) > 1e-12 * big) return none(`term ${k} is not symmetric`);
        }
      }
      for (let i = 0; i < r; i++) {
        for (let j = 0; j <= i; j++) {
          const x = m[i * r + j] as number;
          if (Math.abs(x) > 1e-15 * big) pushPiece(pieces, k, i * r + j, x);
        }
      }
    }
    nCoef = nTerms;
  } else {
    const mb = gradedTerms(model, problem, cp);
    if (!mb) return none('the reachable subspace is not spanned by vectors of definite mean energy');
    v = mb.v;
    const sig = mb.sig;
    // classes of equal signature, with a level pair (a, b) of each: (e[a] + e[b]) / 2 = s
    const classSig: Float64Array[] = [];
    for (let j = 0; j < r; j++) {
      let c = classSig.findIndex((s) => sameSignature(s, sig[j] as Float64Array, es.scales));
      if (c < 0) {
        classSig.push(sig[j] as Float64Array);
        c = classSig.length - 1;
      }
      classOf[j] = c;
    }
    const nParts = es.parts.length;
    const d = es.dim;
    classA = new Int32Array(classSig.length);
    classB = new Int32Array(classSig.length);
    const mean = new Float64Array(nParts);
    for (let c = 0; c < classSig.length; c++) {
      let found = false;
      for (let a = 0; a < d && !found; a++) {
        for (let b = a; b < d && !found; b++) {
          for (let m = 0; m < nParts; m++) mean[m] = 0.5 * (((es.energies[m] as Float64Array)[a] as number) + ((es.energies[m] as Float64Array)[b] as number));
          if (sameSignature(mean, classSig[c] as Float64Array, es.scales)) {
            classA[c] = a;
            classB[c] = b;
            found = true;
          }
        }
      }
      if (!found) return none('a mean-energy class matches no pair of levels');
    }
    const rot = mb.rot;
    // terms paired into groups (dc, thermal) of one coefficient function
    const groups = new Map<string, { dc: number; th: number; f: number }>();
    for (let k = 0; k < model.compact.length; k++) {
      const c = (model.compact[k] as CompactTerm).coefficient;
      const key = `${c.strength}|${c.spectral}|${c.frequency}`;
      const g = groups.get(key) ?? { dc: -1, th: -1, f: c.frequency };
      if (c.part === 'dc') g.dc = k;
      else g.th = k;
      groups.set(key, g);
    }
    let gi = 0;
    for (const g of groups.values()) {
      const entry = model.frequencies[g.f];
      if (!entry) return none('frequency index out of range');
      const sigma = entry.signature;
      const dcM = g.dc >= 0 ? rot.subarray(g.dc * r * r, (g.dc + 1) * r * r) : undefined;
      const thM = g.th >= 0 ? rot.subarray(g.th * r * r, (g.th + 1) * r * r) : undefined;
      let big = 0;
      if (dcM) big = Math.max(big, maxAbsOf(dcM));
      if (thM) big = Math.max(big, maxAbsOf(thM));
      const tol = 1e-11 * big;
      const drop = 1e-15 * big;
      // relation of the classes of row i and column j: 0 same mean energy, 1 s_j = s_i + sigma
      // (the transition lowers it), 2 s_j = s_i - sigma, 3 anything else
      const nc = classSig.length;
      const rel = new Uint8Array(nc * nc);
      for (let ci = 0; ci < nc; ci++) {
        for (let cj = 0; cj < nc; cj++) {
          const si = classSig[ci] as Float64Array;
          const sj = classSig[cj] as Float64Array;
          rel[ci * nc + cj] = sameSignature(sj, si, es.scales) ? 0 : !entry.isZero && sameSignature(sj, si, es.scales, 1, sigma) ? 1 : !entry.isZero && sameSignature(sj, si, es.scales, -1, sigma) ? 2 : 3;
        }
      }
      for (let i = 0; i < r; i++) {
        const ci = classOf[i] as number;
        for (let j = 0; j < r; j++) {
          const e = i * r + j;
          const a = dcM ? (dcM[e] as number) : 0;
          const b = thM ? (thM[e] as number) : 0;
          // up part (coefficient f(x)) and down part (f(-x))
          const up = 0.5 * (a + b);
          const down = 0.5 * (a - b);
          if (Math.abs(up) <= drop && Math.abs(down) <= drop) continue;
          const lower = i >= j;
          const kind = rel[ci * nc + (classOf[j] as number)] as number;
          if (kind === 0) {
            if (lower && Math.abs(up) > drop) pushPiece(pieces, 3 * gi, e, up);
            if (lower && Math.abs(down) > drop) pushPiece(pieces, 3 * gi + 1, e, down);
          } else if (kind === 1) {
            // lowered by the transition: only the down part may act
            if (Math.abs(up) > tol) return none('an energy-lowering entry carries f(w): no detailed balance');
            if (lower && Math.abs(down) > drop) pushPiece(pieces, 3 * gi + 2, e, down);
          } else if (kind === 2) {
            if (Math.abs(down) > tol) return none('an energy-raising entry carries f(-w): no detailed balance');
            if (lower && Math.abs(up) > drop) pushPiece(pieces, 3 * gi + 2, e, up);
          } else return none('a term moves the mean energy by other than its frequency');
        }
      }
      groupTerm.push(g.dc >= 0 ? g.dc : g.th);
      groupFrequency.push(g.f);
      gi++;
    }
    nCoef = 3 * gi;
  }

  const { perm, blocks } = findBlocks(r, elems);
  // permute coordinates into blocks: new index of old coordinate i
  const where = new Int32Array(r);
  for (let k = 0; k < perm.length; k++) where[perm[k] as number] = k;
  const permuted = new Int32Array(elems.length);
  for (let z = 0; z < elems.length; z++) {
    const e = elems[z] as number;
    const i = where[Math.floor(e / r)] as number;
    const j = where[e % r] as number;
    permuted[z] = i >= j ? i * r + j : j * r + i;
  }
  const vp = new Float64Array(r * r);
  for (let i = 0; i < r; i++) for (let k = 0; k < r; k++) vp[i * r + k] = v[i * r + (perm[k] as number)] as number;
  if (!plain) classOf = Int32Array.from(perm, (old) => classOf[old] as number);

  const nObs = cp.nObs;
  const observables = new Float64Array(nObs * r);
  for (let o = 0; o < nObs; o++) vtx(vp, cp.observables.subarray(o * r, (o + 1) * r), r, observables, o * r);
  const projectors = new Float64Array(cp.nStates * r);
  for (let s = 0; s < cp.nStates; s++) vtx(vp, cp.projectors.subarray(s * r, (s + 1) * r), r, projectors, s * r);
  let initialFixed: Float64Array | undefined;
  if (cp.initialFixed) {
    initialFixed = new Float64Array(r);
    vtx(vp, cp.initialFixed, r, initialFixed);
  }
  const unit = new Float64Array(r);
  unit[0] = 1 / Math.sqrt(cp.dim);
  const identity = new Float64Array(r);
  vtx(vp, unit, r, identity);

  const form: SymmetricForm = {
    route: plain ? 'plain' : 'weighted',
    r,
    pieceCoef: Int32Array.from(coefs),
    pieceElem: permuted,
    pieceVal: Float64Array.from(vals),
    nCoef,
    groupTerm: Int32Array.from(groupTerm),
    groupFrequency: Int32Array.from(groupFrequency),
    classOf,
    classA,
    classB,
    observables,
    projectors,
    initialFixed,
    reference: thermal === 'semiclassical' ? 'identity' : 'boltzmann',
    identity,
    blocks,
    v: vp,
    why: plain
      ? `${thermal}: the double commutator is symmetric in the operator basis`
      : `${thermal}: detailed balance, symmetrized with Boltzmann weights in mean-energy coordinates`,
  };
  return { form, why: form.why };
}

/**
 * Numerical checks of a form against the compiled problem: Gs symmetric for random
 * coefficients, and (weighted route) W^-1 G W = Gs at random temperatures and fields, with G
 * assembled from the term matrices and the e(x), o(x) coefficients. Returns a reason or undefined.
 */
function verifyForm(form: SymmetricForm, model: GeneratorModel, cp: ReducedTerms, thermal: ThermalModel): string | undefined {
  const r = form.r;
  const rnd = mulberry32(7);
  const full = new Float64Array(r * r);
  const coef = new Float64Array(form.nCoef);
  const es = model.eigen;
  if (!es) return 'no eigenstructure';
  const termNz: Int32Array[] = [];
  for (let k = 0; k < cp.nTerms; k++) termNz.push(nonZeroIndices(cp.termMatrices.subarray(k * r * r, (k + 1) * r * r)));
  const vRows = rowNonZeros(form.v, r);
  for (let trial = 0; trial < 3; trial++) {
    // random inverse temperature and field scales: x = beta * w between ~ -3 and 3
    const nParts = es.parts.length;
    const theta = Float64Array.from({ length: nParts }, () => 0.5 + rnd());
    const beta = (0.2 + rnd()) / Math.max(1e-300, ...Array.from(es.scales, (s, m) => s * (theta[m] as number)));

    // reference G in reduced coordinates from the dc/thermal coefficients e(x), o(x)
    const g = new Float64Array(r * r);
    const cK = new Float64Array(cp.nTerms);
    const factors = new Float64Array(3);
    // one random sJ per group (dc and thermal parts of a coefficient function share it)
    const sjOf = new Map<string, number>();
    for (let k = 0; k < model.compact.length; k++) {
      const c = (model.compact[k] as CompactTerm).coefficient;
      balancedFactors(thermal, thermalArgument(model, theta, beta, c.frequency), factors);
      const e = 0.5 * ((factors[0] as number) + (factors[1] as number));
      const o = 0.5 * ((factors[0] as number) - (factors[1] as number));
      cK[k] = randomStrength(sjOf, c, rnd) * (c.part === 'dc' ? e : o);
    }
    if (form.route === 'weighted') {
      for (let gi = 0; gi < form.groupTerm.length; gi++) {
        const c = (model.compact[form.groupTerm[gi] as number] as { coefficient: { strength: number; spectral: number; frequency: number } }).coefficient;
        const sj = randomStrength(sjOf, c, rnd);
        balancedFactors(thermal, thermalArgument(model, theta, beta, form.groupFrequency[gi] as number), factors);
        coef[3 * gi] = sj * (factors[0] as number);
        coef[3 * gi + 1] = sj * (factors[1] as number);
        coef[3 * gi + 2] = sj * (factors[2] as number);
      }
    } else {
      for (let k = 0; k < cp.nTerms; k++) coef[k] = cK[k] as number;
    }
    // G from the terms' non-zeros (each element summed over k in order, as the dense sum)
    for (let k = 0; k < cp.nTerms; k++) {
      const c = cK[k] as number;
      if (c === 0) continue;
      const nz = termNz[k] as Int32Array;
      const m = cp.termMatrices.subarray(k * r * r, (k + 1) * r * r);
      for (let z = 0; z < nz.length; z++) {
        const e = nz[z] as number;
        g[e] = (g[e] as number) + c * (m[e] as number);
      }
    }
    // Gs from the pieces (lower triangle, mirrored)
    full.fill(0);
    for (let z = 0; z < form.pieceVal.length; z++) {
      const e = form.pieceElem[z] as number;
      full[e] = (full[e] as number) + (coef[form.pieceCoef[z] as number] as number) * (form.pieceVal[z] as number);
    }
    for (let i = 0; i < r; i++) for (let j = 0; j < i; j++) full[j * r + i] = full[i * r + j] as number;
    // G' = V^T G V in form coordinates, then W^-1 G' W
    const tmp = new Float64Array(r * r);
    const gf = new Float64Array(r * r);
    congruence(vRows, g, r, tmp, gf);
    const w = new Float64Array(r);
    for (let j = 0; j < r; j++) {
      if (form.route === 'plain') w[j] = 1;
      else {
        const c = form.classOf[j] as number;
        let ea = 0;
        let eb = 0;
        for (let m = 0; m < nParts; m++) {
          ea += (theta[m] as number) * ((es.energies[m] as Float64Array)[form.classA[c] as number] as number);
          eb += (theta[m] as number) * ((es.energies[m] as Float64Array)[form.classB[c] as number] as number);
        }
        w[j] = Math.exp(-0.25 * beta * (ea + eb));
      }
    }
    let big = 0;
    for (const y of full) big = Math.max(big, Math.abs(y));
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < r; j++) {
        const want = ((gf[i * r + j] as number) * (w[j] as number)) / (w[i] as number);
        if (!(Math.abs(want - (full[i * r + j] as number)) <= 1e-10 * big)) return `W^-1 G W differs from the symmetric form at (${i}, ${j})`;
      }
    }
  }
  return undefined;
}
