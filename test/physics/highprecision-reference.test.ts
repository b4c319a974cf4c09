/**
 * An independent 40-digit implementation of the conventions (test/fixtures/make_highprecision.py:
 * complex Hilbert operators, column-stacked Liouville space, mpmath expm) against relaxmap's
 * float64 real-basis engine: rates to 1e-13 relative, trajectories to 1e-13 absolute.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ThermalModel } from '../../src/physics/thermalization.js';
import { pairYaml, pointOf, relErr } from '../helpers/problems.js';

interface HpCase {
  name: string;
  T: number;
  B0: number;
  kappa: number;
  thermalization: ThermalModel;
  initial: 'singlet' | 'inverted';
  t: number[];
  Mz: number[];
  singlet: number[];
  R1: number;
  RS: number;
}
const fx = JSON.parse(readFileSync(new URL('../fixtures/highprecision_pair.json', import.meta.url), 'utf8')) as { cases: HpCase[] };

describe('40-digit independent reference', () => {
  for (const c of fx.cases) {
    it(c.name, () => {
      const r = pointOf(
        pairYaml({
          T: c.T,
          B0: c.B0,
          kappa: c.kappa,
          thermalization: c.thermalization,
          initial: c.initial === 'singlet' ? 'singlet(a,b)' : 'inverted',
          time: `{ stop: ${c.t[c.t.length - 1]}, points: ${c.t.length} }`,
        }),
      );
      expect(relErr(r.rates.Mz as number, c.R1)).toBeLessThan(1e-13);
      expect(relErr(r.rates.IS as number, c.RS)).toBeLessThan(1e-13);
      c.Mz.forEach((v, k) => expect(Math.abs((r.trajectories.Mz?.[k] as number) - v)).toBeLessThan(1e-13));
      c.singlet.forEach((v, k) => expect(Math.abs((r.trajectories.singlet?.[k] as number) - v)).toBeLessThan(1e-13));
    });
  }
});
