/** The QuTiP peer vectors (test/fixtures/qutip) and the spec of each case. */
import { readFileSync } from 'node:fs';
import { pairYaml } from './problems.js';

export interface QutipCase {
  id: string;
  gamma_rad_per_s_per_T: number;
  w0_rad_per_s: number;
  B0_T: number;
  T_K: number;
  b_rad_per_s: number;
  tau_c_s: number;
  tau_ran_s: number;
  wrms_rad_per_s: number;
  kappa: number;
  thermal_model: 'rodin_f_beta' | 'schofield_theta';
  initial_state: 'singlet' | 'inverted_thermal';
  t_s: number[];
  Iz_total: number[];
  singlet_population: number[];
  R1_per_s: number;
  RS_per_s: number;
  Iz_total_eq: number;
  singlet_population_eq: number;
}

export function qutipCases(): QutipCase[] {
  const url = new URL('../fixtures/qutip/qutip_pair_vectors.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { cases: QutipCase[] }).cases;
}

/** The seed pair of a case, on the case's own time grid (observables Mz, IS, singlet). */
export function qutipCaseYaml(c: QutipCase): string {
  return pairYaml({
    gamma: c.gamma_rad_per_s_per_T,
    B0: c.B0_T,
    T: c.T_K,
    b_hz: c.b_rad_per_s / (2 * Math.PI),
    tau_c: c.tau_c_s,
    rms_hz: c.wrms_rad_per_s / (2 * Math.PI),
    tau_ran: c.tau_ran_s,
    kappa: c.kappa,
    thermalization: c.thermal_model === 'rodin_f_beta' ? 'rodin-abergel' : 'bengs-levitt',
    initial: c.initial_state === 'singlet' ? 'singlet(a,b)' : 'inverted',
    time: `{ values: [${c.t_s.join(', ')}] }`,
  });
}
