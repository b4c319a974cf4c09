/**
 * Small run directories written exactly as docs/run-directory.md describes them (dims in the
 * documented order, coordinate attributes units/long_name/axis_kind, the documented variable
 * names, units and global attributes), with smooth synthetic values whose shapes resemble a
 * real run: rates spanning decades over a log temperature axis, exponential trajectories,
 * contributions per mechanism x mu x part.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeNetcdf, type NcDimension, type NcVariable } from '../../src/io/netcdf.js';

export interface SweepAxis {
  readonly name: string;
  readonly values: readonly number[];
  readonly units: string;
  readonly kind: 'lin' | 'log' | 'values';
  /** Zipped group members: the axis is a group dim with an index coordinate. */
  readonly members?: ReadonlyArray<{ readonly name: string; readonly values: readonly number[]; readonly units: string }>;
}

export interface FixtureOptions {
  readonly thermalization?: readonly string[];
  readonly initial?: readonly string[];
  readonly sweep: readonly SweepAxis[];
  readonly observables?: ReadonlyArray<{ readonly name: string; readonly expression: string }>;
  /** Times of trajectories.nc and contributions.nc; absent: no trajectories. */
  readonly times?: readonly number[];
  readonly contributions?: boolean;
  readonly modes?: number;
  /** Leave a `.relaxmap/` directory, as a run in progress does. */
  readonly active?: boolean;
}

const PAIR_OBSERVABLES = [
  { name: 'Mz', expression: 'Iz(a) + Iz(b)' },
  { name: 'singlet', expression: 'singlet(a,b)' },
];

/** The documented term list: dipolar mu = -2..2 and random_field mu = -1..1 (each with a dc and a thermal part). */
export function fixtureTerms(): Array<{ label: string; mechanism: string; type: string; mu: number }> {
  const out: Array<{ label: string; mechanism: string; type: string; mu: number }> = [];
  const mech = [
    { mechanism: 'dipolar(a,b)', type: 'dipolar', mus: [2, 1, 0, -1, -2] },
    { mechanism: 'random_field(a,b)', type: 'random_field', mus: [1, 0, -1] },
  ];
  for (const m of mech) {
    for (const mu of m.mus) {
      const sign = mu > 0 ? '+' : mu < 0 ? '-' : '';
      out.push({ label: `${m.mechanism} mu=${sign}${Math.abs(mu)}`, mechanism: m.mechanism, type: m.type, mu });
    }
  }
  return out;
}

export const FIXTURE_PARTS = ['dc', 'thermal'] as const;

function productShape(n: readonly number[]): number {
  return n.reduce((a, b) => a * b, 1);
}

/** Calls fn with the index tuple of every point of a row-major shape, last index fastest. */
function forEachIndex(shape: readonly number[], fn: (idx: readonly number[], flat: number) => void): void {
  const total = productShape(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < total; flat++) {
    fn(idx, flat);
    for (let k = shape.length - 1; k >= 0; k--) {
      idx[k] = (idx[k] as number) + 1;
      if ((idx[k] as number) < (shape[k] as number)) break;
      idx[k] = 0;
    }
  }
}

