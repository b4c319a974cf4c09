import { CMatrix, add, axpy, commutator, maxAbs, mul, scale } from '../math/cmatrix.js';
import type { OperatorBasis } from '../liouville/operator-basis.js';
import type { SparseMatrix } from '../liouville/sparse-matrix.js';
import { hamiltonianCommutator, toSparse } from '../liouville/superoperators.js';
import type { Spin, SpinSystem } from '../spin/spin-system.js';
import { HBAR, MU0_OVER_4PI, TWO_PI } from './constants.js';
import { scalarProduct } from './hamiltonian.js';
import { derived, param, type Derived, type Scalar } from './scalar.js';
import { B0, type CoherentSpec, type SystemDescription } from './system-description.js';

/**
 * Coherent terms of the rotating-frame Hamiltonian (DNP). The generator becomes
 *
 *   d rho/dt = -i [H_c(p), rho] + Gamma(p) rho,   H_c(p) = sum_m h_m(p) H_m,
 *
 * with Gamma the thermalized relaxation superoperator of the seed, built exactly as without
 * these terms: on the eigenoperators of H0 (Zeeman + shifts + nuclear J) at LAB frequencies,
 * thermal factors at lab frequencies. Each -i [H_m, .] is a fixed real antisymmetric matrix
 * in the real Liouville basis and h_m(p) a scalar coefficient, so G(p) = sum_k c_k(p) M_k
 * keeps its batched form (docs/physics.md, "Rotating frame and coherent terms").
 *
 * The frame: the irradiated species (all spins sharing the gamma of the irradiated spins) is
 * taken to the frame rotating at the irradiation frequency; every other part of H0 stays in
 * the interaction frame of H0 (as without coherent terms) unless it fails to commute with a
 * coherent coupling, in which case its lab term is kept in H_c (a nucleus with a
 * pseudo-secular hyperfine coupling keeps its Zeeman term). Both steps leave Gamma unchanged:
 * the secular Gamma commutes with the commutator superoperator of every H0 part, so the
 * rotation exp(i w_frame t Sz) maps it onto itself, and a part that commutes with H_c and
 * with Gamma drops out exactly (observables that commute with it, Iz and populations, are the
 * same in both frames). What is approximate is the standard high-field treatment: the
 * couplings are truncated to their secular (+ pseudo-secular for electron-nucleus) parts and
 * the relaxation ignores them, which holds when w1, A, B, J, d << w_e.
 */
export interface CoherentTerm {
  readonly label: string;
  /** Where the term comes from: a spec term type, or the lab H0 pieces kept in the frame. */
  readonly type: CoherentSpec['type'] | 'zeeman' | 'h0-coupling';
  /** Hermitian spin operator H_m (dimensionless). */
  readonly operator: CMatrix;
  /** h_m(p), rad/s. */
  readonly coefficient: Derived;
  /** -i [H_m, .] in the real basis (antisymmetric). */
  readonly matrix: SparseMatrix;
}

export interface RotatingFrame {
  readonly terms: readonly CoherentTerm[];
  /** Human-readable account of the frame (validate, run.json). */
  readonly notes: readonly string[];
}

/** Electron-like spins (|gamma| > 1e10 rad s^-1 T^-1): the high-field reference of the couplings. */
export function isElectron(spin: Spin): boolean {
  return Math.abs(spin.gamma) > 1e10;
}

/**
 * Hyperfine constant d (Hz) of the point-dipole model: d = -(mu0/4pi) gamma_e gamma_n hbar / (2 pi r^3).
 * The sign makes A = a_iso + d (3 cos^2 theta - 1), B = 3 d sin theta cos theta the secular and
 * pseudo-secular parts of b [S.I - 3 (S.r)(I.r)] with b = (mu0/4pi) gamma_e gamma_n hbar / r^3:
 * positive for an electron and a proton (gamma_e gamma_H < 0).
 */
