import { z } from 'zod';
import { ISOTOPE_SYMBOLS } from '../spin/isotopes.js';
import { THERMAL_MODELS } from '../physics/thermalization.js';

/**
 * Structure of a sweep spec (docs/interface.md section 1, `version: 1`). This layer checks
 * shapes and types only; references between fields and physical ranges are checked in
 * semantic.ts, where parameter values and sweep axes are known.
 */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

const identifier = z.string({ error: 'expected an identifier (letters, digits, _)' }).regex(IDENTIFIER, { error: 'expected an identifier (letters, digits, _)' });

/** A number, or the name of a parameter. */
export const numeric = z.union([z.number(), identifier], { error: 'expected a finite number or a parameter name' });
export type Numeric = z.infer<typeof numeric>;

const finiteNumber = z.number({ error: 'expected a finite number' });

const spectralDensity = z.strictObject({
  model: z.enum(['lorentzian', 'lipari-szabo', 'phonon-direct'], { error: "expected 'lorentzian', 'lipari-szabo' or 'phonon-direct'" }),
  S2: numeric.optional(),
  tau_e: numeric.optional(),
  /** phonon-direct: J = 2 tau_c (|w| / 2 pi nu_ref)^exponent coth(hbar |w| / 2 k T). */
  exponent: numeric.optional(),
  nu_ref_hz: numeric.optional(),
});

const spinEntry = z.strictObject({
  id: identifier,
  isotope: z.enum(ISOTOPE_SYMBOLS as [string, ...string[]], { error: `expected one of ${ISOTOPE_SYMBOLS.join(' ')}` }).optional(),
  spin: finiteNumber.optional(),
  gamma: finiteNumber.optional(),
});

const jTerm = z.strictObject({
  type: z.literal('J'),
  spins: z.tuple([identifier, identifier], { error: 'expected two spin ids' }),
  hz: numeric,
});
const shiftTerm = z.strictObject({
  type: z.literal('shift'),
  spin: identifier,
  ppm: numeric,
});
/** DNP: microwave irradiation in the rotating frame of one species (docs/physics.md). */
const irradiationTerm = z.strictObject({
  type: z.literal('irradiation'),
  spins: z.array(identifier, { error: 'expected a list of spin ids' }).min(1, { error: 'expected at least one spin id' }),
  nutation_hz: numeric,
  offset_hz: numeric,
});
/** Static electron-nucleus coupling, secular + pseudo-secular: 2 pi (A Sz Iz + B Sz Ix). */
const hyperfineTerm = z.strictObject({
  type: z.literal('hyperfine'),
  spins: z.tuple([identifier, identifier], { error: 'expected two spin ids [electron, nucleus]' }),
  a_hz: numeric.optional(),
  b_hz: numeric.optional(),
  distance_m: numeric.optional(),
  theta_deg: numeric.optional(),
  fermi_hz: numeric.optional(),
});
/** Static secular dipolar coupling between two spins (electron-electron for the cross effect). */
const dipolarCouplingTerm = z.strictObject({
  type: z.literal('dipolar_coupling'),
  spins: z.tuple([identifier, identifier], { error: 'expected two spin ids' }),
  d_hz: numeric,
});
const hamiltonianTerm = z.discriminatedUnion('type', [jTerm, shiftTerm, irradiationTerm, hyperfineTerm, dipolarCouplingTerm], {
  error: "expected a term with type 'J', 'shift', 'irradiation', 'hyperfine' or 'dipolar_coupling'",
});

const dipolar = z.strictObject({
  type: z.literal('dipolar'),
  spins: z.tuple([identifier, identifier], { error: 'expected two spin ids' }),
  b_hz: numeric.optional(),
  distance_m: numeric.optional(),
  tau_c: numeric,
  spectral_density: spectralDensity.optional(),
  label: z.string().optional(),
});
const randomField = z.strictObject({
  type: z.literal('random_field'),
  spins: z.array(identifier, { error: 'expected a list of spin ids' }).min(1, { error: 'expected at least one spin id' }),
  rms_hz: numeric,
  tau_c: numeric,
  kappa: numeric.optional(),
  spectral_density: spectralDensity.optional(),
  label: z.string().optional(),
});
const csa = z.strictObject({
  type: z.literal('csa'),
  spin: identifier,
  delta_ppm: numeric.optional(),
  delta_sigma_ppm: numeric.optional(),
  eta: numeric.optional(),
  tau_c: numeric,
  spectral_density: spectralDensity.optional(),
  label: z.string().optional(),
});
/** Phenomenological T1/T2 relaxation with thermalization (white-noise random fields). */
const t1t2 = z.strictObject({
  type: z.literal('t1t2'),
  spins: z.array(identifier, { error: 'expected a list of spin ids' }).min(1, { error: 'expected at least one spin id' }),
  t1_s: numeric,
  t2_s: numeric,
  label: z.string().optional(),
});
const quadrupolar = z.strictObject({
  type: z.literal('quadrupolar'),
  spin: identifier,
  cq_hz: numeric,
  eta: numeric.optional(),
  tau_c: numeric,
  spectral_density: spectralDensity.optional(),
  label: z.string().optional(),
});
const relaxationTerm = z.discriminatedUnion('type', [dipolar, randomField, csa, quadrupolar, t1t2], {
  error: "expected a mechanism with type 'dipolar', 'random_field', 'csa', 'quadrupolar' or 't1t2'",
});

