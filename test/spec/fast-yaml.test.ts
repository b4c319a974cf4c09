import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fastYamlLoad } from '../../src/spec/fast-yaml.js';
import { parseSpecText } from '../../src/spec/load.js';
import { SpecError } from '../../src/spec/errors.js';

const root = join(import.meta.dirname, '..', '..');

/** Same data: equal primitives by Object.is (so -0 and NaN count), keys in the same order. */
function sameData(a: unknown, b: unknown, path = '$'): string | undefined {
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') {
    return Object.is(a, b) ? undefined : `${path}: ${String(a)} (${typeof a}) vs ${String(b)} (${typeof b})`;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return `${path}: array vs mapping`;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.join('\u0000') !== kb.join('\u0000')) return `${path}: keys ${ka.join(',')} vs ${kb.join(',')}`;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return `${path}: prototypes differ`;
  for (const k of ka) {
    const d = sameData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    if (d) return d;
  }
  return undefined;
}

/** Every YAML document the repository ships: the example sweeps, the benchmark spec, the docs' yaml blocks. */
function shippedDocuments(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const dir of ['sweeps', join('bench', 'baseline')]) {
    for (const f of readdirSync(join(root, dir)).filter((x) => x.endsWith('.yaml')).sort()) out.push([join(dir, f), readFileSync(join(root, dir, f), 'utf8')]);
  }
  for (const f of ['README.md', join('docs', 'spec.md'), join('docs', 'interface.md')]) {
    const md = readFileSync(join(root, f), 'utf8');
    let k = 0;
    for (const m of md.matchAll(/```yaml\n([\s\S]*?)```/g)) out.push([`${f} yaml block ${++k}`, m[1] as string]);
  }
  return out;
}

