/**
 * Decompose a flat row-major index range of an array with the given shape into
 * rectangular hyperslabs (at most 2 d - 1 of them), each contiguous in the flat order.
 * Chunks of a sweep are flat ranges; NetCDF writes take hyperslabs.
 */
export interface Slab {
  readonly start: number[];
  readonly count: number[];
  /** Offset of the slab's first element within the range. */
  readonly offset: number;
  readonly size: number;
}

export function flatRangeToSlabs(shape: readonly number[], start: number, count: number): Slab[] {
  const out: Slab[] = [];
  const d = shape.length;
  if (count <= 0) return out;
  if (d === 0) return [{ start: [], count: [], offset: 0, size: 1 }];
  const strides = new Array<number>(d);
  let acc = 1;
  for (let k = d - 1; k >= 0; k--) {
    strides[k] = acc;
    acc *= shape[k] as number;
  }
  const idx = (flat: number): number[] => shape.map((n, k) => Math.floor(flat / (strides[k] as number)) % n);
  let pos = start;
  const end = start + count;
  while (pos < end) {
    // largest k such that pos is aligned to strides[k] and a full block of it fits
    let level = d - 1;
    for (let k = 0; k < d; k++) {
      const s = strides[k] as number;
      if (pos % s === 0 && pos + s <= end) {
        level = k;
        break;
      }
    }
    const s = strides[level] as number;
    const i = idx(pos);
    // how many consecutive blocks of size s fit along dimension `level`, within the range
    const room = (shape[level] as number) - (i[level] as number);
    const blocks = level === d - 1 && s === 1 ? Math.min(room, end - pos) : Math.min(room, Math.floor((end - pos) / s));
    const cnt = shape.map((n, k) => (k < level ? 1 : k === level ? blocks : n));
    const st = i.map((v, k) => (k <= level ? v : 0));
    const size = blocks * s;
    out.push({ start: st, count: cnt, offset: pos - start, size });
    pos += size;
  }
  return out;
}
