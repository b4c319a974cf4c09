/**
 * The data embedded in report.html: every file's dims and variables, values rounded to
 * float32 and base64-encoded (little-endian), large sweeps decimated to a value budget.
 * Pure apart from reading the already loaded run.
 */
import { type Dim, type RunData, type RunFile, type TermInfo } from '../plot/run-directory.js';
import { sliceField } from '../plot/slice.js';
import { surfaceTitle } from '../plot/figures.js';
import { ROUNDOFF_REL, spectrumScale } from '../plot/value-scale.js';

export interface PayloadDim {
  readonly name: string;
  readonly role: Dim['role'];
  /** Entries in the report (fewer than in the run when decimated). */
  readonly length: number;
  readonly labels: readonly string[];
  readonly values: readonly number[] | null;
  readonly units: string;
  readonly axisKind: Dim['axisKind'];
  readonly members: ReadonlyArray<{ readonly name: string; readonly values: readonly number[]; readonly units: string; readonly axisKind: Dim['axisKind'] }>;
  /** Length in the run when decimated for the report. */
  readonly fullLength?: number;
}

export interface PayloadVar {
  readonly name: string;
  readonly dims: readonly string[];
  readonly shape: readonly number[];
  readonly units: string;
  readonly title: string;
  readonly reference?: string;
  /** Largest |eigenvalue| of the observable (expectation values), 0 otherwise: the scale of round-off. */
  readonly spectrum: number;
  /** float32 little-endian, base64. */
  readonly data: string;
}

export interface PayloadFile {
  readonly dims: readonly PayloadDim[];
  readonly vars: readonly PayloadVar[];
  readonly terms?: readonly TermInfo[];
}

export interface ReportPayload {
  readonly title: string;
  readonly observables: RunData['observables'];
  readonly surfaces: PayloadFile;
  readonly trajectories: PayloadFile | null;
  readonly contributions: PayloadFile | null;
  readonly notes: readonly string[];
  /** Global attributes of surfaces.nc (initial, thermalization, ...). */
  readonly attrs: Readonly<Record<string, string | number>>;
  /** Relative spread below which values are drawn as constant (as in the static figures). */
  readonly roundoff: number;
}

export interface PayloadOptions {
  /**
   * Upper bound on embedded values, shared evenly by the files present (default 1,500,000:
   * about 8 MB of base64 next to plotly's 4.8 MB).
   */
  readonly maxValues?: number;
}

export const DEFAULT_MAX_VALUES = 1_500_000;

/** float32 little-endian base64: exact float32 rounding, NaN kept, 5.3 characters a value. */
export function encodeFloat32(data: ArrayLike<number>): string {
  const buf = Buffer.alloc(data.length * 4);
  for (let i = 0; i < data.length; i++) buf.writeFloatLE(data[i] as number, i * 4);
  return buf.toString('base64');
}

export function decodeFloat32(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}

/** Evenly spaced index subset of 0..n-1 with both ends, of about n/2 entries. */
function halve(idx: readonly number[]): number[] {
  if (idx.length <= 2) return [...idx];
  const k = Math.ceil(idx.length / 2);
  const out = new Set<number>();
  for (let j = 0; j < k; j++) out.add(idx[Math.round((j * (idx.length - 1)) / (k - 1))] as number);
  return [...out];
}

/**
 * Index subsets of the sweep dims so the file's variables total at most `budget` values:
 * the currently longest sweep dim is halved until it fits (categorical dims, modes, terms and
 * times are kept whole).
 */
export function decimationPlan(file: RunFile, names: readonly string[], budget: number): Record<string, number[]> {
  const pick: Record<string, number[]> = {};
  for (const d of file.dims) if (d.role === 'sweep') pick[d.name] = Array.from({ length: d.length }, (_, i) => i);
  const total = (): number =>
    names.reduce((acc, n) => {
      const f = file.fields.get(n);
      if (!f) return acc;
      return acc + f.dims.reduce((p, d, k) => p * (pick[d]?.length ?? (f.shape[k] as number)), 1);
    }, 0);
  for (;;) {
    if (total() <= budget) break;
    let longest: string | null = null;
    for (const [name, idx] of Object.entries(pick)) if (idx.length > 2 && (longest === null || idx.length > (pick[longest] as number[]).length)) longest = name;
    if (longest === null) break;
    pick[longest] = halve(pick[longest] as number[]);
  }
  return pick;
}