/** Two mechanisms (by label) whose spatial parts are correlated, with the angle between their unique axes. */
const crossCorrelation = z.strictObject({
  between: z.tuple([z.string(), z.string()], { error: 'expected two mechanism labels' }),
  angle_deg: numeric.optional(),
  p2: numeric.optional(),
});

const thermalModel = z.enum(THERMAL_MODELS, { error: `expected one of ${THERMAL_MODELS.join(', ')}` });

const deviation = z.strictObject({ deviation: z.string({ error: 'expected an operator expression' }) });
const initialOne = z.union([z.string(), deviation], {
  error: "expected 'thermal', 'inverted', 'saturated', 'singlet(a,b)' or { deviation: <operator expression> }",
});
/**
 * One initial state, or a list of them: a list becomes an `initial` dimension of the results.
 * A flat union, so that a malformed { deviation: ... } is reported at initial.deviation.
 */
const initial = z.union([z.string(), deviation, z.array(initialOne).min(1, { error: 'expected at least one initial state' })], {
  error: "expected an initial state ('thermal', 'inverted', 'saturated', 'singlet(a,b)', { deviation: ... }) or a list of them",
});

const positiveInt = z.number({ error: 'expected a whole number' }).int({ error: 'expected a whole number' });

const timeGrid = z.union(
  [
    z.strictObject({ stop: finiteNumber, points: positiveInt }),
    z.strictObject({ log: z.tuple([finiteNumber, finiteNumber], { error: 'expected [start, stop]' }), points: positiveInt }),
    z.strictObject({ values: z.array(finiteNumber, { error: 'expected a list of times (s)' }) }),
  ],
  { error: 'expected { stop: <s>, points: <n> }, { log: [<start s>, <stop s>], points: <n> } or { values: [<t s>, ...] }' },
);

const axisBase = { group: identifier.optional() };
export const sweepAxis = z.union(
  [
    z.strictObject({ lin: z.tuple([finiteNumber, finiteNumber], { error: 'expected [start, stop]' }), points: positiveInt, ...axisBase }),
    z.strictObject({ log: z.tuple([finiteNumber, finiteNumber], { error: 'expected [start, stop]' }), points: positiveInt, ...axisBase }),
    z.strictObject({ values: z.array(finiteNumber, { error: 'expected a list of numbers' }), ...axisBase }),
    /** Powder average over the polar angle (degrees): Gauss-Legendre nodes in cos(theta). */
    z.strictObject({ powder: positiveInt, ...axisBase }),
  ],
  { error: 'expected one of { lin: [a, b], points: n }, { log: [a, b], points: n }, { values: [...] }, { powder: n }' },
);
export type SweepAxisSpec = z.infer<typeof sweepAxis>;

/** trajectories_float32: trajectories stored as float32 in trajectories.nc (half the bytes; implies trajectories). */
export const OUTPUTS = ['rates', 'eigenrates', 'trajectories', 'steady_state', 'contributions', 'enhancement', 'buildup', 'trajectories_float32'] as const;

export const specSchema = z.strictObject({
  version: z.literal(1, { error: 'expected version: 1' }),
  name: z.string({ error: 'expected a string' }).optional(),
  description: z.string({ error: 'expected a string' }).optional(),
  spins: z.array(spinEntry, { error: 'expected a list of spins' }).min(1, { error: 'expected at least one spin' }),
  parameters: z.record(identifier, finiteNumber, { error: 'expected a map of parameter names to numbers' }).optional(),
  hamiltonian: z.array(hamiltonianTerm, { error: 'expected a list of terms' }).optional(),
  relaxation: z.array(relaxationTerm, { error: 'expected a list of mechanisms' }).min(1, { error: 'expected at least one mechanism' }),
  cross_correlations: z.array(crossCorrelation, { error: 'expected a list of { between: [label, label], angle_deg: ... }' }).optional(),
  thermalization: z.union([thermalModel, z.array(thermalModel).min(1, { error: 'expected at least one model' })], {
    error: `expected a model or a list of models (${THERMAL_MODELS.join(', ')})`,
  }),
  initial: initial.optional(),
  observables: z.record(identifier, z.string({ error: 'expected an operator expression' }), { error: 'expected a map of names to operator expressions' }),
  time: timeGrid.optional(),
  sweep: z.record(identifier, sweepAxis, { error: 'expected a map of parameter names to axes' }).optional(),
  outputs: z.array(z.enum(OUTPUTS, { error: `expected one of ${OUTPUTS.join(', ')}` }), { error: 'expected a list' }).optional(),
});

export type SpecV1 = z.infer<typeof specSchema>;
export type RelaxationSpec = z.infer<typeof relaxationTerm>;
export type CrossCorrelationSpec = z.infer<typeof crossCorrelation>;
