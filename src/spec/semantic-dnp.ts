import { shown } from './errors.js';
import type { Numeric, SpecV1 } from './schema.js';

/**
 * Semantic checks of the DNP terms (irradiation, hyperfine, dipolar_coupling, t1t2,
 * phonon-direct, powder axes), called from checkSpec with its helpers. Kept apart so that
 * semantic.ts only dispatches to them.
 */
export interface Range {
  readonly min?: number;
  readonly max?: number;
  readonly minOpen?: boolean;
  readonly maxOpen?: boolean;
  readonly what: string;
}

export interface CheckContext {
  readonly spec: SpecV1;
  err(path: ReadonlyArray<string | number>, message: string): void;
  warn(message: string): void;
  spinRef(path: ReadonlyArray<string | number>, id: string): number | undefined;
  numericUse(path: ReadonlyArray<string | number>, v: Numeric | undefined, range: Range): void;
  /** Values a numeric field takes: its constant, or every value of its parameter (fixed and along the axis). */
  valuesOf(v: Numeric): number[];
  /** Spin quantum number and gamma of spin index k. */
  spinQN(k: number): number;
  gamma(k: number): number;
}

const ANY: Range = { what: 'a finite number' };
const POSITIVE_M: Range = { min: 0, minOpen: true, what: '> 0 (m)' };
const ELECTRON_GAMMA = 1e10;

type HamTerm = NonNullable<SpecV1['hamiltonian']>[number];
type Relax = SpecV1['relaxation'][number];

/** Two distinct spins; returns their indices when both resolve. */
function pair(ctx: CheckContext, at: ReadonlyArray<string | number>, spins: readonly [string, string], what: string): [number, number] | undefined {
  const a = ctx.spinRef([...at, 'spins', 0], spins[0]);
  const b = ctx.spinRef([...at, 'spins', 1], spins[1]);
  if (a !== undefined && a === b) {
    ctx.err([...at, 'spins'], `${what} needs two different spins, got [${spins.join(', ')}]`);
    return undefined;
  }
  return a !== undefined && b !== undefined ? [a, b] : undefined;
}

export function checkCoherentTerms(ctx: CheckContext): void {
  const irradiatedSpecies = new Map<number, number>();
  (ctx.spec.hamiltonian ?? []).forEach((h: HamTerm, i) => {
    const at = ['hamiltonian', i];
    switch (h.type) {
      case 'irradiation': {
        const seen = new Set<string>();
        let gamma: number | undefined;
        h.spins.forEach((s, k) => {
          const idx = ctx.spinRef([...at, 'spins', k], s);
          if (seen.has(s)) ctx.err([...at, 'spins', k], `spin ${shown(s)} listed twice`);
          seen.add(s);
          if (idx === undefined) return;
          const g = ctx.gamma(idx);
          if (gamma === undefined) gamma = g;
          else if (g !== gamma) ctx.err([...at, 'spins', k], `all irradiated spins must share the species of ${shown(h.spins[0])} (gamma ${shown(gamma)}), ${shown(s)} has gamma ${shown(g)}`);
        });
        if (gamma !== undefined) {
          const first = irradiatedSpecies.get(gamma);
          if (first !== undefined) ctx.err([...at], `a second irradiation of the same species (also hamiltonian[${first}]): one rotating frame per species`);
          else irradiatedSpecies.set(gamma, i);
        }
        ctx.numericUse([...at, 'nutation_hz'], h.nutation_hz, ANY);
        ctx.numericUse([...at, 'offset_hz'], h.offset_hz, ANY);
        return;
      }
      case 'hyperfine': {
        const p = pair(ctx, at, h.spins, 'a hyperfine coupling');
        if (p) {
          if (!(Math.abs(ctx.gamma(p[0])) > ELECTRON_GAMMA)) ctx.err([...at, 'spins', 0], `the first spin of a hyperfine coupling is the electron: ${shown(h.spins[0])} has gamma ${shown(ctx.gamma(p[0]))}`);
          if (Math.abs(ctx.gamma(p[1])) > ELECTRON_GAMMA) ctx.err([...at, 'spins', 1], `the second spin of a hyperfine coupling is a nucleus: for two electrons use J or dipolar_coupling`);
        }
        const dipole = h.distance_m !== undefined;
        if (dipole && (h.a_hz !== undefined || h.b_hz !== undefined)) ctx.err(at, 'give either a_hz/b_hz or the point-dipole model (distance_m, theta_deg, fermi_hz), not both');
        if (!dipole && (h.theta_deg !== undefined || h.fermi_hz !== undefined)) ctx.err(at, 'theta_deg and fermi_hz belong to the point-dipole model: give distance_m too');
        if (!dipole && h.a_hz === undefined && h.b_hz === undefined) ctx.err(at, 'give a_hz and/or b_hz (Hz), or distance_m (m) with theta_deg and fermi_hz');
        ctx.numericUse([...at, 'a_hz'], h.a_hz, ANY);
        ctx.numericUse([...at, 'b_hz'], h.b_hz, ANY);
        ctx.numericUse([...at, 'distance_m'], h.distance_m, POSITIVE_M);
        ctx.numericUse([...at, 'theta_deg'], h.theta_deg, ANY);
        ctx.numericUse([...at, 'fermi_hz'], h.fermi_hz, ANY);
        return;
      }
      case 'dipolar_coupling':
        pair(ctx, at, h.spins, 'a dipolar coupling');
        ctx.numericUse([...at, 'd_hz'], h.d_hz, ANY);
        return;
      default:
        return;
    }
  });
}

