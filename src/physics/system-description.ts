import type { Spin } from '../spin/spin-system.js';
import type { Scalar } from './scalar.js';
import type { SpectralDensity } from './spectral-density.js';

/**
 * The physical content of a spec, resolved to spin indices but with numeric fields
 * kept as constants or parameter references. B0 (T) and T (K) are reserved names.
 */
export interface SystemDescription {
  readonly spins: readonly Spin[];
  readonly couplings: readonly JCoupling[];
  readonly shifts: readonly ChemicalShift[];
  readonly mechanisms: readonly Mechanism[];
  /**
   * The values each parameter takes (its fixed value and its sweep axis): where chemical
   * shifts depend on parameters, this decides whether two Zeeman groups can have equal
   * Larmor frequencies on the grid (then the generator is built per point). Absent: only
   * the check at each evaluated point applies.
   */
  readonly parameterDomain?: ReadonlyMap<string, readonly number[]>;
}

export interface JCoupling {
  readonly a: number;
  readonly b: number;
  /** J in Hz. */
  readonly hz: Scalar;
}

export interface ChemicalShift {
  readonly spin: number;
  readonly ppm: Scalar;
}

export type DipolarStrength = { readonly kind: 'b_hz'; readonly value: Scalar } | { readonly kind: 'distance_m'; readonly value: Scalar };

export type Mechanism =
  | {
      readonly type: 'dipolar';
      readonly label: string;
      readonly spins: readonly [number, number];
      readonly strength: DipolarStrength;
      readonly spectral: SpectralDensity;
    }
  | {
      readonly type: 'csa';
      readonly label: string;
      readonly spin: number;
      readonly deltaPpm: Scalar;
      readonly eta: Scalar;
      readonly spectral: SpectralDensity;
    }
  | {
      readonly type: 'random_field';
      readonly label: string;
      readonly spins: readonly number[];
      readonly rmsHz: Scalar;
      readonly kappa: Scalar;
      readonly spectral: SpectralDensity;
    };

export const B0 = 'B0';
export const TEMPERATURE = 'T';
