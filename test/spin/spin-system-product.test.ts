import { describe, expect, it } from 'vitest';
import { mul } from '../../src/math/cmatrix.js';
import { SpinSystem } from '../../src/spin/spin-system.js';
import type { Component } from '../../src/spin/spin-operators.js';

describe('SpinSystem.product', () => {
  // spins 1/2, 1 and 3/2: Kronecker factors of different sizes
  const system = new SpinSystem([
    { id: 'a', spin: 0.5, gamma: 1 },
    { id: 'b', spin: 1, gamma: 2 },
    { id: 'c', spin: 1.5, gamma: 3 },
  ]);
  const components: Component[] = ['x', 'y', 'z', 'p', 'm', 'e'];

  it('equals the dense product op(i, a) op(j, b) entry for entry, for every pair of spins and components', () => {
    let compared = 0;
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        for (const a of components) {
          for (const b of components) {
            const want = mul(system.op(i, a), system.op(j, b));
            const got = system.product(i, a, j, b);
            expect(got.rows).toBe(24);
            let worst = 0;
            for (let k = 0; k < want.re.length; k++) {
              worst = Math.max(worst, Math.abs((got.re[k] as number) - (want.re[k] as number)), Math.abs((got.im[k] as number) - (want.im[k] as number)));
            }
            // one non-zero term per entry: exactly equal, not merely close
            expect(worst).toBe(0);
            compared++;
          }
        }
      }
    }
    expect(compared).toBe(324);
  });
});
