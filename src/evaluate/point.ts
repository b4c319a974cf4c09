import { matvec } from '../math/dense.js';
import { liftVector, projectDense, projectVector } from '../liouville/reachable-subspace.js';
import { assembleGenerator } from '../physics/assemble-generator.js';
import { termsAt } from '../physics/generator-model.js';
import type { ParamValues } from '../physics/scalar.js';
import { boltzmannVector, maximallyMixedVector } from '../physics/states.js';
import type { ThermalModel } from '../physics/thermalization.js';
import { ModeExtractor } from './mode-extractor.js';
import { plainModesAt, symmetricModesAt } from './point-modes.js';
import type { KernelCounters } from './route-counters.js';
import { Propagator } from './propagator.js';
import { unphysicalWarnings } from './unphysical.js';
import { initialVector, type Problem } from './problem.js';

export interface ContributionSeries {
  readonly observable: string;
  readonly mechanism: string;
  readonly mechanismType: string;
  readonly mu: number;
  readonly part: 'dc' | 'thermal';
  /** Contribution to d<O>/dt at each time, 1/s times the unit of O. */
  readonly values: number[];
}

export interface PointResult {
  readonly params: Record<string, number>;
  readonly thermalization: ThermalModel;
  readonly rates: Record<string, number>;
  readonly eigenrates: number[];
  readonly amplitudes: Record<string, number[]>;
  readonly steady_state: Record<string, number>;
  readonly boltzmann: Record<string, number>;
  readonly trajectories: { t: number[] } & Record<string, number[]>;
  readonly contributions?: ContributionSeries[];
  readonly generator: { path: string; reduced_dimension: number; full_dimension: number };
  /** Numerical trouble found while evaluating (stiffness, non-finite values); absent when none. */
  readonly warnings?: string[];
}

export interface PointOptions {
  readonly contributions?: boolean;
  /**
   * Check the trajectory's density matrices for negative populations (default true; sweeps
   * judge expectation values only, see engine/unphysical.ts).
   */
  readonly populations?: boolean;
  /**
   * How trajectories are evaluated: 'intervals' (default, the reference: one matrix
   * exponential per distinct interval of the time grid, deviations from the steady state) or
   * 'modes' (from the modes, as the batched kernel does, when they reproduce <O>(0); the
   * exponentials otherwise).
   */
  readonly propagation?: 'intervals' | 'modes';
  /** Routes taken are counted here (the per-point path of the batched backends). */
  readonly counters?: KernelCounters;
}

/** Projection rate -(O'|G|O')/(O'|O') of the traceless part of O. */
export function projectionRate(g: Float64Array, n: number, o: Float64Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const oi = o[i] as number;
    if (oi === 0) continue;
    let s = 0;
    for (let j = 0; j < n; j++) s += (g[i * n + j] as number) * (o[j] as number);
    num += oi * s;
    den += oi * oi;
  }
  return den === 0 ? 0 : -num / den;
}

/** Trajectory of the reduced state: rho(t_k) for every time of the grid. */
export function propagate(gr: Float64Array, r: number, rho0: Float64Array, times: Float64Array): Float64Array[] {
  const pr = new Propagator(r);
  pr.setGenerator(gr, rho0[0] as number);
  const prop = new Float64Array(r * r);
  const out: Float64Array[] = [];
  let s = new Float64Array(r);
  pr.toCarried(rho0, s);
  let tPrev = 0;
  let stepPrev = NaN;
  for (const t of times) {
    const dt = t - tPrev;
    if (dt !== 0) {
      // equal steps (uniform grids) reuse one propagator
      if (!(Math.abs(dt - stepPrev) <= 1e-12 * Math.abs(dt))) {
        pr.step(dt, prop);
        stepPrev = dt;
      }
      const next = new Float64Array(r);
      matvec(prop, s, next, r);
      // coordinate 0 is the identity, constant under a trace-preserving generator: keep it exact
      next[0] = s[0] as number;
      s = next;
    }
    const rho = new Float64Array(r);
    pr.fromCarried(s, rho);
    out.push(rho);
    tPrev = t;
  }
  return out;
}

