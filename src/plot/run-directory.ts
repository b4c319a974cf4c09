/**
 * Reading a finished run directory (docs/run-directory.md) into typed structures shared by
 * `relaxmap plot` and `relaxmap report`. No charting here: only files, dimensions and arrays.
 */
import { existsSync, promises as fsp, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readNetcdf, type NcDataset } from '../io/netcdf.js';
import { UsageError } from '../spec/errors.js';
import { shortNumber } from './ticks.js';

export type DimRole = 'thermalization' | 'initial' | 'sweep' | 'mode' | 'time' | 'term' | 'part';
/** `category` for string coordinates; the others are the `axis_kind` attribute of the file. */
export type AxisKind = 'lin' | 'log' | 'values' | 'category';

/** A member parameter of a zipped sweep group: an extra coordinate over the group dimension. */
export interface GroupMember {
  readonly name: string;
  readonly values: Float64Array;
  readonly units: string;
  readonly axisKind: AxisKind;
}

export interface Dim {
  readonly name: string;
  readonly role: DimRole;
  readonly length: number;
  /** Numeric coordinate values; null for string coordinates. */
  readonly values: Float64Array | null;
  /** String coordinate values, or the numeric ones formatted. */
  readonly labels: readonly string[];
  readonly units: string;
  readonly longName: string;
  readonly axisKind: AxisKind;
  /** Zipped group members (empty for a single-parameter axis). */
  readonly members: readonly GroupMember[];
}

export interface Field {
  readonly name: string;
  readonly dims: readonly string[];
  readonly shape: readonly number[];
  /** Row-major over `dims`. */
  readonly data: Float64Array | Float32Array;
  readonly units: string;
  readonly longName: string;
  readonly attrs: Readonly<Record<string, string | number | readonly number[]>>;
}

export interface RunFile {
  readonly path: string;
  /** In file order. */
  readonly dims: readonly Dim[];
  readonly fields: ReadonlyMap<string, Field>;
  /** String coordinates over one dimension (term_mechanism, term_type over term). */
  readonly labels: ReadonlyMap<string, { readonly dim: string; readonly values: readonly string[] }>;
  readonly attrs: Readonly<Record<string, string | number>>;
}

/** One entry of the `term` dimension of contributions.nc (a mechanism and a component mu). */
export interface TermInfo {
  readonly label: string;
  readonly mechanism: string;
  readonly type: string;
  readonly mu: number;
}

export interface ContributionsFile extends RunFile {
  readonly terms: readonly TermInfo[];
  /** Entries of the `term_part` dimension: dc, thermal. */
  readonly parts: readonly string[];
}

export interface Observable {
  readonly name: string;
  /** Operator expression from the `observables` global attribute, when given. */
  readonly expression: string;
}

export interface RunData {
  readonly dir: string;
  readonly title: string;
  readonly observables: readonly Observable[];
  readonly surfaces: RunFile;
  readonly trajectories: RunFile | null;
  readonly contributions: ContributionsFile | null;
  /** run.json as parsed. */
  readonly run: Readonly<Record<string, unknown>>;
  /** spec.yaml verbatim. */
  readonly specText: string;
  /** Optional files that exist but could not be read; the rest of the run is still usable. */
  readonly warnings: readonly string[];
}

const REQUIRED = ['surfaces.nc', 'run.json', 'spec.yaml'] as const;
const ROLE_BY_NAME: Readonly<Record<string, DimRole>> = {
  thermalization: 'thermalization',
  initial: 'initial',
  mode: 'mode',
  time: 'time',
  term: 'term',
  term_part: 'part',
};
/** Output variables (docs/run-directory.md); anything else over one sweep dim is a group member. */
const DATA_VARIABLE = /^(rate|ss|boltzmann|ss_over_boltzmann|amp|diff_[a-z_]+|traj|dOdt)_|^(eigenrate|flags)$/;

