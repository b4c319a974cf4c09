/**
 * NetCDF-4 (HDF5) output for relaxmap rate surfaces and trajectories, written with h5wasm.
 *
 * Layout (what xarray / netCDF-C / h5netcdf / h5py rely on):
 * - the file and every dataset track creation order, otherwise netCDF-C lists dims and
 *   variables alphabetically instead of in sweep order;
 * - each dimension is a coordinate dataset of the same name turned into an HDF5 dimension
 *   scale, attached to every variable that uses it (that is how netCDF-4 encodes dims);
 * - string coordinates are variable-length UTF-8 strings (netCDF NC_STRING, xarray `object`);
 * - text attributes are variable-length UTF-8 strings, integer attributes int32 when they fit,
 *   other numbers float64;
 * - data variables are chunked in row-major blocks of at most 1 MiB; float variables always carry
 *   a `_FillValue` attribute of their own type (NaN unless given): netCDF-C rejects a `_FillValue`
 *   whose type differs from the variable's, and xarray needs it to treat the data as masked.
 *   Integer variables (bit masks, counts) get no `_FillValue` unless one is given, because xarray
 *   turns a masked integer variable into floats, and `ds.flags & 2` must keep working;
 * - CF attributes that must share the variable's type (`flag_masks`, `flag_values`,
 *   `valid_range`, `valid_min`, `valid_max`) are written in the variable's type;
 * - string variables over one dimension (labels such as `term_part` over `term`) are
 *   variable-length UTF-8 strings with that dimension attached.
 *
 * h5wasm cannot set the HDF5 fill-value property, so regions never written would read back as
 * 0 rather than NaN. The writer therefore writes every chunk explicitly, backfilling with NaN
 * (or the given `_FillValue`) whatever the caller did not write.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import h5wasm from 'h5wasm/node';
import type { Attribute, Dataset, File as H5File, Group } from 'h5wasm/node';

export interface NcDimension {
  name: string;
  /** Int32Array values are stored as int32 (read back as Float64Array). */
  values: Float64Array | Int32Array | readonly string[];
  attrs?: Record<string, string | number>;
}

/** A 1-D string variable over an existing dimension (an auxiliary label coordinate). */
export interface NcStringVariable {
  name: string;
  dim: string;
  values: readonly string[];
  attrs?: Record<string, string | number>;
}

export interface NcVariable {
  name: string;
  dims: readonly string[];
  /** Row-major over `dims`. */
  data: Float64Array | Float32Array;
  /**
   * Storage type; default the type of `data`. Integer types store whole numbers (bit masks):
   * reading returns Float32Array for float32 and Float64Array for every other type.
   */
  dtype?: NcDtype;
  attrs?: Record<string, string | number | readonly number[]>;
}

export interface NcDataset {
  dims: readonly NcDimension[];
  variables: readonly NcVariable[];
  /** String variables over one dimension each. */
  strings?: readonly NcStringVariable[];
  attrs?: Record<string, string | number>;
}

export type NcDtype = 'float32' | 'float64' | 'uint8' | 'uint16' | 'int32';
export type NcIntArray = Uint8Array | Uint16Array | Int32Array;

/** A variable declared up front for incremental writing; its data arrives through `writeSlab`. */
export interface NcVariableHeader {
  name: string;
  dims: readonly string[];
  dtype: NcDtype;
  attrs?: Record<string, string | number | readonly number[]>;
}

export interface NcHeader {
  dims: readonly NcDimension[];
  variables: readonly NcVariableHeader[];
  /** Written in full when the file is created. */
  strings?: readonly NcStringVariable[];
  attrs?: Record<string, string | number>;
}

export interface NcWriteOptions {
  /**
   * gzip level 1-9 for data variables; 0 or absent for none. Off by default: h5wasm deflates at
   * roughly 20 MB/s and offers no shuffle filter, so float data shrinks by only a few percent.
   */
  deflate?: number;
  /**
   * Upper bound on partially written chunks held in memory before they are flushed (and read
   * back if written to again). Default 64 MiB.
   */
  cacheBytes?: number;
}

export interface NcWriter {
  /** Final path; the data lives in a hidden temporary file next to it until `close()`. */
  readonly path: string;
  /**
   * Write the hyperslab `start`..`start+count` of a variable; `data` is row-major over `count`.
   * Float64 data for a float32 variable is rounded. Overlapping writes are allowed, the last wins.
   */
  writeSlab(
    varName: string,
    start: readonly number[],
    count: readonly number[],
    data: Float64Array | Float32Array,
  ): void;
  /** Backfill unwritten points with the fill value, close, fsync, and rename onto `path`. */
  close(): Promise<void>;
  /** Discard everything: close and delete the temporary file; `path` is left untouched. */
  abort(): Promise<void>;
}

export class NetcdfError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NetcdfError';
  }
}

