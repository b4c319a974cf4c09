/**
 * The JSON Schema of a sweep spec, generated from the zod schema that validates specs (so the
 * two cannot drift): `relaxmap schema` prints it, docs/relaxmap.schema.json is its committed
 * copy, and editors use it for completion and validation of spec files (a yaml-language-server
 * modeline, docs/spec.md). Draft-07, the draft YAML editors support. The shape only: ranges
 * that depend on other fields (a parameter's values along its sweep axis) are checked by
 * `relaxmap validate`.
 */
import { z } from 'zod';
import { VERSION } from '../version.js';
import { specSchema } from './schema.js';

export const SCHEMA_ID = 'https://relaxmap.invalid/schema/spec-v1.json';

export function specJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(specSchema, { target: 'draft-7', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    $schema: generated.$schema,
    $id: SCHEMA_ID,
    title: 'relaxmap sweep spec, version 1',
    description: `A relaxmap sweep spec (docs/spec.md), relaxmap ${VERSION}. Check cross-field rules and physical ranges with: relaxmap validate SPEC`,
    ...Object.fromEntries(Object.entries(generated).filter(([k]) => k !== '$schema')),
  };
}

/** The schema as `relaxmap schema` prints it and docs/relaxmap.schema.json holds it. */
export function specJsonSchemaText(): string {
  return `${JSON.stringify(specJsonSchema(), null, 2)}\n`;
}
