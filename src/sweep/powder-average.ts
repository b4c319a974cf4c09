import type { NcWriter } from '../io/netcdf.js';
import type { PowderLayout } from './output-layout.js';

/**
 * Powder averages of linear outputs, accumulated chunk by chunk: sum over orientations of
 * w_theta x value, into arrays over the sweep dimensions without the powder one. Memory is
 * the averaged output itself (the full sweep divided by the number of orientations).
 */
export class PowderAccumulator {
  private readonly sums = new Map<string, { data: Float64Array; inner: number }>();
  private readonly stride: number;
  private readonly length: number;
  private readonly size: number;

  constructor(
    private readonly powder: PowderLayout,
    sweepShape: readonly number[],
  ) {
    let s = 1;
    for (let k = sweepShape.length - 1; k > powder.position; k--) s *= sweepShape[k] as number;
    this.stride = s;
    this.length = sweepShape[powder.position] as number;
    this.size = powder.averagedShape.reduce((a, b) => a * b, 1);
  }

  /** Add `count` points from global flat index `start`, `inner` values each (row-major). */
  add(name: string, start: number, count: number, data: Float64Array, inner: number): void {
    let acc = this.sums.get(name);
    if (!acc) {
      acc = { data: new Float64Array(this.size * inner), inner };
      this.sums.set(name, acc);
    }
    const { stride, length } = this;
    const w = this.powder.weights;
    for (let p = 0; p < count; p++) {
      const g = start + p;
      const k = Math.floor(g / stride) % length;
      const reduced = Math.floor(g / (stride * length)) * stride + (g % stride);
      const wk = w[k] as number;
      const base = reduced * inner;
      for (let j = 0; j < inner; j++) acc.data[base + j] = (acc.data[base + j] as number) + wk * (data[p * inner + j] as number);
    }
  }

  get(name: string): Float64Array | undefined {
    return this.sums.get(name)?.data;
  }

  /** Write an accumulated (or derived) variable whole. */
  write(writer: NcWriter, name: string, data: Float64Array, inner = 1): void {
    const shape = [...this.powder.averagedShape, ...(inner > 1 ? [inner] : [])];
    writer.writeSlab(name, shape.map(() => 0), shape, data);
  }
}
