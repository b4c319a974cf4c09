import { lookupIsotope } from '../spin/isotopes.js';
import { multiplicity } from '../spin/spin-operators.js';
import { THERMAL_MODELS, type ThermalModel } from '../physics/thermalization.js';
import { expressionSpins, OperatorExpressionError, parseOperatorExpression, type OpExpr } from '../physics/operator-expression.js';
import { axisKind, axisValues } from '../sweep/axis-values.js';
import { checkCrossCorrelations } from './cross-correlations.js';
import { formatPath, shown, type SpecIssue } from './errors.js';
import { OUTPUTS, type Numeric, type SpecV1 } from './schema.js';
import { checkCoherentTerms, checkPowderAxes, checkSpectralDensity, checkT1T2, type CheckContext } from './semantic-dnp.js';
import { checkDeviation, deviationWarning } from './initial-state-check.js';

/** The deviation warning, or null; an expression the operator layer rejects is reported elsewhere. */
function physicalityWarning(path: string, expression: string, spins: ReadonlyArray<{ id: string; spin: number }>, e: OpExpr): string | null {
  try {
    return deviationWarning(path, expression, checkDeviation(spins, e));
  } catch {
    return null;
  }
}

export type Output = (typeof OUTPUTS)[number];

/** Largest Hilbert space accepted: superoperators are (d^2 x d^2) and built densely per term. */
export const MAX_HILBERT_DIM = 64;
export const MAX_TIME_POINTS = 100_000;

interface Range {
  readonly min?: number;
  readonly max?: number;
  readonly minOpen?: boolean;
  readonly maxOpen?: boolean;
  readonly what: string;
}

const POSITIVE: Range = { min: 0, minOpen: true, what: '> 0' };
const NON_NEGATIVE: Range = { min: 0, what: '>= 0' };
const ANY: Range = { what: 'a finite number' };
const KAPPA: Range = { min: -1, max: 1, what: 'in [-1, 1]' };
const UNIT: Range = { min: 0, max: 1, what: 'in [0, 1]' };

function inRange(v: number, r: Range): boolean {
  if (!Number.isFinite(v)) return false;
  if (r.min !== undefined && (r.minOpen ? !(v > r.min) : !(v >= r.min))) return false;
  if (r.max !== undefined && (r.maxOpen ? !(v < r.max) : !(v <= r.max))) return false;
  return true;
}

export type InitialSpec =
  | { kind: 'thermal' | 'inverted' | 'saturated' }
  | { kind: 'singlet'; a: string; b: string }
  | { kind: 'deviation'; expression: string; parsed: OpExpr };

export interface CheckedSpec {
  readonly spec: SpecV1;
  /** Parameters something in the spec depends on (always T and B0). */
  readonly usedParameters: ReadonlySet<string>;
  readonly thermalizations: readonly ThermalModel[];
  /** Initial states; more than one (or a list in the spec) makes an `initial` dimension. */
  readonly initials: ReadonlyArray<{ readonly label: string; readonly spec: InitialSpec }>;
  readonly initialIsDimension: boolean;
  readonly thermalizationIsDimension: boolean;
  readonly observables: ReadonlyArray<{ name: string; expression: string; parsed: OpExpr }>;
  readonly outputs: readonly Output[];
  readonly warnings: readonly string[];
}

const SINGLET = /^\s*singlet\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$/;

/**
 * Checks that need the whole spec: references (spins, parameters), physical ranges of
 * every numeric field, including the values a parameter takes along its sweep axis.
 * All problems are collected, each with the path of the field that causes it.
 */