/** Float64 evaluation of one parameter point: everything of interface.md section 2. */
export function evaluatePoint(problem: Problem, p: ParamValues, thermal: ThermalModel, options: PointOptions = {}): PointResult {
  const { model, observables, times } = problem;
  const n = model.basis.size;
  const terms = termsAt(model, p, thermal);
  const g = assembleGenerator(model, p, thermal, terms);
  const { q, r } = problem.reduction;
  const gr = projectDense(q, r, g, n);
  const rho0 = initialVector(problem, p);
  const rho0r = projectVector(q, r, rho0);
  const obsR = observables.map((o) => projectVector(q, r, o.vector));
  const sigmaEq = boltzmannVector(model, p);

  const rates: Record<string, number> = {};
  const boltzmann: Record<string, number> = {};
  for (const o of observables) {
    rates[o.name] = projectionRate(g, n, o.traceless);
    let b = 0;
    for (let i = 0; i < n; i++) b += (o.vector[i] as number) * (sigmaEq[i] as number);
    boltzmann[o.name] = b;
  }

  const me = new ModeExtractor(r, observables.length);
  const obsPacked = new Float64Array(observables.length * r);
  obsR.forEach((o, k) => obsPacked.set(o, k * r));
  // detailed-balance and double-commutator generators: the symmetric route, as the kernel
  let symmetric = symmetricModesAt(problem, p, thermal, me);
  if (!symmetric && (thermal === 'semiclassical' || thermal === 'inhomogeneous')) {
    const ref = thermal === 'inhomogeneous' ? projectVector(q, r, sigmaEq) : projectVector(q, r, maximallyMixedVector(model));
    symmetric = plainModesAt(gr, r, rho0r, ref, obsPacked, me);
  }
  const modesOk = symmetric || me.extract(gr, rho0r, obsPacked);
  const counters = options.counters;
  if (counters) {
    if (symmetric) counters.symmetric++;
    else counters.general++;
  }
  const modeRates = Array.from(me.rates.subarray(0, me.modeCount));
  const steady_state: Record<string, number> = {};
  const amplitudes: Record<string, number[]> = {};
  observables.forEach((o, k) => {
    steady_state[o.name] = modesOk ? (me.steady[k] as number) : NaN;
    amplitudes[o.name] = modeRates.map((_, q) => me.amplitudes[q * observables.length + k] as number);
  });

  const trajectories: { t: number[] } & Record<string, number[]> = { t: Array.from(times) } as { t: number[] } & Record<string, number[]>;
  let states: Float64Array[] = [];
  const fromModes = options.propagation === 'modes' && !options.contributions && modesOk && (symmetric || reproducesInitial(me, obsR, rho0r));
  if (fromModes) {
    observables.forEach((o, k) => (trajectories[o.name] = modeTrajectory(me, k, times)));
    if (counters) counters.trajectoriesFromModes++;
  } else {
    states = propagate(gr, r, rho0r, times);
    observables.forEach((o, k) => {
      const ov = obsR[k] as Float64Array;
      trajectories[o.name] = states.map((s) => {
        let v = 0;
        for (let i = 0; i < r; i++) v += (ov[i] as number) * (s[i] as number);
        return v;
      });
    });
    if (counters && times.length > 0) {
      const steps = new Set<number>();
      let prev = 0;
      for (const t of times) {
        if (t !== prev) steps.add(t - prev);
        prev = t;
      }
      if (steps.size <= 1) counters.trajectoriesByStep++;
      else {
        counters.trajectoriesPerInterval++;
        counters.intervalExponentials += steps.size;
      }
    }
  }

  const warnings = numericalWarnings(gr, r, fromModes ? [Float64Array.from(observables.flatMap((o) => trajectories[o.name] as number[]))] : states, modeRates, times);
  if (!modesOk) warnings.push('the eigen-decomposition of the generator failed (non-finite entries or no convergence)');
  if (me.oscillating) warnings.push('some modes oscillate (complex eigenvalues): eigenrates are their decay rates, amplitudes the real parts');
  warnings.push(...unphysicalWarnings(problem, p, thermal, { steady: steady_state, boltzmann, trajectories, times, ...(options.populations === false ? {} : { states }) }));

  let contributions: ContributionSeries[] | undefined;
  if (options.contributions) {
    const full = states.map((s) => liftVector(q, r, s, n));
    // inhomogeneous: each mechanism acts on rho - sigma_eq
    if (thermal === 'inhomogeneous') for (const f of full) for (let i = 0; i < n; i++) f[i] = (f[i] as number) - (sigmaEq[i] as number);
    const groups = new Map<string, ContributionSeries>();
    const tmp = new Float64Array(n);
    for (const o of observables) {
      for (const t of terms) {
        const key = `${o.name}|${t.label.mechanism}|${t.label.mu}|${t.label.part}`;
        let gs = groups.get(key);
        if (!gs) {
          gs = {
            observable: o.name,
            mechanism: t.label.mechanismLabel,
            mechanismType: t.label.mechanismType,
            mu: t.label.mu,
            part: t.label.part,
            values: new Array<number>(times.length).fill(0),
          };
          groups.set(key, gs);
        }
        if (t.value === 0) continue;
        full.forEach((rho, k) => {
          t.matrix.matvec(rho, tmp);
          let v = 0;
          for (let i = 0; i < n; i++) v += (o.vector[i] as number) * (tmp[i] as number);
          (gs as ContributionSeries).values[k] = ((gs as ContributionSeries).values[k] as number) + t.value * v;
        });
      }
    }
    contributions = [...groups.values()].sort(
      (a, b) => a.observable.localeCompare(b.observable) || a.mechanism.localeCompare(b.mechanism) || b.mu - a.mu || a.part.localeCompare(b.part),
    );
  }

  const result: PointResult = {
    params: { ...p },
    thermalization: thermal,
    rates,
    eigenrates: modeRates,
    amplitudes,
    steady_state,
    boltzmann,
    trajectories,
    ...(contributions ? { contributions } : {}),
    generator: { path: model.path, reduced_dimension: r, full_dimension: n },
    ...(warnings.length > 0 ? { warnings } : {}),
  };
  return result;
}

