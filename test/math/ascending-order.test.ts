import { describe, expect, it } from 'vitest';
import { ascendingOrder } from '../../src/math/ascending-order.js';
import { mulberry32 } from '../../src/math/mulberry32.js';

describe('ascendingOrder', () => {
  it('is the permutation of a stable comparator sort, ties and signed zeros included', () => {
    const rnd = mulberry32(11);
    for (let trial = 0; trial < 300; trial++) {
      const n = Math.floor(rnd() * 40);
      // few distinct values, so that ties are common; -0 and 0 compare equal in both
      const pool = [-2, -0, 0, 1.5, 1e-300, -1e300, Infinity, -Infinity, 3];
      const key = Float64Array.from({ length: n }, () => pool[Math.floor(rnd() * pool.length)] as number);
      const want = Array.from({ length: n }, (_, i) => i).sort((a, b) => {
        const d = (key[a] as number) - (key[b] as number);
        return Number.isNaN(d) ? 0 : d;
      });
      expect(ascendingOrder(key)).toEqual(want);
    }
  });

  it('orders a prefix when n is given', () => {
    expect(ascendingOrder([3, 1, 2, -5], 3)).toEqual([1, 2, 0]);
    expect(ascendingOrder([], 0)).toEqual([]);
  });
});
