/**
 * Algebraic identities of the generators: Boltzmann stationarity for the detailed-balance
 * models, trace preservation, positivity, E/d for the semiclassical model, temperature
 * (in)dependence of rates, and the exactness of the reachable-subspace reduction.
 */
import { describe, expect, it } from 'vitest';
import { hermitianEigen } from '../../src/math/hermitian-eig.js';
import { propagate } from '../../src/evaluate/point.js';
import { initialVector } from '../../src/evaluate/problem.js';
import { liftVector, projectDense, projectVector } from '../../src/liouville/reachable-subspace.js';
import { boltzmannVector } from '../../src/physics/states.js';
import type { ThermalModel } from '../../src/physics/thermalization.js';
import { generatorOf, pairYaml, pointOf, relErr } from '../helpers/problems.js';
import { ELECTRON_PROTON, SPIN1_SYSTEM, STRONG_COUPLING, THREE_SPIN_SYSTEM } from '../helpers/systems.js';

const SYSTEMS: Record<string, (thermal: string, T: number, initial?: string) => string> = {
  'homonuclear pair': (t, T, i) => pairYaml({ thermalization: t as ThermalModel, T, initial: i ?? 'singlet(a,b)', time: '{ log: [1e-3, 100], points: 25 }' }),
  'spin-1 + 1H': SPIN1_SYSTEM,
  '1H-1H-13C with J': THREE_SPIN_SYSTEM,
  'electron-1H at 3.4 T': ELECTRON_PROTON,
  'strongly coupled pair (per-point path)': (t, T, i) => STRONG_COUPLING(t, T, 12, i),
};

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i] as number) ** 2;
  return Math.sqrt(s);
}

describe('Boltzmann state is stationary for the detailed-balance models', () => {
  for (const [name, yaml] of Object.entries(SYSTEMS)) {
    for (const thermal of ['rodin-abergel', 'bengs-levitt', 'inhomogeneous'] as const) {
      for (const T of [300, 4, 0.05]) {
        it(`${name}, ${thermal}, ${T} K: |G sigma_eq| < 1e-12 |G| |sigma_eq|`, () => {
          const { g, n, problem, params } = generatorOf(yaml(thermal, T));
          const sigma = boltzmannVector(problem.model, params);
          const gs = new Float64Array(n);
          for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) gs[i] = (gs[i] as number) + (g[i * n + j] as number) * (sigma[j] as number);
          expect(norm(gs)).toBeLessThan(1e-12 * norm(g) * norm(sigma));
        });
      }
    }
  }
  it('semiclassical and high-temperature models are not stationary at 0.05 K (they are approximations)', () => {
    for (const thermal of ['semiclassical', 'high-temperature']) {
      const { g, n, problem, params } = generatorOf(SYSTEMS['homonuclear pair']!(thermal, 0.05));
      const sigma = boltzmannVector(problem.model, params);
      const gs = new Float64Array(n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) gs[i] = (gs[i] as number) + (g[i * n + j] as number) * (sigma[j] as number);
      expect(norm(gs)).toBeGreaterThan(1e-6 * norm(g) * norm(sigma));
    }
  });
});

describe('trace preservation and E/d', () => {
  for (const [name, yaml] of Object.entries(SYSTEMS)) {
    for (const thermal of ['rodin-abergel', 'bengs-levitt', 'inhomogeneous', 'semiclassical', 'high-temperature'] as const) {
      it(`${name}, ${thermal}: the identity row of G vanishes`, () => {
        const { g, n, problem } = generatorOf(yaml(thermal, 1));
        const e = problem.model.basis.identityIndex;
        let big = 0;
        let row = 0;
        for (let k = 0; k < n * n; k++) big = Math.max(big, Math.abs(g[k] as number));
        for (let j = 0; j < n; j++) row = Math.max(row, Math.abs(g[e * n + j] as number));
        expect(row).toBeLessThanOrEqual(1e-14 * big);
      });
    }
    it(`${name}: the semiclassical model relaxes to E/d`, () => {
      const r = pointOf(yaml('semiclassical', 0.05, 'inverted'));
      const { problem } = generatorOf(yaml('semiclassical', 0.05, 'inverted'));
      const d = problem.model.system.dim;
      for (const o of problem.observables) {
        const trOverD = ((o.vector[0] as number) * Math.sqrt(d)) / d;
        expect(Math.abs((r.steady_state[o.name] as number) - trOverD)).toBeLessThan(1e-10);
      }
    });
    it(`${name}: rodin-abergel relaxes to the Boltzmann state from an inverted start`, () => {
      const r = pointOf(yaml('rodin-abergel', 0.05, 'inverted'));
      for (const [o, b] of Object.entries(r.boltzmann)) expect(Math.abs((r.steady_state[o] as number) - b)).toBeLessThan(1e-9 * Math.max(1, Math.abs(b)));
    });
  }
});

