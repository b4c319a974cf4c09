import { CMatrix } from '../math/cmatrix.js';

/** Multiplicity 2S+1 of spin S, with S checked to be a non-negative half-integer. */
export function multiplicity(spin: number): number {
  const d = Math.round(2 * spin) + 1;
  if (!(spin > 0) || Math.abs(2 * spin + 1 - d) > 1e-12) throw new Error(`spin must be a positive half-integer, got ${spin}`);
  return d;
}

export type Component = 'x' | 'y' | 'z' | 'p' | 'm' | 'e';

/**
 * Single-spin operators in the |S, m> basis ordered m = S, S-1, ..., -S
 * (for spin 1/2: alpha first, as in QuTiP and the seed's Zeeman basis).
 */
export function singleSpinOperator(spin: number, c: Component): CMatrix {
  const d = multiplicity(spin);
  const m = (k: number): number => spin - k;
  const out = new CMatrix(d, d);
  switch (c) {
    case 'e':
      for (let k = 0; k < d; k++) out.re[k * d + k] = 1;
      return out;
    case 'z':
      for (let k = 0; k < d; k++) out.re[k * d + k] = m(k);
      return out;
    case 'p':
      // I+ |m> = sqrt(S(S+1) - m(m+1)) |m+1>; |m+1> has index k-1
      for (let k = 1; k < d; k++) out.re[(k - 1) * d + k] = Math.sqrt(spin * (spin + 1) - m(k) * (m(k) + 1));
      return out;
    case 'm':
      for (let k = 0; k < d - 1; k++) out.re[(k + 1) * d + k] = Math.sqrt(spin * (spin + 1) - m(k) * (m(k) - 1));
      return out;
    case 'x': {
      const p = singleSpinOperator(spin, 'p');
      const mm = singleSpinOperator(spin, 'm');
      for (let k = 0; k < d * d; k++) out.re[k] = 0.5 * ((p.re[k] as number) + (mm.re[k] as number));
      return out;
    }
    case 'y': {
      const p = singleSpinOperator(spin, 'p');
      const mm = singleSpinOperator(spin, 'm');
      // Iy = (I+ - I-) / (2i) = -i/2 (I+ - I-)
      for (let k = 0; k < d * d; k++) out.im[k] = -0.5 * ((p.re[k] as number) - (mm.re[k] as number));
      return out;
    }
  }
}
