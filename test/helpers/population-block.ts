import { CMatrix } from '../../src/math/cmatrix.js';
import { assembleGenerator } from '../../src/physics/assemble-generator.js';
import { HBAR, KB } from '../../src/physics/constants.js';
import type { ThermalModel } from '../../src/physics/thermalization.js';
import { problemFromYaml } from './problems.js';

export const hbarOverKT = (T: number): number => HBAR / (KB * T);

const s = Math.SQRT1_2;
/** |S0>, |T+1>, |T0>, |T-1> in the basis |aa>, |ab>, |ba>, |bb>. */
export const ST_STATES = [
  [0, s, -s, 0],
  [1, 0, 0, 0],
  [0, s, s, 0],
  [0, 0, 0, 1],
];

/** block[i][j] = <i| G(|j><j|) |i>: the rate from state j into state i. */
export function populationBlock(yaml: string): { block: number[][]; w0: number } {
  const { spec, problem, params } = problemFromYaml(yaml);
  const model = problem.model;
  const g = assembleGenerator(model, params, spec.thermalizations[0] as ThermalModel);
  const n = model.basis.size;
  const proj = (v: number[]): CMatrix => {
    const m = new CMatrix(4, 4);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) m.re[i * 4 + j] = (v[i] as number) * (v[j] as number);
    return m;
  };
  const block = ST_STATES.map((si) =>
    ST_STATES.map((sj) => {
      const x = model.basis.vector(proj(sj));
      const y = new Float64Array(n);
      for (let a = 0; a < n; a++) {
        let acc = 0;
        for (let c = 0; c < n; c++) acc += (g[a * n + c] as number) * (x[c] as number);
        y[a] = acc;
      }
      const op = model.basis.toOperator(y);
      let v = 0;
      for (let p = 0; p < 4; p++) for (let q = 0; q < 4; q++) v += (si[p] as number) * (op.re[p * 4 + q] as number) * (si[q] as number);
      return v;
    }),
  );
  const gamma = model.system.spin(0).gamma;
  return { block, w0: -gamma * (params.B0 as number) };
}