describe('positivity: populations stay in [0, 1], rho(t) >= 0', () => {
  for (const [name, yaml] of Object.entries(SYSTEMS)) {
    for (const thermal of ['rodin-abergel', 'bengs-levitt', 'semiclassical'] as const) {
      for (const initial of ['inverted', name.includes('pair') ? 'singlet(a,b)' : 'saturated']) {
        // electrons at 3.4 T: 1 K (beta w = 4.5); at 50 mK the Bengs-Levitt factors reach
        // cosh(45) ~ 1e19 and no float64 method resolves the rates (see the warning test).
        const T = name.startsWith('electron') ? 1 : 0.05;
        it(`${name}, ${thermal}, from ${initial}, ${T} K`, () => {
          const { g, n, problem, params } = generatorOf(yaml(thermal, T, initial));
          const { q, r } = problem.reduction;
          const rho0 = projectVector(q, r, initialVector(problem, params));
          const states = propagate(projectDense(q, r, g, n), r, rho0, problem.times);
          for (const s of states) {
            const rho = problem.model.basis.toOperator(liftVector(q, r, s, n));
            const { values } = hermitianEigen(rho);
            expect(values[0] as number).toBeGreaterThan(-1e-12);
            for (let i = 0; i < rho.rows; i++) {
              const pop = rho.re[i * rho.rows + i] as number;
              expect(pop).toBeGreaterThan(-1e-12);
              expect(pop).toBeLessThan(1 + 1e-12);
            }
            let tr = 0;
            for (let i = 0; i < rho.rows; i++) tr += rho.re[i * rho.rows + i] as number;
            expect(Math.abs(tr - 1)).toBeLessThan(1e-12);
          }
        });
      }
    }
  }
});

describe('numerical limits are reported, not hidden', () => {
  it('electron-1H with Bengs-Levitt at 50 mK warns that the rates exceed float64 resolution', () => {
    const r = pointOf(ELECTRON_PROTON('bengs-levitt', 0.05, 'inverted'));
    expect(r.warnings?.length ?? 0).toBeGreaterThan(0);
    expect((r.warnings ?? []).join(' ')).toMatch(/decades|lost accuracy/);
  });
  it('the same system with rodin-abergel at 50 mK is clean', () => {
    const r = pointOf(ELECTRON_PROTON('rodin-abergel', 0.05, 'inverted'));
    expect(r.warnings).toBeUndefined();
  });
});

describe('temperature dependence of the rates', () => {
  const at = (thermal: ThermalModel, T: number): Record<string, number> => pointOf(pairYaml({ thermalization: thermal, T, B0: 9.394638 })).rates;
  it('rodin-abergel: identical projection rates from 300 K to 10 mK (1e-12)', () => {
    const ref = at('rodin-abergel', 300);
    for (const T of [4, 0.05, 0.01]) {
      const r = at('rodin-abergel', T);
      for (const k of Object.keys(ref)) expect(relErr(r[k] as number, ref[k] as number)).toBeLessThan(1e-12);
    }
  });
  it('bengs-levitt: R1 grows at low temperature, about 6% at 0.05 K and 400 MHz', () => {
    const hi = at('bengs-levitt', 300).Mz as number;
    const lo = at('bengs-levitt', 0.05).Mz as number;
    expect(lo / hi - 1).toBeGreaterThan(0.05);
    expect(lo / hi - 1).toBeLessThan(0.07);
    expect(relErr(hi, at('rodin-abergel', 300).Mz as number)).toBeLessThan(1e-8);
  });
});

