/**
 * An orthogonal change of the reduced coordinates, done once in float64, that makes the
 * observables (their traceless parts, Gram-Schmidt orthonormalised) coordinates 1, 2, ...
 * while the identity stays coordinate 0.
 *
 * Why: the reduced (Krylov) basis is chosen for reachability, not for float32. An
 * observable spread over several coordinates is read as a sum o . rho whose terms can be
 * far larger than the result, and the generator entries that feed it cancel the same way:
 * for the pair relaxing to a 300 K equilibrium from a singlet under the inhomogeneous
 * model (r = 5), <Mz> ~ 9e-5 is fed by three entries of 1e-3 that cancel to 1e-19, so
 * float32 rounding of those entries (6e-11 each) gave errors of 3e-5 of max|<Mz>|. In the
 * aligned basis the cancellation happens once, in float64, inside R Mr_k R^T, and the
 * float32 sums see only the small entries themselves (error then 5e-7).
 *
 * R is orthogonal with R e0 = e0, so the identity coordinate, row 0 = 0 (trace
 * preservation), the inhomogeneous source column and the rates are unchanged:
 * G' = R G R^T, rho' = R rho, o' = R o (o . rho = o' . rho').
 */
import type { CompiledProblem } from '../compiled-problem.js';

export interface AlignedBasis {
  /** Row-major r x r orthogonal matrix: x' = R x. */
  readonly rotation: Float64Array;
  /** R Mr_k R^T, packed [nTerms][r][r]. */
  readonly termMatrices: Float64Array;
  /** R o for each observable, [nObs][r]. */
  readonly observables: Float64Array;
  /** Fixed initial state in the new coordinates, when the problem has one. */
  readonly initialFixed: Float64Array | undefined;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/** Removes the components along `basis` (twice: classical Gram-Schmidt with reorthogonalisation). */
function orthogonalise(v: Float64Array, basis: readonly Float64Array[]): void {
  for (let pass = 0; pass < 2; pass++) {
    for (const b of basis) {
      const c = dot(v, b);
      for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) - c * (b[i] as number);
    }
  }
}

export function alignedBasis(cp: CompiledProblem): AlignedBasis {
  const { r, nObs, nTerms } = cp;
  const basis: Float64Array[] = [];
  const e0 = new Float64Array(r);
  e0[0] = 1;
  basis.push(e0);
  const add = (v: Float64Array, scale: number): void => {
    orthogonalise(v, basis);
    const n = Math.sqrt(dot(v, v));
    if (n > 1e-10 * scale && basis.length < r) basis.push(v.map((x) => x / n));
  };
  for (let o = 0; o < nObs; o++) {
    const v = cp.observables.slice(o * r, (o + 1) * r);
    const scale = Math.sqrt(dot(v, v));
    if (scale > 0) add(v, scale);
  }
  // complete with the unit vectors that are least represented so far
  while (basis.length < r) {
    let best: Float64Array | undefined;
    let bestNorm = -1;
    for (let j = 1; j < r; j++) {
      const v = new Float64Array(r);
      v[j] = 1;
      orthogonalise(v, basis);
      const n = Math.sqrt(dot(v, v));
      if (n > bestNorm) {
        bestNorm = n;
        best = v;
      }
    }
    if (!best || bestNorm < 1e-8) throw new Error('alignedBasis: could not complete an orthonormal basis');
    basis.push(best.map((x) => x / bestNorm));
  }
  const rot = new Float64Array(r * r);
  basis.forEach((b, i) => rot.set(b, i * r));

  const apply = (v: Float64Array, out: Float64Array, off: number): void => {
    for (let i = 0; i < r; i++) {
      let s = 0;
      for (let j = 0; j < r; j++) s += (rot[i * r + j] as number) * (v[off + j] as number);
      out[off + i] = s;
    }
  };
  const observables = new Float64Array(nObs * r);
  for (let o = 0; o < nObs; o++) apply(cp.observables, observables, o * r);
  let initialFixed: Float64Array | undefined;
  if (cp.initialFixed) {
    initialFixed = new Float64Array(r);
    apply(cp.initialFixed, initialFixed, 0);
  }
  // R M R^T per term
  const termMatrices = new Float64Array(nTerms * r * r);
  const tmp = new Float64Array(r * r);
  for (let k = 0; k < nTerms; k++) {
    const m = k * r * r;
    // tmp = M R^T
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < r; j++) {
        let s = 0;
        for (let l = 0; l < r; l++) s += (cp.termMatrices[m + i * r + l] as number) * (rot[j * r + l] as number);
        tmp[i * r + j] = s;
      }
    }
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < r; j++) {
        let s = 0;
        for (let l = 0; l < r; l++) s += (rot[i * r + l] as number) * (tmp[l * r + j] as number);
        termMatrices[m + i * r + j] = s;
      }
    }
    // the identity row is exactly zero in Mr_k; keep it exactly zero (trace preservation in float32)
    for (let j = 0; j < r; j++) termMatrices[m + j] = 0;
  }
  return { rotation: rot, termMatrices, observables, initialFixed };
}

/** out[p] = R v[p] for `count` row-major vectors of length r (float64 in, any float array out). */
export function rotateRows(rot: Float64Array, r: number, v: Float64Array, count: number, out: Float64Array | Float32Array): void {
  for (let p = 0; p < count; p++) {
    const off = p * r;
    for (let i = 0; i < r; i++) {
      let s = 0;
      for (let j = 0; j < r; j++) s += (rot[i * r + j] as number) * (v[off + j] as number);
      out[off + i] = s;
    }
  }
}
