/** What a chunk evaluation computes. */
export interface Want {
  readonly rates: boolean;
  /** eigenrates, amplitudes and the steady state (they come from one decomposition). */
  readonly modes: boolean;
  readonly trajectories: boolean;
  /** buildup_<O>: build-up rates from a steady-state solve (set only when asked for). */
  readonly buildup?: boolean;
}

/** A contiguous range of one variant's flat grid (variant = thermalization x initial state). */
export interface Chunk {
  readonly id: number;
  readonly variant: number;
  readonly start: number;
  readonly count: number;
}

/** Per-point status bits. */
export const FLAG_NONFINITE = 1;
export const FLAG_STIFF = 2;
export const FLAG_RECOMPUTED_F64 = 4;
export const FLAG_MODES_FAILED = 8;
export const FLAG_OSCILLATING = 16;
/**
 * The state left the physical range (an expectation value outside its operator's spectrum, a
 * negative population), or the model is used beyond its documented validity (the
 * high-temperature model at beta * w_max above its bound).
 */
export const FLAG_UNPHYSICAL = 32;

export interface ChunkShape {
  readonly count: number;
  readonly nObs: number;
  /** Mode slots per point (reduced dimension - 1), NaN-padded. */
  readonly nModes: number;
  readonly nTimes: number;
  /** Build-up rates per point and observable (after the flags; absent or false: none). */
  readonly buildup?: boolean;
}

/**
 * Results of a chunk as views into ONE Float64Array, so that a worker hands the whole
 * result back with a single transferable (piscina moves only bare transferables).
 * Layout, point-major: rates, steady, boltzmann [count][nObs]; eigenrates [count][nModes];
 * amplitudes [count][nObs][nModes]; trajectories [count][nObs][nTimes]; flags [count].
 */
export interface ChunkResult {
  readonly shape: ChunkShape;
  readonly buffer: Float64Array;
  readonly rates: Float64Array;
  readonly steady: Float64Array;
  readonly boltzmann: Float64Array;
  readonly eigenrates: Float64Array;
  readonly amplitudes: Float64Array;
  readonly trajectories: Float64Array;
  readonly flags: Float64Array;
  /** [count][nObs] when shape.buildup, else empty. */
  readonly buildup: Float64Array;
}

export function chunkLength(s: ChunkShape): number {
  const { count: c, nObs: o, nModes: m, nTimes: t } = s;
  return c * (3 * o + m + o * m + o * t + 1 + (s.buildup ? o : 0));
}

/** Views over a buffer (allocates the buffer when none is given). */
export function chunkViews(shape: ChunkShape, buffer: Float64Array = new Float64Array(chunkLength(shape))): ChunkResult {
  if (buffer.length !== chunkLength(shape)) throw new Error(`chunk buffer has ${buffer.length} values, shape needs ${chunkLength(shape)}`);
  const { count: c, nObs: o, nModes: m, nTimes: t } = shape;
  let off = 0;
  const take = (len: number): Float64Array => {
    const v = buffer.subarray(off, off + len);
    off += len;
    return v;
  };
  return {
    shape,
    buffer,
    rates: take(c * o),
    steady: take(c * o),
    boltzmann: take(c * o),
    eigenrates: take(c * m),
    amplitudes: take(c * o * m),
    trajectories: take(c * o * t),
    flags: take(c),
    buildup: take(shape.buildup ? c * o : 0),
  };
}
