/** CODATA 2018 exact / recommended values, SI units. */
export const HBAR = 1.054571817e-34; // J s
export const KB = 1.380649e-23; // J / K
export const MU0_OVER_4PI = 1e-7; // T m / A (CODATA 2018: 1.00000000055e-7; the 5.5e-10 difference is below every tolerance used)
export const TWO_PI = 2 * Math.PI;

/** beta = hbar / (kB T), in seconds: the thermal factor argument is beta * omega. */
export function betaOf(temperatureK: number): number {
  return HBAR / (KB * temperatureK);
}
