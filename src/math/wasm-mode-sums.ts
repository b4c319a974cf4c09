import { MODE_SUMS_WASM } from './wasm-mode-sums-binary.js';
import { isMemoryShortage, WASM_BASE, wasmInstance, wasmModule } from './wasm-module.js';

type SumsFn = (rate: number, amp: number, nModes: number, nObs: number, times: number, nT: number, steady: number, out: number, cutoff: number) => void;

/** Float64 views of the given lengths, one after another from byte offset `at`. */
function consecutiveViews(buf: ArrayBufferLike, at: number, lengths: readonly number[]): Float64Array[] {
  const out: Float64Array[] = [];
  for (const n of lengths) {
    out.push(new Float64Array(buf, at, n));
    at += 8 * n;
  }
  return out;
}

/**
 * <O>(t_k) = ss_o + sum_q a_qo exp(-g_q t_k) of real modes on a fixed time grid, in
 * WebAssembly (wasm/mode-sums.ts). Why: a log grid has no common step, so every (mode, time)
 * term needs its own exponential, ~10^3 per point for an electron and three 1H, and
 * Math.exp is a call out of V8's optimised code, where the module's exp is inline.
 *
 * The caller writes the modes into `rate`, `amp` (mode-major, nObs per mode) and `steady`,
 * views into the instance's memory, and reads `out` (observable-major, nT per observable).
 */
export class WasmModeSums {
  readonly nT: number;
  readonly maxModes: number;
  readonly nObs: number;
  readonly rate: Float64Array;
  readonly amp: Float64Array;
  readonly steady: Float64Array;
  readonly out: Float64Array;
  private readonly times: Float64Array;
  private readonly fn: SumsFn;

  private constructor(times: Float64Array, maxModes: number, nObs: number, mod: object) {
    this.nT = times.length;
    this.maxModes = maxModes;
    this.nObs = nObs;
    const doubles = times.length + maxModes * (1 + nObs) + nObs * (1 + times.length);
    const inst = wasmInstance(mod, WASM_BASE + 8 * doubles);
    this.fn = inst.exports.realModeSums as SumsFn;
    const [t, rate, amp, steady, out] = consecutiveViews(inst.memory.buffer, WASM_BASE, [times.length, maxModes, maxModes * nObs, nObs, nObs * times.length]) as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
    this.times = t;
    this.times.set(times);
    this.rate = rate;
    this.amp = amp;
    this.steady = steady;
    this.out = out;
  }

  /**
   * An instance for this time grid, or undefined where WebAssembly is not available or the
   * times do not ascend (the cutoff ends a mode at its first spent time).
   */
  static create(times: Float64Array, maxModes: number, nObs: number): WasmModeSums | undefined {
    for (let k = 1; k < times.length; k++) if (!((times[k] as number) >= (times[k - 1] as number))) return undefined;
    const mod = wasmModule(MODE_SUMS_WASM);
    if (!mod) return undefined;
    try {
      return new WasmModeSums(times, maxModes, nObs, mod);
    } catch (e) {
      if (isMemoryShortage(e)) return undefined;
      throw e;
    }
  }

  /**
   * `out` from the first nModes modes; a mode's terms from the first time with g t > cutoff on
   * are left out (below exp(-cutoff) of its amplitude).
   */
  sum(nModes: number, cutoff: number): void {
    if (nModes > this.maxModes) throw new RangeError(`WasmModeSums: ${nModes} modes but the instance holds ${this.maxModes}`);
    this.fn(this.rate.byteOffset, this.amp.byteOffset, nModes, this.nObs, this.times.byteOffset, this.nT, this.steady.byteOffset, this.out.byteOffset, cutoff);
  }
}