const CHUNK_BYTES = 1 << 20;
const DEFAULT_CACHE_BYTES = 64 << 20;
/** Elements per read when loading a variable, so the wasm heap never holds a whole large array. */
const READ_SLAB_BYTES = 8 << 20;

/**
 * Attributes that HDF5 dimension scales and netCDF-C manage themselves: writing them by hand
 * would corrupt the dimension bookkeeping, and reading them back would leak internals.
 */
const RESERVED_ATTRS = new Set([
  'CLASS',
  'NAME',
  'DIMENSION_LIST',
  'REFERENCE_LIST',
  '_Netcdf4Dimid',
  '_Netcdf4Coordinates',
  '_NCProperties',
  '_nc3_strict',
  '_SuperblockVersion',
  '_IsNetcdf4',
]);

/** Prefix netCDF-C gives the scale name of a dimension that has no coordinate variable. */
const NETCDF_DIM_ONLY = 'This is a netCDF dimension but not a netCDF variable';

type FloatArray = Float64Array | Float32Array;
type StoredArray = FloatArray | NcIntArray;
type StoredCtor = Float64ArrayConstructor | Float32ArrayConstructor | Uint8ArrayConstructor | Uint16ArrayConstructor | Int32ArrayConstructor;
type Range = [number, number];

/** Storage of each dtype: array type, HDF5 type string, and the fill of unwritten points. */
const DTYPES: Readonly<Record<NcDtype, { readonly ctor: StoredCtor; readonly h5: string; readonly fill: number; readonly float: boolean }>> = {
  float64: { ctor: Float64Array, h5: '<d', fill: Number.NaN, float: true },
  float32: { ctor: Float32Array, h5: '<f', fill: Number.NaN, float: true },
  // netCDF-C's default fill values (NC_FILL_UBYTE, NC_FILL_USHORT, NC_FILL_INT)
  uint8: { ctor: Uint8Array, h5: '<B', fill: 255, float: false },
  uint16: { ctor: Uint16Array, h5: '<H', fill: 65535, float: false },
  int32: { ctor: Int32Array, h5: '<i', fill: -2147483647, float: false },
};

/** CF attributes that must have the type of their variable. */
const TYPED_ATTRS = new Set(['_FillValue', 'flag_masks', 'flag_values', 'valid_range', 'valid_min', 'valid_max']);

/* ------------------------------------------------------------------------------------------ */
/* Blocking: contiguous row-major blocks, used both as HDF5 chunks and as read/write slabs.    */
/* ------------------------------------------------------------------------------------------ */

/**
 * Blocks have the form [1, ..., 1, c_k, n_{k+1}, ..., n_last], so each block is one contiguous
 * range of flat (row-major) indices. That keeps chunk bookkeeping one-dimensional and lets any
 * block be written straight from a subarray of the caller's data without copying.
 */
interface Blocking {
  readonly shape: readonly number[];
  readonly size: number;
  /** Dimension along which blocks are cut. */
  readonly k: number;
  /** Block extent along k. */
  readonly ck: number;
  /** Product of the dims after k. */
  readonly inner: number;
  /** Blocks per index of the dims before k. */
  readonly perLead: number;
  readonly count: number;
  /** Elements in a full (non-edge) block. */
  readonly maxLen: number;
}

function product(xs: readonly number[]): number {
  let p = 1;
  for (const x of xs) p *= x;
  return p;
}

function makeBlocking(shape: readonly number[], maxElems: number): Blocking {
  const n = shape.length;
  const size = product(shape);
  let k = n - 1;
  let inner = 1;
  // Cut along the outermost dim whose trailing block still fits, so blocks are as large as allowed.
  for (let d = 0; d < n; d++) {
    const tail = product(shape.slice(d + 1));
    if (tail <= maxElems) {
      k = d;
      inner = tail;
      break;
    }
  }
  const nk = shape[k] ?? 1;
  const cmax = Math.max(1, Math.min(nk, Math.floor(maxElems / inner)));
  const pieces = Math.ceil(nk / cmax);
  // Even out the blocks so the last one is not a sliver.
  const ck = Math.ceil(nk / pieces);
  const perLead = Math.ceil(nk / ck);
  const lead = product(shape.slice(0, k));
  return { shape, size, k, ck, inner, perLead, count: lead * perLead, maxLen: ck * inner };
}

function blockFlatRange(b: Blocking, j: number): Range {
  const nk = b.shape[b.k] ?? 1;
  const lead = Math.floor(j / b.perLead);
  const q = j % b.perLead;
  const base = lead * nk * b.inner;
  return [base + q * b.ck * b.inner, base + Math.min((q + 1) * b.ck, nk) * b.inner];
}

function blockOf(b: Blocking, flat: number): number {
  const nk = b.shape[b.k] ?? 1;
  const lead = Math.floor(flat / (nk * b.inner));
  const q = Math.floor((flat - lead * nk * b.inner) / (b.ck * b.inner));
  return lead * b.perLead + q;
}

