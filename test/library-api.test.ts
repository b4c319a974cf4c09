/** The library entry point exposes the layers, and a user can go from YAML to rates with it. */
import { describe, expect, it } from 'vitest';
import * as relaxmap from '../src/index.js';

describe('library API (src/index.ts)', () => {
  it('evaluates a spec from text, one point and a batched chunk', () => {
    const text = `version: 1
spins: [{ id: a, isotope: 1H }, { id: b, isotope: 1H }]
parameters: { T: 300, B0: 9.4, tau: 1e-16 }
relaxation: [{ type: dipolar, spins: [a, b], b_hz: 35000, tau_c: tau }]
thermalization: rodin-abergel
observables: { Mz: Iz(a) + Iz(b) }
sweep: { T: { values: [1, 10, 100] } }
outputs: [rates]
`;
    const spec = relaxmap.parseSpecText(text, 'inline');
    const problem = relaxmap.buildProblem(spec);
    const point = relaxmap.evaluatePoint(problem, relaxmap.baseParameters(spec), 'rodin-abergel');
    const b = 2 * Math.PI * 35000;
    expect(Math.abs((point.rates.Mz as number) / (1.5 * b * b * 1e-16) - 1)).toBeLessThan(1e-9);
    const job = relaxmap.createJob({ text, source: 'inline', overrides: [] });
    const out = relaxmap.chunkViews(relaxmap.chunkShape(job, 3));
    relaxmap.kernelFor(job, 0).run(0, 3, out);
    for (let p = 0; p < 3; p++) expect(Math.abs((out.rates[p] as number) - (point.rates.Mz as number))).toBeLessThan(1e-12 * (point.rates.Mz as number));
  });
});
