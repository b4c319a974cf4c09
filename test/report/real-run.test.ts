/**
 * Figures and report from a run directory written by the real executor (`relaxmap run`), not
 * a fixture: the seed's Figures 1-2 setting (inverted and singlet initial states, no sweep)
 * and a thermalization x T (log) x kappa (values) sweep. Catches any drift between the files
 * the executor writes and what plot/report read.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plotRunDirectory } from '../../src/plot/index.js';
import { loadRunDirectory } from '../../src/plot/run-directory.js';
import { writeReport } from '../../src/report/index.js';
import { relaxmap, ROOT } from '../helpers/cli.js';

const PAPER_FIGURES = `version: 1
name: paper-figures
spins:
  - { id: a, isotope: 1H }
  - { id: b, isotope: 1H }
parameters: { T: 300, B0: 9.4, tau_c: 8e-12, tau_ran: 60e-12, kappa: 0 }
relaxation:
  - { type: dipolar, spins: [a, b], b_hz: 35000, tau_c: tau_c }
  - { type: random_field, spins: [a, b], rms_hz: 2300, tau_c: tau_ran, kappa: kappa }
thermalization: rodin-abergel
initial: [inverted, "singlet(a,b)"]
observables:
  Mz: Iz(a) + Iz(b)
  singlet: singlet(a,b)
time: { stop: 60, points: 61 }
outputs: [rates, eigenrates, steady_state, trajectories, contributions]
`;

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'relaxmap-real-run-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

async function run(specText: string, name: string): Promise<string> {
  const spec = join(root, `${name}.yaml`);
  const out = join(root, name);
  writeFileSync(spec, specText);
  const r = await relaxmap(['run', spec, '--out', out, '--backend', 'inline', '--quiet']);
  expect(r.code, r.stderr).toBe(0);
  return out;
}

describe('plot and report on real run directories', () => {
  it('draws Figures 1 and 2 from contributions.nc written by relaxmap run', async () => {
    const dir = await run(PAPER_FIGURES, 'paper');
    const data = await loadRunDirectory(dir);
    expect(data.contributions?.terms.map((t) => t.mechanism)).toContain('random_field(a,b)');
    const { files, warnings } = await plotRunDirectory(dir, { formats: ['svg'] });
    expect(files.map((f) => basename(f)).sort()).toEqual(['contributions_Mz.svg', 'contributions_singlet.svg', 'traj_Mz.svg', 'traj_singlet.svg']);
    expect(warnings).toEqual(['surfaces.nc has no numeric sweep axis: no surface figures (the values are in points.csv)']);
    const svg = readFileSync(join(dir, 'figures', 'contributions_singlet.svg'), 'utf8');
    for (const t of ['(a) dipolar(a,b), from inverted', '(d) random_field(a,b), from singlet(a,b)']) expect(svg).toContain(t);
    const { notes } = await writeReport(dir);
    expect(notes).toEqual([]);
  });

  it('draws the surfaces of a thermalization x T x kappa sweep', async () => {
    const spec = readFileSync(join(ROOT, 'sweeps', 'paper-pair.yaml'), 'utf8').replace('thermalization: rodin-abergel', 'thermalization: [rodin-abergel, bengs-levitt]');
    const dir = await run(spec, 'pair');
    const { files, warnings } = await plotRunDirectory(dir, { formats: ['svg'] });
    expect(warnings).toEqual([]);
    const names = files.map((f) => basename(f));
    for (const n of ['rate_Mz.svg', 'ss_over_boltzmann_singlet.svg', 'diff_rate_Mz.svg', 'eigenrate_1.svg', 'traj_singlet.svg']) expect(names).toContain(n);
    const svg = readFileSync(join(dir, 'figures', 'rate_Mz.svg'), 'utf8');
    expect(svg).toContain('>T (K)<');
    expect(svg).toContain('>kappa<');
    expect(svg).toContain('>bengs-levitt<');
    await writeReport(dir);
  });
});