function blockRanges(b: Blocking, j: number): Range[] {
  const nk = b.shape[b.k] ?? 1;
  let lead = Math.floor(j / b.perLead);
  const q = j % b.perLead;
  const ranges: Range[] = new Array<Range>(b.shape.length);
  for (let d = b.k - 1; d >= 0; d--) {
    const n = b.shape[d] ?? 1;
    const i = lead % n;
    lead = Math.floor(lead / n);
    ranges[d] = [i, i + 1];
  }
  ranges[b.k] = [q * b.ck, Math.min((q + 1) * b.ck, nk)];
  for (let d = b.k + 1; d < b.shape.length; d++) ranges[d] = [0, b.shape[d] ?? 1];
  return ranges;
}

function chunkShape(b: Blocking): number[] {
  return b.shape.map((n, d) => (d < b.k ? 1 : d === b.k ? b.ck : n));
}

/* ------------------------------------------------------------------------------------------ */
/* Validation                                                                                  */
/* ------------------------------------------------------------------------------------------ */

function checkName(kind: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || /[/\0]/.test(name) || name === '.') {
    throw new NetcdfError(`netcdf: invalid ${kind} name ${JSON.stringify(name)} (must be non-empty, without '/')`);
  }
}

function checkAttrs(
  owner: string,
  attrs: Record<string, unknown> | undefined,
  allowArrays: boolean,
): void {
  if (attrs === undefined) return;
  for (const [key, value] of Object.entries(attrs)) {
    checkName(`attribute (on ${owner})`, key);
    if (RESERVED_ATTRS.has(key)) {
      throw new NetcdfError(`netcdf: attribute "${key}" on ${owner} is reserved for HDF5/netCDF bookkeeping`);
    }
    if (typeof value === 'string' || typeof value === 'number') continue;
    if (allowArrays && Array.isArray(value) && value.length > 0 && value.every((x) => typeof x === 'number')) {
      continue;
    }
    const expected = allowArrays ? 'a string, a number or a non-empty number array' : 'a string or a number';
    throw new NetcdfError(`netcdf: attribute "${key}" on ${owner} must be ${expected}`);
  }
}

interface ResolvedVar {
  readonly name: string;
  readonly dims: readonly string[];
  readonly shape: readonly number[];
  readonly dtype: NcDtype;
  readonly attrs: Record<string, string | number | readonly number[]>;
}

function resolveHeader(header: NcHeader): ResolvedVar[] {
  const sizes = new Map<string, number>();
  for (const dim of header.dims) {
    checkName('dimension', dim.name);
    if (sizes.has(dim.name)) throw new NetcdfError(`netcdf: duplicate dimension "${dim.name}"`);
    const v = dim.values as unknown;
    const isNumeric = v instanceof Float64Array || v instanceof Int32Array;
    const isStrings = Array.isArray(v) && v.every((s) => typeof s === 'string');
    if (!isNumeric && !isStrings) {
      throw new NetcdfError(`netcdf: dimension "${dim.name}" values must be a Float64Array, an Int32Array or an array of strings`);
    }
    if (dim.values.length === 0) throw new NetcdfError(`netcdf: dimension "${dim.name}" is empty`);
    checkAttrs(`dimension "${dim.name}"`, dim.attrs, false);
    if (isStrings && dim.attrs?._FillValue !== undefined) {
      throw new NetcdfError(`netcdf: string dimension "${dim.name}" cannot have a _FillValue`);
    }
    sizes.set(dim.name, dim.values.length);
  }
  checkAttrs('the dataset', header.attrs, false);
  const seen = new Set<string>();
  return header.variables.map((v) => {
    checkName('variable', v.name);
    if (sizes.has(v.name)) {
      throw new NetcdfError(`netcdf: variable "${v.name}" clashes with the coordinate variable of dimension "${v.name}"`);
    }
    if (seen.has(v.name)) throw new NetcdfError(`netcdf: duplicate variable "${v.name}"`);
    seen.add(v.name);
    if (!Object.prototype.hasOwnProperty.call(DTYPES, v.dtype)) {
      throw new NetcdfError(`netcdf: variable "${v.name}" has unsupported dtype ${JSON.stringify(v.dtype)}`);
    }
    if (v.dims.length === 0) throw new NetcdfError(`netcdf: variable "${v.name}" has no dimensions`);
    const shape = v.dims.map((d) => {
      const n = sizes.get(d);
      if (n === undefined) throw new NetcdfError(`netcdf: variable "${v.name}" uses unknown dimension "${d}"`);
      return n;
    });
    checkAttrs(`variable "${v.name}"`, v.attrs, true);
    const fill = v.attrs?._FillValue;
    if (fill !== undefined && typeof fill !== 'number') {
      throw new NetcdfError(`netcdf: _FillValue of variable "${v.name}" must be a number`);
    }
    return { name: v.name, dims: v.dims, shape, dtype: v.dtype, attrs: v.attrs ?? {} };
  });
}

