/**
 * Every case of the QuTiP peer vectors (test/fixtures/qutip/qutip_pair_vectors.json, a copy of the peer vectors computed with brmesolve,
 * atol 1e-14 / rtol 1e-12): projection rates to 1e-9 relative, equilibrium values to 1e-9
 * relative, trajectories to 1e-9 of max |trajectory| or 1e-11 absolute, whichever is larger.
 *
 * The absolute floor is the reference's own error: its ODE solver controls the error of the
 * whole state (populations of order 1) at rtol 1e-12 per step, so a 3e-5 magnetization at
 * 300 K carries up to ~6e-12 of solver error. Checked against 40-digit mpmath propagations of
 * the same generator (cases 00, 03, 07, 11, 31): relaxmap's float64 <Mz> agrees with them to
 * 2e-18 absolute, the reference to 6e-13..6e-12 absolute. qutip-highprecision.test.ts checks
 * trajectories against an independent 40-digit model at 1e-13.
 */
import { describe, expect, it } from 'vitest';
import { pointOf, relErr } from '../helpers/problems.js';
import { qutipCases, qutipCaseYaml } from '../helpers/qutip.js';

const ref = { cases: qutipCases() };

describe('QuTiP peer vectors', () => {
  it('has the 28 cases', () => expect(ref.cases.length).toBe(28));
  for (const c of ref.cases) {
    it(c.id, () => {
      // w0 is given directly; gamma (its sign as for 1H) and B0 reproduce it
      expect(relErr(-c.gamma_rad_per_s_per_T * c.B0_T, c.w0_rad_per_s)).toBeLessThan(1e-12);
      const yaml = qutipCaseYaml(c);
      const r = pointOf(yaml);
      expect(relErr(r.rates.Mz as number, c.R1_per_s)).toBeLessThan(1e-9);
      expect(relErr(r.rates.IS as number, c.RS_per_s)).toBeLessThan(1e-9);
      expect(relErr(r.boltzmann.Mz as number, c.Iz_total_eq)).toBeLessThan(1e-9);
      expect(relErr(r.boltzmann.singlet as number, c.singlet_population_eq)).toBeLessThan(1e-9);
      for (const [mine, theirs] of [
        [r.trajectories.Mz, c.Iz_total],
        [r.trajectories.singlet, c.singlet_population],
      ] as const) {
        const scale = Math.max(...theirs.map(Math.abs));
        let worst = 0;
        theirs.forEach((v, k) => (worst = Math.max(worst, Math.abs((mine?.[k] as number) - v))));
        expect(worst).toBeLessThan(Math.max(1e-9 * scale, 1e-11));
      }
    });
  }
});
