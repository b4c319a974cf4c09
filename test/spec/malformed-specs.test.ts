/**
 * Malformed specs through the real command line (interface.md sections 1 and 3): each case is
 * a small mutation of the paper-pair spec, written to a temporary file and run as a child
 * process. A bad spec must exit with code 2 and print, without a stack trace, a message that
 * names the offending path and, where it makes sense, the expected and the given value.
 *
 * The CLI runs from source through tsx (a dev dependency), exactly as bin/relaxmap.js runs
 * the compiled one (`process.exitCode = await main(process.argv)`): this needs no build and
 * cannot pick up a stale or half-written dist/ from a concurrent build.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN_URL = pathToFileURL(join(ROOT, 'src', 'cli', 'main.ts')).href;
const RUNNER = `const { main } = await import(${JSON.stringify(MAIN_URL)});
process.exitCode = await main(['node', 'relaxmap', ...process.argv.slice(1)]);`;

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function relaxmap(args: readonly string[]): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.RELAXMAP_DEBUG;
  return new Promise((done, fail) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', RUNNER, ...args],
      { cwd: ROOT, env, timeout: 50_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          fail(new Error(`relaxmap ${args.join(' ')} did not run: ${error.message}\n${stderr}`));
          return;
        }
        done({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
  });
}

/** The valid paper-pair spec (sweeps/paper-pair.yaml); every case below changes it a little. */
const BASE = `version: 1
name: paper-pair
spins:
  - { id: a, isotope: 1H }
  - { id: b, isotope: 1H }
parameters:
  T: 300
  B0: 9.4
  tau_c: 8e-12
  tau_ran: 60e-12
  kappa: 0
relaxation:
  - { type: dipolar, spins: [a, b], b_hz: 35000, tau_c: tau_c }
  - { type: random_field, spins: [a, b], rms_hz: 2300, tau_c: tau_ran, kappa: kappa }
thermalization: rodin-abergel
initial: singlet(a,b)
observables:
  Mz: Iz(a) + Iz(b)
  singlet: singlet(a,b)
time: { stop: 60, points: 61 }
sweep:
  T: { log: [0.05, 300], points: 12 }
  kappa: { values: [-0.5, 0, 0.5, 0.9] }
outputs: [rates, eigenrates, steady_state, trajectories]
`;

/** BASE with each `from` replaced by `to`; a replacement that does not apply is a bug of the test. */
function mutate(...edits: ReadonlyArray<readonly [string, string]>): string {
  let y = BASE;
  for (const [from, to] of edits) {
    if (!y.includes(from)) throw new Error(`mutation does not apply: ${JSON.stringify(from)}`);
    y = y.replace(from, () => to);
  }
  return y;
}

const DIPOLAR = '  - { type: dipolar, spins: [a, b], b_hz: 35000, tau_c: tau_c }';
const RANDOM_FIELD = '  - { type: random_field, spins: [a, b], rms_hz: 2300, tau_c: tau_ran, kappa: kappa }';
const SPIN_B = '  - { id: b, isotope: 1H }';
const SWEEP_T = '  T: { log: [0.05, 300], points: 12 }\n';
const SWEEP_KAPPA = '  kappa: { values: [-0.5, 0, 0.5, 0.9] }';

interface Case {
  readonly name: string;
  readonly yaml: string;
  /** The offending path, as printed at the start of an issue line (`  relaxation[1].kappa (line 14): ...`). */
  readonly path: string;
  /** Further fragments the message must contain (expected and given values, hints). */
  readonly mentions?: readonly (string | RegExp)[];
  /** Command and options; the spec file is appended after the command name. Default: validate. */
  readonly command?: 'validate' | 'point';
  readonly options?: readonly string[];
}