function checkStrings(header: NcHeader, vars: readonly ResolvedVar[]): void {
  const taken = new Set<string>([...header.dims.map((d) => d.name), ...vars.map((v) => v.name)]);
  for (const sv of header.strings ?? []) {
    checkName('variable', sv.name);
    if (taken.has(sv.name)) throw new NetcdfError(`netcdf: string variable "${sv.name}" clashes with another dimension or variable`);
    taken.add(sv.name);
    const dim = header.dims.find((d) => d.name === sv.dim);
    if (!dim) throw new NetcdfError(`netcdf: string variable "${sv.name}" uses unknown dimension "${sv.dim}"`);
    if (!Array.isArray(sv.values) || !sv.values.every((x) => typeof x === 'string')) {
      throw new NetcdfError(`netcdf: string variable "${sv.name}" values must be strings`);
    }
    if (sv.values.length !== dim.values.length) {
      throw new NetcdfError(`netcdf: string variable "${sv.name}" has ${sv.values.length} values but dimension "${sv.dim}" has ${dim.values.length}`);
    }
    checkAttrs(`variable "${sv.name}"`, sv.attrs, false);
  }
}

function describeShape(dims: readonly string[], shape: readonly number[]): string {
  return `(${dims.map((d, i) => `${d}=${shape[i]}`).join(', ')})`;
}

/* ------------------------------------------------------------------------------------------ */
/* h5wasm plumbing                                                                             */
/* ------------------------------------------------------------------------------------------ */

async function h5Module() {
  return h5wasm.ready;
}

/**
 * h5wasm ignores most HDF5 return codes, so a failed write (disk full, say) would otherwise go
 * unnoticed and produce a corrupt file. Its throwing error handler is global state, hence it is
 * switched on only around our own synchronous sections.
 */
function guarded<T>(mod: Awaited<ReturnType<typeof h5Module>>, fn: () => T): T {
  mod.activate_throwing_error_handler();
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof Error)) throw new NetcdfError(`netcdf: HDF5 error: ${String(e)}`);
    if (!e.message.startsWith('HDF5-DIAG')) throw e;
    throw new NetcdfError(`HDF5: ${errorText(e)}`, { cause: e });
  } finally {
    mod.deactivate_throwing_error_handler();
  }
}

function writeAttr(obj: Dataset | Group, key: string, value: string | number | readonly number[], dtype?: NcDtype): void {
  if (dtype !== undefined && typeof value !== 'string') {
    const { ctor, h5 } = DTYPES[dtype];
    const arr = typeof value === 'number' ? [value] : value;
    obj.create_attribute(key, ctor.from(arr), typeof value === 'number' ? [] : [arr.length], h5);
  } else if (typeof value === 'string') {
    obj.create_attribute(key, value);
  } else if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= -2147483648 && value <= 2147483647) {
      obj.create_attribute(key, new Int32Array([value]), [], '<i');
    } else {
      obj.create_attribute(key, new Float64Array([value]), [], '<d');
    }
  } else {
    obj.create_attribute(key, Float64Array.from(value), [value.length], '<d');
  }
}

function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

async function fsyncPath(p: string, flags: string): Promise<void> {
  const fh = await fsp.open(p, flags);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  return e.message.startsWith('HDF5-DIAG') ? condenseH5Stack(e.message) : e.message;
}

/** HDF5's error stack runs to dozens of lines; its outermost and innermost frames say what failed and why. */
function condenseH5Stack(stack: string): string {
  const frames = [...stack.matchAll(/ in (\w+)\(\): (.*)$/gm)].map((m) => `${m[1]}(): ${m[2]}`);
  const first = frames[0];
  const last = frames[frames.length - 1];
  if (first === undefined || last === undefined) return stack;
  return first === last ? first : `${first}: ${last}`;
}

/* ------------------------------------------------------------------------------------------ */
/* Incremental writer                                                                          */
/* ------------------------------------------------------------------------------------------ */

interface VarState {
  readonly v: ResolvedVar;
  readonly ds: Dataset;
  readonly blocks: Blocking;
  readonly Ctor: StoredCtor;
  readonly fill: number;
  /** 1 once a block has been written to the file in full (data, fill, or a mix). */
  readonly flushed: Uint8Array;
  readonly strides: readonly number[];
}

interface CacheEntry {
  readonly s: VarState;
  readonly j: number;
  readonly buf: StoredArray;
  /** May overcount when writes overlap; that only flushes early, and a later write reloads. */
  written: number;
}

class NetcdfWriter implements NcWriter {
  readonly path: string;
  private readonly vars = new Map<string, VarState>();
  /** Insertion order doubles as LRU order. */
  private readonly cache = new Map<string, CacheEntry>();
  private cachedBytes = 0;
  /** 'failed': a write threw partway, so the file may be inconsistent and can only be discarded. */
  private state: 'open' | 'failed' | 'closed' | 'aborted' = 'open';