export function pointDipoleHz(gammaE: number, gammaN: number, r: number): number {
  return -(MU0_OVER_4PI * gammaE * gammaN * HBAR) / (TWO_PI * r * r * r);
}

/** (A, B) in Hz of a hyperfine term at a point, as Derived scalars. */
export function hyperfineAB(spec: Extract<CoherentSpec, { type: 'hyperfine' }>, gammaE: number, gammaN: number): { a: Derived; b: Derived } {
  const s = spec.strength;
  if (s.kind === 'ab') return { a: derived([s.aHz], (x) => x), b: derived([s.bHz], (x) => x) };
  const deg = Math.PI / 180;
  return {
    a: derived([s.distance, s.thetaDeg, s.fermiHz], (r, th, aIso) => {
      const c = Math.cos(th * deg);
      return aIso + pointDipoleHz(gammaE, gammaN, r) * (3 * c * c - 1);
    }),
    b: derived([s.distance, s.thetaDeg], (r, th) => 3 * pointDipoleHz(gammaE, gammaN, r) * Math.sin(th * deg) * Math.cos(th * deg)),
  };
}

const isConstZero = (s: Scalar): boolean => s.kind === 'const' && s.value === 0;

interface Piece {
  readonly label: string;
  readonly type: CoherentTerm['type'];
  readonly operator: CMatrix;
  readonly coefficient: Derived;
}

/** Shifts (as a key and a list) of each spin, in the grouping h0Parts uses. */
function shiftsOf(desc: SystemDescription, i: number): Scalar[] {
  return desc.shifts.filter((x) => x.spin === i).map((x) => x.ppm);
}

/** Lab Zeeman frequency factor theta = B0 (1 + 1e-6 sum ppm), as in hamiltonian.ts. */
function zeemanTheta(shifts: readonly Scalar[]): Derived {
  return shifts.length === 0 ? derived([param(B0)], (b) => b) : derived([param(B0), ...shifts], (b, ...ppm) => b * (1 + 1e-6 * ppm.reduce((x, y) => x + y, 0)));
}

