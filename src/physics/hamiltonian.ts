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
 * Like spins with equal shifts share one Zeeman part. Shifts are compared by value: a
 * spin's total shift is a constant (the sum of its constant entries) plus a sum of
 * parameters, and two spins of equal gamma are grouped when the constants agree to
 * SAME_SHIFT_PPM and the parameters are the same (with multiplicity). `{ppm: 0}`, `1 + 1`
 * against `2`, or the same parameter on both spins then give one part.
 */
export const SAME_SHIFT_PPM = 1e-9;

export interface ZeemanGroup {
  readonly spins: readonly number[];
  /** Spin ids, for messages. */
  readonly ids: readonly string[];
  readonly gamma: number;
  /** Sum of the constant shift entries (ppm). */
  readonly constPpm: number;
  /** Parameter shift entries: name -> how many times it is added. */
  readonly params: ReadonlyMap<string, number>;
  /** The shift entries of the group's first spin (they define its part's theta). */
  readonly shifts: readonly Scalar[];
}

function sameParams(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, n] of a) if (b.get(k) !== n) return false;
  return true;
}

export function zeemanGroups(system: SpinSystem, desc: SystemDescription): ZeemanGroup[] {
  const groups: Array<{ spins: number[]; ids: string[]; gamma: number; constPpm: number; params: Map<string, number>; shifts: Scalar[] }> = [];
  system.spins.forEach((s, i) => {
    const shifts = desc.shifts.filter((x) => x.spin === i).map((x) => x.ppm);
    let constPpm = 0;
    const params = new Map<string, number>();
    for (const x of shifts) {
      if (x.kind === 'const') constPpm += x.value;
      else params.set(x.name, (params.get(x.name) ?? 0) + 1);
    }
    const g = groups.find((x) => x.gamma === s.gamma && Math.abs(x.constPpm - constPpm) <= SAME_SHIFT_PPM && sameParams(x.params, params));
    if (g) {
      g.spins.push(i);
      g.ids.push(s.id);
    } else groups.push({ spins: [i], ids: [s.id], gamma: s.gamma, constPpm, params, shifts });
  });
  return groups;
}

/** gamma (1 + 1e-6 shift(p)): the Larmor frequency of a group per tesla. */
export function larmorFactor(g: ZeemanGroup, p: ParamValues): number {
  let ppm = g.constPpm;
  for (const [name, n] of g.params) {
    const v = p[name];
    if (v === undefined) throw new Error(`parameter '${name}' has no value`);
    ppm += n * v;
  }
  return g.gamma * (1 + 1e-6 * ppm);
}

/** Larmor frequencies equal to 1e-15 (1e-9 ppm): the levels of the two groups are degenerate. */
function coincide(x: number, y: number): boolean {
  return Math.abs(x - y) <= 1e-15 * Math.max(Math.abs(x), Math.abs(y));
}

const MAX_SHIFT_COMBINATIONS = 1_000_000;

/**
 * Where the Zeeman parts of two groups can have equal Larmor frequencies. The fixed-basis
 * path keeps the parts apart (a zero-quantum coherence between them has a non-zero
 * signature), which is wrong exactly where their frequencies coincide: there the secular
 * approximation couples that coherence to the populations. Constant groups of equal
 * gamma were merged above; this looks at every other pair over the values the parameters
 * take (`domain`: fixed value and sweep axis of each). Returns why the per-point path is
 * needed, or undefined when no two groups coincide anywhere on the grid.
 */
export function zeemanCoincidence(groups: readonly ZeemanGroup[], domain: ReadonlyMap<string, readonly number[]>): string | undefined {
  const ids = (g: ZeemanGroup): string => g.ids.join(',');
  for (let i = 0; i < groups.length; i++) {
    for (let j = i + 1; j < groups.length; j++) {
      const a = groups[i] as ZeemanGroup;
      const b = groups[j] as ZeemanGroup;
      const names = [...new Set([...a.params.keys(), ...b.params.keys()])];
      const lists = names.map((n) => domain.get(n));
      const what = `the Larmor frequencies of spins [${ids(a)}] and [${ids(b)}]`;
      if (lists.some((l) => l === undefined || l.length === 0)) return `${what} depend on parameters without known values`;
      const total = lists.reduce((n, l) => n * (l as readonly number[]).length, 1);
      if (total > MAX_SHIFT_COMBINATIONS) return `${what} depend on ${total} parameter combinations (too many to rule out a coincidence)`;
      const p: Record<string, number> = Object.create(null) as Record<string, number>;
      const idx = names.map(() => 0);
      for (let k = 0; k < total; k++) {
        names.forEach((n, m) => (p[n] = (lists[m] as readonly number[])[idx[m] as number] as number));
        if (coincide(larmorFactor(a, p), larmorFactor(b, p))) {
          return `${what} coincide${names.length > 0 ? ` at ${names.map((n) => `${n}=${p[n]}`).join(' ')}` : ''}`;
        }
        for (let m = 0; m < idx.length; m++) {
          idx[m] = (idx[m] as number) + 1;
          if ((idx[m] as number) < (lists[m] as readonly number[]).length) break;
          idx[m] = 0;
        }
      }
    }
  }
  return undefined;
}

/** The first pair of groups whose Larmor frequencies coincide at p (the fixed basis is wrong there). */
export function coincidentGroupsAt(groups: readonly ZeemanGroup[], p: ParamValues): [ZeemanGroup, ZeemanGroup] | undefined {
  const f = groups.map((g) => larmorFactor(g, p));
  for (let i = 0; i < groups.length; i++) {
    for (let j = i + 1; j < groups.length; j++) if (coincide(f[i] as number, f[j] as number)) return [groups[i] as ZeemanGroup, groups[j] as ZeemanGroup];
  }
  return undefined;
}

/**
 * The parts of H0: Zeeman terms (chemical shifts scale them: theta = B0 (1 + 1e-6 delta)),
 * one per group of spins with equal gamma and equal shifts (zeemanGroups), so that like
 * spins share one Zeeman part and commute with their isotropic J coupling; and one term
 * per J coupling. J between spins of equal gamma is kept in full (strong coupling is then
 * possible); between unlike spins it is truncated to 2 pi J Iz Iz (weak coupling), the
 * standard secular form.
 */
export function h0Parts(system: SpinSystem, desc: SystemDescription, groups: readonly ZeemanGroup[] = zeemanGroups(system, desc)): H0Part[] {
  const parts: H0Part[] = [];
  for (const { spins, shifts } of groups) {
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

