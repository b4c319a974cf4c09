import { CMatrix, adjoint, maxAbs, mul } from '../math/cmatrix.js';
import { ascendingOrder } from '../math/ascending-order.js';
import { hermitianEigen } from '../math/hermitian-eig.js';
import { modulus } from '../math/modulus.js';
import type { H0Part } from './hamiltonian.js';
import type { ParamValues } from './scalar.js';

/**
 * Joint eigenbasis of commuting H0 parts. Each eigenstate i has an energy table
 * e[m][i] = <i|H_m|i>, so E_i(p) = sum_m theta_m(p) e[m][i] and every transition
 * frequency is a fixed "signature" vector sigma (one entry per part) dotted with theta(p).
 */
export interface EigenStructure {
  readonly parts: readonly H0Part[];
  readonly dim: number;
  /** Unitary; column i is eigenstate i. */
  readonly vectors: CMatrix;
  /** energies[m][i] */
  readonly energies: readonly Float64Array[];
  /** Per-part scale used for signature tolerances. */
  readonly scales: Float64Array;
}

function isDiagonal(m: CMatrix, tol: number): boolean {
  const n = m.rows;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i !== j && modulus(m.re[i * n + j] as number, m.im[i * n + j] as number) > tol) return false;
    }
  }
  return true;
}

/** Columns `cols` of v as a d x k matrix. */
function columns(v: CMatrix, cols: readonly number[]): CMatrix {
  const d = v.rows;
  const out = new CMatrix(d, cols.length);
  for (let k = 0; k < cols.length; k++) {
    const c = cols[k] as number;
    for (let i = 0; i < d; i++) {
      out.re[i * cols.length + k] = v.re[i * d + c] as number;
      out.im[i * cols.length + k] = v.im[i * d + c] as number;
    }
  }
  return out;
}

/**
 * Joint eigenbasis of commuting H0 parts by successive refinement: diagonalise part 1
 * inside each degenerate eigenspace of the parts before it, and so on. Each step is a
 * Jacobi diagonalisation of a small block, so eigenvectors are accurate to round-off even
 * when levels of a generic combination would be nearly degenerate (a single generic
 * combination loses ~1e-10 there, which shows up as a 1e-11 violation of Boltzmann
 * stationarity). Diagonal parts go first and keep the product basis exactly.
 * Returns undefined when the parts do not commute (per-point path needed).
 */
export function jointEigenbasis(parts: readonly H0Part[], dim: number): EigenStructure | undefined {
  const scales = Float64Array.from(parts.map((p) => Math.max(maxAbs(p.matrix), 1e-300)));
  const order = parts.map((_, m) => m).sort((a, b) => Number(!isDiagonal((parts[a] as H0Part).matrix, 0)) - Number(!isDiagonal((parts[b] as H0Part).matrix, 0)));
  const v = CMatrix.identity(dim);
  let clusters: number[][] = [Array.from({ length: dim }, (_, i) => i)];
  for (const m of order) {
    const h = (parts[m] as H0Part).matrix;
    const tol = 1e-10 * (scales[m] as number);
    const next: number[][] = [];
    for (const c of clusters) {
      const vc = columns(v, c);
      const block = mul(adjoint(vc), mul(h, vc));
      let values: Float64Array;
      if (isDiagonal(block, 1e-15 * (scales[m] as number))) {
        values = new Float64Array(c.length);
        for (let k = 0; k < c.length; k++) values[k] = block.re[k * c.length + k] as number;
      } else {
        const eig = hermitianEigen(block);
        values = eig.values;
        const rotated = mul(vc, eig.vectors);
        for (let k = 0; k < c.length; k++) {
          const col = c[k] as number;
          for (let i = 0; i < dim; i++) {
            v.re[i * dim + col] = rotated.re[i * c.length + k] as number;
            v.im[i * dim + col] = rotated.im[i * c.length + k] as number;
          }
        }
      }
      // split the cluster where this part's eigenvalues differ
      const idx = ascendingOrder(values, c.length);
      let group: number[] = [];
      let last = NaN;
      for (const k of idx) {
        const x = values[k] as number;
        if (group.length > 0 && Math.abs(x - last) > tol) {
          next.push(group);
          group = [];
        }
        group.push(c[k] as number);
        last = x;
      }
      if (group.length > 0) next.push(group);
    }
    clusters = next;
  }
  const vDag = adjoint(v);
  const energies: Float64Array[] = [];
  for (const [m, p] of parts.entries()) {
    const d = mul(vDag, mul(p.matrix, v));
    if (!isDiagonal(d, 1e-10 * (scales[m] as number))) return undefined;
    const e = new Float64Array(dim);
    for (let i = 0; i < dim; i++) e[i] = d.re[i * dim + i] as number;
    energies.push(e);
  }
  return { parts, dim, vectors: v, energies, scales };
}

/**
 * A structure for one numeric Hamiltonian (the per-point path): a single part with theta = 1.
 * H0 is split into the connected blocks of its sparsity pattern (couplings conserve the
 * Zeeman quantum numbers, so blocks are small) and each block is diagonalised after
 * removing its mean diagonal: level splittings of a few Hz on top of GHz Larmor
 * frequencies are then resolved to round-off instead of to eps * |H0| / gap.
 */