/** t1t2: spins 1/2, T1 > 0, 0 < T2 <= 2 T1 (for every combination the sweep produces). */
export function checkT1T2(ctx: CheckContext, m: Extract<Relax, { type: 't1t2' }>, at: ReadonlyArray<string | number>): void {
  const seen = new Set<string>();
  m.spins.forEach((s, k) => {
    const idx = ctx.spinRef([...at, 'spins', k], s);
    if (seen.has(s)) ctx.err([...at, 'spins', k], `spin ${shown(s)} listed twice`);
    seen.add(s);
    if (idx !== undefined && ctx.spinQN(idx) !== 0.5) ctx.err([...at, 'spins', k], `t1t2 needs spins 1/2 (single T1 and T2), ${shown(s)} has spin ${ctx.spinQN(idx)}`);
  });
  ctx.numericUse([...at, 't1_s'], m.t1_s, { min: 0, minOpen: true, what: '> 0 (s)' });
  ctx.numericUse([...at, 't2_s'], m.t2_s, { min: 0, minOpen: true, what: '> 0 (s)' });
  const t1 = ctx.valuesOf(m.t1_s);
  const t2 = ctx.valuesOf(m.t2_s);
  const sweep = ctx.spec.sweep ?? {};
  const g1 = typeof m.t1_s === 'string' ? sweep[m.t1_s]?.group : undefined;
  const g2 = typeof m.t2_s === 'string' ? sweep[m.t2_s]?.group : undefined;
  const zipped = g1 !== undefined && g1 === g2 && t1.length === t2.length;
  let bad: [number, number] | undefined;
  if (zipped) {
    t1.forEach((a, k) => {
      const b = t2[k] as number;
      if (!bad && b > 2 * a) bad = [a, b];
    });
  } else if (t1.length > 0 && t2.length > 0) {
    const a = Math.min(...t1);
    const b = Math.max(...t2);
    if (b > 2 * a) bad = [a, b];
  }
  if (bad) ctx.err([...at, 't2_s'], `T2 must not exceed 2 T1 (the extra dephasing 2/T2 - 1/T1 would be negative): T2 = ${shown(bad[1])} s with T1 = ${shown(bad[0])} s`);
}

/** phonon-direct needs exponent >= 1 (J diverges at w = 0 otherwise) and nu_ref_hz > 0. */
export function checkSpectralDensity(ctx: CheckContext, m: Relax, at: ReadonlyArray<string | number>): void {
  if (m.type === 't1t2') return;
  const sd = m.spectral_density;
  if (!sd) return;
  const where = [...at, 'spectral_density'];
  if (sd.model === 'phonon-direct') {
    if (sd.exponent === undefined) ctx.err([...where, 'exponent'], 'phonon-direct needs exponent (the field power n of J, >= 1)');
    if (sd.nu_ref_hz === undefined) ctx.err([...where, 'nu_ref_hz'], 'phonon-direct needs nu_ref_hz (the reference frequency of J, Hz)');
    ctx.numericUse([...where, 'exponent'], sd.exponent, { min: 1, what: '>= 1 (J(w) ~ |w|^n coth(hbar w / 2kT) diverges at w = 0 for n < 1)' });
    ctx.numericUse([...where, 'nu_ref_hz'], sd.nu_ref_hz, { min: 0, minOpen: true, what: '> 0 (Hz)' });
    if (sd.S2 !== undefined || sd.tau_e !== undefined) ctx.err(where, 'S2 and tau_e belong to model: lipari-szabo');
  } else if (sd.exponent !== undefined || sd.nu_ref_hz !== undefined) {
    ctx.err(where, 'exponent and nu_ref_hz belong to model: phonon-direct');
  }
}

/** Powder axes: not zipped, at most one. */
export function checkPowderAxes(ctx: CheckContext): void {
  const powder = Object.entries(ctx.spec.sweep ?? {}).filter(([, a]) => 'powder' in a);
  powder.forEach(([name, a], k) => {
    if (a.group !== undefined) ctx.err(['sweep', name, 'group'], 'a powder axis is averaged over and cannot be zipped with other axes');
    if (k > 0) ctx.err(['sweep', name], `only one powder axis is supported (also sweep.${powder[0]?.[0]})`);
    if ('powder' in a && a.powder < 2) ctx.err(['sweep', name, 'powder'], `expected at least 2 orientations, got ${shown(a.powder)}`);
  });
}
