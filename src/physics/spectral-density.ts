import { type Scalar, scalarDeps, type ParamValues, evalScalar, type PointBatch, evalScalarBatch, at } from './scalar.js';
import { phononDirect, phononDirectDeps, phononDirectBatch } from './phonon-direct.js';

/**
 * Classical (even) spectral densities in the seed's normalisation (Eq. 69):
 * J(w) = 2 tau / (1 + w^2 tau^2), i.e. twice the one-sided Fourier transform.
 */
export type SpectralDensity =
  | { readonly model: 'lorentzian'; readonly tau: Scalar }
  | { readonly model: 'lipari-szabo'; readonly tau: Scalar; readonly S2: Scalar; readonly tauE: Scalar }
  /** J = 1: white noise, the strength carries the rate (phenomenological t1t2 relaxation). */
  | { readonly model: 'white' }
  /** Direct one-phonon process: J = 2 tau (|w| / 2 pi nu_ref)^n coth(hbar |w| / 2 k T), T-dependent. */
  | { readonly model: 'phonon-direct'; readonly tau: Scalar; readonly exponent: Scalar; readonly nuRefHz: Scalar };

export function lorentzian(w: number, tau: number): number {
  return (2 * tau) / (1 + w * w * tau * tau);
}

/** Model-free: J = S2 L(w, tau_c) + (1 - S2) L(w, tau'), 1/tau' = 1/tau_c + 1/tau_e. */
export function lipariSzabo(w: number, tau: number, s2: number, tauE: number): number {
  const tp = tauE > 0 ? (tau * tauE) / (tau + tauE) : 0;
  return s2 * lorentzian(w, tau) + (1 - s2) * lorentzian(w, tp);
}

export function spectralDeps(sd: SpectralDensity): string[] {
  if (sd.model === 'white') return [];
  if (sd.model === 'phonon-direct') return phononDirectDeps(sd);
  return sd.model === 'lorentzian' ? scalarDeps(sd.tau) : [...scalarDeps(sd.tau), ...scalarDeps(sd.S2), ...scalarDeps(sd.tauE)];
}

export function spectralAt(sd: SpectralDensity, w: number, p: ParamValues): number {
  if (sd.model === 'white') return 1;
  if (sd.model === 'phonon-direct') return phononDirect(sd, w, p);
  const tau = evalScalar(sd.tau, p);
  return sd.model === 'lorentzian' ? lorentzian(w, tau) : lipariSzabo(w, tau, evalScalar(sd.S2, p), evalScalar(sd.tauE, p));
}

/** J(w_i) for every point of a batch; w is a column or a shared number. */
export function spectralBatch(sd: SpectralDensity, w: Float64Array | number, batch: PointBatch, out: Float64Array): Float64Array {
  if (sd.model === 'white') return out.fill(1, 0, batch.size);
  if (sd.model === 'phonon-direct') return phononDirectBatch(sd, w, batch, out);
  const tau = evalScalarBatch(sd.tau, batch);
  if (sd.model === 'lorentzian') {
    for (let i = 0; i < batch.size; i++) out[i] = lorentzian(at(w, i), at(tau, i));
  } else {
    const s2 = evalScalarBatch(sd.S2, batch);
    const te = evalScalarBatch(sd.tauE, batch);
    for (let i = 0; i < batch.size; i++) out[i] = lipariSzabo(at(w, i), at(tau, i), at(s2, i), at(te, i));
  }
  return out;
}

export function describeSpectral(sd: SpectralDensity): string {
  const s = (x: Scalar): string => (x.kind === 'const' ? String(x.value) : x.name);
  if (sd.model === 'white') return 'white';
  if (sd.model === 'phonon-direct') return `phonon-direct(tau=${s(sd.tau)}, n=${s(sd.exponent)}, nu_ref=${s(sd.nuRefHz)} Hz)`;
  return sd.model === 'lorentzian' ? `lorentzian(tau=${s(sd.tau)})` : `lipari-szabo(tau=${s(sd.tau)}, S2=${s(sd.S2)}, tau_e=${s(sd.tauE)})`;
}