  constructor(
    private readonly mod: Awaited<ReturnType<typeof h5Module>>,
    private readonly file: H5File,
    private readonly tmp: string,
    target: string,
    states: readonly VarState[],
    private readonly cacheBytes: number,
  ) {
    this.path = target;
    for (const s of states) this.vars.set(s.v.name, s);
  }

  writeSlab(
    varName: string,
    start: readonly number[],
    count: readonly number[],
    data: Float64Array | Float32Array,
  ): void {
    if (this.state !== 'open') throw new NetcdfError(`netcdf: writeSlab on a ${this.state} writer (${this.path})`);
    const s = this.vars.get(varName);
    if (s === undefined) throw new NetcdfError(`netcdf: no variable "${varName}" in ${this.path}`);
    const { shape, dims } = s.v;
    const n = shape.length;
    if (start.length !== n || count.length !== n) {
      throw new NetcdfError(`netcdf: variable "${varName}" has ${n} dims ${describeShape(dims, shape)}; got start/count of length ${start.length}/${count.length}`);
    }
    for (let d = 0; d < n; d++) {
      const a = start[d] ?? -1;
      const c = count[d] ?? -1;
      const lim = shape[d] ?? 0;
      if (!Number.isInteger(a) || !Number.isInteger(c) || a < 0 || c < 0 || a + c > lim) {
        throw new NetcdfError(`netcdf: slab start=[${start.join(', ')}] count=[${count.join(', ')}] is outside variable "${varName}" ${describeShape(dims, shape)}`);
      }
    }
    if (!(data instanceof Float64Array || data instanceof Float32Array)) {
      throw new NetcdfError(`netcdf: data for variable "${varName}" must be a Float64Array or Float32Array`);
    }
    const total = product(count);
    if (data.length !== total) {
      throw new NetcdfError(`netcdf: variable "${varName}": slab count=[${count.join(', ')}] needs ${total} values, got ${data.length}`);
    }
    if (total === 0) return;

    // Split the box into runs that are contiguous in the file's flat order: the trailing dims the
    // box spans completely merge into one run.
    let j = n - 1;
    while (j > 0 && start[j] === 0 && count[j] === shape[j]) j--;
    const runLen = (count[j] ?? 1) * (s.strides[j] ?? 1);
    const runs = total / runLen;
    try {
      this.writeRuns(s, start, count, j, runLen, runs, data);
    } catch (e) {
      this.state = 'failed';
      throw e;
    }
  }

  private writeRuns(
    s: VarState,
    start: readonly number[],
    count: readonly number[],
    j: number,
    runLen: number,
    runs: number,
    data: StoredArray,
  ): void {
    const idx = new Array<number>(j).fill(0);
    guarded(this.mod, () => {
      for (let r = 0; r < runs; r++) {
        let flat = (start[j] ?? 0) * (s.strides[j] ?? 1);
        for (let d = 0; d < j; d++) flat += ((start[d] ?? 0) + (idx[d] ?? 0)) * (s.strides[d] ?? 1);
        this.writeRun(s, flat, data.subarray(r * runLen, (r + 1) * runLen));
        for (let d = j - 1; d >= 0; d--) {
          const next = (idx[d] ?? 0) + 1;
          if (next < (count[d] ?? 1)) {
            idx[d] = next;
            break;
          }
          idx[d] = 0;
        }
      }
    });
  }

  private writeRun(s: VarState, flat: number, run: StoredArray): void {
    const end = flat + run.length;
    for (let j = blockOf(s.blocks, flat); ; j++) {
      const [b0, b1] = blockFlatRange(s.blocks, j);
      if (b0 >= end) break;
      const lo = Math.max(flat, b0);
      const hi = Math.min(end, b1);
      const piece = run.subarray(lo - flat, hi - flat);
      const key = `${s.v.name}\u0000${j}`;
      if (lo === b0 && hi === b1 && piece instanceof s.Ctor) {
        // A whole block goes straight to the file: no copy and no cache traffic.
        this.dropEntry(key);
        s.ds.write_slice(blockRanges(s.blocks, j), piece);
        s.flushed[j] = 1;
        continue;
      }
      const entry = this.entry(s, j, key);
      entry.buf.set(piece, lo - b0);
      entry.written += hi - lo;
      if (entry.written >= b1 - b0) this.flushEntry(key, entry);
    }
    this.evict();
  }