export async function writeFixtureRun(dir: string, opts: FixtureOptions): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const observables = opts.observables ?? PAIR_OBSERVABLES;
  const modes = opts.modes ?? 3;
  const catDims: NcDimension[] = [];
  if (opts.thermalization) catDims.push({ name: 'thermalization', values: [...opts.thermalization], attrs: { long_name: 'thermalization model' } });
  if (opts.initial) catDims.push({ name: 'initial', values: [...opts.initial], attrs: { long_name: 'initial state' } });
  const sweepDims: NcDimension[] = opts.sweep.map((a) =>
    a.members
      ? { name: a.name, values: Float64Array.from(a.values.keys()), attrs: { units: '1', long_name: `zipped group ${a.name}`, axis_kind: 'values' } }
      : { name: a.name, values: Float64Array.from(a.values), attrs: { units: a.units, long_name: a.name, axis_kind: a.kind } },
  );
  const memberVars: NcVariable[] = opts.sweep.flatMap((a) =>
    (a.members ?? []).map((m) => ({ name: m.name, dims: [a.name], data: Float64Array.from(m.values), attrs: { units: m.units, long_name: m.name, axis_kind: a.kind } })),
  );
  const baseDims = [...catDims, ...sweepDims];
  const baseNames = baseDims.map((d) => d.name);
  const baseShape = baseDims.map((d) => d.values.length);
  const nBase = productShape(baseShape);
  const sweepIdx = opts.sweep.map((_, k) => catDims.length + k);
  const thermIdx = opts.thermalization ? 0 : -1;
  const initIdx = opts.initial ? catDims.length - 1 : -1;
  /** Normalised position of each sweep coordinate in [0, 1] (log axes in log space). */
  const pos = (idx: readonly number[], k: number): number => {
    const a = opts.sweep[k];
    const n = a?.values.length ?? 0;
    return n <= 1 ? 0.5 : (idx[sweepIdx[k] as number] as number) / (n - 1);
  };
  // A rate that spans about three decades along the first axis and varies along the others.
  const rateAt = (idx: readonly number[], o: number): number => {
    let r = 0.5 * (o + 1);
    opts.sweep.forEach((_, k) => {
      r *= k === 0 ? 10 ** (3 * pos(idx, k) - 1) : 1 + 0.8 * pos(idx, k);
    });
    const model = thermIdx >= 0 ? (idx[thermIdx] as number) : 0;
    const init = initIdx >= 0 ? (idx[initIdx] as number) : 0;
    return r * (1 + 0.25 * model) * (1 + 0.1 * init);
  };
  const ssAt = (idx: readonly number[], o: number): number => {
    const model = thermIdx >= 0 ? (idx[thermIdx] as number) : 0;
    return (o === 0 ? 1e-5 : 0.25) * (1 + 0.05 * model * (1 - pos(idx, 0)));
  };
  const startAt = (idx: readonly number[], o: number): number => {
    const init = initIdx >= 0 ? (idx[initIdx] as number) : 0;
    return o === 0 ? (init === 0 ? -1e-5 : 0) : init === 0 ? 0.25 : 1;
  };

  const surfaceVars: NcVariable[] = [...memberVars];
  observables.forEach((o, oi) => {
    const rate = new Float64Array(nBase);
    const ss = new Float64Array(nBase);
    const boltz = new Float64Array(nBase);
    const ratio = new Float64Array(nBase);
    const amp = new Float64Array(nBase * modes);
    forEachIndex(baseShape, (idx, flat) => {
      rate[flat] = rateAt(idx, oi);
      ss[flat] = ssAt(idx, oi);
      boltz[flat] = (oi === 0 ? 1e-5 : 0.25) * (1 + 0.01 * pos(idx, 0));
      ratio[flat] = (ss[flat] as number) / (boltz[flat] as number);
      for (let m = 0; m < modes; m++) amp[flat * modes + m] = (startAt(idx, oi) - (ss[flat] as number)) / (m + 1) ** 2;
    });
    // One undefined point, as a failed point of a real run leaves.
    if (nBase > 4) rate[nBase - 2] = NaN;
    const sweepOnly = [...baseNames];
    surfaceVars.push(
      { name: `rate_${o.name}`, dims: sweepOnly, data: rate, attrs: { units: 's-1', long_name: `projection rate of ${o.name}` } },
      { name: `ss_${o.name}`, dims: sweepOnly, data: ss, attrs: { units: '1', long_name: `steady-state <${o.name}>` } },
      { name: `boltzmann_${o.name}`, dims: sweepOnly, data: boltz, attrs: { units: '1', long_name: `Boltzmann <${o.name}>` } },
      { name: `ss_over_boltzmann_${o.name}`, dims: sweepOnly, data: ratio, attrs: { units: '1', long_name: `steady state over Boltzmann, ${o.name}` } },
      { name: `amp_${o.name}`, dims: [...sweepOnly, 'mode'], data: amp, attrs: { units: '1', long_name: `mode amplitudes of ${o.name}` } },
    );
    if (opts.thermalization) {
      const ref = opts.thermalization[0] as string;
      const stride = nBase / opts.thermalization.length;
      const diff = (v: Float64Array): Float64Array => v.map((x, i) => x - (v[i % stride] as number));
      surfaceVars.push(
        { name: `diff_rate_${o.name}`, dims: sweepOnly, data: diff(rate), attrs: { units: 's-1', long_name: `rate_${o.name} minus ${ref}`, reference: ref } },
        { name: `diff_ss_${o.name}`, dims: sweepOnly, data: diff(ss), attrs: { units: '1', long_name: `ss_${o.name} minus ${ref}`, reference: ref } },
      );
    }
  });
  const eig = new Float64Array(nBase * modes);
  forEachIndex(baseShape, (idx, flat) => {
    for (let m = 0; m < modes; m++) eig[flat * modes + m] = rateAt(idx, 0) * (m + 1) * (1 + 0.3 * m);
  });
  surfaceVars.push(
    { name: 'eigenrate', dims: [...baseNames, 'mode'], data: eig, attrs: { units: 's-1', long_name: 'eigenrates reachable from the initial state, ascending' } },
    {
      name: 'flags',
      dims: baseNames,
      data: new Float64Array(nBase),
      dtype: 'uint16',
      attrs: { units: '1', flag_masks: [1, 2, 4, 8, 16, 32], flag_meanings: 'non_finite stiff_rates_span_12_decades recomputed_in_float64 eigen_decomposition_failed oscillating_modes unphysical' },
    },
  );
  const globalAttrs: Record<string, string | number> = {
    title: 'fixture pair map',
    spec_name: 'fixture',
    spec_sha256: '0'.repeat(64),
    relaxmap_version: '0.1.0',
    created: '2026-11-25T12:00:00Z',
    backend: 'workers',
    precision: 'float64',
    observables: observables.map((o) => `${o.name} = ${o.expression}`).join('; '),
    initial: (opts.initial ?? ['singlet(a,b)']).join(', '),
    thermalization: (opts.thermalization ?? ['rodin-abergel']).join(', '),
    Conventions: 'CF-1.8',
  };
  const modeDim: NcDimension = { name: 'mode', values: Int32Array.from({ length: modes }, (_, i) => i + 1), attrs: { units: '1', long_name: 'mode' } };
  await writeNetcdf(join(dir, 'surfaces.nc'), { dims: [...baseDims, modeDim], variables: surfaceVars, attrs: globalAttrs });

  const times = opts.times;
  if (times) {
    const timeDim: NcDimension = { name: 'time', values: Float64Array.from(times), attrs: { units: 's', long_name: 'time', axis_kind: 'lin' } };
    const trajVars: NcVariable[] = observables.map((o, oi) => {
      const data = new Float64Array(nBase * times.length);
      forEachIndex(baseShape, (idx, flat) => {
        const r = rateAt(idx, oi) / 50;
        const ss = ssAt(idx, oi);
        const x0 = startAt(idx, oi);
        times.forEach((t, j) => {
          data[flat * times.length + j] = ss + (x0 - ss) * Math.exp(-r * t);
        });
      });
      return { name: `traj_${o.name}`, dims: [...baseNames, 'time'], data, attrs: { units: '1', long_name: `<${o.name}>(t)` } };
    });
    await writeNetcdf(join(dir, 'trajectories.nc'), { dims: [...baseDims, timeDim], variables: trajVars, attrs: globalAttrs });

    if (opts.contributions) {
      const terms = fixtureTerms();
      const termDim: NcDimension = { name: 'term', values: terms.map((t) => t.label), attrs: { long_name: 'mechanism and component mu' } };
      const partDim: NcDimension = { name: 'term_part', values: [...FIXTURE_PARTS], attrs: { long_name: 'dc or thermal part' } };
      const nP = FIXTURE_PARTS.length;
      const contribVars: NcVariable[] = [
        { name: 'term_mu', dims: ['term'], data: Float64Array.from(terms, (t) => t.mu), attrs: { units: '1', long_name: 'eigenoperator component mu' } },
        ...observables.map((o, oi) => {
          const nT = terms.length;
          const data = new Float64Array(nBase * nT * nP * times.length);
          forEachIndex(baseShape, (idx, flat) => {
            const init = initIdx >= 0 ? (idx[initIdx] as number) : 0;
            const r = rateAt(idx, oi) / 50;
            terms.forEach((term, k) => {
              const scale = (term.type === 'dipolar' ? 1e-6 : 3e-7) * (1 + Math.abs(term.mu)) * (oi === 0 ? 1 : 1e-3);
              FIXTURE_PARTS.forEach((part, q) => {
                times.forEach((t, j) => {
                  const decay = Math.exp(-r * t);
                  // dc falls with the deviation from equilibrium; the thermal part is flat from the
                  // inverted state and builds up from a singlet, as in the seed's Figures 1-2.
                  const v = part === 'dc' ? scale * decay : init === 0 ? scale : scale * (1 - decay);
                  data[((flat * nT + k) * nP + q) * times.length + j] = term.mu === 0 && part === 'thermal' ? 0 : oi === 1 && term.type === 'dipolar' ? 0 : -v;
                });
              });
            });
          });
          return {
            name: `dOdt_${o.name}`,
            dims: [...baseNames, 'term', 'term_part', 'time'],
            data,
            attrs: { units: 's-1', long_name: `contributions to d<${o.name}>/dt`, coordinates: 'term_mechanism term_type term_mu' },
          };
        }),
      ];
      await writeNetcdf(join(dir, 'contributions.nc'), {
        dims: [...baseDims, termDim, partDim, timeDim],
        variables: contribVars,
        strings: [
          { name: 'term_mechanism', dim: 'term', values: terms.map((t) => t.mechanism) },
          { name: 'term_type', dim: 'term', values: terms.map((t) => t.type) },
        ],
        attrs: globalAttrs,
      });
    }
  }

  const header = [
    ...catDims.map((d) => d.name),
    ...opts.sweep.flatMap((a) => (a.members ? a.members.map((m) => m.name) : [a.name])),
    ...observables.flatMap((o) => [`rate_${o.name}`, `ss_${o.name}`, `boltzmann_${o.name}`]),
    'flags',
  ];
  writeFileSync(join(dir, 'points.csv'), `${header.join(',')}\n`);
  const outputs = ['rates', 'eigenrates', 'steady_state', ...(times ? ['trajectories'] : []), ...(opts.contributions ? ['contributions'] : [])];
  writeFileSync(
    join(dir, 'spec.yaml'),
    [
      'version: 1',
      'name: fixture',
      'spins:',
      '  - { id: a, isotope: 1H }',
      '  - { id: b, isotope: 1H }',
      'relaxation:',
      '  - { type: dipolar, spins: [a, b], b_hz: 35000, tau_c: 8e-12 }',
      '  - { type: random_field, spins: [a, b], rms_hz: 2300, tau_c: 60e-12 }',
      `thermalization: ${opts.thermalization ? `[${opts.thermalization.join(', ')}]` : 'rodin-abergel'}`,
      `initial: ${opts.initial ? `[${opts.initial.map((s) => JSON.stringify(s)).join(', ')}]` : 'singlet(a,b)'}`,
      'observables:',
      ...observables.map((o) => `  ${o.name}: ${o.expression}`),
      `outputs: [${outputs.join(', ')}]`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'run.json'),
    JSON.stringify(
      {
        relaxmap_version: '0.1.0',
        spec: { source: 'fixture.yaml', name: 'fixture', sha256: '0'.repeat(64), overrides: [] },
        command: 'relaxmap run fixture.yaml --out DIR',
        created: '2026-11-25T12:00:00Z',
        finished: '2026-11-25T12:00:01Z',
        backend: { name: 'workers', description: 'fixture', precision: 'float64', why: 'fixture' },
        grid: { dims: opts.sweep.map((a) => ({ name: a.name, length: a.values.length, units: a.units, kind: a.kind })), points: nBase, variants: 1 },
        chunks: { size: 4096, count: 1, resumed: 0 },
        shard: null,
        precision: { checked: 0, recomputed: 0, max_error: 0 },
        nonfinite: [],
        warnings: [],
        timings: { total_s: 1.2, compute_s: 0.4, write_s: 0.1, points_per_s: 120000 },
        node: process.version,
        platform: `${process.platform} ${process.arch}`,
      },
      null,
      2,
    ),
  );
  if (opts.active) {
    mkdirSync(join(dir, '.relaxmap'), { recursive: true });
    writeFileSync(join(dir, '.relaxmap', 'lock'), String(process.pid));
  }
}

