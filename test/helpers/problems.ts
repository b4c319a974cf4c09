import { evaluatePoint, type PointResult } from '../../src/evaluate/point.js';
import type { Problem } from '../../src/evaluate/problem.js';
import { assembleGenerator } from '../../src/physics/assemble-generator.js';
import type { ThermalModel } from '../../src/physics/thermalization.js';
import { parseSpecText, type LoadedSpec } from '../../src/spec/load.js';
import { baseParameters, buildProblem } from '../../src/spec/resolve.js';

/** Build a problem from spec YAML text (the same path users take). */
export function problemFromYaml(yaml: string): { spec: LoadedSpec; problem: Problem; params: Record<string, number> } {
  const spec = parseSpecText(yaml, 'test-spec');
  return { spec, problem: buildProblem(spec), params: baseParameters(spec) };
}

export interface PairOptions {
  gamma?: number;
  B0?: number;
  T?: number;
  b_hz?: number;
  tau_c?: number;
  rms_hz?: number;
  tau_ran?: number;
  kappa?: number;
  thermalization?: ThermalModel;
  initial?: string;
  time?: string;
  mechanisms?: 'both' | 'dipolar' | 'random';
}

/** The seed's homonuclear pair: dipolar + correlated random field. */
export function pairYaml(o: PairOptions = {}): string {
  const mech = o.mechanisms ?? 'both';
  const lines = [
    'version: 1',
    'name: pair',
    'spins:',
    o.gamma === undefined ? '  - { id: a, isotope: 1H }' : `  - { id: a, spin: 0.5, gamma: ${o.gamma} }`,
    o.gamma === undefined ? '  - { id: b, isotope: 1H }' : `  - { id: b, spin: 0.5, gamma: ${o.gamma} }`,
    'parameters:',
    `  T: ${o.T ?? 300}`,
    `  B0: ${o.B0 ?? 9.4}`,
    `  tau_c: ${o.tau_c ?? 8e-12}`,
    `  tau_ran: ${o.tau_ran ?? 60e-12}`,
    `  kappa: ${o.kappa ?? 0}`,
    'relaxation:',
  ];
  if (mech !== 'random') lines.push(`  - { type: dipolar, spins: [a, b], b_hz: ${o.b_hz ?? 35000}, tau_c: tau_c }`);
  if (mech !== 'dipolar') lines.push(`  - { type: random_field, spins: [a, b], rms_hz: ${o.rms_hz ?? 2300}, tau_c: tau_ran, kappa: kappa }`);
  lines.push(
    `thermalization: ${o.thermalization ?? 'rodin-abergel'}`,
    `initial: ${o.initial ?? 'singlet(a,b)'}`,
    'observables:',
    '  Mz: Iz(a) + Iz(b)',
    '  IS: Ia.Ib',
    '  singlet: singlet(a,b)',
    `time: ${o.time ?? '{ stop: 60, points: 61 }'}`,
  );
  return `${lines.join('\n')}\n`;
}

export function pointOf(yaml: string, overrides: Record<string, number> = {}, thermal?: ThermalModel, contributions = false): PointResult {
  const { spec, problem, params } = problemFromYaml(yaml);
  return evaluatePoint(problem, { ...params, ...overrides }, thermal ?? (spec.thermalizations[0] as ThermalModel), { contributions });
}

export function generatorOf(yaml: string, overrides: Record<string, number> = {}, thermal?: ThermalModel): { g: Float64Array; n: number; problem: Problem; params: Record<string, number> } {
  const { spec, problem, params } = problemFromYaml(yaml);
  const p = { ...params, ...overrides };
  const g = assembleGenerator(problem.model, p, thermal ?? (spec.thermalizations[0] as ThermalModel));
  return { g, n: problem.model.basis.size, problem, params: p };
}

export function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
}