describe('reduction and modes are exact', () => {
  for (const [name, yaml] of Object.entries(SYSTEMS)) {
    it(`${name}: reduced propagation equals full-space propagation (1e-13)`, () => {
      const { g, n, problem, params } = generatorOf(yaml('rodin-abergel', 1));
      const { q, r } = problem.reduction;
      const rho0 = initialVector(problem, params);
      const full = propagate(g, n, rho0, problem.times);
      const red = propagate(projectDense(q, r, g, n), r, projectVector(q, r, rho0), problem.times);
      red.forEach((s, k) => {
        const lifted = liftVector(q, r, s, n);
        for (let i = 0; i < n; i++) expect(Math.abs((lifted[i] as number) - ((full[k] as Float64Array)[i] as number))).toBeLessThan(1e-13);
      });
    });
    it(`${name}: steady state + sum_k a_k exp(-lambda_k t) reproduces the trajectory`, () => {
      const res = pointOf(yaml('bengs-levitt', 1));
      for (const o of Object.keys(res.rates)) {
        const traj = res.trajectories[o] as number[];
        const scale = Math.max(1e-300, ...traj.map(Math.abs));
        res.trajectories.t.forEach((t, k) => {
          let v = res.steady_state[o] as number;
          res.eigenrates.forEach((rate, m) => (v += (res.amplitudes[o]?.[m] as number) * Math.exp(-rate * t)));
          expect(Math.abs(v - (traj[k] as number))).toBeLessThan(1e-9 * scale);
        });
      }
    });
  }
  it('a homonuclear pair from a singlet evolves in 4 of 16 dimensions', () => {
    const { problem } = generatorOf(pairYaml());
    expect(problem.reduction.r).toBe(4);
    expect(problem.model.path).toBe('fixed-basis');
  });
  it('strong coupling takes the per-point path and joins the fixed path as J -> 0', () => {
    const strong = generatorOf(STRONG_COUPLING('rodin-abergel', 4, 1e-7));
    expect(strong.problem.model.path).toBe('per-point');
    const weak = generatorOf(STRONG_COUPLING('rodin-abergel', 4, 0));
    expect(weak.problem.model.path).toBe('fixed-basis');
    const a = pointOf(STRONG_COUPLING('rodin-abergel', 4, 1e-7));
    const b = pointOf(STRONG_COUPLING('rodin-abergel', 4, 0));
    for (const o of ['Mz', 'singlet']) {
      expect(relErr(a.rates[o] as number, b.rates[o] as number)).toBeLessThan(1e-9);
      (a.trajectories[o] as number[]).forEach((v, k) => expect(Math.abs(v - (b.trajectories[o]?.[k] as number))).toBeLessThan(1e-9));
    }
  });
});

describe('contributions split d<O>/dt exactly', () => {
  for (const thermal of ['rodin-abergel', 'inhomogeneous'] as const) {
    it(`${thermal}: the sum over mechanism x mu x part equals d<O>/dt`, () => {
      const yaml = pairYaml({ thermalization: thermal, T: 1, time: '{ stop: 30, points: 7 }' });
      const res = pointOf(yaml, {}, undefined, true);
      const { g, n, problem, params } = generatorOf(yaml);
      const { q, r } = problem.reduction;
      const states = propagate(projectDense(q, r, g, n), r, projectVector(q, r, initialVector(problem, params)), problem.times);
      for (const o of problem.observables) {
        const series = (res.contributions ?? []).filter((c) => c.observable === o.name);
        expect(series.length).toBeGreaterThan(0);
        states.forEach((s, k) => {
          const rho = liftVector(q, r, s, n);
          let dodt = 0;
          for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) dodt += (o.vector[i] as number) * (g[i * n + j] as number) * (rho[j] as number);
          const sum = series.reduce((acc, c) => acc + (c.values[k] as number), 0);
          expect(Math.abs(sum - dodt)).toBeLessThan(1e-12 * Math.max(1, ...series.map((c) => Math.abs(c.values[k] as number))));
        });
      }
    });
  }
  it('singlet order is immune to dipolar relaxation (seed Fig. 2): dipolar contributions to d<singlet>/dt vanish', () => {
    const res = pointOf(pairYaml({ time: '{ stop: 30, points: 7 }' }), {}, undefined, true);
    for (const c of res.contributions ?? []) {
      if (c.observable === 'singlet' && c.mechanismType === 'dipolar') for (const v of c.values) expect(Math.abs(v)).toBeLessThan(1e-15);
    }
  });
});
