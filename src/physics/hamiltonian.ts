import { CMatrix, add, commutator, maxAbs, mul, axpy } from '../math/cmatrix.js';
import type { SpinSystem } from '../spin/spin-system.js';
import { type Scalar, derived, param, type Derived, type ParamValues } from './scalar.js';
import { B0, type SystemDescription } from './system-description.js';
import { TWO_PI } from './constants.js';

/** H0(p) = sum_m theta_m(p) H_m, in rad/s, with fixed Hermitian H_m. */
export interface H0Part {
  readonly label: string;
  readonly matrix: CMatrix;
  readonly theta: Derived;
}

/** I_a . I_b */
export function scalarProduct(system: SpinSystem, a: number, b: number): CMatrix {
  let out = mul(system.op(a, 'x'), system.op(b, 'x'));
  out = add(out, mul(system.op(a, 'y'), system.op(b, 'y')));
  return add(out, mul(system.op(a, 'z'), system.op(b, 'z')));
}

/**
 * The parts of H0: Zeeman terms (chemical shifts scale them: theta = B0 (1 + 1e-6 delta)),
 * one per group of spins with equal gamma and equal shifts, so that like spins share one
 * Zeeman part and commute with their isotropic J coupling; and one term per J coupling.
 * J between spins of equal gamma is kept in full (strong coupling is then possible);
 * between unlike spins it is truncated to 2 pi J Iz Iz (weak coupling), the standard
 * secular form.
 */
export function h0Parts(system: SpinSystem, desc: SystemDescription): H0Part[] {
  const parts: H0Part[] = [];
  const groups = new Map<string, { spins: number[]; shifts: Scalar[] }>();
  system.spins.forEach((s, i) => {
    const shifts = desc.shifts.filter((x) => x.spin === i).map((x) => x.ppm);
    const key = JSON.stringify([s.gamma, shifts]);
    const g = groups.get(key);
    if (g) g.spins.push(i);
    else groups.set(key, { spins: [i], shifts });
  });
  for (const { spins, shifts } of groups.values()) {
    const theta =
      shifts.length === 0
        ? derived([param(B0)], (b) => b)
        : derived([param(B0), ...shifts], (b, ...ppm) => b * (1 + 1e-6 * ppm.reduce((x, y) => x + y, 0)));
    const m = new CMatrix(system.dim, system.dim);
    for (const i of spins) axpy(m, -system.spin(i).gamma, system.op(i, 'z'));
    parts.push({ label: `Zeeman(${spins.map((i) => system.spin(i).id).join(',')})`, matrix: m, theta });
  }
  // Couplings with constant J are summed into one part: only the parameter-dependent
  // parts must commute for the eigenbasis to be parameter independent (a weak 1H-13C
  // coupling does not commute with a 1H-1H I.I term, but their fixed sum is one operator).
  const fixed = new CMatrix(system.dim, system.dim);
  const fixedLabels: string[] = [];
  desc.couplings.forEach((c) => {
    const sa = system.spin(c.a);
    const sb = system.spin(c.b);
    const like = sa.gamma === sb.gamma;
    const m = like ? scalarProduct(system, c.a, c.b) : mul(system.op(c.a, 'z'), system.op(c.b, 'z'));
    const label = `J(${sa.id},${sb.id})${like ? '' : ' weak'}`;
    if (c.hz.kind === 'const') {
      axpy(fixed, TWO_PI * c.hz.value, m);
      fixedLabels.push(label);
    } else {
      parts.push({ label, matrix: m, theta: derived([c.hz], (hz) => TWO_PI * hz) });
    }
  });
  if (fixedLabels.length > 0) parts.push({ label: fixedLabels.join('+'), matrix: fixed, theta: derived([], () => 1) });
  return parts;
}

export function h0At(parts: readonly H0Part[], dim: number, p: ParamValues): CMatrix {
  const h = new CMatrix(dim, dim);
  for (const part of parts) axpy(h, part.theta.at(p), part.matrix);
  return h;
}

/** True when all H0 parts commute, i.e. H0's eigenbasis does not depend on the parameters. */
export function partsCommute(parts: readonly H0Part[]): { commute: boolean; culprit?: string } {
  for (let i = 0; i < parts.length; i++) {
    for (let j = i + 1; j < parts.length; j++) {
      const a = parts[i] as H0Part;
      const b = parts[j] as H0Part;
      const c = maxAbs(commutator(a.matrix, b.matrix));
      if (c > 1e-12 * Math.max(1e-300, maxAbs(a.matrix) * maxAbs(b.matrix))) {
        return { commute: false, culprit: `${a.label} and ${b.label} do not commute` };
      }
    }
  }
  return { commute: true };
}

