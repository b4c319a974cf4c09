import { describe, expect, it } from 'vitest';
import { descendingOfAscending } from '../../src/evaluate/mode-extractor.js';
import { mulberry32 } from '../../src/math/mulberry32.js';

/** The stable insertion sort descending by value that ModeExtractor.finish falls back to (independent copy). */
function insertionDescending(re: Float64Array, n: number): number[] {
  const order = Array.from({ length: n }, (_, k) => k);
  for (let i = 1; i < n; i++) {
    const x = order[i] as number;
    let j = i - 1;
    while (j >= 0 && (re[order[j] as number] as number) < (re[x] as number)) {
      order[j + 1] = order[j] as number;
      j--;
    }
    order[j + 1] = x;
  }
  return order;
}

describe('descendingOfAscending (the fast path of the modes sort)', () => {
  it('gives the insertion sort order on non-decreasing input, ties, signed zeros and n = 0, 1 included', () => {
    const rand = mulberry32(7);
    const cases: number[][] = [[], [3], [-0, 0], [0, -0], [-2, -2, -2], [-5, -1, -1, 0, 0, 0, 2]];
    for (let c = 0; c < 200; c++) {
      const n = 1 + Math.floor(rand() * 40);
      // few distinct values, so that runs of equal values are common
      const xs = Array.from({ length: n }, () => Math.floor(rand() * 6) - 3).sort((a, b) => a - b);
      cases.push(xs);
    }
    for (const xs of cases) {
      const re = Float64Array.from(xs);
      const order = new Int32Array(xs.length);
      expect(descendingOfAscending(re, xs.length, order)).toBe(true);
      expect(Array.from(order)).toEqual(insertionDescending(re, xs.length));
    }
  });

  it('declines (order untouched) on a decrease or a NaN', () => {
    for (const xs of [[1, 0], [0, 2, 1], [NaN], [0, NaN, 1], [NaN, 0]]) {
      const order = new Int32Array(xs.length).fill(-7);
      expect(descendingOfAscending(Float64Array.from(xs), xs.length, order)).toBe(false);
      expect(Array.from(order).every((x) => x === -7)).toBe(true);
    }
  });
});
