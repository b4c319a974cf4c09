/**
 * Trajectory kernel specialised to the reduced dimension r and the number of observables:
 * <O_o>(t_k) = o_o . P^k rho0 for a uniform grid, with P's entries and the state held in
 * local variables of generated code (unrolled matrix-vector products). For the reduced
 * systems relaxmap propagates (r = 4 for a pair from a singlet) this is several times faster
 * than indexed loops, and it is the inner loop of every sweep.
 *
 * Row 0 of P is the identity coordinate, constant for a trace-preserving generator, so the
 * code never updates rho_0 (exact, and it saves r of the r^2 products).
 */
export type TrajectoryKernel = (p: Float64Array, rho0: Float64Array, obs: Float64Array, nT: number, out: Float64Array, base: number) => boolean;

/** Largest r for which code is generated; larger systems use the indexed loop. */
export const MAX_UNROLLED_R = 12;

const cache = new Map<string, TrajectoryKernel>();

/**
 * `blockDiagonal`: P = diag(1, P') as for deviations from the steady state (column 0 of the
 * lower rows is zero), so those products are left out.
 */
export function trajectoryKernel(r: number, nObs: number, blockDiagonal = false): TrajectoryKernel {
  const key = `${r}:${nObs}:${blockDiagonal}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const k = r <= MAX_UNROLLED_R ? generate(r, nObs, blockDiagonal) : loopKernel(r, nObs);
  cache.set(key, k);
  return k;
}

function generate(r: number, nObs: number, blockDiagonal: boolean): TrajectoryKernel {
  const lines: string[] = [];
  const j0 = blockDiagonal ? 1 : 0;
  // P rows 1..r-1
  for (let i = 1; i < r; i++) for (let j = j0; j < r; j++) lines.push(`const p${i}_${j} = p[${i * r + j}];`);
  for (let o = 0; o < nObs; o++) for (let j = 0; j < r; j++) lines.push(`const o${o}_${j} = obs[${o * r + j}];`);
  for (let j = 0; j < r; j++) lines.push(`let s${j} = rho0[${j}];`);
  lines.push('for (let k = 0; k < nT; k++) {');
  for (let o = 0; o < nObs; o++) {
    const terms = Array.from({ length: r }, (_, j) => `o${o}_${j} * s${j}`).join(' + ');
    lines.push(`  out[base + ${o} * nT + k] = ${terms};`);
  }
  for (let i = 1; i < r; i++) {
    const terms = Array.from({ length: r - j0 }, (_, j) => `p${i}_${j + j0} * s${j + j0}`).join(' + ');
    lines.push(`  const n${i} = ${terms};`);
  }
  for (let i = 1; i < r; i++) lines.push(`  s${i} = n${i};`);
  lines.push('}');
  const finite = Array.from({ length: r }, (_, j) => `s${j}`).join(' + ');
  lines.push(`return Number.isFinite(${finite});`);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('p', 'rho0', 'obs', 'nT', 'out', 'base', lines.join('\n')) as TrajectoryKernel;
}

function loopKernel(r: number, nObs: number): TrajectoryKernel {
  const s = new Float64Array(r);
  const n = new Float64Array(r);
  return (p, rho0, obs, nT, out, base) => {
    s.set(rho0.subarray(0, r));
    for (let k = 0; k < nT; k++) {
      for (let o = 0; o < nObs; o++) {
        let v = 0;
        for (let j = 0; j < r; j++) v += (obs[o * r + j] as number) * (s[j] as number);
        out[base + o * nT + k] = v;
      }
      n[0] = s[0] as number;
      for (let i = 1; i < r; i++) {
        let v = 0;
        for (let j = 0; j < r; j++) v += (p[i * r + j] as number) * (s[j] as number);
        n[i] = v;
      }
      s.set(n);
    }
    let sum = 0;
    for (let j = 0; j < r; j++) sum += s[j] as number;
    return Number.isFinite(sum);
  };
}
