/**
 * How a float32 kernel walks a time grid: one reused step on a uniform grid that starts at
 * 0 (the float64 kernel's test), otherwise one exponential per distinct interval.
 */
export type TimePlan =
  | { readonly kind: 'uniform'; readonly dt: number }
  | {
      readonly kind: 'steps';
      /** Distinct interval lengths (from t = 0 to the first time, then between times). */
      readonly steps: readonly number[];
      /** Index into steps of the interval ending at each time, -1 for a repeated time. */
      readonly stepOf: Int32Array;
    };

export function timePlan(times: Float64Array): TimePlan {
  const n = times.length;
  if (n >= 2 && times[0] === 0) {
    const dt = (times[1] as number) - (times[0] as number);
    let uniform = true;
    for (let k = 2; k < n && uniform; k++) if (Math.abs((times[k] as number) - (times[k - 1] as number) - dt) > 1e-12 * Math.abs(dt) * k) uniform = false;
    if (uniform) return { kind: 'uniform', dt };
  }
  const steps: number[] = [];
  const stepOf = new Int32Array(n);
  let prev = 0;
  for (let k = 0; k < n; k++) {
    const d = (times[k] as number) - prev;
    prev = times[k] as number;
    if (d === 0) {
      stepOf[k] = -1;
      continue;
    }
    let u = steps.findIndex((s) => Math.abs(s - d) <= 1e-12 * Math.abs(d));
    if (u < 0) {
      steps.push(d);
      u = steps.length - 1;
    }
    stepOf[k] = u;
  }
  return { kind: 'steps', steps, stepOf };
}

/**
 * Time blocking for the uniform grid: <O>((q m + j) dt) = L_q . S_j with m = 2^ceil(log2
 * sqrt(nT)) states S_j = P^j rho0 (by doubling) and nq = ceil(nT / m) left vectors
 * L_q = o^T P^(q m). Rounding then accumulates over log2(m) doublings and nq steps instead
 * of nT steps.
 */
export function blocking(nT: number): { m: number; nq: number } {
  const m = 2 ** Math.ceil(Math.log2(Math.max(1, Math.ceil(Math.sqrt(nT)))));
  return { m, nq: Math.max(1, Math.ceil(nT / m)) };
}
