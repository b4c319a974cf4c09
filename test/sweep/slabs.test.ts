import { describe, expect, it } from 'vitest';
import { flatRangeToSlabs } from '../../src/sweep/slabs.js';

describe('flat ranges as hyperslabs', () => {
  it('every range of every small shape is covered exactly, in order, by at most 2d-1 slabs', () => {
    for (const shape of [[7], [3, 5], [4, 3, 5], [2, 3, 4, 5]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      for (let start = 0; start < n; start++) {
        for (let count = 1; start + count <= n; count++) {
          const slabs = flatRangeToSlabs(shape, start, count);
          expect(slabs.length).toBeLessThanOrEqual(2 * shape.length - 1);
          let next = start;
          for (const s of slabs) {
            expect(s.offset).toBe(next - start);
            expect(s.count.reduce((a, b) => a * b, 1)).toBe(s.size);
            // the slab's first element is at flat index `next`
            let flat = 0;
            for (let k = 0; k < shape.length; k++) flat = flat * (shape[k] as number) + (s.start[k] as number);
            expect(flat).toBe(next);
            next += s.size;
          }
          expect(next).toBe(start + count);
        }
      }
    }
  });
});
