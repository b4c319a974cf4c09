/** A problem with user input, reported with the path of the offending field. Exit code 2. */
export interface SpecIssue {
  readonly path: string;
  readonly message: string;
}

export class SpecError extends Error {
  readonly issues: readonly SpecIssue[];
  readonly source: string | undefined;

  constructor(issues: readonly SpecIssue[], source?: string) {
    super(formatIssues(issues, source));
    this.name = 'SpecError';
    this.issues = issues;
    this.source = source;
  }
}

/** Bad command-line usage (also exit code 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out === '' ? '(root)' : out;
}

export function formatIssues(issues: readonly SpecIssue[], source?: string): string {
  const head = source ? `${source}: ` : '';
  const lines = issues.map((i) => `  ${i.path}: ${i.message}`);
  return `${head}${issues.length} error${issues.length === 1 ? '' : 's'} in the spec\n${lines.join('\n')}`;
}

/** Short rendering of a given value for messages. */
export function shown(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : String(v);
  if (v === undefined) return 'nothing';
  try {
    const s = JSON.stringify(v);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(v);
  }
}
