/**
 * Which dimensions become axes, facets or fixed values of a figure. Pure: dimensions and
 * options in, a plan out.
 */
import { UsageError } from '../spec/errors.js';
import { axisTitle } from './labels.js';
import type { AxisKind, Dim, GroupMember } from './run-directory.js';
import { coordinateIndex } from './slice.js';

/** A dimension with at most this many entries is shown as facets rather than fixed. */
export const MAX_FACET = 4;
/** At most this many panels in one faceted figure. */
export const MAX_PANELS = 16;
/**
 * Cells per static heatmap figure. Each cell is an SVG path: beyond this the files grow past
 * a few MB and take seconds to render, so sweep dims are no longer faceted and the axes are
 * thinned (figures.ts says so in the subtitle).
 */
export const MAX_CELLS = 20_000;

export interface AxisOptions {
  readonly x?: string;
  readonly y?: string;
  /** Fixed coordinates: `name -> label or value`, nearest value for numeric dims. */
  readonly at?: Readonly<Record<string, string>>;
}

export interface SurfacePlan {
  readonly x: string;
  /** Null when the run has a single numeric sweep axis: the figure is a line plot. */
  readonly y: string | null;
  /** Up to two small dims, column first then row. */
  readonly facets: readonly string[];
  /** Index of every other dimension. */
  readonly fixed: Readonly<Record<string, number>>;
}

/** Numeric coordinate to plot a dimension against, with its scale kind. */
export interface AxisCoordinate {
  readonly values: Float64Array;
  readonly kind: AxisKind;
  readonly title: string;
  /** The zipped-group member plotted (its values, not the group index). */
  readonly member: GroupMember | null;
}

function monotonic(v: Float64Array): boolean {
  let up = true;
  let down = true;
  for (let i = 1; i < v.length; i++) {
    if (!((v[i] as number) > (v[i - 1] as number))) up = false;
    if (!((v[i] as number) < (v[i - 1] as number))) down = false;
  }
  return up || down;
}

/**
 * A zipped group is plotted against its first member whose values are monotonic (T, not
 * the index 0..n-1); only when none is, against the index.
 */
export function axisCoordinate(dim: Dim): AxisCoordinate {
  if (dim.role === 'sweep' && dim.members.length > 0) {
    const member = dim.members.find((m) => monotonic(m.values));
    if (member) return { values: member.values, kind: member.axisKind, title: axisTitle(dim, member), member };
    return { values: Float64Array.from({ length: dim.length }, (_, i) => i), kind: 'values', title: `${dim.name} (index of the zipped ${dim.members.map((m) => m.name).join(', ')})`, member: null };
  }
  if (!dim.values) throw new Error(`dimension ${dim.name} has no numeric coordinate`);
  return { values: dim.values, kind: dim.axisKind, title: axisTitle(dim), member: null };
}

/** Sweep dims that can be axes: numeric, in file order, longer ones first when defaulting. */
export function axisCandidates(dims: readonly Dim[]): Dim[] {
  return dims.filter((d) => d.role === 'sweep' && d.values !== null);
}

/** Resolve `--at name=value` against a file's dims; names the file does not have are ignored. */
export function fixedIndices(dims: readonly Dim[], at: Readonly<Record<string, string>> = {}): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(at)) {
    const d = dims.find((x) => x.name === name);
    if (d) out[name] = coordinateIndex(d, value);
  }
  return out;
}

export function checkAxisOptions(dims: readonly Dim[], opts: AxisOptions): void {
  const names = axisCandidates(dims).map((d) => d.name);
  for (const key of ['x', 'y'] as const) {
    const v = opts[key];
    if (v !== undefined && !names.includes(v)) {
      throw new UsageError(`--${key} ${v}: not a sweep dimension of this run (${names.length > 0 ? `one of ${names.join(', ')}` : 'it has none'})`);
    }
  }
  if (opts.x !== undefined && opts.x === opts.y) throw new UsageError(`--x and --y are both ${opts.x}`);
  const all = dims.map((d) => d.name);
  for (const name of Object.keys(opts.at ?? {})) {
    if (!all.includes(name)) throw new UsageError(`--at ${name}=...: no dimension ${name} (one of ${all.join(', ')})`);
  }
}

/**
 * Axes default to the first two numeric sweep dims with more than one value; every other
 * dim is faceted when small (categorical dims first) or fixed at its first value.
 * Returns null when there is no numeric sweep axis.
 */
export function planSurface(dims: readonly Dim[], opts: AxisOptions): SurfacePlan | null {
  const cands = axisCandidates(dims);
  const at = opts.at ?? {};
  const free = (d: Dim): boolean => at[d.name] === undefined;
  const preferred = [...cands.filter((d) => d.length > 1 && free(d)), ...cands.filter((d) => d.length <= 1 || !free(d))];
  const chosen: string[] = [];
  if (opts.x !== undefined) chosen.push(opts.x);
  if (opts.y !== undefined) chosen.push(opts.y);
  for (const d of preferred) {
    if (chosen.length >= 2) break;
    if (opts.x !== undefined && opts.y !== undefined) break;
    if (!chosen.includes(d.name) && d.length > 1 && free(d)) chosen.push(d.name);
  }
  if (opts.x === undefined && opts.y !== undefined) chosen.reverse();
  const x = chosen[0];
  if (x === undefined) return null;
  const y = chosen[1] ?? null;
  const rest = dims.filter((d) => d.name !== x && d.name !== y && (d.role === 'sweep' || d.role === 'thermalization' || d.role === 'initial'));
  const facetOrder = [...rest.filter((d) => d.role !== 'sweep'), ...rest.filter((d) => d.role === 'sweep')];
  const facets: string[] = [];
  const lengthOf = (name: string | null): number => (name === null ? 1 : (dims.find((d) => d.name === name)?.length ?? 1));
  const cells = lengthOf(x) * lengthOf(y);
  let panels = 1;
  for (const d of facetOrder) {
    if (facets.length >= 2) break;
    if (!free(d) || d.length < 2 || d.length > MAX_FACET || panels * d.length > MAX_PANELS) continue;
    if (d.role === 'sweep' && panels * d.length * cells > MAX_CELLS) continue;
    facets.push(d.name);
    panels *= d.length;
  }
  const fixed = fixedIndices(dims, at);
  for (const d of rest) if (!facets.includes(d.name) && fixed[d.name] === undefined) fixed[d.name] = 0;
  return { x, y, facets, fixed };
}