  private entry(s: VarState, j: number, key: string): CacheEntry {
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const ranges = blockRanges(s.blocks, j);
    const [b0, b1] = blockFlatRange(s.blocks, j);
    let buf: StoredArray;
    if (s.flushed[j] === 1) {
      const back = s.ds.slice(ranges);
      buf = back instanceof s.Ctor ? back : s.Ctor.from(back as ArrayLike<number>);
    } else {
      buf = new s.Ctor(b1 - b0).fill(s.fill);
    }
    const fresh: CacheEntry = { s, j, buf, written: 0 };
    this.cache.set(key, fresh);
    this.cachedBytes += buf.byteLength;
    return fresh;
  }

  private flushEntry(key: string, e: CacheEntry): void {
    e.s.ds.write_slice(blockRanges(e.s.blocks, e.j), e.buf);
    e.s.flushed[e.j] = 1;
    this.dropEntry(key);
  }

  private dropEntry(key: string): void {
    const e = this.cache.get(key);
    if (e === undefined) return;
    this.cache.delete(key);
    this.cachedBytes -= e.buf.byteLength;
  }

  private evict(): void {
    for (const [key, e] of this.cache) {
      if (this.cachedBytes <= this.cacheBytes) break;
      this.flushEntry(key, e);
    }
  }

  async close(): Promise<void> {
    if (this.state === 'failed') {
      await this.abort();
      throw new NetcdfError(`netcdf: an earlier write failed; ${this.path} was not written`);
    }
    if (this.state !== 'open') throw new NetcdfError(`netcdf: close on a ${this.state} writer (${this.path})`);
    try {
      guarded(this.mod, () => {
        for (const [key, e] of [...this.cache]) this.flushEntry(key, e);
        for (const s of this.vars.values()) {
          let fill: StoredArray | undefined;
          for (let j = 0; j < s.blocks.count; j++) {
            if (s.flushed[j] === 1) continue;
            fill ??= new s.Ctor(s.blocks.maxLen).fill(s.fill);
            const [b0, b1] = blockFlatRange(s.blocks, j);
            s.ds.write_slice(blockRanges(s.blocks, j), fill.subarray(0, b1 - b0));
            s.flushed[j] = 1;
          }
        }
        const status = this.file.close();
        if (status < 0) throw new NetcdfError(`netcdf: HDF5 failed to close ${this.tmp} (status ${status})`);
      });
      this.state = 'closed';
      // Without the fsync a power cut after the rename could leave an empty or torn file at path.
      await fsyncPath(this.tmp, 'r+');
      await fsp.rename(this.tmp, this.path);
      await fsyncPath(dirname(this.path), 'r').catch(() => undefined);
    } catch (e) {
      this.state = 'closed';
      await this.discard();
      throw e;
    }
  }

  async abort(): Promise<void> {
    if (this.state === 'aborted') return;
    const wasOpen = this.state === 'open' || this.state === 'failed';
    this.state = 'aborted';
    this.cache.clear();
    this.cachedBytes = 0;
    if (wasOpen) {
      try {
        this.file.close();
      } catch {
        // The temporary file is deleted below whatever state HDF5 left it in.
      }
    }
    await this.discard();
  }

  private async discard(): Promise<void> {
    this.state = 'aborted';
    await fsp.rm(this.tmp, { force: true });
  }
}

/**
 * Start a NetCDF-4 file whose variables are filled slab by slab, for outputs too large to hold
 * in memory. Nothing appears at `path` until `close()` succeeds; on any failure (or `abort()`)
 * the temporary file is removed. Memory use is bounded by `cacheBytes` plus one chunk (1 MiB).
 */
