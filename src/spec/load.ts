import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { z } from 'zod';
import { SpecError, formatPath, shown, type SpecIssue } from './errors.js';
import { fastYamlLoad } from './fast-yaml.js';
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
  const { checked, issues } = checkSpec(withNullPrototypes(parsed.data as SpecV1));
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

/**
 * Source label of a spec given as an object (src/spec/input.ts): its YAML text is generated,
 * so errors name paths only, never lines of a text the user has not seen.
 */
export const OBJECT_SOURCE = 'spec object';

/** Parse YAML text and validate; YAML syntax errors are SpecErrors with line and column. */
export function parseSpecText(text: string, source = '<spec>', overrides?: (raw: Record<string, unknown>) => void): LoadedSpec {
  // a valid plain document: js-yaml's data, validated without a Document (src/spec/fast-yaml.ts);
  // any SpecError is reported from the `yaml` parse below instead, with its lines
  const fast = fastYamlLoad(text);
  if (fast !== undefined) {
    try {
      return { ...checkedData(fast, source, undefined, undefined, overrides), source, text };
    } catch (e) {
      if (!(e instanceof SpecError)) throw e;
    }
  }
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
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    // the yaml package refuses alias expansion beyond maxAliasCount (a "billion laughs" bomb)
    if (e instanceof ReferenceError && /alias/i.test(e.message)) {
      throw new SpecError([{ path: '(yaml)', message: `too many alias expansions (*name), more than ${MAX_ALIAS_COUNT}: a resource-exhaustion pattern; write the values out` }], source);
    }
    throw new SpecError([{ path: '(yaml)', message: `cannot convert the YAML document: ${(e as Error).message}` }], source);
  }
  return { ...checkedData(raw, source, doc, lc, overrides), source, text };
}

/** The checks of a parsed document's data (doc and lc, where given, put lines into messages). */
function checkedData(raw: unknown, source: string, doc: Document | undefined, lc: LineCounter | undefined, overrides: ((raw: Record<string, unknown>) => void) | undefined): CheckedSpec {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SpecError([{ path: '(root)', message: `expected a mapping (version: 1, spins: ..., ...), got ${shown(raw)}` }], source);
  }
  const reserved = reservedKeys(raw);
  if (reserved.length > 0) {
    throw new SpecError(
      reserved.map((path) => ({ path: formatPath(path) + lineOf(doc, lc, path), message: `the name "__proto__" is reserved (JavaScript object internals): choose another name` })),
      source,
    );
  }
  if (overrides) overrides(raw as Record<string, unknown>);
  return validateSpecObject(raw, source, doc, lc);
}

/** Alias expansions allowed in one document (plenty for anchors reused by hand). */
export const MAX_ALIAS_COUNT = 100;

/** Paths of every mapping key `__proto__` (which plain objects cannot hold as data). */
function reservedKeys(v: unknown, path: PropertyKey[] = [], out: PropertyKey[][] = []): PropertyKey[][] {
  if (v === null || typeof v !== 'object' || out.length >= 20) return out;
  if (Array.isArray(v)) v.forEach((x, i) => reservedKeys(x, [...path, i], out));
  else
    for (const k of Object.keys(v)) {
      if (k === '__proto__') out.push([...path, k]);
      else reservedKeys((v as Record<string, unknown>)[k], [...path, k], out);
    }
  return out;
}

/**
 * The user-named tables of a spec (parameters, observables, sweep) as null-prototype
 * objects: a name such as `constructor` or `toString` is then looked up as data, never on
 * Object.prototype (checkSpec and everything after it see these).
 */
function withNullPrototypes(spec: SpecV1): SpecV1 {
  const np = <T>(o: Readonly<Record<string, T>> | undefined): Record<string, T> | undefined =>
    o === undefined ? undefined : Object.assign(Object.create(null) as Record<string, T>, o);
  const tables = {
    ...(spec.parameters !== undefined ? { parameters: np(spec.parameters) } : {}),
    ...(spec.sweep !== undefined ? { sweep: np(spec.sweep) } : {}),
    observables: np(spec.observables) as Record<string, string>,
  };
  return { ...spec, ...tables };
}

/** Largest spec file read (specs are a page or two; this bounds memory on a wrong path). */
export const MAX_SPEC_BYTES = 1 << 20;

/**
 * The text of a spec file. Missing, unreadable, non-regular (a directory, FIFO, device such
 * as /dev/zero), oversized or non-UTF-8 files are SpecErrors (exit code 2). The file is
 * opened non-blocking and checked with fstat before reading, so a FIFO cannot block.
 */
export function readSpecText(path: string): string {
  const fail = (message: string): never => {
    throw new SpecError([{ path: '(file)', message }], path);
  };
  if (path.trim() === '') fail('empty path: give the spec file (YAML)');
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail(
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'ENOTDIR' ? 'a part of the path is not a directory' : code === 'ELOOP' ? 'too many symbolic links' : `cannot open: ${code ?? (e as Error).message}`,
    );
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) fail('is a directory, not a spec file');
    if (!st.isFile()) fail(`is not a regular file (${st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device' : st.isSocket() ? 'a socket' : 'special file'}): give a spec file`);
    if (st.size > MAX_SPEC_BYTES) fail(`${st.size} bytes, more than the ${MAX_SPEC_BYTES} a spec may have: is this the spec file?`);
    const buf = Buffer.alloc(Math.min(st.size, MAX_SPEC_BYTES) + 1);
    let n = 0;
    for (;;) {
      const k = readSync(fd, buf, n, buf.length - n, null);
      if (k === 0) break;
      n += k;
      if (n > MAX_SPEC_BYTES) fail(`more than the ${MAX_SPEC_BYTES} bytes a spec may have: is this the spec file?`);
      if (n === buf.length) break;
    }
    const bytes = buf.subarray(0, n);
    if (bytes.includes(0)) fail('holds NUL bytes: not a text (YAML) file');
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return fail('is not valid UTF-8 text');
    }
  } catch (e) {
    if (e instanceof SpecError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    return fail(code === 'EISDIR' ? 'is a directory, not a spec file' : `cannot read: ${code ?? (e as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

export function loadSpecFile(path: string, overrides?: (raw: Record<string, unknown>) => void): LoadedSpec {
  return parseSpecText(readSpecText(path), path, overrides);
}
