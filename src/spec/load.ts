import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';
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

function zodIssueMessage(issue: z.core.$ZodIssue, raw: unknown): string {
  const given = valueAt(raw, issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => shown(k)).join(', ')}`;
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
    const issues: SpecIssue[] = parsed.error.issues.map((i) => ({
      path: formatPath(i.path) + lineOf(doc, lc, i.path),
      message: zodIssueMessage(i, raw),
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
export function parseSpecText(text: string, source = '<spec>', overrides?: (raw: Record<string, unknown>) => void): LoadedSpec {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new SpecError(
      doc.errors.map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '(yaml)',
        message: `YAML syntax error: ${e.message.split('\n')[0] ?? e.code}`,
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

export function loadSpecFile(path: string, overrides?: (raw: Record<string, unknown>) => void): LoadedSpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SpecError([{ path: '(file)', message: code === 'ENOENT' ? 'no such file' : `cannot read: ${(e as Error).message}` }], path);
  }
  return parseSpecText(text, path, overrides);
}