const CASES: readonly Case[] = [
  {
    name: 'YAML syntax error (unclosed flow mapping)',
    yaml: mutate([SPIN_B, '  - { id: b, isotope: 1H']),
    path: 'line',
    mentions: ['YAML syntax error', /line \d+, column \d+/],
  },
  {
    name: 'YAML syntax error (bad indentation), with its line',
    yaml: mutate(['  B0: 9.4\n', '  B0: 9.4\n    tau_x: : 1\n']),
    path: 'line',
    mentions: ['YAML syntax error', /line (8|9), column \d+/],
  },
  {
    name: 'the document is not a mapping',
    yaml: '- version: 1\n- name: paper-pair\n',
    path: '(root)',
    mentions: ['expected a mapping', 'got [{"version":1}'],
  },
  {
    name: 'wrong version',
    yaml: mutate(['version: 1', 'version: 2']),
    path: 'version',
    mentions: ['expected version: 1', 'got 2'],
  },
  {
    name: 'unknown top-level key',
    yaml: mutate(['name: paper-pair', 'name: paper-pair\ncolour: blue']),
    path: 'colour',
    mentions: ['unknown key "colour"', 'expected one of: version, name', 'spins', 'relaxation', 'sweep'],
  },
  {
    name: 'unknown key inside a mechanism',
    yaml: mutate([RANDOM_FIELD, '  - { type: random_field, spins: [a, b], rms_hz: 2300, tau_c: tau_ran, kapa: kappa }']),
    path: 'relaxation[1].kapa',
    mentions: ['unknown key "kapa"', 'expected one of: type, spins, rms_hz, tau_c, kappa'],
  },
  {
    name: 'unknown key inside a spin',
    yaml: mutate([SPIN_B, '  - { id: b, isotop: 1H }']),
    path: 'spins[1].isotop',
    mentions: ['unknown key "isotop"', 'expected one of: id, isotope, spin, gamma'],
  },
  {
    name: 'unknown key inside the time grid',
    yaml: mutate(['time: { stop: 60, points: 61 }', 'time: { stop: 60, points: 61, step: 1 }']),
    path: 'time.step',
    mentions: ['unknown key "step"', 'expected one of: stop, points'],
  },
  {
    name: 'missing spins',
    yaml: mutate(['spins:\n  - { id: a, isotope: 1H }\n' + SPIN_B + '\n', '']),
    path: 'spins',
    mentions: ['required', 'expected a list of spins'],
  },
  {
    name: 'duplicate spin id',
    yaml: mutate([SPIN_B, `${SPIN_B}\n  - { id: a, isotope: 13C }`]),
    path: 'spins[2].id',
    mentions: ['duplicate spin id "a"'],
  },
  {
    name: 'unknown isotope',
    yaml: mutate([SPIN_B, '  - { id: b, isotope: 1X }']),
    path: 'spins[1].isotope',
    mentions: ['expected one of 1H', '13C', 'got "1X"'],
  },
  {
    name: 'isotope together with gamma',
    yaml: mutate([SPIN_B, '  - { id: b, isotope: 1H, gamma: 2.675e8 }']),
    path: 'spins[1]',
    mentions: ['either isotope, or spin and gamma', 'not both'],
  },
  {
    name: 'spin 0.7',
    yaml: mutate([SPIN_B, '  - { id: b, spin: 0.7, gamma: 2.675e8 }']),
    path: 'spins[1].spin',
    mentions: ['half-integer', 'got 0.7'],
  },
  {
    name: 'unknown spin in a mechanism',
    yaml: mutate([DIPOLAR, '  - { type: dipolar, spins: [a, c], b_hz: 35000, tau_c: tau_c }']),
    path: 'relaxation[0].spins[1]',
    mentions: ['unknown spin "c"', 'spins: a, b'],
  },
  {
    name: 'unknown spin in a J coupling',
    yaml: mutate(['relaxation:\n', 'hamiltonian:\n  - { type: J, spins: [a, z], hz: 7 }\nrelaxation:\n']),
    path: 'hamiltonian[0].spins[1]',
    mentions: ['unknown spin "z"', 'spins: a, b'],
  },
  {
    name: 'unknown spin in an observable',
    yaml: mutate(['  Mz: Iz(a) + Iz(b)', '  Mz: Iz(a) + Iz(c)']),
    path: 'observables.Mz',
    mentions: ['unknown spin "c"'],
  },
  {
    name: 'unknown spin in the initial state',
    yaml: mutate(['initial: singlet(a,b)', 'initial: singlet(a,q)']),
    path: 'initial',
    mentions: ['unknown spin "q"'],
  },
  {
    name: 'dipolar with both b_hz and distance_m',
    yaml: mutate([DIPOLAR, '  - { type: dipolar, spins: [a, b], b_hz: 35000, distance_m: 2e-10, tau_c: tau_c }']),
    path: 'relaxation[0]',
    mentions: ['exactly one of b_hz', 'distance_m', 'got both'],
  },
  {
    name: 'dipolar with neither b_hz nor distance_m',
    yaml: mutate([DIPOLAR, '  - { type: dipolar, spins: [a, b], tau_c: tau_c }']),
    path: 'relaxation[0]',
    mentions: ['exactly one of b_hz', 'distance_m', 'got neither'],
  },
  {
    name: 'dipolar between a spin and itself',
    yaml: mutate([DIPOLAR, '  - { type: dipolar, spins: [a, a], b_hz: 35000, tau_c: tau_c }']),
    path: 'relaxation[0].spins',
    mentions: ['two different spins', 'got [a, a]'],
  },
  {
    name: 'J coupling between a spin and itself',
    yaml: mutate(['relaxation:\n', 'hamiltonian:\n  - { type: J, spins: [b, b], hz: 7 }\nrelaxation:\n']),
    path: 'hamiltonian[0].spins',
    mentions: ['two different spins', 'got [b, b]'],
  },
  {
    name: 'T <= 0 (a fixed parameter)',
    yaml: mutate(['  T: 300', '  T: -5'], [SWEEP_T, '']),
    path: 'parameters.T',
    mentions: ['> 0', 'takes the value -5', 'from parameters.T'],
  },
  {
    name: 'T <= 0 as the fixed value of a swept parameter (the base of point)',
    yaml: mutate(['  T: 300', '  T: -5']),
    path: 'parameters.T',
    mentions: ['> 0', 'takes the value -5', 'from parameters.T'],
  },
  {
    name: 'T <= 0 somewhere on its sweep axis',
    yaml: mutate([SWEEP_T, '  T: { lin: [0, 300], points: 12 }\n']),
    path: 'parameters.T',
    mentions: ['> 0', 'takes the value 0', 'from sweep.T'],
  },
  {
    name: 'T as a string that names no parameter',
    yaml: mutate(['  T: 300', '  T: warm']),
    path: 'parameters.T',
    mentions: ['expected a finite number', 'got "warm"'],
  },
  {
    name: 'a mechanism field naming no parameter',
    yaml: mutate([DIPOLAR, '  - { type: dipolar, spins: [a, b], b_hz: 35000, tau_c: tau_d }']),
    path: 'relaxation[0].tau_c',
    mentions: ['unknown parameter "tau_d"'],
  },
  {
    name: 'kappa = 1.5 fixed in the mechanism',
    yaml: mutate([RANDOM_FIELD, '  - { type: random_field, spins: [a, b], rms_hz: 2300, tau_c: tau_ran, kappa: 1.5 }'], [SWEEP_KAPPA, '']),
    path: 'relaxation[1].kappa',
    mentions: ['expected in [-1, 1]', 'got 1.5'],
  },
  {
    name: 'kappa parameter out of range only along its sweep axis',
    yaml: mutate([SWEEP_KAPPA, '  kappa: { values: [-0.5, 0, 0.5, 1.2] }']),
    path: 'relaxation[1].kappa',
    mentions: ['"kappa"', 'takes the value 1.2', 'from sweep.kappa', 'in [-1, 1]'],
  },
  {
    name: 'negative tau_c',
    yaml: mutate([DIPOLAR, '  - { type: dipolar, spins: [a, b], b_hz: 35000, tau_c: -8e-12 }']),
    path: 'relaxation[0].tau_c',
    mentions: ['> 0', 'got -8e-12'],
  },
  {
    name: 'negative correlation time through a parameter',
    yaml: mutate(['  tau_ran: 60e-12', '  tau_ran: -60e-12']),
    path: 'relaxation[1].tau_c',
    mentions: ['"tau_ran"', 'takes the value -6e-11', 'from parameters.tau_ran', '> 0'],
  },
  {
    name: 'NaN (.nan) in a mechanism',
    yaml: mutate([RANDOM_FIELD, '  - { type: random_field, spins: [a, b], rms_hz: .nan, tau_c: tau_ran, kappa: kappa }']),
    path: 'relaxation[1].rms_hz',
    mentions: ['finite number', 'got NaN'],
  },
  {
    name: 'NaN (.nan) as a parameter value',
    yaml: mutate(['  B0: 9.4', '  B0: .nan']),
    path: 'parameters.B0',
    mentions: ['finite number', 'got NaN'],
  },
  {
    name: 'unknown thermalization model',
    yaml: mutate(['thermalization: rodin-abergel', 'thermalization: rodin']),
    path: 'thermalization',
    mentions: ['rodin-abergel', 'bengs-levitt', 'got "rodin"'],
  },
  {
    name: 'unknown thermalization model inside a list',
    yaml: mutate(['thermalization: rodin-abergel', 'thermalization: [rodin-abergel, bengs]']),
    path: 'thermalization[1]',
    mentions: ['rodin-abergel', 'bengs-levitt', 'got "bengs"'],
  },
  {
    name: 'duplicated thermalization model in a list',
    yaml: mutate(['thermalization: rodin-abergel', 'thermalization: [rodin-abergel, semiclassical, rodin-abergel]']),
    path: 'thermalization[2]',
    mentions: ['"rodin-abergel" is listed twice', 'thermalization[0]'],
  },
  {
    name: 'an output listed twice',
    yaml: mutate(['outputs: [rates, eigenrates, steady_state, trajectories]', 'outputs: [rates, eigenrates, rates]']),
    path: 'outputs[2]',
    mentions: ['"rates" is listed twice'],
  },
  {
    name: 'unknown output',
    yaml: mutate(['outputs: [rates, eigenrates, steady_state, trajectories]', 'outputs: [rates, surfaces]']),
    path: 'outputs[1]',
    mentions: ['expected one of rates, eigenrates', 'got "surfaces"'],
  },
  {
    name: 'malformed initial singlet(a)',
    yaml: mutate(['initial: singlet(a,b)', 'initial: singlet(a)']),
    path: 'initial',
    mentions: ["'thermal'", 'singlet(a,b)', 'got "singlet(a)"'],
  },
  {
    name: 'unknown initial state foo',
    yaml: mutate(['initial: singlet(a,b)', 'initial: foo']),
    path: 'initial',
    mentions: ["'thermal'", "'saturated'", 'got "foo"'],
  },
  {
    name: 'operator expression ending in +',
    yaml: mutate(['  Mz: Iz(a) + Iz(b)', '  Mz: Iz(a) +']),
    path: 'observables.Mz',
    mentions: ['column', '"Iz(a) +"'],
  },
  {
    name: 'unknown operator Iq',
    yaml: mutate(['  Mz: Iz(a) + Iz(b)', '  Mz: Iq(a)']),
    path: 'observables.Mz',
    mentions: ['Iq', 'column 1', '"Iq(a)"'],
  },
  {
    name: 'malformed deviation in the initial state',
    yaml: mutate(['initial: singlet(a,b)', 'initial: { deviation: "Iz(a) * (Iz(b)" }']),
    path: 'initial.deviation',
    mentions: ['column', '"Iz(a) * (Iz(b)"'],
  },
  {
    name: 'non-Hermitian observable Ip(a)',
    yaml: mutate(['  Mz: Iz(a) + Iz(b)', '  Mz: Ip(a)']),
    path: 'observables.Mz',
    mentions: ['"Ip(a)" is not Hermitian', 'expected a Hermitian operator'],
  },
  {
    name: 'initial deviation that is not an expression',
    yaml: mutate(['initial: singlet(a,b)', 'initial: { deviation: 1 }']),
    path: 'initial.deviation',
    mentions: ['expected an operator expression', 'got 1'],
  },
  {
    name: "observable named 't'",
    yaml: mutate(['  Mz: Iz(a) + Iz(b)', '  t: Iz(a) + Iz(b)']),
    path: 'observables.t',
    mentions: ["'t' is reserved"],
  },
  {
    name: 'time grid with stop <= 0',
    yaml: mutate(['time: { stop: 60, points: 61 }', 'time: { stop: 0, points: 61 }']),
    path: 'time.stop',
    mentions: ['> 0', 'got 0'],
  },
  {
    name: 'log time grid with start >= stop',
    yaml: mutate(['time: { stop: 60, points: 61 }', 'time: { log: [10, 1], points: 50 }']),
    path: 'time.log[1]',
    mentions: ['> start (10)', 'got 1'],
  },
  {
    name: 'sweep axis with zero points',
    yaml: mutate([SWEEP_T, '  T: { log: [0.05, 300], points: 0 }\n']),
    path: 'sweep.T.points',
    mentions: ['at least 1 point', 'got 0'],
  },
  {
    name: 'sweep axis with an empty value list',
    yaml: mutate([SWEEP_KAPPA, '  kappa: { values: [] }']),
    path: 'sweep.kappa.values',
    mentions: ['at least one value'],
  },
  {
    name: 'log sweep axis through 0',
    yaml: mutate([SWEEP_KAPPA, '  kappa: { log: [-0.5, 0.9], points: 4 }']),
    path: 'sweep.kappa.log',
    mentions: ['both ends > 0', 'got [-0.5,0.9]'],
  },
  {
    name: 'sweep over an unused parameter',
    yaml: mutate(['  kappa: 0\n', '  kappa: 0\n  unused: 1\n'], [SWEEP_KAPPA, `${SWEEP_KAPPA}\n  unused: { values: [1, 2] }`]),
    path: 'sweep.unused',
    mentions: ['"unused"', 'not used'],
  },
  {
    name: 'sweep over an unknown parameter',
    yaml: mutate([SWEEP_KAPPA, `${SWEEP_KAPPA}\n  zeta: { values: [1, 2] }`]),
    path: 'sweep.zeta',
    mentions: ['unknown parameter "zeta"'],
  },
  {
    name: 'zipped group with unequal lengths',
    yaml: mutate(
      [SWEEP_T, '  T: { log: [0.05, 300], points: 12, group: g }\n'],
      [SWEEP_KAPPA, '  kappa: { values: [-0.5, 0, 0.5, 0.9], group: g }'],
    ),
    path: 'sweep.kappa.group',
    mentions: ['"g"', 'equal lengths', 'kappa has 4', 'T has 12'],
  },
  {
    name: 'lipari-szabo without S2',
    yaml: mutate([DIPOLAR, '  - { type: dipolar, spins: [a, b], b_hz: 35000, tau_c: tau_c, spectral_density: { model: lipari-szabo, tau_e: 1e-12 } }']),
    path: 'relaxation[0].spectral_density.S2',
    mentions: ['lipari-szabo needs S2'],
  },
  {
    name: 'cross-correlation of mechanisms with different spectral densities',
    yaml: mutate(
      [DIPOLAR, `${DIPOLAR}\n  - { type: csa, spin: a, delta_ppm: 5, tau_c: 1e-11 }`],
      ['outputs: [', 'cross_correlations: [{ between: ["dipolar(a,b)", "csa(a)"], angle_deg: 20 }]\noutputs: ['],
    ),
    path: 'cross_correlations[0].between',
    mentions: ['different spectral densities', 'tau_c "tau_c"', 'tau_c 1e-11'],
  },
  {
    name: 'cross-correlation with a random field',
    yaml: mutate(['outputs: [', 'cross_correlations: [{ between: ["dipolar(a,b)", "random_field(a,b)"], p2: 0.5 }]\noutputs: [']),
    path: 'cross_correlations[0].between[1]',
    mentions: ['only rank-2 mechanisms'],
  },
  {
    name: 'quadrupolar relaxation of a spin 1/2',
    yaml: mutate([DIPOLAR, `${DIPOLAR}\n  - { type: quadrupolar, spin: a, cq_hz: 1e5, tau_c: tau_c }`]),
    path: 'relaxation[1].spin',
    mentions: ['needs a spin >= 1', 'spin 0.5'],
  },
  {
    name: 'CSA with both delta_ppm and delta_sigma_ppm',
    yaml: mutate([DIPOLAR, `${DIPOLAR}\n  - { type: csa, spin: a, delta_ppm: 5, delta_sigma_ppm: 7.5, tau_c: tau_c }`]),
    path: 'relaxation[1]',
    mentions: ['exactly one of delta_ppm', 'delta_sigma_ppm', 'got both'],
  },
  {
    name: 'spin system too large (7 spins 1/2)',
    yaml: mutate([SPIN_B, [SPIN_B, ...['c', 'd', 'e', 'f', 'g'].map((id) => `  - { id: ${id}, isotope: 1H }`)].join('\n')]),
    path: 'spins',
    mentions: ['Hilbert space dimension 128', 'exceeds 64'],
  },
  {
    name: 'point --set with a value that is not a number',
    yaml: BASE,
    command: 'point',
    options: ['--set', 'kappa=abc'],
    path: '--set kappa',
    mentions: ['expected a finite number', 'abc'],
  },
  {
    name: 'point --set naming an unused parameter',
    yaml: BASE,
    command: 'point',
    options: ['--set', 'zeta=1'],
    path: '--set zeta',
    mentions: ["'zeta'", 'used: '],
  },
  {
    name: 'point --set putting a parameter out of range',
    yaml: BASE,
    command: 'point',
    options: ['--set', 'kappa=1.5', '--json'],
    path: 'relaxation[1].kappa',
    mentions: ['takes the value 1.5', 'in [-1, 1]'],
  },
];

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'relaxmap-malformed-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the valid paper-pair spec', () => {
  it('validate exits 0 (the shipped file and the copy the cases mutate)', async () => {
    const shipped = await relaxmap(['validate', join(ROOT, 'sweeps', 'paper-pair.yaml')]);
    expect(shipped.stderr).toBe('');
    expect(shipped.code).toBe(0);
    expect(shipped.stdout).toMatch(/^ok: paper-pair/);
    const file = join(dir, 'base.yaml');
    writeFileSync(file, BASE);
    const copy = await relaxmap(['validate', file]);
    expect(copy.stderr).toBe('');
    expect(copy.code).toBe(0);
  });

  it('point --json prints one JSON object with the documented keys', async () => {
    const r = await relaxmap(['point', join(ROOT, 'sweeps', 'paper-pair.yaml'), '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const key of ['params', 'rates', 'eigenrates', 'amplitudes', 'steady_state', 'boltzmann', 'trajectories']) {
      expect(out, key).toHaveProperty(key);
    }
    expect(out.params).toMatchObject({ T: 300, B0: 9.4, kappa: 0 });
    expect(Object.keys(out.rates as object).sort()).toEqual(['Mz', 'singlet']);
    expect(Array.isArray(out.eigenrates)).toBe(true);
    const traj = out.trajectories as Record<string, unknown>;
    expect((traj.t as unknown[]).length).toBe(61);
    expect((traj.singlet as unknown[]).length).toBe(61);
  });
});