/** The terms of the spec itself: irradiation and static couplings. */
function specPieces(system: SpinSystem, desc: SystemDescription): { pieces: Piece[]; irradiated: Set<number>; notes: string[] } {
  const pieces: Piece[] = [];
  const irradiated = new Set<number>();
  const notes: string[] = [];
  const id = (i: number): string => system.spin(i).id;
  for (const c of desc.coherent ?? []) {
    switch (c.type) {
      case 'irradiation': {
        const ref = c.spins[0] as number;
        const g = system.spin(ref).gamma;
        // the precession sense of the species: w0 = -gamma B0, the frame turns the same way
        const sense = -Math.sign(g);
        const species = system.spins.map((s, i) => (s.gamma === g ? i : -1)).filter((i) => i >= 0);
        const refShifts = shiftsOf(desc, ref);
        // one offset term per distinct shift set: Omega_i = (w_i - w_ref) - sense 2 pi D, the
        // difference of lab frequencies formed from the shifts (never from two ~1e12 numbers)
        const groups = new Map<string, { spins: number[]; shifts: Scalar[] }>();
        for (const i of species) {
          irradiated.add(i);
          const sh = shiftsOf(desc, i);
          const key = JSON.stringify(sh);
          const grp = groups.get(key);
          if (grp) grp.spins.push(i);
          else groups.set(key, { spins: [i], shifts: sh });
        }
        for (const { spins, shifts } of groups.values()) {
          const op = new CMatrix(system.dim, system.dim);
          for (const i of spins) axpy(op, 1, system.op(i, 'z'));
          const same = JSON.stringify(shifts) === JSON.stringify(refShifts);
          const coefficient = same
            ? derived([c.offsetHz], (d) => -sense * TWO_PI * d)
            : derived([param(B0), c.offsetHz, ...shifts, ...refShifts], (b, d, ...ppm) => {
                const own = ppm.slice(0, shifts.length).reduce((x, y) => x + y, 0);
                const base = ppm.slice(shifts.length).reduce((x, y) => x + y, 0);
                return -g * b * 1e-6 * (own - base) - sense * TWO_PI * d;
              });
          pieces.push({ label: `irradiation: offset of ${spins.map(id).join(',')}`, type: 'irradiation', operator: op, coefficient });
        }
        if (!isConstZero(c.nutationHz)) {
          const op = new CMatrix(system.dim, system.dim);
          for (const i of c.spins) axpy(op, 1, system.op(i, 'x'));
          pieces.push({ label: `irradiation: nutation of ${c.spins.map(id).join(',')}`, type: 'irradiation', operator: op, coefficient: derived([c.nutationHz], (n) => TWO_PI * n) });
        }
        notes.push(
          `rotating frame of ${species.map(id).join(',')} at the irradiation frequency: offset_hz = nu_irr - nu_0(${id(ref)}), H = 2 pi (${sense > 0 ? '-' : '+'}offset Sz + nutation Sx)`,
        );
        break;
      }
      case 'hyperfine': {
        const e = c.electron;
        const n = c.nucleus;
        const { a, b } = hyperfineAB(c, system.spin(e).gamma, system.spin(n).gamma);
        const sz = system.op(e, 'z');
        const aZero = c.strength.kind === 'ab' && isConstZero(c.strength.aHz);
        if (!aZero) pieces.push({ label: `hyperfine(${id(e)},${id(n)}): A Sz Iz`, type: 'hyperfine', operator: mul(sz, system.op(n, 'z')), coefficient: scaleDerived(a, TWO_PI) });
        // B = 0 exactly (given, or theta = 0 in the point-dipole model): no pseudo-secular term,
        // and the nucleus then needs no lab Zeeman term in the frame
        const bZero = c.strength.kind === 'ab' ? isConstZero(c.strength.bHz) : c.strength.thetaDeg.kind === 'const' && c.strength.thetaDeg.value === 0;
        if (!bZero) pieces.push({ label: `hyperfine(${id(e)},${id(n)}): B Sz Ix`, type: 'hyperfine', operator: mul(sz, system.op(n, 'x')), coefficient: scaleDerived(b, TWO_PI) });
        break;
      }
      case 'J':
        pieces.push({ label: `J(${id(c.a)},${id(c.b)})`, type: 'J', operator: scalarProduct(system, c.a, c.b), coefficient: derived([c.hz], (j) => TWO_PI * j) });
        break;
      case 'dipolar_coupling': {
        const like = system.spin(c.a).gamma === system.spin(c.b).gamma;
        const zz = mul(system.op(c.a, 'z'), system.op(c.b, 'z'));
        // like spins: the secular form 3 IzSz - I.S (flip-flop kept); unlike spins: 2 IzSz
        const op = like ? add(scale(zz, 3), scale(scalarProduct(system, c.a, c.b), -1)) : scale(zz, 2);
        pieces.push({ label: `dipolar_coupling(${id(c.a)},${id(c.b)})`, type: 'dipolar_coupling', operator: op, coefficient: derived([c.dHz], (d) => TWO_PI * d) });
        break;
      }
    }
  }
  return { pieces, irradiated, notes };
}

function scaleDerived(d: Derived, f: number): Derived {
  return { deps: d.deps, at: (p) => f * d.at(p), batch: (b) => {
    const v = d.batch(b);
    return typeof v === 'number' ? f * v : v.map((x) => f * x);
  } };
}

function commutes(a: CMatrix, b: CMatrix): boolean {
  return maxAbs(commutator(a, b)) <= 1e-12 * Math.max(1e-300, maxAbs(a) * maxAbs(b));
}

/**
 * The lab pieces of H0 that may have to stay in H_c, in groups that are kept or dropped
 * together: the Zeeman terms of each non-irradiated species (the secular Gamma commutes with
 * the commutator of each species' total Zeeman term, not necessarily with one spin's), and
 * all of H0's J couplings (constant ones form one H0 part).
 */
