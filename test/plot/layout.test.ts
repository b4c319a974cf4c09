/** The pure parts of the figures: layout choices, slicing, cell edges, color scales, labels. */
import { describe, expect, it } from 'vitest';
import { unitText, withUnits } from '../../src/plot/labels.js';
import { planSurface } from '../../src/plot/layout.js';
import { isGeometric, readTerms, type Dim, type Field, type RunFile } from '../../src/plot/run-directory.js';
import { coordinateIndex, representativeIndices, sliceField } from '../../src/plot/slice.js';
import { cellEdges, sequentialColor } from '../../src/plot/specs/common.js';

function dim(name: string, role: Dim['role'], values: number[] | string[], axisKind: Dim['axisKind'] = 'lin', units = ''): Dim {
  const numeric = typeof values[0] === 'number';
  return {
    name,
    role,
    length: values.length,
    values: numeric ? Float64Array.from(values as number[]) : null,
    labels: values.map(String),
    units,
    longName: name,
    axisKind: numeric ? axisKind : 'category',
    members: [],
  };
}

const DIMS = [
  dim('thermalization', 'thermalization', ['a', 'b']),
  dim('initial', 'initial', ['inverted', 'singlet(a,b)', 'thermal']),
  dim('T', 'sweep', [1, 10, 100], 'log', 'K'),
  dim('B0', 'sweep', [1, 2], 'lin', 'T'),
  dim('tau_c', 'sweep', [1e-12, 1e-11, 1e-10, 1e-9, 1e-8], 'log', 's'),
];

describe('planSurface', () => {
  it('takes the first two numeric sweep dims as axes and facets the small categorical dims', () => {
    expect(planSurface(DIMS, {})).toEqual({ x: 'T', y: 'B0', facets: ['thermalization', 'initial'], fixed: { tau_c: 0 } });
  });

  it('honours --x/--y and --at, fixing what is named', () => {
    expect(planSurface(DIMS, { y: 'tau_c', at: { thermalization: 'b', T: '12' } })).toEqual({
      x: 'B0',
      y: 'tau_c',
      facets: ['initial'],
      fixed: { thermalization: 1, T: 1 },
    });
    expect(planSurface(DIMS, { x: 'tau_c' })?.y).toBe('T');
  });

  it('falls back to a line plot with one sweep axis and to nothing without one', () => {
    expect(planSurface([DIMS[0] as Dim, DIMS[2] as Dim], {})).toEqual({ x: 'T', y: null, facets: ['thermalization'], fixed: {} });
    expect(planSurface([DIMS[0] as Dim, DIMS[1] as Dim], {})).toBeNull();
  });
});

describe('slicing', () => {
  const field: Field = {
    name: 'v',
    dims: ['a', 'b', 'c'],
    shape: [2, 3, 4],
    data: Float64Array.from({ length: 24 }, (_, i) => i),
    units: '',
    longName: 'v',
    attrs: {},
  };

  it('extracts any dims in any order with the others fixed', () => {
    expect(Array.from(sliceField(field, ['c'], { a: 1, b: 2 }).data)).toEqual([20, 21, 22, 23]);
    const t = sliceField(field, ['c', 'a'], { b: 1 });
    expect(t.shape).toEqual([4, 2]);
    expect(Array.from(t.data)).toEqual([4, 16, 5, 17, 6, 18, 7, 19]);
    expect(Array.from(sliceField(field, ['b'], {}, { b: [2, 0] }).data)).toEqual([8, 0]);
  });

  it('picks representative indices with both ends', () => {
    expect(representativeIndices(3, 5)).toEqual([0, 1, 2]);
    expect(representativeIndices(64, 5)).toEqual([0, 16, 32, 47, 63]);
  });

  it('finds coordinates by label or nearest value, in log space on log axes', () => {
    // 4e-11 is nearer 1e-11 on a linear scale but nearer 1e-10 in log space
    expect(coordinateIndex(DIMS[4] as Dim, '4e-11')).toBe(2);
    expect(coordinateIndex(DIMS[3] as Dim, '1.6')).toBe(1);
    expect(coordinateIndex(DIMS[1] as Dim, 'singlet(a,b)')).toBe(1);
    expect(() => coordinateIndex(DIMS[1] as Dim, 'saturated')).toThrow(/no such initial/);
  });
});

describe('spec helpers', () => {
  it('puts cell edges at geometric midpoints on a log axis and arithmetic ones on a linear axis', () => {
    const log = cellEdges([1, 10, 100], true);
    expect(Array.from(log.lo).map((v) => +v.toPrecision(6))).toEqual([0.316228, 3.16228, 31.6228]);
    expect(Array.from(log.hi).map((v) => +v.toPrecision(6))).toEqual([3.16228, 31.6228, 316.228]);
    const lin = cellEdges([3, 2, 0], false);
    expect(Array.from(lin.lo)).toEqual([2.5, 1, -1]);
    expect(Array.from(lin.hi)).toEqual([3.5, 2.5, 1]);
  });

  it('chooses log color for positive data spanning decades', () => {
    expect(sequentialColor(0.01, 5)).toEqual({ kind: 'sequential', log: true, domain: [0.01, 5] });
    expect(sequentialColor(0.5, 5)).toEqual({ kind: 'sequential', log: false, domain: [0.5, 5] });
    expect(sequentialColor(-1, 5).kind === 'sequential' && sequentialColor(-1, 5)).toMatchObject({ log: false });
  });

  it('writes CF units for display', () => {
    expect(unitText('s-1')).toBe('s⁻¹');
    expect(unitText('m2 s-1')).toBe('m² s⁻¹');
    expect(withUnits('kappa', '1')).toBe('kappa');
    expect(withUnits('T', 'K')).toBe('T (K)');
  });

  it('recognises a log time grid without an axis_kind attribute', () => {
    expect(isGeometric(Float64Array.from({ length: 61 }, (_, i) => 10 ** (-9 + (12 * i) / 60)))).toBe(true);
    expect(isGeometric(Float64Array.from({ length: 61 }, (_, i) => i))).toBe(false);
    expect(isGeometric(Float64Array.from([1, 2, 3]))).toBe(false);
  });

  it('reads mechanism, type and mu from term labels when the coordinates are missing', () => {
    const term = dim('term', 'term', ['dipolar(a,b) mu=+2', 'random_field(a,b) mu=-1', 'my-label mu=0']);
    const part = dim('term_part', 'part', ['dc', 'thermal']);
    const file: RunFile = { path: 'x', dims: [term, part], fields: new Map(), labels: new Map(), attrs: {} };
    expect(readTerms(file, 'x')).toEqual({
      terms: [
        { label: 'dipolar(a,b) mu=+2', mechanism: 'dipolar(a,b)', type: 'dipolar', mu: 2 },
        { label: 'random_field(a,b) mu=-1', mechanism: 'random_field(a,b)', type: 'random_field', mu: -1 },
        { label: 'my-label mu=0', mechanism: 'my-label', type: 'my-label', mu: 0 },
      ],
      parts: ['dc', 'thermal'],
    });
  });
});