describe('malformed specs exit 2 with a message naming the path, without a stack trace', () => {
  it('has at least 30 distinct cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
    const specs = CASES.filter((c) => c.command !== 'point').map((c) => c.yaml);
    expect(new Set(specs).size).toBe(specs.length);
    expect(specs).not.toContain(BASE);
  });

  CASES.forEach((c, i) => {
    it.concurrent(c.name, async ({ expect }) => {
      const file = join(dir, `case-${String(i).padStart(2, '0')}.yaml`);
      writeFileSync(file, c.yaml);
      const command = c.command ?? 'validate';
      const r = await relaxmap([command, file, ...(c.options ?? [])]);
      const shown = `exit ${r.code}\n--- stderr\n${r.stderr}--- stdout\n${r.stdout.slice(0, 400)}`;
      expect(r.code, shown).toBe(2);
      expect(r.stderr, shown).toMatch(/^relaxmap: /);
      expect(r.stderr, `stack trace in\n${shown}`).not.toMatch(/^\s+at /m);
      expect(r.stdout, shown).toBe('');
      if (c.command === 'point') {
        // usage errors are one line; spec errors list the path first on an indented line
        expect(r.stderr, shown).toMatch(new RegExp(`(^relaxmap: ${escapeRegExp(c.path)}\\b)|(^\\s+${escapeRegExp(c.path)}[ :])`, 'm'));
      } else {
        expect(r.stderr, shown).toMatch(new RegExp(`^\\s+${escapeRegExp(c.path)}[ :,]`, 'm'));
      }
      for (const m of c.mentions ?? []) {
        if (typeof m === 'string') expect(r.stderr, shown).toContain(m);
        else expect(r.stderr, shown).toMatch(m);
      }
    });
  });
});
