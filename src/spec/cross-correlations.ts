import { lookupIsotope } from '../spin/isotopes.js';
import { shown } from './errors.js';
import { mechanismLabels } from './labels.js';
import type { Numeric, RelaxationSpec, SpecV1 } from './schema.js';

type Path = ReadonlyArray<string | number>;

interface Range {
  readonly min?: number;
  readonly max?: number;
  readonly what: string;
}

/** What the cross-correlation checks need from checkSpec: error reporting and range checks of numeric fields. */
export interface CrossCheckContext {
  readonly err: (path: Path, message: string) => void;
  readonly warn: (message: string) => void;
  readonly numericUse: (path: Path, v: Numeric | undefined, range: Range) => void;
}

const RANK2 = new Set(['dipolar', 'csa', 'quadrupolar']);

/** eta of a mechanism as far as the spec fixes it: 0 (axial), a number, or undefined (a parameter). */
function etaOf(m: RelaxationSpec): number | undefined {
  if (m.type === 'dipolar') return 0;
  if (m.type !== 'csa' && m.type !== 'quadrupolar') return undefined;
  if (m.eta === undefined) return 0;
  return typeof m.eta === 'number' ? m.eta : undefined;
}

const sameNumeric = (a: Numeric | undefined, b: Numeric | undefined): boolean => a === b;

/** Same spectral density: same model, the same numbers or the same parameters. */
function sameSpectral(a: RelaxationSpec, b: RelaxationSpec): boolean {
  const sa = a.spectral_density;
  const sb = b.spectral_density;
  if ((sa?.model ?? 'lorentzian') !== (sb?.model ?? 'lorentzian')) return false;
  return sameNumeric(a.tau_c, b.tau_c) && sameNumeric(sa?.S2, sb?.S2) && sameNumeric(sa?.tau_e, sb?.tau_e);
}

function describeSpectral(m: RelaxationSpec): string {
  const sd = m.spectral_density;
  const base = `${sd?.model ?? 'lorentzian'}, tau_c ${shown(m.tau_c)}`;
  return sd && sd.model === 'lipari-szabo' ? `${base}, S2 ${shown(sd.S2)}, tau_e ${shown(sd.tau_e)}` : base;
}

/** True when the symmetric matrix (row-major n x n) is positive semidefinite to round-off (Cholesky with a small shift). */
function positiveSemidefinite(a: Float64Array, n: number): boolean {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = (a[j * n + j] as number) + 1e-12;
    for (let k = 0; k < j; k++) d -= (l[j * n + k] as number) ** 2;
    if (!(d > 0)) return false;
    const ljj = Math.sqrt(d);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j] as number;
      for (let k = 0; k < j; k++) s -= (l[i * n + k] as number) * (l[j * n + k] as number);
      l[i * n + j] = s / ljj;
    }
  }
  return true;
}

function gammaOf(spec: SpecV1, id: string): number | undefined {
  const s = spec.spins.find((x) => x.id === id);
  if (!s) return undefined;
  return s.isotope !== undefined ? lookupIsotope(s.isotope)?.gamma : s.gamma;
}

/**
 * cross_correlations: each entry names two rank-2 mechanisms (dipolar, csa, quadrupolar) by
 * label that share one spectral density, with angle_deg (axial tensors) or p2. The matrix
 * of orientation factors (diagonal 1 + eta^2/3) must be positive semidefinite, or the
 * correlations are not realisable by any geometry and the generator would not be a
 * relaxation (checked where every entry is a number).
 */
