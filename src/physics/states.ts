import { CMatrix } from '../math/cmatrix.js';
import { betaOf } from './constants.js';
import { energiesAt, numericEigenstructure } from './eigenstructure.js';
import type { GeneratorModel } from './generator-model.js';
import { h0At } from './hamiltonian.js';
import type { ParamValues } from './scalar.js';
import { TEMPERATURE } from './system-description.js';

/**
 * Boltzmann populations exp(-s beta E_i)/Z (s = +1 thermal, -1 inverted), shifted by the
 * extreme energy so that nothing overflows at millikelvin temperatures.
 */
export function boltzmannPopulations(energies: ArrayLike<number>, beta: number, s: 1 | -1 = 1): Float64Array {
  const n = energies.length;
  let ref = s > 0 ? Infinity : -Infinity;
  for (let i = 0; i < n; i++) ref = s > 0 ? Math.min(ref, energies[i] as number) : Math.max(ref, energies[i] as number);
  const p = new Float64Array(n);
  let z = 0;
  for (let i = 0; i < n; i++) {
    p[i] = Math.exp(-s * beta * ((energies[i] as number) - ref));
    z += p[i] as number;
  }
  for (let i = 0; i < n; i++) p[i] = (p[i] as number) / z;
  return p;
}

/** Real-basis vector of exp(-s beta H0)/Z at a parameter point. */
export function boltzmannVector(model: GeneratorModel, p: ParamValues, s: 1 | -1 = 1): Float64Array {
  const beta = betaOf(p[TEMPERATURE] as number);
  const size = model.basis.size;
  if (model.eigen) {
    const pops = boltzmannPopulations(energiesAt(model.eigen, p), beta, s);
    const out = new Float64Array(size);
    model.projectors.forEach((proj, i) => {
      const w = pops[i] as number;
      for (let a = 0; a < size; a++) out[a] = (out[a] as number) + w * (proj[a] as number);
    });
    return out;
  }
  const es = numericEigenstructure(h0At(model.h0Parts, model.system.dim, p));
  const pops = boltzmannPopulations(es.energies[0] as Float64Array, beta, s);
  const d = model.system.dim;
  const v = es.vectors;
  const rho = new CMatrix(d, d);
  for (let k = 0; k < d; k++) {
    const w = pops[k] as number;
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        const vir = v.re[i * d + k] as number;
        const vii = v.im[i * d + k] as number;
        const vjr = v.re[j * d + k] as number;
        const vji = v.im[j * d + k] as number;
        rho.re[i * d + j] = (rho.re[i * d + j] as number) + w * (vir * vjr + vii * vji);
        rho.im[i * d + j] = (rho.im[i * d + j] as number) + w * (vii * vjr - vir * vji);
      }
    }
  }
  return model.basis.vector(rho, 'thermal state');
}

/** E/d */
export function maximallyMixedVector(model: GeneratorModel): Float64Array {
  const v = new Float64Array(model.basis.size);
  v[model.basis.identityIndex] = 1 / Math.sqrt(model.system.dim);
  return v;
}

/** Normalised density-matrix vector of a positive operator X (X / Tr X). */
export function densityVector(model: GeneratorModel, x: CMatrix, what: string): Float64Array {
  const v = model.basis.vector(x, what);
  const tr = (v[model.basis.identityIndex] as number) * Math.sqrt(model.system.dim);
  if (!(Math.abs(tr) > 1e-300)) throw new Error(`${what} has zero trace`);
  return v.map((c) => c / tr);
}
