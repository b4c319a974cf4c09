import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { z } from 'zod';
import { SpecError, formatPath, shown, type SpecIssue } from './errors.js';
import { specSchema, type SpecV1 } from './schema.js';
import { checkSpec, type CheckedSpec } from './semantic.js';

/** Value at a path of a plain object tree (undefined when absent). */
function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur: unknown = root;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

function zodIssueMessage(issue: z.core.$ZodIssue, raw: unknown, path: ReadonlyArray<PropertyKey>): string {
  const given = valueAt(raw, path);
  switch (issue.code) {
    case 'invalid_type':
      if (given === undefined) return `required: ${issue.message}`;
      return `${issue.message}, got ${shown(given)}`;
    case 'invalid_value':
    case 'invalid_union':
    case 'invalid_format':
      return `${issue.message}, got ${shown(given)}`;
    case 'too_small':
    case 'too_big':
      return `${issue.message}, got ${shown(given)}`;
    default:
      return issue.message;
  }
}

/**
 * The keys a strict object of the schema allows at a path of the raw value (for "unknown key"
 * messages); through unions it follows the option the value was meant for (same discriminator,
 * else most keys in common).
 */
function allowedKeys(schema: z.ZodType, raw: unknown, path: ReadonlyArray<PropertyKey>): string[] | undefined {
  /** The schema itself, through optional wrappers and unions, for the value v. */
  const settle = (s: z.ZodType | undefined, v: unknown): z.ZodType | undefined => {
    while (s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
    if (!(s instanceof z.ZodUnion)) return s;
    const value = v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {};
    const disc = (s._zod.def as { discriminator?: string }).discriminator;
    let best: z.ZodObject | undefined;
    let bestScore = -1;
    for (const o of s.options as z.ZodType[]) {
      if (!(o instanceof z.ZodObject)) continue;
      const shape = o.shape as Record<string, z.ZodType>;
      if (disc !== undefined && !shape[disc]?.safeParse(value[disc]).success) continue;
      const score = Object.keys(value).filter((key) => key in shape).length;
      if (score > bestScore) [best, bestScore] = [o, score];
    }
    return best;
  };
  let s = settle(schema, raw);
  let v: unknown = raw;
  for (const p of path) {
    if (s instanceof z.ZodObject) s = (s.shape as Record<string, z.ZodType>)[String(p)];
    else if (s instanceof z.ZodArray) s = s.element as z.ZodType;
    else if (s instanceof z.ZodRecord) s = s.valueType as z.ZodType;
    else if (s instanceof z.ZodTuple) s = (s._zod.def.items as z.ZodType[])[Number(p)];
    else return undefined;
    v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[p as string] : undefined;
    s = settle(s, v);
  }
  return s instanceof z.ZodObject ? Object.keys(s.shape) : undefined;
}

/**
 * Issues with full paths: an unknown key is reported at its own path, with the keys allowed
 * there; a union that fails inside exactly one of its options (a list of models with one bad
 * entry) reports that option's issues, at their paths, instead of "expected A or B".
 */
function specIssuesOf(issues: readonly z.core.$ZodIssue[], raw: unknown, base: ReadonlyArray<PropertyKey> = []): Array<{ path: PropertyKey[]; message: string }> {
  const out: Array<{ path: PropertyKey[]; message: string }> = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    if (issue.code === 'invalid_union') {
      const inside = issue.errors.filter((branch) => branch.length > 0 && branch.every((i) => i.path.length > 0 || i.code === 'unrecognized_keys'));
      if (inside.length === 1 && inside[0]) {
        out.push(...specIssuesOf(inside[0], raw, path));
        continue;
      }
    }
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeys(specSchema, raw, path);
      for (const key of issue.keys) {
        out.push({ path: [...path, key], message: `unknown key ${shown(key)}${allowed ? ` (expected one of: ${allowed.join(', ')})` : ''}` });
      }
      continue;
    }
    out.push({ path, message: zodIssueMessage(issue, raw, path) });
  }
  return out;
}