export async function createNetcdf(path: string, header: NcHeader, options: NcWriteOptions = {}): Promise<NcWriter> {
  const vars = resolveHeader(header);
  checkStrings(header, vars);
  const deflate = options.deflate ?? 0;
  if (!Number.isInteger(deflate) || deflate < 0 || deflate > 9) {
    throw new NetcdfError(`netcdf: deflate must be an integer 0-9, got ${deflate}`);
  }
  const cacheBytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
  if (!(cacheBytes >= 0)) throw new NetcdfError(`netcdf: cacheBytes must be >= 0, got ${cacheBytes}`);

  const mod = await h5Module();
  const target = resolve(path);
  const tmp = tempPathFor(target);
  let file: H5File | undefined;
  try {
    try {
      file = guarded(mod, () => new h5wasm.File(tmp, 'x', { track_order: true }));
    } catch (e) {
      throw new NetcdfError(`netcdf: cannot create ${tmp}: ${errorText(e).replace(/^HDF5: /, '')}`, { cause: e });
    }
    const f = file;
    const states = guarded(mod, () => {
      for (const [k, v] of Object.entries(header.attrs ?? {})) writeAttr(f, k, v);

      for (const dim of header.dims) {
        const data = dim.values instanceof Float64Array || dim.values instanceof Int32Array ? dim.values : [...dim.values];
        const ds = f.create_dataset({ name: dim.name, data, track_order: true });
        ds.make_scale(dim.name);
        for (const [k, v] of Object.entries(dim.attrs ?? {})) writeAttr(ds, k, v);
      }

      const states = vars.map((v): VarState => {
        const { ctor: Ctor, h5, float } = DTYPES[v.dtype];
        const blocks = makeBlocking(v.shape, Math.floor(CHUNK_BYTES / Ctor.BYTES_PER_ELEMENT));
        // h5wasm writes a dataset's full contents at creation; creating it empty and growing it
        // to its fixed maximum avoids staging the whole array in the wasm heap.
        const ds = f.create_dataset({
          name: v.name,
          data: new Ctor(0),
          shape: v.shape.map(() => 0),
          maxshape: [...v.shape],
          chunks: chunkShape(blocks),
          dtype: h5,
          track_order: true,
          ...(deflate > 0 ? { compression: 'gzip' as const, compression_opts: deflate } : {}),
        });
        ds.resize([...v.shape]);
        v.dims.forEach((d, i) => ds.attach_scale(i, `/${d}`));
        const fillAttr = v.attrs._FillValue;
        const fill = typeof fillAttr === 'number' ? fillAttr : DTYPES[v.dtype].fill;
        for (const [k, val] of Object.entries(v.attrs)) {
          if (k !== '_FillValue') writeAttr(ds, k, val, TYPED_ATTRS.has(k) ? v.dtype : undefined);
        }
        if (float || typeof fillAttr === 'number') writeAttr(ds, '_FillValue', fill, v.dtype);
        const strides = v.shape.map((_, d) => product(v.shape.slice(d + 1)));
        return { v, ds, blocks, Ctor, fill, flushed: new Uint8Array(blocks.count), strides };
      });
      for (const sv of header.strings ?? []) {
        const ds = f.create_dataset({ name: sv.name, data: [...sv.values], track_order: true });
        ds.attach_scale(0, `/${sv.dim}`);
        for (const [k, val] of Object.entries(sv.attrs ?? {})) writeAttr(ds, k, val);
      }
      return states;
    });
    return new NetcdfWriter(mod, f, tmp, target, states, cacheBytes);
  } catch (e) {
    if (file !== undefined) {
      try {
        file.close();
      } catch {
        // Removing the temporary file below is what matters.
      }
    }
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

/** Write a NetCDF-4 (HDF5) file atomically: write to a temp name in the same directory, then rename. Throws on shape mismatch naming the variable. */
export async function writeNetcdf(path: string, ds: NcDataset, options: NcWriteOptions = {}): Promise<void> {
  const header: NcHeader = {
    dims: ds.dims,
    variables: ds.variables.map((v) => {
      const data = v.data as unknown;
      if (!(data instanceof Float64Array || data instanceof Float32Array)) {
        throw new NetcdfError(`netcdf: data of variable "${v.name}" must be a Float64Array or Float32Array`);
      }
      const dtype: NcDtype = v.dtype ?? (data instanceof Float64Array ? 'float64' : 'float32');
      return { name: v.name, dims: v.dims, dtype, ...(v.attrs ? { attrs: v.attrs } : {}) };
    }),
    ...(ds.strings ? { strings: ds.strings } : {}),
    ...(ds.attrs ? { attrs: ds.attrs } : {}),
  };
  // Check every shape before creating anything, so a mismatch costs no I/O.
  const resolved = resolveHeader(header);
  checkStrings(header, resolved);
  resolved.forEach((v, i) => {
    const n = ds.variables[i]?.data.length ?? 0;
    const need = product(v.shape);
    if (n !== need) {
      throw new NetcdfError(`netcdf: variable "${v.name}" has ${n} values but dims ${describeShape(v.dims, v.shape)} need ${need}`);
    }
  });
  const w = await createNetcdf(path, header, options);
  try {
    ds.variables.forEach((v, i) => w.writeSlab(v.name, v.dims.map(() => 0), resolved[i]?.shape ?? [], v.data));
  } catch (e) {
    await w.abort();
    throw e;
  }
  await w.close();
}

/* ------------------------------------------------------------------------------------------ */
/* Reading                                                                                     */
/* ------------------------------------------------------------------------------------------ */

type AttrValue = string | number | number[];

function readAttr(attr: Attribute): AttrValue | undefined {
  const value = attr.value;
  const scalar = attr.shape !== null && attr.shape.length === 0;
  const one = (x: unknown): AttrValue | undefined =>
    typeof x === 'string' || typeof x === 'number' ? x : typeof x === 'bigint' ? Number(x) : undefined;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') return one(value);
  if (Array.isArray(value)) {
    if (value.every((x) => typeof x === 'string')) return value.join(', ');
    const nums = value.map(one).filter((x): x is number => typeof x === 'number');
    if (nums.length !== value.length) return undefined;
    return scalar ? nums[0] : nums;
  }
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const nums = Array.from(value as unknown as ArrayLike<number | bigint>, Number);
    return scalar ? nums[0] : nums;
  }
  return undefined;
}

function readAttrs(obj: Dataset | Group, arraysAllowed: true): Record<string, string | number | number[]>;
function readAttrs(obj: Dataset | Group, arraysAllowed: false): Record<string, string | number>;
function readAttrs(obj: Dataset | Group, arraysAllowed: boolean): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const [name, attr] of Object.entries(obj.attrs)) {
    if (RESERVED_ATTRS.has(name)) continue;
    const v = readAttr(attr);
    if (v === undefined) continue;
    // The writer adds a NaN _FillValue to every float variable; hiding it keeps round trips exact.
    if (name === '_FillValue' && typeof v === 'number' && Number.isNaN(v)) continue;
    if (Array.isArray(v) && !arraysAllowed) continue;
    out[name] = v;
  }
  return out;
}

