/**
 * Thermal factors f(w) of the relaxation models and their even/odd split
 * (docs/physics-conventions.md). With x = beta * w:
 *   f(w) B rho - rho B f(-w) = e(x) [B, rho] + o(x) {B, rho},
 * e is the double-commutator ("dc") weight, o the "thermal" weight. They are kept
 * separate all the way to the tensors: forming f(w) - f(-w) in float32 loses the
 * thermal term at ordinary temperatures.
 */
export const THERMAL_MODELS = ['semiclassical', 'inhomogeneous', 'high-temperature', 'bengs-levitt', 'rodin-abergel'] as const;
export type ThermalModel = (typeof THERMAL_MODELS)[number];

export function isThermalModel(s: string): s is ThermalModel {
  return (THERMAL_MODELS as readonly string[]).includes(s);
}

/** Even part e(x) of the thermal factor. */
export function evenPart(model: ThermalModel, x: number): number {
  return model === 'bengs-levitt' ? Math.cosh(0.5 * x) : 1;
}

/** Odd part o(x) of the thermal factor. */
export function oddPart(model: ThermalModel, x: number): number {
  switch (model) {
    case 'rodin-abergel':
      return -Math.tanh(0.5 * x);
    case 'bengs-levitt':
      return -Math.sinh(0.5 * x);
    case 'high-temperature':
      return -0.5 * x;
    case 'semiclassical':
    case 'inhomogeneous':
      return 0;
  }
}

/** The full factor f = e + o (for display and tests). */
export function thermalFactor(model: ThermalModel, x: number): number {
  return evenPart(model, x) + oddPart(model, x);
}

/** True when the model has a non-zero odd part (needs the 'thermal' basis matrices). */
export function hasThermalPart(model: ThermalModel): boolean {
  return model === 'rodin-abergel' || model === 'bengs-levitt' || model === 'high-temperature';
}

/** True when the even part depends on temperature. */
export function evenDependsOnTemperature(model: ThermalModel): boolean {
  return model === 'bengs-levitt';
}

export const THERMAL_MODEL_DESCRIPTIONS: Readonly<Record<ThermalModel, string>> = {
  semiclassical: 'double commutator only: infinite lattice temperature, relaxes to E/d',
  inhomogeneous: 'double commutator acting on sigma - sigma_eq (Abragam)',
  'high-temperature': 'first order in beta*w (seed Eq. 63)',
  'bengs-levitt': 'Lindblad, theta(w) = exp(-beta w / 2)',
  'rodin-abergel': 'thermalized double commutator, f(w) = 2/(1 + exp(beta w)) (seed Eqs. 61-62)',
};

/**
 * True when the secular generator of the model satisfies detailed balance,
 * f(w) / f(-w) = exp(-beta w): it is then self-adjoint in the Boltzmann-weighted inner
 * product and can be symmetrized (engine/symmetric-form.ts).
 */
export function isDetailedBalance(model: ThermalModel): boolean {
  return model === 'rodin-abergel' || model === 'bengs-levitt';
}

/**
 * f(x), f(-x) and g(x) = sqrt(f(x) f(-x)) evaluated without cancellation (for the detailed-
 * balance models the symmetrized generator is assembled from these instead of e +- o, whose
 * difference loses ~e(x) eps at low temperature: 1e-8 relative at beta w = 19).
 * out receives [f(x), f(-x), g(x)] at offset.
 */
export function balancedFactors(model: ThermalModel, x: number, out: Float64Array, offset = 0): void {
  if (model === 'rodin-abergel') {
    out[offset] = 2 / (1 + Math.exp(x));
    out[offset + 1] = 2 / (1 + Math.exp(-x));
    out[offset + 2] = 1 / Math.cosh(0.5 * x);
  } else if (model === 'bengs-levitt') {
    out[offset] = Math.exp(-0.5 * x);
    out[offset + 1] = Math.exp(0.5 * x);
    out[offset + 2] = 1;
  } else {
    const f = evenPart(model, x) + oddPart(model, x);
    const fm = evenPart(model, -x) + oddPart(model, -x);
    out[offset] = f;
    out[offset + 1] = fm;
    out[offset + 2] = Math.sqrt(Math.max(0, f * fm));
  }
}