/** thermalization x T (log) x B0 (lin), with trajectories and contributions. */
export const MAP_RUN: FixtureOptions = {
  thermalization: ['rodin-abergel', 'bengs-levitt'],
  sweep: [
    { name: 'T', values: [0.05, 0.3, 2, 12, 60, 300], units: 'K', kind: 'log' },
    { name: 'B0', values: [0.5, 3, 7, 9.4, 14.1], units: 'T', kind: 'lin' },
  ],
  times: Array.from({ length: 11 }, (_, i) => i * 6),
  contributions: true,
};

/** The seed's Figures 1-2 setting: initial in [inverted, singlet], no sweep axis. */
export const PAPER_RUN: FixtureOptions = {
  initial: ['inverted', 'singlet(a,b)'],
  sweep: [],
  times: Array.from({ length: 41 }, (_, i) => i * 0.5),
  contributions: true,
};

/** A values axis and a zipped group (index coordinate plus member coordinates). */
export const GROUP_RUN: FixtureOptions = {
  sweep: [
    { name: 'kappa', values: [-0.5, 0, 0.5, 0.9], units: '1', kind: 'values' },
    {
      name: 'g',
      values: [1e-12, 3e-12, 1e-11, 3e-11, 1e-10],
      units: '1',
      kind: 'log',
      members: [
        { name: 'tau_c', values: [1e-12, 3e-12, 1e-11, 3e-11, 1e-10], units: 's' },
        { name: 'b_hz', values: [20000, 25000, 30000, 35000, 40000], units: 'Hz' },
      ],
    },
  ],
};