describe('fastYamlLoad (js-yaml for plain documents) against the yaml package', () => {
  it('gives the same data for every shipped spec, and takes the fast path for the example sweeps and dnp-e3h', () => {
    const docs = shippedDocuments();
    expect(docs.length).toBeGreaterThanOrEqual(13);
    const fastNames: string[] = [];
    for (const [name, text] of docs) {
      const fast = fastYamlLoad(text);
      if (fast === undefined) continue;
      fastNames.push(name);
      expect(sameData(fast, parse(text, { uniqueKeys: true })), name).toBeUndefined();
    }
    for (const f of readdirSync(join(root, 'sweeps')).filter((x) => x.endsWith('.yaml'))) expect(fastNames).toContain(join('sweeps', f));
    expect(fastNames).toContain(join('bench', 'baseline', 'dnp-e3h.yaml'));
  });

  // the YAML 1.2 core schema's forms (null, bool, int, float) and their neighbours, plain and quoted
  const scalars = [
    '1', '-1', '+1', '0', '-0', '+0', '00', '09', '017', '0o17', '0o8', '+0o17', '0x1F', '0xff', '-0x1F', '+0x1F', '0x', '0b101', '1_000', '1:30',
    '1.5', '.5', '-.5', '+.5', '5.', '0.', '1e3', '1E3', '1e-9', '1.5e+3', '0.5e6', '-285e6', '6.02214076e23', '1.0e+10', '4.9e-324', '1.7976931348623157e308', '1e', 'e3', '3e', '1,5',
    '.inf', '-.inf', '+.inf', '.Inf', '.INF', 'inf', '.nan', '.NaN', '.NAN', 'NaN', 'nan',
    'true', 'True', 'TRUE', 'tRUE', 'false', 'False', 'FALSE', 'yes', 'no', 'on', 'off', 'y', 'n', 'Yes',
    'null', 'Null', 'NULL', 'nULL', '~', '',
    '2001-12-14', '2001-12-14t21:59:43.10-05:00', '12:30:00', '12345678901234567890', '0x7fffffffffffffff',
    '"1"', "'1'", '"true"', '"a\\tb"', "'it''s'", '"\\u00e9"', '"\\x41"', 'é', 'Iz(e)', 'Iz(e) + Iz(h)', '2 * pi', 'a # comment', '"a # not a comment"',
    '[1, -.5, .inf, ~, x]', '{a: 1, b: +.5}', '[]', '{}',
  ];
  it('resolves every core-schema scalar form as the yaml package does (or declines it)', () => {
    for (const s of scalars) {
      const text = `v: ${s}\n`;
      const fast = fastYamlLoad(text);
      if (fast === undefined) continue;
      expect(sameData(fast, parse(text, { uniqueKeys: true })), JSON.stringify(s)).toBeUndefined();
    }
    for (const block of ['v: |\n  line one\n  line two\n', 'v: >-\n  folded\n  text\n', 'v: |+\n  kept\n\n', 'v:\n  - 1\n  - [2, 3]\n  - {k: .5}\n']) {
      expect(sameData(fastYamlLoad(block), parse(block)), block).toBeUndefined();
    }
  });

  it('declines anchors, aliases, tags, merge keys, directives, long exponents, duplicate keys and empty or multi-document texts', () => {
    const declined = [
      'a: &x 1\nb: *x\n',
      'a: [*x]\n',
      'a: !!str 1\n',
      'a: !custom 1\n',
      'base: {k: 1}\nc:\n  <<: {k: 2}\n',
      '%YAML 1.2\n---\na: 1\n',
      'a: 1e+309\n',
      'a: -1E400\n',
      'a: 1\na: 2\n',
      '',
      '# only a comment\n',
      'a: 1\n---\nb: 2\n',
      'a: [1, 2\n',
    ];
    for (const t of declined) expect(fastYamlLoad(t), JSON.stringify(t)).toBeUndefined();
    // '&' and '*' that start no node, as in comments and expressions, keep the fast path
    expect(fastYamlLoad('# Rodin & Abergel\na: 2 * pi\n')).toEqual({ a: '2 * pi' });
  });

  it('keeps __proto__ as data, where the spec checks report it', () => {
    const raw = fastYamlLoad('a: 1\n__proto__: {x: 1}\n') as Record<string, unknown>;
    expect(Object.keys(raw)).toEqual(['a', '__proto__']);
    expect(Object.getPrototypeOf(raw)).toBe(Object.prototype);
    expect((raw as { x?: unknown }).x).toBeUndefined();
  });
});

describe('parseSpecText with the fast path', () => {
  const spec = readFileSync(join(root, 'bench', 'baseline', 'dnp-e3h.yaml'), 'utf8');

  it('reports an invalid spec with lines (the error comes from the yaml package parse)', () => {
    const bad = spec.replace('version: 1', 'version: 1\nbogus_key: 3');
    expect(fastYamlLoad(bad)).toBeDefined();
    let err: unknown;
    try {
      parseSpecText(bad, 'bad.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SpecError);
    const line = bad.split('\n').findIndex((l) => l.startsWith('bogus_key')) + 1;
    expect((err as SpecError).message).toContain('bogus_key');
    expect((err as SpecError).message).toContain(`(line ${line})`);
  });

  it('reports a duplicate key with its line and column', () => {
    expect(() => parseSpecText(`${spec}\nversion: 1\n`, 'dup.yaml')).toThrow(/YAML syntax error.*line \d+, column 1|line \d+, column 1.*YAML syntax error/s);
  });

  it('returns the same checked spec as the yaml package path', () => {
    const fast = parseSpecText(spec, 'dnp-e3h.yaml');
    // a comment with an alias-like token sends the same document to the yaml package
    const slow = parseSpecText(`# *decline the fast path\n${spec}`, 'dnp-e3h.yaml');
    expect(fastYamlLoad(`# *decline the fast path\n${spec}`)).toBeUndefined();
    expect(JSON.stringify({ ...slow, text: '' })).toBe(JSON.stringify({ ...fast, text: '' }));
  });
});
