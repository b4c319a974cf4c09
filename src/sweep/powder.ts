/**
 * Powder averaging: orientations of the field in the molecular frame as quadrature nodes of
 * the polar angle. N Gauss-Legendre nodes x_i = cos(theta_i) on [-1, 1] with weights w_i / 2
 * (summing to 1): the average (1/2) integral_0^pi f(theta) sin(theta) dtheta is exact for f
 * polynomial in cos(theta) up to degree 2N - 1 (the secular hyperfine A and B^2 are of degree
 * 2 and 4; steady states are smooth in them). Nodes are returned by increasing theta.
 */
export interface PowderNodes {
  readonly degrees: Float64Array;
  readonly weights: Float64Array;
}

const cache = new Map<number, PowderNodes>();

export function powderNodes(n: number): PowderNodes {
  const hit = cache.get(n);
  if (hit) return hit;
  const x = new Float64Array(n);
  const w = new Float64Array(n);
  // Newton on P_n from the Chebyshev guess (Golub-Welsch accuracy for these n)
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    let z = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let dp = 0;
    for (let it = 0; it < 100; it++) {
      let p0 = 1;
      let p1 = z;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      const pn = n === 1 ? z : p1;
      const pm = n === 1 ? 1 : p0;
      dp = (n * (z * pn - pm)) / (z * z - 1);
      const dz = pn / dp;
      z -= dz;
      if (Math.abs(dz) < 1e-16) break;
    }
    const weight = 2 / ((1 - z * z) * dp * dp);
    x[i] = z;
    x[n - 1 - i] = -z;
    w[i] = weight;
    w[n - 1 - i] = weight;
  }
  if (n % 2 === 1) x[(n - 1) / 2] = 0;
  // x descending -> theta ascending
  const degrees = Float64Array.from(x, (c) => (Math.acos(Math.max(-1, Math.min(1, c))) * 180) / Math.PI);
  let sum = 0;
  for (const v of w) sum += v;
  const weights = Float64Array.from(w, (v) => v / sum);
  const out = { degrees, weights };
  cache.set(n, out);
  return out;
}
