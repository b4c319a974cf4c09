/**
 * Isotope table. Gyromagnetic ratios in rad s^-1 T^-1.
 * 1H, electron: CODATA 2018 gamma_p and gamma_e (gamma_e = -g mu_B / hbar, g = 2.00231930436).
 * 2H: CODATA 2018 deuteron moment 0.8574382338 mu_N with I = 1.
 * 13C, 15N, 19F, 31P and the quadrupolar 7Li, 14N, 17O, 23Na: IUPAC recommendations (Harris et al.,
 * Pure Appl. Chem. 73, 1795 (2001), Table 1).
 */
export interface Isotope {
  readonly symbol: string;
  /** Spin quantum number (1/2, 1, 3/2, ...). */
  readonly spin: number;
  readonly gamma: number;
  readonly description: string;
}

export const ELECTRON_G = 2.00231930436;

export const ISOTOPES: Readonly<Record<string, Isotope>> = Object.freeze({
  '1H': { symbol: '1H', spin: 0.5, gamma: 2.6752218744e8, description: 'proton' },
  '2H': { symbol: '2H', spin: 1, gamma: 4.106628894e7, description: 'deuteron' },
  '13C': { symbol: '13C', spin: 0.5, gamma: 6.728284e7, description: 'carbon-13' },
  '15N': { symbol: '15N', spin: 0.5, gamma: -2.71261804e7, description: 'nitrogen-15' },
  '19F': { symbol: '19F', spin: 0.5, gamma: 2.518148e8, description: 'fluorine-19' },
  '31P': { symbol: '31P', spin: 0.5, gamma: 1.08394e8, description: 'phosphorus-31' },
  '7Li': { symbol: '7Li', spin: 1.5, gamma: 1.03977013e8, description: 'lithium-7' },
  '14N': { symbol: '14N', spin: 1, gamma: 1.9337792e7, description: 'nitrogen-14' },
  '17O': { symbol: '17O', spin: 2.5, gamma: -3.62808e7, description: 'oxygen-17' },
  '23Na': { symbol: '23Na', spin: 1.5, gamma: 7.0808493e7, description: 'sodium-23' },
  e: { symbol: 'e', spin: 0.5, gamma: -1.76085963023e11, description: `free electron, g = ${ELECTRON_G}` },
});

export const ISOTOPE_SYMBOLS = Object.freeze(Object.keys(ISOTOPES));

export function lookupIsotope(symbol: string): Isotope | undefined {
  return Object.prototype.hasOwnProperty.call(ISOTOPES, symbol) ? ISOTOPES[symbol] : undefined;
}