export function checkSpec(spec: SpecV1): { checked?: CheckedSpec; issues: SpecIssue[] } {
  const issues: SpecIssue[] = [];
  const warnings: string[] = [];
  const err = (path: ReadonlyArray<string | number>, message: string): void => {
    issues.push({ path: formatPath(path), message });
  };

  // --- spins
  const spinIds = new Map<string, number>();
  const spinQN: number[] = [];
  const spinGamma: number[] = [];
  let hilbert = 1;
  spec.spins.forEach((s, i) => {
    const at = ['spins', i];
    if (spinIds.has(s.id)) err([...at, 'id'], `duplicate spin id ${shown(s.id)}`);
    spinIds.set(s.id, i);
    let qn = 0.5;
    if (s.isotope !== undefined) {
      if (s.spin !== undefined || s.gamma !== undefined) err(at, 'give either isotope, or spin and gamma, not both');
      qn = lookupIsotope(s.isotope)?.spin ?? 0.5;
    } else {
      if (s.spin === undefined || s.gamma === undefined) err(at, 'expected isotope, or both spin and gamma (rad s^-1 T^-1)');
      if (s.spin !== undefined) {
        const ok = s.spin > 0 && Math.abs(2 * s.spin - Math.round(2 * s.spin)) < 1e-12;
        if (!ok) err([...at, 'spin'], `expected a positive half-integer (1/2, 1, 3/2, ...), got ${shown(s.spin)}`);
        else qn = s.spin;
      }
    }
    spinQN.push(qn);
    spinGamma.push(s.isotope !== undefined ? (lookupIsotope(s.isotope)?.gamma ?? NaN) : (s.gamma ?? NaN));
    hilbert *= multiplicity(qn);
  });
  if (hilbert > MAX_HILBERT_DIM) {
    err(['spins'], `Hilbert space dimension ${hilbert} exceeds ${MAX_HILBERT_DIM} (Liouville dimension ${hilbert * hilbert}): use fewer or smaller spins`);
  }
  const spinRef = (path: ReadonlyArray<string | number>, id: string): number | undefined => {
    const k = spinIds.get(id);
    if (k === undefined) err(path, `unknown spin ${shown(id)} (spins: ${[...spinIds.keys()].join(', ')})`);
    return k;
  };

  // --- parameters and sweep axes
  const params = spec.parameters ?? {};
  const sweep = spec.sweep ?? {};
  /** Values a parameter takes: its fixed value (the base of `point`) and its sweep axis, if any. */
  const paramValues = (name: string): Array<{ values: ArrayLike<number>; from: string }> | undefined => {
    const out: Array<{ values: ArrayLike<number>; from: string }> = [];
    if (Object.prototype.hasOwnProperty.call(params, name)) out.push({ values: [params[name] as number], from: `parameters.${name}` });
    const axis = Object.hasOwn(sweep, name) ? sweep[name] : undefined;
    // a malformed axis (log through 0) gives NaN values: the axis check reports it
    if (axis) out.push({ values: axisValues(axis).filter(Number.isFinite), from: `sweep.${name}` });
    return out.length > 0 ? out : undefined;
  };
  const used = new Set<string>(['T', 'B0']);
  const numericUse = (path: ReadonlyArray<string | number>, v: Numeric | undefined, range: Range): void => {
    if (v === undefined) return;
    if (typeof v === 'number') {
      if (!inRange(v, range)) err(path, `expected ${range.what}, got ${shown(v)}`);
      return;
    }
    used.add(v);
    const pv = paramValues(v);
    if (!pv) {
      err(path, `unknown parameter ${shown(v)} (define it under parameters: or sweep:)`);
      return;
    }
    for (const { values, from } of pv) {
      for (let k = 0; k < values.length; k++) {
        const x = values[k] as number;
        if (!inRange(x, range)) {
          err(path, `parameter ${shown(v)} takes the value ${shown(x)} (from ${from}), expected ${range.what}`);
          break;
        }
      }
    }
  };
  const dnp: CheckContext = {
    spec,
    err,
    warn: (m) => warnings.push(m),
    spinRef,
    numericUse,
    valuesOf: (v) => (typeof v === 'number' ? [v] : (paramValues(v) ?? []).flatMap((x) => Array.from(x.values))),
    spinQN: (k) => spinQN[k] as number,
    gamma: (k) => spinGamma[k] as number,
  };
  numericUse(['parameters', 'T'], 'T', { ...POSITIVE, what: '> 0 (temperature in K)' });
  numericUse(['parameters', 'B0'], 'B0', { ...NON_NEGATIVE, what: '>= 0 (field in T)' });

  // --- hamiltonian
  (spec.hamiltonian ?? []).forEach((h, i) => {
    const at = ['hamiltonian', i];
    if (h.type === 'J') {
      const a = spinRef([...at, 'spins', 0], h.spins[0]);
      const b = spinRef([...at, 'spins', 1], h.spins[1]);
      if (a !== undefined && a === b) err([...at, 'spins'], `a J coupling needs two different spins, got [${h.spins.join(', ')}]`);
      numericUse([...at, 'hz'], h.hz, ANY);
    } else if (h.type === 'shift') {
      spinRef([...at, 'spin'], h.spin);
      numericUse([...at, 'ppm'], h.ppm, ANY);
    }
  });
  checkCoherentTerms(dnp);

  // --- relaxation
  spec.relaxation.forEach((m, i) => {
    const at = ['relaxation', i];
    if (m.type === 't1t2') {
      checkT1T2(dnp, m, at);
      return;
    }
    numericUse([...at, 'tau_c'], m.tau_c, { ...POSITIVE, what: '> 0 (correlation time in s)' });
    checkSpectralDensity(dnp, m, at);
    const sd = m.spectral_density;
    if (sd) {
      if (sd.model === 'lipari-szabo') {
        if (sd.S2 === undefined) err([...at, 'spectral_density', 'S2'], 'lipari-szabo needs S2 (order parameter in [0, 1])');
        if (sd.tau_e === undefined) err([...at, 'spectral_density', 'tau_e'], 'lipari-szabo needs tau_e (internal correlation time, s)');
        numericUse([...at, 'spectral_density', 'S2'], sd.S2, UNIT);
        numericUse([...at, 'spectral_density', 'tau_e'], sd.tau_e, { ...POSITIVE, what: '> 0 (s)' });
      } else if (sd.S2 !== undefined || sd.tau_e !== undefined) {
        err([...at, 'spectral_density'], 'S2 and tau_e belong to model: lipari-szabo');
      }
    }
    switch (m.type) {
      case 'dipolar': {
        const a = spinRef([...at, 'spins', 0], m.spins[0]);
        const b = spinRef([...at, 'spins', 1], m.spins[1]);
        if (a !== undefined && a === b) {
          const hint = (spinQN[a] ?? 0.5) >= 1 ? ` (the relaxation of a spin >= 1 by its own electric field gradient is type: quadrupolar)` : '';
          err([...at, 'spins'], `dipolar coupling needs two different spins, got [${m.spins.join(', ')}]${hint}`);
        }
        if ((m.b_hz === undefined) === (m.distance_m === undefined)) {
          const given = m.b_hz === undefined ? 'neither' : `both (b_hz: ${shown(m.b_hz)}, distance_m: ${shown(m.distance_m)})`;
          err(at, `give exactly one of b_hz (Hz) or distance_m (m), got ${given}`);
        }
        numericUse([...at, 'b_hz'], m.b_hz, ANY);
        numericUse([...at, 'distance_m'], m.distance_m, { ...POSITIVE, what: '> 0 (m)' });
        break;
      }
      case 'random_field': {
        const seen = new Set<string>();
        m.spins.forEach((s, k) => {
          spinRef([...at, 'spins', k], s);
          if (seen.has(s)) err([...at, 'spins', k], `spin ${shown(s)} listed twice`);
          seen.add(s);
        });
        numericUse([...at, 'rms_hz'], m.rms_hz, { ...NON_NEGATIVE, what: '>= 0 (Hz)' });
        numericUse([...at, 'kappa'], m.kappa, KAPPA);
        break;
      }
      case 'csa':
        spinRef([...at, 'spin'], m.spin);
        if ((m.delta_ppm === undefined) === (m.delta_sigma_ppm === undefined)) {
          err(at, `give exactly one of delta_ppm (reduced anisotropy sigma_zz - sigma_iso) or delta_sigma_ppm (sigma_par - sigma_perp = 3/2 delta), got ${m.delta_ppm === undefined ? 'neither' : 'both'}`);
        }
        numericUse([...at, 'delta_ppm'], m.delta_ppm, ANY);
        numericUse([...at, 'delta_sigma_ppm'], m.delta_sigma_ppm, ANY);
        numericUse([...at, 'eta'], m.eta, UNIT);
        break;
      case 'quadrupolar': {
        const k = spinRef([...at, 'spin'], m.spin);
        if (k !== undefined && (spinQN[k] ?? 0.5) < 1) err([...at, 'spin'], `quadrupolar relaxation needs a spin >= 1; ${shown(m.spin)} has spin ${spinQN[k]}`);
        numericUse([...at, 'cq_hz'], m.cq_hz, ANY);
        numericUse([...at, 'eta'], m.eta, UNIT);
        break;
      }
    }
  });
  checkCrossCorrelations(spec, { err, warn: (w) => warnings.push(w), numericUse });

  // --- thermalization
  const thermalizations = (Array.isArray(spec.thermalization) ? spec.thermalization : [spec.thermalization]) as ThermalModel[];
  thermalizations.forEach((t, k) => {
    const first = thermalizations.indexOf(t);
    if (first < k) err(['thermalization', k], `${shown(t)} is listed twice (also thermalization[${first}])`);
  });
  for (const t of thermalizations) if (!(THERMAL_MODELS as readonly string[]).includes(t)) err(['thermalization'], `unknown model ${shown(t)}`);

  // --- operator expressions
  const parseExpr = (path: ReadonlyArray<string | number>, src: string): OpExpr | undefined => {
    try {
      const e = parseOperatorExpression(src);
      for (const id of expressionSpins(e)) spinRef(path, id);
      const checkSinglets = (x: OpExpr): void => {
        if (x.kind === 'singlet') {
          for (const id of [x.a, x.b]) {
            const k = spinIds.get(id);
            if (k !== undefined && spinQN[k] !== 0.5) err(path, `singlet(${x.a},${x.b}) needs spins 1/2; ${shown(id)} has spin ${spinQN[k]}`);
          }
          if (x.a === x.b) err(path, 'singlet needs two different spins');
        } else if (x.kind === 'bin') {
          checkSinglets(x.l);
          checkSinglets(x.r);
        } else if (x.kind === 'neg') checkSinglets(x.x);
        else if (x.kind === 'dot' && x.a === x.b) err(path, `I${x.a}.I${x.b}: the two spins must differ`);
      };
      checkSinglets(e);
      return e;
    } catch (e) {
      if (e instanceof OperatorExpressionError) {
        err(path, `${e.message} at column ${e.position + 1} of ${shown(src)}`);
        return undefined;
      }
      throw e;
    }
  };

  const initials: Array<{ label: string; spec: InitialSpec }> = [];
  const initRaw = spec.initial ?? 'thermal';
  const initList = Array.isArray(initRaw) ? initRaw : [initRaw];
  initList.forEach((init, k) => {
    const at: Array<string | number> = Array.isArray(initRaw) ? ['initial', k] : ['initial'];
    if (typeof init === 'string') {
      const m = SINGLET.exec(init);
      if (init === 'thermal' || init === 'inverted' || init === 'saturated') initials.push({ label: init, spec: { kind: init } });
      else if (m) {
        const e = parseExpr(at, init);
        if (e && e.kind === 'singlet') initials.push({ label: `singlet(${e.a},${e.b})`, spec: { kind: 'singlet', a: e.a, b: e.b } });
      } else {
        // `[singlet(a,b), inverted]` is split by YAML at the comma inside the parentheses
        const hint = /\(|\)/.test(init) && !/\(.*\)/.test(init) ? ` (in a YAML flow list the comma inside singlet(a,b) splits the item: quote it, "singlet(a,b)")` : '';
        err(at, `expected 'thermal', 'inverted', 'saturated', 'singlet(a,b)' or { deviation: <operator expression> }, got ${shown(init)}${hint}`);
      }
    } else {
      const e = parseExpr([...at, 'deviation'], init.deviation);
      if (e) initials.push({ label: `E/d + ${init.deviation}`, spec: { kind: 'deviation', expression: init.deviation, parsed: e } });
      if (e && issues.length === 0 && hilbert <= MAX_HILBERT_DIM) {
        const w = physicalityWarning(formatPath([...at, 'deviation']), init.deviation, spec.spins.map((sp, i) => ({ id: sp.id, spin: spinQN[i] ?? 0.5 })), e);
        if (w) warnings.push(w);
      }
    }
  });
  const seenInit = new Map<string, number>();
  initials.forEach((x, k) => {
    const first = seenInit.get(x.label);
    if (first !== undefined) err(['initial', k], `${shown(x.label)} is listed twice (first at initial[${first}])`);
    else seenInit.set(x.label, k);
  });

  const observables: Array<{ name: string; expression: string; parsed: OpExpr }> = [];
  const obsEntries = Object.entries(spec.observables);
  if (obsEntries.length === 0) err(['observables'], 'expected at least one observable');
  for (const [name, src] of obsEntries) {
    if (name === 't') {
      err(['observables', name], "the name 't' is reserved for the time axis");
      continue;
    }
    const e = parseExpr(['observables', name], src);
    if (e) observables.push({ name, expression: src, parsed: e });
  }

  // --- time grid
  if (spec.time) {
    const t = spec.time;
    if ('values' in t) {
      if (t.values.length < 1 || t.values.length > MAX_TIME_POINTS) err(['time', 'values'], `expected 1..${MAX_TIME_POINTS} times, got ${t.values.length}`);
      t.values.forEach((x, k) => {
        if (!(x >= 0)) err(['time', 'values', k], `expected a time >= 0 (s), got ${shown(x)}`);
        else if (k > 0 && !(x > (t.values[k - 1] as number))) err(['time', 'values', k], `times must increase: ${shown(x)} follows ${shown(t.values[k - 1])}`);
      });
    } else {
      if (t.points < 1 || t.points > MAX_TIME_POINTS) err(['time', 'points'], `expected 1..${MAX_TIME_POINTS}, got ${shown(t.points)}`);
      if ('stop' in t) {
        if (!(t.stop > 0)) err(['time', 'stop'], `expected > 0 (s), got ${shown(t.stop)}`);
        if (t.points < 2) err(['time', 'points'], `a uniform grid from 0 needs at least 2 points, got ${shown(t.points)}`);
      } else {
        const [a, b] = t.log;
        if (!(a > 0)) err(['time', 'log', 0], `expected > 0 (s) for a log grid, got ${shown(a)}`);
        if (!(b > a)) err(['time', 'log', 1], `expected > start (${shown(a)}), got ${shown(b)}`);
      }
    }
  }

  // --- sweep axes
  const groups = new Map<string, { len: number; name: string }>();
  for (const [name, axis] of Object.entries(sweep)) {
    const at = ['sweep', name];
    const kind = axisKind(axis);
    if (kind === 'values') {
      if ('values' in axis && axis.values.length === 0) err([...at, 'values'], 'expected at least one value (the axis has zero points)');
      if ('values' in axis && new Set(axis.values).size !== axis.values.length) err([...at, 'values'], 'values must be distinct');
    } else if (!('powder' in axis)) {
      const pts = 'points' in axis ? axis.points : 0;
      if (pts < 1) err([...at, 'points'], `expected at least 1 point, got ${shown(pts)} (the axis would have zero points)`);
      if (kind === 'log' && 'log' in axis) {
        const [a, b] = axis.log;
        if (!(a > 0) || !(b > 0)) err([...at, 'log'], `a log axis needs both ends > 0 (it cannot cross or touch 0), got ${shown(axis.log)}`);
        else if (a === b && pts > 1) err([...at, 'log'], `both ends are ${shown(a)}: use values: [${a}] or different ends`);
      }
      if (kind === 'lin' && 'lin' in axis && axis.lin[0] === axis.lin[1] && pts > 1) {
        err([...at, 'lin'], `both ends are ${shown(axis.lin[0])}: use values: [${axis.lin[0]}] or different ends`);
      }
    }
    if (axis.group !== undefined) {
      const len = 'values' in axis ? axis.values.length : 'powder' in axis ? axis.powder : axis.points;
      const g = groups.get(axis.group);
      if (g && g.len !== len) err([...at, 'group'], `axes zipped in group ${shown(axis.group)} need equal lengths: ${name} has ${len}, ${g.name} has ${g.len}`);
      else if (!g) groups.set(axis.group, { len, name });
      if (Object.prototype.hasOwnProperty.call(sweep, axis.group) || axis.group === 'thermalization') {
        err([...at, 'group'], `group name ${shown(axis.group)} collides with a parameter or dimension name`);
      }
    }
  }
  checkPowderAxes(dnp);
  for (const name of Object.keys(sweep)) {
    if (!used.has(name)) {
      const known = Object.prototype.hasOwnProperty.call(params, name);
      err(['sweep', name], known ? `parameter ${shown(name)} is not used by any field of the spec: sweeping it changes nothing` : `unknown parameter ${shown(name)}: no field of the spec uses it`);
    }
  }
  for (const name of Object.keys(params)) {
    if (!used.has(name)) warnings.push(`parameters.${name} is not used by any field`);
  }

  // with irradiation the DNP outputs (enh_<O>, buildup_<O>) are on by default
  const irradiated = (spec.hamiltonian ?? []).some((h) => h.type === 'irradiation');
  const outputs = (spec.outputs ?? ['rates', 'eigenrates', 'steady_state', 'trajectories', ...(irradiated ? (['enhancement', 'buildup'] as const) : [])]) as Output[];
  outputs.forEach((o, k) => {
    const first = outputs.indexOf(o);
    if (first < k) err(['outputs', k], `${shown(o)} is listed twice (also outputs[${first}])`);
  });

  if (issues.length > 0) return { issues };
  return {
    issues,
    checked: {
      spec,
      usedParameters: used,
      thermalizations,
      thermalizationIsDimension: Array.isArray(spec.thermalization),
      initials,
      initialIsDimension: Array.isArray(spec.initial),
      observables,
      outputs,
      warnings,
    },
  };
}
