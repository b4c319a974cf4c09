import type { ParamValues } from './scalar.js';
import { coherentAt, termsAt, type EvaluatedTerm, type GeneratorModel } from './generator-model.js';
import { boltzmannVector } from './states.js';
import type { ThermalModel } from './thermalization.js';

/**
 * The relaxation generator at one point as a dense real matrix (row-major size x size):
 * d rho/dt = G rho in the interaction frame of H0. For the inhomogeneous model the
 * source term -G_dc sigma_eq is carried by the identity column (rho's identity
 * coefficient is always 1/sqrt(d)), which keeps the equation linear and homogeneous.
 */
export function assembleGenerator(
  model: GeneratorModel,
  p: ParamValues,
  thermal: ThermalModel,
  terms: readonly EvaluatedTerm[] = termsAt(model, p, thermal),
  options: { readonly coherent?: boolean } = {},
): Float64Array {
  const n = model.basis.size;
  const g = new Float64Array(n * n);
  for (const t of terms) if (t.value !== 0) t.matrix.addScaledTo(g, t.value);
  // the source is -Gamma sigma_eq of the relaxation alone: coherent terms come after it
  if (thermal === 'inhomogeneous') addInhomogeneousSource(model, g, p);
  if (options.coherent ?? true) for (const c of coherentAt(model, p)) if (c.value !== 0) c.matrix.addScaledTo(g, c.value);
  return g;
}

export function addInhomogeneousSource(model: GeneratorModel, g: Float64Array, p: ParamValues): void {
  const n = model.basis.size;
  const e = model.basis.identityIndex;
  const sigmaEq = boltzmannVector(model, p);
  const sqrtD = Math.sqrt(model.system.dim);
  const col = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += (g[i * n + j] as number) * (sigmaEq[j] as number);
    col[i] = s;
  }
  for (let i = 0; i < n; i++) g[i * n + e] = (g[i * n + e] as number) - sqrtD * (col[i] as number);
}
