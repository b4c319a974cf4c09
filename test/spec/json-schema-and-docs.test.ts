/**
 * The JSON Schema of the spec (relaxmap schema, docs/relaxmap.schema.json) against a standard
 * validator (Python jsonschema) on every example sweep and on broken specs, and the docs that
 * are the contract: interface.md in the repository, the required fields of docs/spec.md equal
 * to the schema's.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { specJsonSchema, specJsonSchemaText } from '../../src/spec/json-schema.js';
import { python, ROOT } from '../helpers/cli.js';

const SWEEPS = readdirSync(join(ROOT, 'sweeps')).filter((f) => f.endsWith('.yaml')).sort();

describe('JSON Schema of the spec', () => {
  it('is what relaxmap schema prints, and docs/relaxmap.schema.json is up to date', async () => {
    const committed = readFileSync(join(ROOT, 'docs', 'relaxmap.schema.json'), 'utf8');
    expect(committed).toBe(specJsonSchemaText());
    // relaxmap schema, in-process
    const chunks: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      chunks.push(String(s));
      return true;
    });
    try {
      expect(await main(['node', 'relaxmap', 'schema'])).toBe(0);
    } finally {
      write.mockRestore();
    }
    expect(chunks.join('')).toBe(committed);
  });

  it('accepts every example sweep and rejects unknown keys, missing fields and wrong types (Python jsonschema)', async () => {
    const good = SWEEPS.map((f) => parse(readFileSync(join(ROOT, 'sweeps', f), 'utf8')) as Record<string, unknown>);
    const base = good[0] as Record<string, unknown>;
    const { thermalization: _drop, ...noModel } = base;
    const bad = [
      { ...base, colour: 'red' },
      noModel,
      { ...base, version: 2 },
      { ...base, thermalization: 'rodin-abergl' },
      { ...base, spins: [{ id: 'a', isotope: '1X' }] },
      { ...base, time: { stop: 10, points: 2.5 } },
    ];
    const result = await python<{ good: string[]; bad: string[] }>(`
import json, jsonschema
schema = json.loads(${JSON.stringify(JSON.stringify(specJsonSchema()))})
jsonschema.Draft7Validator.check_schema(schema)
v = jsonschema.Draft7Validator(schema)
def errs(d): return [e.message for e in v.iter_errors(d)]
good = ${JSON.stringify(JSON.stringify(good))}
bad = ${JSON.stringify(JSON.stringify(bad))}
print(json.dumps({'good': [m for d in json.loads(good) for m in errs(d)], 'bad': [';'.join(errs(d)) for d in json.loads(bad)]}))`);
    expect(result.good).toEqual([]);
    expect(result.bad).toHaveLength(6);
    for (const m of result.bad) expect(m).not.toBe('');
    expect(result.bad[1]).toMatch(/'thermalization' is a required property/);
  });
});

describe('docs', () => {
  it('carry interface.md, and every reference to it points into the repository', () => {
    const iface = readFileSync(join(ROOT, 'docs', 'interface.md'), 'utf8');
    expect(iface).toMatch(/^# relaxmap: the user-facing contract/);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const spec = readFileSync(join(ROOT, 'docs', 'spec.md'), 'utf8');
    for (const m of readme.matchAll(/\[interface\.md\]\(([^)]+)\)/g)) expect(m[1]).toBe('docs/interface.md');
    expect(spec).toContain('[interface.md](interface.md)');
  });

  it('docs/spec.md names the required fields the schema requires', () => {
    const spec = readFileSync(join(ROOT, 'docs', 'spec.md'), 'utf8');
    const line = /Required: ((?:`\w+`(?:, )?)+)\./.exec(spec)?.[1] ?? '';
    const documented = [...line.matchAll(/`(\w+)`/g)].map((m) => m[1]).sort();
    expect(documented).toEqual([...(specJsonSchema().required as string[])].sort());
    expect(documented).toContain('thermalization');
  });
});