function readFloats(ds: Dataset, name: string): FloatArray {
  const meta = ds.metadata;
  const shape = meta.shape ?? [];
  const Ctor = meta.type === 1 && meta.size === 4 ? Float32Array : Float64Array;
  if (meta.type !== 0 && meta.type !== 1) {
    throw new NetcdfError(`netcdf: variable "${name}" is not numeric`);
  }
  const size = product(shape);
  const out = new Ctor(size);
  if (size === 0) return out;
  if (shape.length === 0) {
    out.set(toNumbers(ds.value, name));
    return out;
  }
  const blocks = makeBlocking(shape, Math.max(1, Math.floor(READ_SLAB_BYTES / Math.max(1, meta.size))));
  for (let j = 0; j < blocks.count; j++) {
    const [b0] = blockFlatRange(blocks, j);
    out.set(toNumbers(ds.slice(blockRanges(blocks, j)), name), b0);
  }
  return out;
}

function toNumbers(v: unknown, name: string): ArrayLike<number> {
  if (v instanceof Float64Array || v instanceof Float32Array) return v;
  if (typeof v === 'number') return [v];
  if (typeof v === 'bigint') return [Number(v)];
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number | bigint>, Number);
  throw new NetcdfError(`netcdf: cannot read variable "${name}" as numbers`);
}

/** Read back (for tests, merging shards and plotting): dims with coordinate values and attrs, variables with data and attrs, global attrs. */
export async function readNetcdf(path: string): Promise<NcDataset> {
  const abs = resolve(path);
  await fsp.access(abs);
  const mod = await h5Module();
  return guarded(mod, () => {
    let f: H5File;
    try {
      f = new h5wasm.File(abs, 'r');
    } catch (e) {
      throw new NetcdfError(`netcdf: cannot open ${path} as HDF5: ${errorText(e)}`, { cause: e });
    }
    try {
      const dims: NcDimension[] = [];
      const variables: NcVariable[] = [];
      const strings: NcStringVariable[] = [];
      const datasets: Array<[string, Dataset]> = [];
      for (const key of f.keys()) {
        const obj = f.get(key);
        if (obj instanceof h5wasm.Dataset) datasets.push([key, obj]);
      }
      for (const [key, ds] of datasets) {
        const scale = ds.get_scale_name();
        if (scale === null) continue;
        if (scale.startsWith(NETCDF_DIM_ONLY)) {
          throw new NetcdfError(`netcdf: ${path}: dimension "${key}" has no coordinate values, which readNetcdf does not support`);
        }
        const meta = ds.metadata;
        const values = meta.type === 3 ? (ds.value as string[]) : (() => {
          const v = readFloats(ds, key);
          return v instanceof Float64Array ? v : Float64Array.from(v);
        })();
        dims.push({ name: key, values, attrs: readAttrs(ds, false) });
      }
      for (const [key, ds] of datasets) {
        if (ds.get_scale_name() !== null) continue;
        const rank = ds.metadata.shape?.length ?? 0;
        if (ds.metadata.type === 3 && rank === 1) {
          const scale = ds.get_attached_scales(0)[0];
          if (scale === undefined) throw new NetcdfError(`netcdf: ${path}: string variable "${key}" has no dimension attached`);
          strings.push({ name: key, dim: scale.slice(scale.lastIndexOf('/') + 1), values: ds.value as string[], attrs: readAttrs(ds, false) });
          continue;
        }
        const vdims: string[] = [];
        for (let i = 0; i < rank; i++) {
          const scales = ds.get_attached_scales(i);
          const first = scales[0];
          if (first === undefined) {
            throw new NetcdfError(`netcdf: ${path}: variable "${key}" has no dimension attached to axis ${i}`);
          }
          vdims.push(first.slice(first.lastIndexOf('/') + 1));
        }
        variables.push({ name: key, dims: vdims, data: readFloats(ds, key), attrs: readAttrs(ds, true) });
      }
      return { dims, variables, ...(strings.length > 0 ? { strings } : {}), attrs: readAttrs(f, false) };
    } finally {
      f.close();
    }
  });
}