export function numericEigenstructure(h: CMatrix): EigenStructure {
  const n = h.rows;
  const scale = Math.max(maxAbs(h), 1e-300);
  const parent = Array.from({ length: n }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i] as number] as number;
    return i;
  };
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (modulus(h.re[i * n + j] as number, h.im[i * n + j] as number) > 1e-15 * scale) parent[find(i)] = find(j);
    }
  }
  const blocks = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const r = find(i);
    const b = blocks.get(r);
    if (b) b.push(i);
    else blocks.set(r, [i]);
  }
  const vectors = new CMatrix(n, n);
  const values = new Float64Array(n);
  for (const idx of blocks.values()) {
    const k = idx.length;
    let mean = 0;
    for (const i of idx) mean += (h.re[i * n + i] as number) / k;
    const sub = new CMatrix(k, k);
    idx.forEach((i, a) =>
      idx.forEach((j, b) => {
        sub.re[a * k + b] = (h.re[i * n + j] as number) - (a === b ? mean : 0);
        sub.im[a * k + b] = h.im[i * n + j] as number;
      }),
    );
    const eig = hermitianEigen(sub);
    idx.forEach((col, b) => {
      values[col] = mean + (eig.values[b] as number);
      idx.forEach((row, a) => {
        vectors.re[row * n + col] = eig.vectors.re[a * k + b] as number;
        vectors.im[row * n + col] = eig.vectors.im[a * k + b] as number;
      });
    });
  }
  return {
    parts: [{ label: 'H0', matrix: h, theta: { deps: [], at: () => 1, batch: () => 1 } }],
    dim: n,
    vectors,
    energies: [values],
    scales: Float64Array.of(scale),
  };
}

export function energiesAt(es: EigenStructure, p: ParamValues): Float64Array {
  const e = new Float64Array(es.dim);
  es.parts.forEach((part, m) => {
    const th = part.theta.at(p);
    const em = es.energies[m] as Float64Array;
    for (let i = 0; i < es.dim; i++) e[i] = (e[i] as number) + th * (em[i] as number);
  });
  return e;
}

export function signaturesEqual(es: EigenStructure, a: ArrayLike<number>, b: ArrayLike<number>, rel = 1e-9): boolean {
  for (let m = 0; m < a.length; m++) {
    if (Math.abs((a[m] as number) - (b[m] as number)) > rel * (es.scales[m] as number)) return false;
  }
  return true;
}

export function isZeroSignature(es: EigenStructure, s: ArrayLike<number>, rel = 1e-9): boolean {
  for (let m = 0; m < s.length; m++) if (Math.abs(s[m] as number) > rel * (es.scales[m] as number)) return false;
  return true;
}

export interface EigenComponent {
  /** Signature: the component raises the energy by w = sum_m theta_m sigma_m ([H0, T] = w T). */
  readonly signature: Float64Array;
  readonly operator: CMatrix;
}

/** Whether v is exactly the identity (diagonal H0 parts keep the product basis exactly). */
const identityBasis = new WeakMap<CMatrix, boolean>();

function isIdentity(v: CMatrix): boolean {
  let hit = identityBasis.get(v);
  if (hit === undefined) {
    const n = v.rows;
    hit = true;
    for (let i = 0; i < n && hit; i++) {
      for (let j = 0; j < n; j++) {
        if ((v.re[i * n + j] as number) !== (i === j ? 1 : 0) || (v.im[i * n + j] as number) !== 0) {
          hit = false;
          break;
        }
      }
    }
    identityBasis.set(v, hit);
  }
  return hit;
}

/**
 * Split A into eigenoperator components: A = sum_sigma A_sigma with [H0, A_sigma] = w_sigma A_sigma,
 * grouping the matrix elements <i|A|j> of the eigenbasis by transition signature.
 */
export function decompose(es: EigenStructure, a: CMatrix, dropRel = 1e-13): EigenComponent[] {
  const n = es.dim;
  const v = es.vectors;
  // in the product basis (every H0 part diagonal: Zeeman terms, secular J) the two changes of
  // basis are multiplications by an exact identity, which change no bit: skip them (they were
  // a tenth of a sweep's set-up for an electron and three 1H)
  const plain = isIdentity(v);
  const at = plain ? a : mul(adjoint(v), mul(a, v));
  const big = Math.max(maxAbs(at), 1e-300);
  const groups: { signature: Float64Array; mask: CMatrix }[] = [];
  // the signature of each element in one scratch array, copied only for a new group
  const nParts = es.energies.length;
  const sig = new Float64Array(nParts);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const re = at.re[i * n + j] as number;
      const im = at.im[i * n + j] as number;
      if (modulus(re, im) <= dropRel * big) continue;
      // sigma_ij = e[.][i] - e[.][j]: the signature of |i><j|
      for (let m = 0; m < nParts; m++) {
        const em = es.energies[m] as Float64Array;
        sig[m] = (em[i] as number) - (em[j] as number);
      }
      let g: { signature: Float64Array; mask: CMatrix } | undefined;
      for (const x of groups) {
        if (signaturesEqual(es, x.signature, sig)) {
          g = x;
          break;
        }
      }
      if (!g) {
        g = { signature: sig.slice(), mask: new CMatrix(n, n) };
        groups.push(g);
      }
      g.mask.re[i * n + j] = re;
      g.mask.im[i * n + j] = im;
    }
  }
  if (plain) return groups.map((g) => ({ signature: g.signature, operator: g.mask }));
  const vDag = adjoint(v);
  return groups.map((g) => ({ signature: g.signature, operator: mul(v, mul(g.mask, vDag)) }));
}
