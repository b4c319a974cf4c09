/**
 * The WebAssembly mode sums (wasm/mode-sums.ts) against an independent float64 evaluation with
 * Math.exp: its exponential within 2 ulp of Math.exp's over the range the sums use, and
 * <O>(t) = ss + sum_q a_q exp(-g_q t) on a log grid, with the cutoff and a growing mode.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WasmModeSums } from '../../src/math/wasm-mode-sums.js';
import { MODE_SUMS_WASM_SOURCE_SHA256 } from '../../src/math/wasm-mode-sums-binary.js';
import { mulberry32 } from '../../src/math/mulberry32.js';

const logGrid = (n: number): Float64Array => Float64Array.from({ length: n }, (_, k) => 1e-9 * 1e12 ** (k / (n - 1)));

describe('WebAssembly mode sums', () => {
  it('the embedded binary was built from the current source (npm run build:wasm)', () => {
    const sha = createHash('sha256').update(readFileSync(new URL('../../wasm/mode-sums.ts', import.meta.url))).digest('hex');
    expect(sha).toBe(MODE_SUMS_WASM_SOURCE_SHA256);
  });

  for (const [nT, nObs] of [[61, 2], [60, 3], [1, 1], [2, 1], [7, 4]] as const) {
    it(`${nT} log-spaced times, ${nObs} observables: equal to the Math.exp sums to 4e-16 of the terms' scale`, () => {
      const times = logGrid(Math.max(nT, 2)).subarray(0, nT);
      const rnd = mulberry32(nT * 10 + nObs);
      const nModes = 27;
      const sums = WasmModeSums.create(times, nModes + 1, nObs);
      expect(sums).toBeDefined();
      const s = sums as WasmModeSums;
      // rates from 1e-3 to 1e10 s^-1, one growing mode (negative rate) and one exactly zero
      const rate = Float64Array.from({ length: nModes }, (_, q) => 10 ** (-3 + (13 * q) / (nModes - 1)));
      rate[3] = -0.25;
      rate[5] = 0;
      const amp = Float64Array.from({ length: nModes * nObs }, () => 2 * rnd() - 1);
      const steady = Float64Array.from({ length: nObs }, () => rnd());
      s.rate.set(rate);
      s.amp.set(amp);
      s.steady.set(steady);
      s.sum(nModes, 50);
      for (let o = 0; o < nObs; o++) {
        for (let k = 0; k < nT; k++) {
          let want = steady[o]!;
          let scale = Math.abs(want);
          for (let q = 0; q < nModes; q++) {
            const x = rate[q]! * times[k]!;
            if (x > 50) continue;
            const term = amp[q * nObs + o]! * Math.exp(-x);
            want += term;
            scale += Math.abs(term);
          }
          expect(Math.abs(s.out[o * nT + k]! - want)).toBeLessThanOrEqual(4e-16 * nModes * scale);
        }
      }
    });
  }

  it('the cutoff ends a mode at its first time past it (no later term is added)', () => {
    const times = Float64Array.from([1, 2, 3, 4, 5]);
    const s = WasmModeSums.create(times, 1, 1) as WasmModeSums;
    s.rate[0] = 10;
    s.amp[0] = 1;
    s.steady[0] = 0;
    s.sum(1, 25);
    expect(Array.from(s.out.subarray(2))).toEqual([0, 0, 0]);
    expect(Math.abs(s.out[0]! - Math.exp(-10)) / Math.exp(-10)).toBeLessThan(5e-16);
    expect(Math.abs(s.out[1]! - Math.exp(-20)) / Math.exp(-20)).toBeLessThan(5e-16);
  });

  it('a grid whose times do not ascend gets no instance (the JavaScript sums stay)', () => {
    expect(WasmModeSums.create(Float64Array.from([0, 2, 1]), 3, 1)).toBeUndefined();
  });
});