function payloadDim(d: Dim, idx: readonly number[] | undefined): PayloadDim {
  const take = <T>(xs: ArrayLike<T>): T[] => (idx ? idx.map((i) => xs[i] as T) : Array.from(xs));
  const decimated = idx !== undefined && idx.length < d.length;
  return {
    name: d.name,
    role: d.role,
    length: idx ? idx.length : d.length,
    labels: take(d.labels),
    values: d.values ? take(d.values) : null,
    units: d.units,
    axisKind: d.axisKind,
    members: d.members.map((m) => ({ name: m.name, values: take(m.values), units: m.units, axisKind: m.axisKind })),
    ...(decimated ? { fullLength: d.length } : {}),
  };
}

function payloadFile(run: RunData, file: RunFile, names: readonly string[], budget: number, label: string, notes: string[]): PayloadFile {
  const pick = decimationPlan(file, names, budget);
  const dims = file.dims.map((d) => payloadDim(d, pick[d.name]));
  const shrunk = dims.filter((d) => d.fullLength !== undefined).map((d) => `${d.name} ${d.labels.length} of ${d.fullLength}`);
  if (shrunk.length > 0) {
    notes.push(`${label}: decimated to keep this page small (${shrunk.join(', ')} values shown, evenly spaced, ends kept); the full data are in the NetCDF file`);
  }
  const vars: PayloadVar[] = [];
  for (const n of names) {
    const f = file.fields.get(n);
    if (!f) continue;
    const { data, shape } = sliceField(f, f.dims, {}, pick);
    const reference = typeof f.attrs.reference === 'string' ? f.attrs.reference : undefined;
    vars.push({
      name: f.name,
      dims: f.dims,
      shape,
      units: f.units,
      title: surfaceTitle(f, run.observables),
      ...(reference !== undefined ? { reference } : {}),
      spectrum: spectrumScale(f),
      data: encodeFloat32(data),
    });
  }
  return { dims, vars };
}

const size = (file: RunFile, n: string): number => file.fields.get(n)?.data.length ?? 0;

export function buildPayload(run: RunData, options: PayloadOptions = {}): ReportPayload {
  const files = 1 + (run.trajectories ? 1 : 0) + (run.contributions ? 1 : 0);
  const budget = Math.floor((options.maxValues ?? DEFAULT_MAX_VALUES) / files);
  const notes: string[] = [...run.warnings];
  const s = run.surfaces;
  let surfaceNames = [...s.fields.keys()];
  const amps = surfaceNames.filter((n) => n.startsWith('amp_'));
  const withAmps = surfaceNames.reduce((a, n) => a + size(s, n), 0);
  if (amps.length > 0 && withAmps > budget) {
    surfaceNames = surfaceNames.filter((n) => !n.startsWith('amp_'));
    notes.push(`mode amplitudes (${amps.join(', ')}) left out to keep this page small; they are in surfaces.nc`);
  }
  const surfaces = payloadFile(run, s, surfaceNames, budget, 'surfaces', notes);
  const trajectories = run.trajectories ? payloadFile(run, run.trajectories, [...run.trajectories.fields.keys()], budget, 'trajectories', notes) : null;
  let contributions: PayloadFile | null = null;
  if (run.contributions) {
    const c = run.contributions;
    contributions = { ...payloadFile(run, c, [...c.fields.keys()].filter((n) => n.startsWith('dOdt_')), budget, 'contributions', notes), terms: c.terms };
  }
  return { title: run.title, observables: run.observables, surfaces, trajectories, contributions, notes, attrs: s.attrs, roundoff: ROUNDOFF_REL };
}