/** "(line 3)" suffix from the YAML source positions. */
function lineOf(doc: Document | undefined, lc: LineCounter | undefined, path: ReadonlyArray<PropertyKey>): string {
  if (!doc || !lc) return '';
  for (let k = path.length; k >= 0; k--) {
    const node = doc.getIn(path.slice(0, k) as unknown[], true);
    if (isNode(node) && node.range) {
      const pos = lc.linePos(node.range[0]);
      return ` (line ${pos.line})`;
    }
  }
  return '';
}

/** Shape and semantic validation of an already parsed spec object. */
export function validateSpecObject(raw: unknown, source?: string, doc?: Document, lc?: LineCounter): CheckedSpec {
  const parsed = specSchema.safeParse(raw);
  if (!parsed.success) {
    const issues: SpecIssue[] = specIssuesOf(parsed.error.issues, raw).map((i) => ({
      path: formatPath(i.path) + lineOf(doc, lc, i.path),
      message: i.message + flowCommaHint(i.path, valueAt(raw, i.path)),
    }));
    throw new SpecError(dedupe(issues), source);
  }
  const { checked, issues } = checkSpec(parsed.data as SpecV1);
  if (!checked) {
    throw new SpecError(
      issues.map((i) => ({ ...i, path: i.path + lineOf(doc, lc, pathFromString(i.path)) })),
      source,
    );
  }
  return checked;
}

/** Unbalanced parentheses in a key or value: a YAML flow collection split `singlet(a,b)` at its comma. */
function flowCommaHint(path: ReadonlyArray<PropertyKey>, given: unknown): string {
  const unbalanced = (x: unknown): boolean => typeof x === 'string' && (x.split('(').length !== x.split(')').length);
  if (!path.some(unbalanced) && !unbalanced(given)) return '';
  return ' (in a YAML flow collection { ... } or [ ... ] a comma inside parentheses splits the entry: quote the expression, e.g. "singlet(a,b)")';
}

function dedupe(issues: SpecIssue[]): SpecIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.path}|${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Inverse of formatPath, for line look-ups. */
function pathFromString(p: string): PropertyKey[] {
  if (p === '(root)') return [];
  const out: PropertyKey[] = [];
  for (const m of p.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[1] !== undefined) out.push(m[1]);
  }
  return out;
}

export interface LoadedSpec extends CheckedSpec {
  readonly source: string;
  /** The text as read, for hashing and provenance. */
  readonly text: string;
}

/** Parse YAML text and validate; YAML syntax errors are SpecErrors with line and column. */
/**
 * Source label of a spec given as an object (src/spec/input.ts): its YAML text is generated,
 * so errors name paths only, never lines of a text the user has not seen.
 */
export const OBJECT_SOURCE = 'spec object';

export function parseSpecText(text: string, source = '<spec>', overrides?: (raw: Record<string, unknown>) => void): LoadedSpec {
  const lc = source.startsWith(OBJECT_SOURCE) ? undefined : new LineCounter();
  const doc = parseDocument(text, { ...(lc ? { lineCounter: lc } : {}), prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new SpecError(
      doc.errors.map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '(yaml)',
        message: `YAML syntax error: ${(e.message.split('\n')[0] ?? e.code).replace(/ at line \d+, column \d+:?$/, '')}`,
      })),
      source,
    );
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SpecError([{ path: '(root)', message: `expected a mapping (version: 1, spins: ..., ...), got ${shown(raw)}` }], source);
  }
  if (overrides) overrides(raw as Record<string, unknown>);
  const checked = validateSpecObject(raw, source, doc, lc);
  return { ...checked, source, text };
}

/** The text of a spec file; a missing or unreadable file is a SpecError (exit code 2). */
export function readSpecText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SpecError([{ path: '(file)', message: code === 'ENOENT' ? 'no such file' : `cannot read: ${(e as Error).message}` }], path);
  }
}

export function loadSpecFile(path: string, overrides?: (raw: Record<string, unknown>) => void): LoadedSpec {
  return parseSpecText(readSpecText(path), path, overrides);
}