function reproducesInitial(me: ModeExtractor, obsR: readonly Float64Array[], rho0: Float64Array): boolean {
  const initial = new Float64Array(obsR.length);
  const scale = new Float64Array(obsR.length);
  obsR.forEach((o, k) => {
    for (let i = 0; i < o.length; i++) {
      const x = (o[i] as number) * (rho0[i] as number);
      initial[k] = (initial[k] as number) + x;
      scale[k] = (scale[k] as number) + Math.abs(x);
    }
  });
  return me.reproduces(initial, scale);
}

/** <O_k>(t) from the trajectory modes of a ModeExtractor. */
function modeTrajectory(me: ModeExtractor, k: number, times: Float64Array): number[] {
  const nObs = me.nObs;
  return Array.from(times, (t) => {
    let v = me.steady[k] as number;
    for (let q = 0; q < me.trajCount; q++) {
      const e = Math.exp(-(me.trajRate[q] as number) * t);
      const w = (me.trajFreq[q] as number) * t;
      v += e * ((me.trajAmpRe[q * nObs + k] as number) * Math.cos(w) - (me.trajAmpIm[q * nObs + k] as number) * Math.sin(w));
    }
    return v;
  });
}

/**
 * Checks that float64 could represent this point: finite states and
 * a slowest rate above the round-off of the fastest (rates spanning more than ~12
 * decades, e.g. Bengs-Levitt factors cosh(beta w / 2) ~ 1e19 for electrons at 50 mK,
 * cannot be resolved by any float64 eigen- or exponential method).
 */
export function numericalWarnings(gr: Float64Array, r: number, states: readonly Float64Array[], rates: readonly number[], times: Float64Array): string[] {
  const out: string[] = [];
  let norm = 0;
  for (let j = 0; j < r; j++) {
    let s = 0;
    for (let i = 0; i < r; i++) s += Math.abs(gr[i * r + j] as number);
    norm = Math.max(norm, s);
  }
  if (!Number.isFinite(norm)) out.push('the generator has non-finite entries (a thermal factor overflowed)');
  const slowest = rates.length > 0 ? Math.min(...rates) : Infinity;
  if (Number.isFinite(norm) && slowest < 1e-12 * norm) {
    out.push(`rates span more than 12 decades (|G|_1 = ${norm.toExponential(3)} 1/s, slowest rate ${slowest.toExponential(3)} 1/s): the slow rates are below float64 resolution`);
  }
  const k = states.findIndex((s) => s.some((v) => !Number.isFinite(v)));
  if (k >= 0) out.push(`propagation lost accuracy at t = ${times[k]} s (non-finite values; |G|_1 t = ${(norm * (times[k] as number)).toExponential(3)})`);
  return out;
}

/** d rho/dt = G rho at one state, for tests of the contribution split. */
export function generatorTimes(g: Float64Array, n: number, rho: Float64Array): Float64Array {
  const out = new Float64Array(n);
  matvec(g, rho, out, n);
  return out;
}
