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
  /** Cross-correlated pairs of mechanisms; absent or empty: every mechanism is an independent bath. */
  readonly crossCorrelations?: readonly CrossCorrelation[];
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

/**
 * The dipolar constant b = (mu0/4pi) gamma1 gamma2 hbar / r^3: from the distance, or its size
 * |b| / 2 pi in Hz (its sign is always that of gamma1 gamma2, whatever the sign written).
 */
export type DipolarStrength = { readonly kind: 'b_hz'; readonly value: Scalar } | { readonly kind: 'distance_m'; readonly value: Scalar };

/**
 * Anisotropy of an axial shielding tensor sigma (ppm): the reduced anisotropy
 * delta = sigma_zz - sigma_iso, or Delta-sigma = sigma_par - sigma_perp = (3/2) delta.
 */
export type CsaAnisotropy = { readonly kind: 'delta_ppm'; readonly value: Scalar } | { readonly kind: 'delta_sigma_ppm'; readonly value: Scalar };

/**
 * Cross-correlation of two rank-2 mechanisms sharing a spectral density: their spatial parts
 * correlate with the factor p2 = P2(cos theta) (theta between the unique axes), or p2 given
 * directly (the normalised tensor overlap, for non-axial tensors).
 */
export interface CrossCorrelation {
  /** Indices into SystemDescription.mechanisms. */
  readonly between: readonly [number, number];
  readonly label: string;
  readonly orientation: { readonly kind: 'angle_deg' | 'p2'; readonly value: Scalar };
}

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
      readonly anisotropy: CsaAnisotropy;
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
    }
  | {
      readonly type: 'quadrupolar';
      readonly label: string;
      readonly spin: number;
      /** Quadrupolar coupling constant Cq = e^2 q Q / h (Hz). */
      readonly cqHz: Scalar;
      readonly eta: Scalar;
      readonly spectral: SpectralDensity;
    };

export const B0 = 'B0';
export const TEMPERATURE = 'T';
