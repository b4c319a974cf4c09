/**
 * Like spins with equal chemical shifts written in different ways ({ppm: 0}, a number and a
 * parameter, 1 + 1 ppm against 2 ppm) are equivalent: their zero-quantum coherence is
 * degenerate with the populations. Every such spec must give the numbers of the spec without
 * shifts at the shifted field B0 (1 + 1e-6 delta), to 1e-12.
 */
import { describe, expect, it } from 'vitest';
import type { PointResult } from '../../src/evaluate/point.js';
import { evaluatePoint } from '../../src/evaluate/point.js';
import { buildGeneratorModel } from '../../src/physics/generator-model.js';
import { parseSpecText } from '../../src/spec/load.js';
import { buildProblem, systemDescription } from '../../src/spec/resolve.js';
import { pointOf, problemFromYaml } from '../helpers/problems.js';

const B0 = 9.4;

function pairSpec(hamiltonian: string[], extra = '', sweep = ''): string {
  return `
version: 1
spins: [{ id: a, isotope: 1H }, { id: b, isotope: 1H }]
parameters: { T: 300, B0: ${B0}, tau: 8e-12, s: 1.0 }
${hamiltonian.length > 0 ? `hamiltonian:\n${hamiltonian.map((h) => `  - ${h}`).join('\n')}` : ''}
relaxation:
  - { type: dipolar, spins: [a, b], b_hz: 35000, tau_c: tau }
  - { type: random_field, spins: [a, b], rms_hz: 2300, tau_c: 60e-12, kappa: 0 }
thermalization: rodin-abergel
initial: singlet(a,b)
observables: { Mz: Iz(a) + Iz(b), singlet: "singlet(a,b)" }
time: { stop: 30, points: 7 }
${extra}
${sweep}
`;
}

function expectSame(got: PointResult, want: PointResult, tol = 1e-12): void {
  const rel = (x: number, y: number): number => Math.abs(x - y) / Math.max(Math.abs(y), 1e-300);
  for (const k of Object.keys(want.rates)) {
    expect(rel(got.rates[k] as number, want.rates[k] as number)).toBeLessThan(tol);
    // a steady state is read from populations of ~1/4 (two spins): float64 holds those to a few
    // ulps (5.6e-17 each), so a small polarization (Mz ~3e-5 at 300 K) is compared to that floor
    const ss = want.steady_state[k] as number;
    expect(Math.abs((got.steady_state[k] as number) - ss)).toBeLessThanOrEqual(Math.max(tol * Math.abs(ss), 4 * 2 ** -54));
    const tw = want.trajectories[k] as number[];
    const tg = got.trajectories[k] as number[];
    tw.forEach((v, i) => expect(Math.abs((tg[i] as number) - v)).toBeLessThan(tol * Math.max(...tw.map(Math.abs))));
  }
  expect(got.eigenrates.length).toBe(want.eigenrates.length);
  want.eigenrates.forEach((v, i) => expect(rel(got.eigenrates[i] as number, v)).toBeLessThan(tol));
}

describe('equal chemical shifts are equal however they are written', () => {
  const noShift = (shiftPpm: number, extra = ''): PointResult => pointOf(pairSpec([], extra), { B0: B0 * (1 + 1e-6 * shiftPpm) });

  it('{type: shift, spin: a, ppm: 0} on one spin only', () => {
    const got = pointOf(pairSpec(['{ type: shift, spin: a, ppm: 0 }']));
    expect(got.generator.path).toBe('fixed-basis');
    // before grouping by value: 0.2299 1/s instead of 0.04938 (the zero-quantum coherence was
    // kept apart from the populations)
    expect(got.rates.singlet as number).toBeCloseTo(0.04938, 5);
    expectSame(got, noShift(0));
  });

  it('1 + 1 ppm on one spin against 2 ppm on the other', () => {
    const got = pointOf(pairSpec(['{ type: shift, spin: a, ppm: 1 }', '{ type: shift, spin: a, ppm: 1 }', '{ type: shift, spin: b, ppm: 2 }']));
    expect(got.generator.path).toBe('fixed-basis');
    expectSame(got, noShift(2));
  });

  it('0.1 + 0.2 ppm against 0.3 ppm (unequal in floating point by 5.6e-17)', () => {
    const got = pointOf(pairSpec(['{ type: shift, spin: a, ppm: 0.1 }', '{ type: shift, spin: a, ppm: 0.2 }', '{ type: shift, spin: b, ppm: 0.3 }']));
    expect(got.generator.path).toBe('fixed-basis');
    expectSame(got, noShift(0.3));
  });

  it('the same parameter on both spins', () => {
    const got = pointOf(pairSpec(['{ type: shift, spin: a, ppm: s }', '{ type: shift, spin: b, ppm: s }']));
    expect(got.generator.path).toBe('fixed-basis');
    expectSame(got, noShift(1));
  });

  it('a number on one spin, a parameter of the same value on the other: per-point path', () => {
    const got = pointOf(pairSpec(['{ type: shift, spin: a, ppm: 1 }', '{ type: shift, spin: b, ppm: s }']));
    expect(got.generator.path).toBe('per-point');
    expectSame(got, noShift(1));
  });

  it('equal shifts with a J coupling (like spins: I.I commutes with their common Zeeman part)', () => {
    const j = '{ type: J, spins: [a, b], hz: 7 }';
    const got = pointOf(pairSpec(['{ type: shift, spin: a, ppm: 0 }', j]));
    expect(got.generator.path).toBe('fixed-basis');
    expectSame(got, pointOf(pairSpec([j]), { B0 }));
  });

  it('a swept shift that meets the other spin on the grid takes the per-point path; one that never does stays on the fixed basis', () => {
    const h = ['{ type: shift, spin: a, ppm: 1 }', '{ type: shift, spin: b, ppm: s }'];
    const meets = parseSpecText(pairSpec(h, '', 'sweep: { s: { values: [0.5, 1.0, 1.5] } }'), 'meets');
    const model = buildGeneratorModel(systemDescription(meets));
    expect(model.path).toBe('per-point');
    expect(model.pathReason).toContain('s=1');
    const misses = parseSpecText(pairSpec(h, '', 'sweep: { s: { values: [0.5, 1.5] } }').replace('s: 1.0 }', 's: 0.5 }'), 'misses');
    expect(buildGeneratorModel(systemDescription(misses)).path).toBe('fixed-basis');
    // the per-point model at s = 1 gives the no-shift numbers
    const problem = buildProblem(meets);
    const got = evaluatePoint(problem, { T: 300, B0, tau: 8e-12, s: 1 }, 'rodin-abergel');
    expectSame(got, noShift(1));
  });

  it('a fixed-basis model evaluated where its Zeeman groups coincide refuses instead of answering wrongly', () => {
    const h = ['{ type: shift, spin: a, ppm: 1 }', '{ type: shift, spin: b, ppm: s }'];
    const { problem } = problemFromYaml(pairSpec(h).replace('s: 1.0 }', 's: 0.5 }'));
    expect(problem.model.path).toBe('fixed-basis');
    expect(() => evaluatePoint(problem, { T: 300, B0, tau: 8e-12, s: 1 }, 'rodin-abergel')).toThrow(/coincide/);
  });
});