function labGroups(system: SpinSystem, desc: SystemDescription, irradiated: ReadonlySet<number>): Piece[][] {
  const bySpecies = new Map<number, Map<string, { spins: number[]; shifts: Scalar[] }>>();
  system.spins.forEach((s, i) => {
    if (irradiated.has(i)) return;
    let sp = bySpecies.get(s.gamma);
    if (!sp) bySpecies.set(s.gamma, (sp = new Map()));
    const shifts = shiftsOf(desc, i);
    const key = JSON.stringify(shifts);
    const g = sp.get(key);
    if (g) g.spins.push(i);
    else sp.set(key, { spins: [i], shifts });
  });
  const out: Piece[][] = [];
  for (const [gamma, groups] of bySpecies) {
    const group: Piece[] = [];
    for (const { spins, shifts } of groups.values()) {
      const op = new CMatrix(system.dim, system.dim);
      for (const i of spins) axpy(op, -gamma, system.op(i, 'z'));
      group.push({ label: `Zeeman(${spins.map((i) => system.spin(i).id).join(',')}) at the lab frequency`, type: 'zeeman', operator: op, coefficient: zeemanTheta(shifts) });
    }
    out.push(group);
  }
  const couplings: Piece[] = desc.couplings.map((c) => {
    const like = system.spin(c.a).gamma === system.spin(c.b).gamma;
    const op = like ? scalarProduct(system, c.a, c.b) : mul(system.op(c.a, 'z'), system.op(c.b, 'z'));
    return { label: `J(${system.spin(c.a).id},${system.spin(c.b).id}) of H0`, type: 'h0-coupling', operator: op, coefficient: derived([c.hz], (j) => TWO_PI * j) };
  });
  if (couplings.length > 0) out.push(couplings);
  return out;
}

/**
 * The coherent terms of a system (empty without irradiation or static couplings). keepAll:
 * on the per-point path Gamma commutes only with H0 as a whole, so every lab piece stays.
 */
export function rotatingFrame(system: SpinSystem, desc: SystemDescription, basis: OperatorBasis, keepAll: boolean): RotatingFrame {
  if (!desc.coherent || desc.coherent.length === 0) return { terms: [], notes: [] };
  const { pieces, irradiated, notes } = specPieces(system, desc);
  const kept: Piece[] = [...pieces];
  const pending = labGroups(system, desc, irradiated);
  const keptLab: string[] = [];
  // closure: a group stays when one of its pieces fails to commute with something kept
  for (let changed = true; changed; ) {
    changed = false;
    for (let g = pending.length - 1; g >= 0; g--) {
      const group = pending[g] as Piece[];
      if (keepAll || group.some((p) => kept.some((k) => !commutes(p.operator, k.operator)))) {
        kept.push(...group);
        keptLab.push(...group.map((p) => p.label));
        pending.splice(g, 1);
        changed = true;
      }
    }
  }
  notes.push(keptLab.length > 0 ? `lab terms kept in the rotating-frame Hamiltonian: ${keptLab.join('; ')}` : 'no lab Zeeman term needed in the rotating-frame Hamiltonian');
  notes.push(
    'relaxation: the thermalized theory on the eigenoperators of the Zeeman (+ shift) part of H0 at lab frequencies, unchanged by the rotating frame (the secular relaxation superoperator commutes with the Zeeman commutator); coherent couplings secular (+ pseudo-secular electron-nucleus): the standard high-field treatment, valid when nutation, A, B, J, d << the electron Larmor frequency',
  );
  const terms: CoherentTerm[] = kept.map((p) => {
    const sup = hamiltonianCommutator(basis, p.operator);
    if (sup.maxImag > 1e-9 * Math.max(1, maxAbs(p.operator))) throw new Error(`coherent term ${p.label}: commutator superoperator not real (operator not Hermitian)`);
    return { label: p.label, type: p.type, operator: p.operator, coefficient: p.coefficient, matrix: toSparse(sup, basis.size) };
  });
  return { terms, notes };
}