export function checkCrossCorrelations(spec: SpecV1, ctx: CrossCheckContext): void {
  const list = spec.cross_correlations ?? [];
  if (list.length === 0) return;
  const labels = mechanismLabels(spec.relaxation);
  const byLabel = new Map<string, number>();
  labels.forEach((l, k) => byLabel.set(l, k));
  const seenPairs = new Map<string, number>();
  const constant: Array<{ a: number; b: number; p2: number }> = [];
  let allConstant = true;
  list.forEach((c, k) => {
    const at = ['cross_correlations', k];
    const idx: number[] = [];
    c.between.forEach((label, side) => {
      const m = byLabel.get(label);
      if (m === undefined) {
        ctx.err([...at, 'between', side], `unknown mechanism label ${shown(label)} (labels: ${labels.join(', ')})`);
        return;
      }
      const mech = spec.relaxation[m] as RelaxationSpec;
      if (!RANK2.has(mech.type)) {
        ctx.err(
          [...at, 'between', side],
          `${shown(label)} is a ${mech.type} mechanism: only rank-2 mechanisms (dipolar, csa, quadrupolar) cross-correlate under isotropic tumbling (correlate random fields with kappa)`,
        );
        return;
      }
      idx.push(m);
    });
    if ((c.angle_deg === undefined) === (c.p2 === undefined)) {
      ctx.err(at, `give exactly one of angle_deg (between the unique axes) or p2, got ${c.angle_deg === undefined ? 'neither' : 'both'}`);
    }
    if (idx.length !== 2) return;
    const [a, b] = idx as [number, number];
    if (a === b) {
      ctx.err([...at, 'between'], `a mechanism cannot cross-correlate with itself (${shown(c.between[0])})`);
      return;
    }
    const key = a < b ? `${a}|${b}` : `${b}|${a}`;
    const first = seenPairs.get(key);
    if (first !== undefined) ctx.err([...at, 'between'], `this pair is already cross-correlated at cross_correlations[${first}]`);
    else seenPairs.set(key, k);
    const ma = spec.relaxation[a] as RelaxationSpec;
    const mb = spec.relaxation[b] as RelaxationSpec;
    if (!sameSpectral(ma, mb)) {
      ctx.err(
        [...at, 'between'],
        `${shown(c.between[0])} (${describeSpectral(ma)}) and ${shown(c.between[1])} (${describeSpectral(mb)}) have different spectral densities: cross-correlated mechanisms need one (the same model, and the same numbers or parameters)`,
      );
    }
    const ea = etaOf(ma);
    const eb = etaOf(mb);
    const axial = ea === 0 && eb === 0;
    if (c.angle_deg !== undefined) {
      if (!axial) {
        const which = ea !== 0 ? c.between[0] : c.between[1];
        ctx.err([...at, 'angle_deg'], `the angle defines p2 = P2(cos theta) between axial tensors; ${shown(which)} has eta ${shown(ea ?? 'a parameter')}: give p2 (the normalised tensor overlap, docs/physics.md) instead`);
      }
      ctx.numericUse([...at, 'angle_deg'], c.angle_deg, { what: 'a finite angle (degrees)' });
      if (typeof c.angle_deg === 'number') {
        const cs = Math.cos((c.angle_deg * Math.PI) / 180);
        constant.push({ a, b, p2: 1.5 * cs * cs - 0.5 });
      } else allConstant = false;
    }
    if (c.p2 !== undefined) {
      const bound = ea !== undefined && eb !== undefined ? Math.sqrt((1 + (ea * ea) / 3) * (1 + (eb * eb) / 3)) : 4 / 3;
      ctx.numericUse([...at, 'p2'], c.p2, axial ? { min: -0.5, max: 1, what: 'in [-0.5, 1] (P2 of an angle between axial tensors)' } : { min: -bound, max: bound, what: `in [-${+bound.toPrecision(6)}, ${+bound.toPrecision(6)}]` });
      if (typeof c.p2 === 'number' && Math.abs(c.p2) <= bound && (!axial || (c.p2 >= -0.5 && c.p2 <= 1))) constant.push({ a, b, p2: c.p2 });
      else allConstant = false;
    }
    for (const [side, m] of [ma, mb].entries()) {
      if (m.type !== 'dipolar' || typeof m.b_hz !== 'number' || m.b_hz === 0) continue;
      const g = (gammaOf(spec, m.spins[0]) ?? 0) * (gammaOf(spec, m.spins[1]) ?? 0);
      if (Math.sign(g) !== Math.sign(m.b_hz)) {
        ctx.warn(
          `relaxation[${side === 0 ? a : b}].b_hz is ${m.b_hz} but the dipolar constant of ${m.spins.join('-')} is ${g < 0 ? 'negative' : 'positive'} (gamma1 gamma2 ${g < 0 ? '<' : '>'} 0): b = ${g < 0 ? '-' : ''}${Math.abs(m.b_hz)} Hz is used (b_hz gives the size; the sign follows the gyromagnetic ratios)`,
        );
      }
    }
  });
  if (!allConstant || constant.length === 0) return;
  const involved = [...new Set(constant.flatMap((c) => [c.a, c.b]))].sort((x, y) => x - y);
  const n = involved.length;
  const m = new Float64Array(n * n);
  for (const [i, k] of involved.entries()) {
    const eta = etaOf(spec.relaxation[k] as RelaxationSpec);
    if (eta === undefined) return;
    m[i * n + i] = 1 + (eta * eta) / 3;
  }
  for (const c of constant) {
    const i = involved.indexOf(c.a);
    const j = involved.indexOf(c.b);
    m[i * n + j] = c.p2;
    m[j * n + i] = c.p2;
  }
  if (!positiveSemidefinite(m, n)) {
    ctx.err(['cross_correlations'], `the orientation factors of ${involved.map((k) => shown(labels[k])).join(', ')} are not realisable by any geometry (their correlation matrix is not positive semidefinite): check the angles`);
  }
}