/** Throws UsageError (exit code 2) unless `dir` holds a finished run. */
export function checkRunDirectory(dir: string): void {
  if (!existsSync(dir)) throw new UsageError(`${dir}: no such run directory`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`${dir}: not a directory (expected a run directory written by relaxmap run SPEC --out DIR)`);
  if (existsSync(join(dir, '.relaxmap'))) {
    throw new UsageError(`${dir}: the run has not finished (${join(dir, '.relaxmap')} exists); wait for it, or finish it with relaxmap run SPEC --out ${dir} --resume`);
  }
  if (existsSync(join(dir, 'shard.json')) && !existsSync(join(dir, 'run.json'))) {
    throw new UsageError(
      `${dir}: one shard of a sharded run (shard.json, no outputs yet): combine the shards first with relaxmap merge SHARD_DIR... --out MERGED, then use MERGED`,
    );
  }
  const missing = REQUIRED.filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) {
    throw new UsageError(`${dir}: not a finished relaxmap run directory (missing ${missing.join(', ')}; write one with relaxmap run SPEC --out ${dir})`);
  }
}

export async function loadRunDirectory(dirIn: string): Promise<RunData> {
  const dir = resolve(dirIn);
  checkRunDirectory(dir);
  const warnings: string[] = [];
  let run: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(await fsp.readFile(join(dir, 'run.json'), 'utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    run = parsed as Record<string, unknown>;
  } catch (e) {
    throw new UsageError(`${join(dir, 'run.json')}: unreadable provenance (${(e as Error).message})`);
  }
  const specText = await fsp.readFile(join(dir, 'spec.yaml'), 'utf8');
  let surfacesDs: NcDataset;
  try {
    surfacesDs = await readNetcdf(join(dir, 'surfaces.nc'));
  } catch (e) {
    throw new UsageError(`${join(dir, 'surfaces.nc')}: not a readable NetCDF file (${(e as Error).message})`);
  }
  const surfaces = toRunFile(join(dir, 'surfaces.nc'), surfacesDs);
  const optional = async (name: string): Promise<RunFile | null> => {
    const p = join(dir, name);
    if (!existsSync(p)) return null;
    try {
      return toRunFile(p, await readNetcdf(p));
    } catch (e) {
      warnings.push(`${name}: skipped, could not be read (${(e as Error).message})`);
      return null;
    }
  };
  const trajectories = await optional('trajectories.nc');
  const contribRaw = await optional('contributions.nc');
  let contributions: ContributionsFile | null = null;
  if (contribRaw) {
    try {
      contributions = { ...contribRaw, ...readTerms(contribRaw, join(dir, 'contributions.nc')) };
    } catch (e) {
      warnings.push(`contributions.nc: skipped (${(e as Error).message})`);
    }
  }
  const specName = typeof (run.spec as Record<string, unknown> | undefined)?.name === 'string' ? String((run.spec as Record<string, unknown>).name) : '';
  const title = str(surfaces.attrs.title) || str(surfaces.attrs.spec_name) || specName || 'relaxmap run';
  return {
    dir,
    title,
    observables: observablesOf(surfaces, trajectories, contributions),
    surfaces,
    trajectories,
    contributions,
    run,
    specText,
    warnings,
  };
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function attrStr(attrs: Record<string, unknown> | undefined, key: string): string {
  const v = attrs?.[key];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}

/**
 * The `axis_kind` attribute, or for a coordinate without one (the time axis) what its values
 * say: a geometric progression of positive values is a log axis (`time: { log: ... }`).
 */
function axisKindOf(attrs: Record<string, unknown> | undefined, values: Float64Array | null): AxisKind {
  if (!values) return 'category';
  const k = attrStr(attrs, 'axis_kind');
  if (k === 'log' || k === 'values' || k === 'lin') return k;
  return isGeometric(values) ? 'log' : 'lin';
}

export function isGeometric(v: Float64Array): boolean {
  if (v.length < 3 || !((v[0] as number) > 0)) return false;
  const r = (v[1] as number) / (v[0] as number);
  if (!(r > 1 + 1e-9 || r < 1 - 1e-9)) return false;
  for (let i = 2; i < v.length; i++) {
    if (Math.abs((v[i] as number) / (v[i - 1] as number) / r - 1) > 1e-6) return false;
  }
  return true;
}

/** Short label for a coordinate value, in the notation of the tick labels (`0.05`, `3.162×10⁻¹²`). */
export function formatNumber(v: number): string {
  return shortNumber(v, 4);
}

export function toRunFile(path: string, ds: NcDataset): RunFile {
  const fields = new Map<string, Field>();
  const sizes = new Map(ds.dims.map((d) => [d.name, d.values.length]));
  const memberVars = new Map<string, GroupMember[]>();
  for (const v of ds.variables) {
    const only = v.dims.length === 1 ? v.dims[0] : undefined;
    const isCoordinate = only !== undefined && !DATA_VARIABLE.test(v.name) && (ROLE_BY_NAME[only] === undefined || v.name.startsWith(`${only}_`));
    if (only !== undefined && isCoordinate) {
      const list = memberVars.get(only) ?? [];
      const numeric = Float64Array.from(v.data);
      list.push({ name: v.name, values: numeric, units: attrStr(v.attrs, 'units'), axisKind: axisKindOf(v.attrs, numeric) });
      memberVars.set(only, list);
      continue;
    }
    fields.set(v.name, {
      name: v.name,
      dims: v.dims,
      shape: v.dims.map((d) => sizes.get(d) ?? 0),
      data: v.data,
      units: attrStr(v.attrs, 'units'),
      longName: attrStr(v.attrs, 'long_name') || v.name,
      attrs: v.attrs ?? {},
    });
  }
  const dims: Dim[] = ds.dims.map((d) => {
    const numeric = d.values instanceof Float64Array;
    const values = numeric ? (d.values as Float64Array) : null;
    return {
      name: d.name,
      role: ROLE_BY_NAME[d.name] ?? 'sweep',
      length: d.values.length,
      values,
      labels: values ? Array.from(values, formatNumber) : [...(d.values as readonly string[])],
      units: attrStr(d.attrs, 'units'),
      longName: attrStr(d.attrs, 'long_name') || d.name,
      axisKind: axisKindOf(d.attrs, values),
      members: memberVars.get(d.name) ?? [],
    };
  });
  const labels = new Map((ds.strings ?? []).map((sv) => [sv.name, { dim: sv.dim, values: sv.values }] as const));
  return { path, dims, fields, labels, attrs: ds.attrs ?? {} };
}

/**
 * Term metadata from the coordinates over `term` (term_mechanism, term_type, term_mu) and the
 * entries of `term_part`; a coordinate that is missing is read from the label form
 * `<mechanism> mu=<+k>`.
 */
export function readTerms(file: RunFile, path: string): { terms: TermInfo[]; parts: string[] } {
  const term = file.dims.find((d) => d.name === 'term');
  if (!term) throw new Error(`${path} has no term dimension`);
  const part = file.dims.find((d) => d.name === 'term_part');
  if (!part) throw new Error(`${path} has no term_part dimension (an older layout of contributions.nc: run the sweep again)`);
  const muVar = term.members.find((m) => m.name === 'term_mu')?.values;
  const mechVar = file.labels.get('term_mechanism')?.values;
  const typeVar = file.labels.get('term_type')?.values;
  const terms = term.labels.map((label, i) => {
    const m = /^(.*?)\s+mu=([+-]?\d+(?:\.\d+)?)\s*$/.exec(label);
    const mechanism = mechVar?.[i] ?? m?.[1];
    const mu = muVar?.[i] ?? (m ? Number(m[2]) : NaN);
    if (mechanism === undefined || !Number.isFinite(mu)) throw new Error(`term ${JSON.stringify(label)}: no term_mechanism/term_mu coordinate and not of the form "<mechanism> mu=<k>"`);
    const type = typeVar?.[i] ?? /^(dipolar|random_field|csa)\b/.exec(mechanism)?.[1] ?? mechanism;
    return { label, mechanism, type, mu };
  });
  return { terms, parts: [...part.labels] };
}

function observablesOf(surfaces: RunFile, traj: RunFile | null, contrib: RunFile | null): Observable[] {
  const exprs = new Map<string, string>();
  const attr = surfaces.attrs.observables;
  if (typeof attr === 'string') {
    for (const part of attr.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0) exprs.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
  }
  const names: string[] = [];
  const add = (n: string): void => {
    if (n && !names.includes(n)) names.push(n);
  };
  for (const n of exprs.keys()) add(n);
  for (const f of surfaces.fields.keys()) if (f.startsWith('rate_')) add(f.slice(5));
  for (const f of traj?.fields.keys() ?? []) if (f.startsWith('traj_')) add(f.slice(5));
  for (const f of contrib?.fields.keys() ?? []) if (f.startsWith('dOdt_')) add(f.slice(5));
  return names.map((name) => ({ name, expression: exprs.get(name) ?? '' }));
}

export function dimOf(file: RunFile, name: string): Dim {
  const d = file.dims.find((x) => x.name === name);
  if (!d) throw new Error(`${file.path} has no dimension ${name}`);
  return d;
}
