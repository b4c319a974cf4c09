/**
 * The library as a batch script uses it: specs as objects wherever a path is taken, inputs
 * validated with the CLI's schema and errors, the one-point evaluator refusing what the spec
 * would refuse, and what `point` and `plot` tell about initial lists and shard directories.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import * as relaxmap from '../../src/index.js';
import { pointCommand } from '../../src/cli/commands/point.js';

const SPEC = {
  version: 1,
  name: 'api-pair',
  spins: [
    { id: 'a', isotope: '1H' },
    { id: 'b', isotope: '1H' },
  ],
  parameters: { T: 300, B0: 9.4, tau_c: 1e-11 },
  relaxation: [{ type: 'dipolar', spins: ['a', 'b'], b_hz: 35000, tau_c: 'tau_c' }],
  thermalization: 'rodin-abergel',
  initial: ['inverted', 'singlet(a,b)'],
  observables: { Mz: 'Iz(a) + Iz(b)' },
  time: { stop: 10, points: 3 },
};

const dir = mkdtempSync(join(tmpdir(), 'relaxmap-api-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const errorOf = (f: () => unknown): Error => {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('no error');
};

describe('spec objects', () => {
  it('runSweep takes a spec object and writes the same spec.yaml it validated', async () => {
    const out = join(dir, 'run');
    const spec = { ...SPEC, sweep: { T: { values: [1, 10, 100] } } };
    const summary = await relaxmap.runSweep({ spec, outDir: out, backend: 'inline', quiet: true });
    expect(summary.points).toBe(6);
    expect(parse(readFileSync(join(out, 'spec.yaml'), 'utf8'))).toEqual(spec);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { spec: { source: string } };
    expect(run.spec.source).toBe('spec object "api-pair"');
    // like-spin dipolar (Solomon): R1 = (3/10) b^2 [tau/(1 + w^2 tau^2) + 4 tau/(1 + 4 w^2 tau^2)] = (3/20) b^2 [J(w) + 4 J(2w)]
    const rate = (await relaxmap.loadRunDirectory(out)).surfaces.fields.get('rate_Mz')?.data[0] as number;
    const b = 2 * Math.PI * 35000;
    const w = 2.6752218744e8 * 9.4;
    const J = (x: number): number => (2 * 1e-11) / (1 + x * x * 1e-22);
    expect(Math.abs(rate / ((3 / 20) * b * b * (J(w) + 4 * J(2 * w))) - 1)).toBeLessThan(1e-9);
  });

  it('rejects a bad object before writing anything, with the CLI error naming the field and no line numbers', async () => {
    const out = join(dir, 'bad');
    const e = await relaxmap.runSweep({ spec: { ...SPEC, relaxation: [{ ...SPEC.relaxation[0], tau_c: -1 }] }, outDir: out, quiet: true }).then(
      () => new Error('no error'),
      (x: unknown) => x as Error,
    );
    expect(e).toBeInstanceOf(relaxmap.SpecError);
    expect(e.message).toMatch(/^spec object "api-pair": 1 error in the spec\n {2}relaxation\[0\]\.tau_c: expected > 0 \(correlation time in s\), got -1$/);
    expect(existsSync(out)).toBe(false);
    expect(errorOf(() => relaxmap.loadSpec({ ...SPEC, parameters: { T: Number.NaN, B0: 1, tau_c: 1e-11 } })).message).toMatch(/parameters\.T: expected a finite number, got NaN/);
    expect(errorOf(() => relaxmap.loadSpec({ ...SPEC, time: { values: new Float64Array([0, 1]) } })).message).toMatch(/time\.values: expected a plain array/);
  });
});

describe('one point', () => {
  it('point(spec, { set }) is relaxmap point --set, and says which initial state of a list it evaluated', () => {
    const r = relaxmap.point(SPEC, { set: { T: 4 } });
    expect(r.initial).toBe('inverted');
    expect(r.params.T).toBe(4);
    expect(relaxmap.point(SPEC, { initial: 'singlet(a,b)' }).initial).toBe('singlet(a,b)');
  });

  it('evaluatePoint refuses T = -5, a misspelled model, unknown and missing parameters (SpecError, as the CLI)', () => {
    const spec = relaxmap.loadSpec(SPEC);
    const problem = relaxmap.buildProblem(spec);
    const ok = relaxmap.evaluatePoint(problem, { T: 300, B0: 9.4, tau_c: 1e-11 }, 'rodin-abergel');
    expect(ok.rates.Mz).toBeGreaterThan(0);
    const neg = errorOf(() => relaxmap.evaluatePoint(problem, { T: -5, B0: 9.4, tau_c: 1e-11 }, 'rodin-abergel'));
    expect(neg).toBeInstanceOf(relaxmap.SpecError);
    expect(neg.message).toMatch(/parameters\.T: parameter "T" takes the value -5 \(from parameters\.T\), expected > 0 \(temperature in K\)/);
    const model = errorOf(() => relaxmap.evaluatePoint(problem, { T: 300, B0: 9.4, tau_c: 1e-11 }, 'rodin-abergl' as never));
    expect(model).toBeInstanceOf(relaxmap.SpecError);
    expect(model.message).toMatch(/thermalization: expected one of .*rodin-abergel, got "rodin-abergl"/);
    const names = errorOf(() => relaxmap.evaluatePoint(problem, { T: 300, B0: 9.4, tau: 1e-11 }, 'rodin-abergel'));
    expect((names as relaxmap.SpecError).issues.map((i) => i.path)).toEqual(['params.tau', 'params.tau_c']);
    const tau = errorOf(() => relaxmap.evaluatePoint(problem, { T: 300, B0: 9.4, tau_c: 0 }, 'rodin-abergel'));
    expect(tau.message).toMatch(/relaxation\[0\]\.tau_c: parameter "tau_c" takes the value 0/);
  });

  it('the CLI point says so for an initial list, and takes --set initial=...', () => {
    writeFileSync(join(dir, 'list.yaml'), `${JSON.stringify(SPEC)}\n`);
    const out: string[] = [];
    const sink = { write: (s: string) => out.push(s) } as unknown as NodeJS.WritableStream;
    const quiet = { write: () => true } as unknown as NodeJS.WritableStream;
    pointCommand(join(dir, 'list.yaml'), {}, sink, quiet);
    expect(out.join('')).toMatch(/initial state: inverted \(first of the listed initial states; --set initial=\.\.\. for another\)/);
    out.length = 0;
    pointCommand(join(dir, 'list.yaml'), { set: ['initial=singlet(a,b)'], json: true }, sink, quiet);
    expect((JSON.parse(out.join('')) as { initial: string }).initial).toBe('singlet(a,b)');
  });
});

describe('initial deviations', () => {
  it('warn when E/d + X is no density operator, with the largest admissible factor', () => {
    const base = { ...SPEC, initial: { deviation: 'Iz(a)' } };
    const w = relaxmap.loadSpec(base).warnings;
    // E/4 + Iz(a) has eigenvalues 1/4 +- 1/2: -1/4; s Iz(a) is a state for s <= 1/(4 * 1/2)
    expect(w).toEqual([expect.stringMatching(/^initial\.deviation: E\/d \+ Iz\(a\) is not a density operator \(its smallest eigenvalue is -0\.25\).*s\*\(Iz\(a\)\) is a state for s <= 0\.5$/)]);
    expect(relaxmap.loadSpec({ ...SPEC, initial: { deviation: '0.5*Iz(a)' } }).warnings).toEqual([]);
  });
});

describe('plot on a shard directory', () => {
  it('points to relaxmap merge', async () => {
    const shard = join(dir, 'shard-0');
    mkdirSync(shard, { recursive: true });
    writeFileSync(join(shard, 'shard.json'), '{}');
    writeFileSync(join(shard, 'spec.yaml'), 'version: 1\n');
    const e = await relaxmap.plotRunDirectory(shard).then(
      () => new Error('no error'),
      (x: unknown) => x as Error,
    );
    expect(e).toBeInstanceOf(relaxmap.UsageError);
    expect(e.message).toMatch(/one shard of a sharded run .*relaxmap merge SHARD_DIR\.\.\. --out MERGED/);
  });
});
