/**
 * The DNP spec terms: malformed ones are rejected with the path of the offending field (in
 * process, fast), one of them through the real command line (exit code 2, no stack trace),
 * and the shipped DNP sweeps validate, with `validate` stating the rotating frame.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SpecError } from '../../src/spec/errors.js';
import { parseSpecText } from '../../src/spec/load.js';
import { Writable } from 'node:stream';
import { validateCommand } from '../../src/cli/commands/validate.js';
import { relaxmap, ROOT } from '../helpers/cli.js';

const BASE = `
version: 1
spins: [{ id: e, isotope: e }, { id: h, isotope: 1H }, { id: d, isotope: 2H }]
parameters: { T: 1.2, B0: 6.7, off: 0, t1: 1, t2: 1 }
hamiltonian:
  - { type: irradiation, spins: [e], nutation_hz: 1e5, offset_hz: off }
  - { type: hyperfine, spins: [e, h], a_hz: 1e5, b_hz: 2e5 }
relaxation:
  - { type: t1t2, spins: [e], t1_s: 1e-3, t2_s: 1e-6 }
  - { type: random_field, spins: [h], rms_hz: 1e3, tau_c: 1e-11, spectral_density: { model: phonon-direct, exponent: 4, nu_ref_hz: 1e9 } }
thermalization: rodin-abergel
observables: { Hz: Iz(h) }
sweep: { off: { lin: [-1e8, 1e8], points: 5 } }
`;

function issues(text: string): Array<{ path: string; message: string }> {
  try {
    parseSpecText(text, 'dnp');
  } catch (e) {
    if (e instanceof SpecError) return [...e.issues];
    throw e;
  }
  return [];
}

const CASES: ReadonlyArray<{ name: string; edit: [string, string]; path: string; message: RegExp }> = [
  { name: 'hyperfine with a nucleus first', edit: ['spins: [e, h], a_hz', 'spins: [h, e], a_hz'], path: 'hamiltonian[1].spins[0]', message: /first spin of a hyperfine coupling is the electron/ },
  { name: 'hyperfine with both A/B and the point-dipole model', edit: ['a_hz: 1e5, b_hz: 2e5', 'a_hz: 1e5, distance_m: 5e-10'], path: 'hamiltonian[1]', message: /either a_hz\/b_hz or the point-dipole model/ },
  { name: 'hyperfine theta without a distance', edit: ['a_hz: 1e5, b_hz: 2e5', 'a_hz: 1e5, theta_deg: 30'], path: 'hamiltonian[1]', message: /belong to the point-dipole model/ },
  { name: 'irradiation of two species at once', edit: ['spins: [e], nutation_hz', 'spins: [e, h], nutation_hz'], path: 'hamiltonian[0].spins[1]', message: /share the species/ },
  { name: 'a second irradiation of the same species', edit: ['  - { type: hyperfine', '  - { type: irradiation, spins: [e], nutation_hz: 1, offset_hz: 0 }\n  - { type: hyperfine'], path: 'hamiltonian[1]', message: /one rotating frame per species/ },
  { name: 'T2 > 2 T1', edit: ['t1_s: 1e-3, t2_s: 1e-6', 't1_s: 1e-3, t2_s: 3e-3'], path: 'relaxation[0].t2_s', message: /must not exceed 2 T1/ },
  { name: 'T2 > 2 T1 somewhere on the sweep', edit: ['t1_s: 1e-3, t2_s: 1e-6 }', 't1_s: t1, t2_s: t2 }'], path: 'relaxation[0].t2_s', message: /T2 = 5 s with T1 = 1 s/ },
  { name: 't1t2 on a spin 1', edit: ['spins: [e], t1_s', 'spins: [d], t1_s'], path: 'relaxation[0].spins[0]', message: /needs spins 1\/2/ },
  { name: 'phonon-direct exponent below 1', edit: ['exponent: 4', 'exponent: 0.5'], path: 'relaxation[1].spectral_density.exponent', message: />= 1/ },
  { name: 'phonon-direct without nu_ref_hz', edit: [', nu_ref_hz: 1e9', ''], path: 'relaxation[1].spectral_density.nu_ref_hz', message: /needs nu_ref_hz/ },
  { name: 'an exponent on a Lorentzian', edit: ['model: phonon-direct', 'model: lorentzian'], path: 'relaxation[1].spectral_density', message: /belong to model: phonon-direct/ },
  { name: 'a powder axis zipped with another', edit: ['sweep: { off: { lin: [-1e8, 1e8], points: 5 } }', 'sweep: { off: { lin: [-1e8, 1e8], points: 5, group: g }, t1: { powder: 5, group: g } }'], path: 'sweep.t1.group', message: /cannot be zipped/ },
  { name: 'a powder of one orientation', edit: ['sweep: { off: { lin: [-1e8, 1e8], points: 5 } }', 'sweep: { off: { powder: 1 } }'], path: 'sweep.off.powder', message: /at least 2 orientations/ },
];

describe('DNP spec terms', () => {
  it('the base spec is valid', () => {
    expect(issues(BASE)).toEqual([]);
  });
  for (const c of CASES) {
    it(`rejects ${c.name} at ${c.path}`, () => {
      let text = BASE.replace(c.edit[0], c.edit[1]);
      if (c.name === 'T2 > 2 T1 somewhere on the sweep') text = text.replace("sweep: { off: { lin: [-1e8, 1e8], points: 5 } }", 'sweep: { off: { lin: [-1e8, 1e8], points: 5 }, t2: { values: [1, 5] } }');
      expect(text).not.toBe(BASE);
      const found = issues(text);
      const hit = found.find((i) => i.path.replace(/ \(line \d+\)$/, '') === c.path);
      expect(hit, JSON.stringify(found)).toBeDefined();
      expect(hit?.message).toMatch(c.message);
    });
  }

  const dir = mkdtempSync(join(tmpdir(), 'relaxmap-dnp-spec-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 2 through the command line, naming the path', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, BASE.replace('t1_s: 1e-3, t2_s: 1e-6', 't1_s: 1e-3, t2_s: 3e-3'));
    const r = await relaxmap(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/relaxation\[0\]\.t2_s/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);

  it('the shipped DNP sweeps validate; validate states the rotating frame and its validity', () => {
    for (const s of ['solid-effect', 'overhauser-liquid', 'dnp-lowT']) {
      let out = '';
      let err = '';
      const sink = (f: (t: string) => void): NodeJS.WritableStream => new Writable({ write: (c, _e, done) => (f(String(c)), done()) });
      validateCommand(join(ROOT, 'sweeps', `${s}.yaml`), sink((t) => (out += t)), sink((t) => (err += t)));
      expect(err, s).toBe('');
      expect(out).toMatch(/rotating frame of e at the irradiation frequency/);
      expect(out).toMatch(/valid when nutation, A, B, J, d << the electron Larmor frequency/);
    }
  });
});
