/**
 * The batched float32 matrix exponential against the float64 Pade exponential of
 * src/math/expm.ts: tensor ops on the cpu and wasm tfjs backends, and on webgpu (where the
 * .ci/run environment provides SwiftShader) the one-dispatch WGSL kernel for the
 * exponential itself, tensor ops for the squaring counts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Tensor3D } from '@tensorflow/tfjs';
import { expmOf } from '../../src/math/expm.js';
import { loadTfjs, type Tf } from '../../src/engine/tfjs/load-tfjs.js';
import { batchedExpm, batchedExpm1, batchedExpmSync, expmSquarings, MAX_SQUARINGS, THETA_TAYLOR9_F32 } from '../../src/engine/tfjs/batched-expm.js';
import { TFJS_TEST_BACKENDS } from '../helpers/tfjs-backends.js';

/** Deterministic pseudo-random numbers (tests must not depend on Math.random). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

/**
 * A relaxation-like generator of dimension r with 1-norm `norm`: row 0 zero (trace
 * preservation), a negative definite symmetric part plus a rotation, so exp(A) is bounded.
 */
function generator(r: number, norm: number, rand: () => number): Float64Array {
  const b = Float64Array.from({ length: r * r }, rand);
  const a = new Float64Array(r * r);
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < r; j++) {
      let s = 0;
      for (let k = 0; k < r; k++) s += (b[i * r + k] as number) * (b[j * r + k] as number);
      a[i * r + j] = -s + 0.3 * ((b[i * r + j] as number) - (b[j * r + i] as number));
    }
  }
  for (let j = 0; j < r; j++) a[j] = 0;
  let n1 = 0;
  for (let j = 0; j < r; j++) {
    let c = 0;
    for (let i = 0; i < r; i++) c += Math.abs(a[i * r + j] as number);
    n1 = Math.max(n1, c);
  }
  return a.map((x) => (x * norm) / n1);
}

function maxAbs(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i] as number));
  return m;
}

for (const backend of TFJS_TEST_BACKENDS) {
  describe(`batched expm on tfjs-${backend}`, () => {
    let tf: Tf;
    let tensorsBefore = 0;
    beforeAll(async () => {
      const loaded = await loadTfjs(backend, { strict: true });
      expect(loaded.backend).toBe(backend);
      tf = loaded.tf;
      tensorsBefore = tf.memory().numTensors;
    });
    beforeEach(async () => {
      await tf.setBackend(backend);
    });
    afterAll(() => {
      // every helper disposes what it made; only the tests' own results were disposed by them
      expect(tf.memory().numTensors).toBe(tensorsBefore);
    });

    const upload = (mats: Float64Array[], r: number): Tensor3D => {
      const flat = new Float32Array(mats.length * r * r);
      mats.forEach((m, p) => flat.set(Float32Array.from(m), p * r * r));
      return tf.tensor3d(flat, [mats.length, r, r]);
    };

    it('agrees with the float64 Pade exponential over seven decades of norm, r = 4 and 9', async () => {
      const rand = rng(7);
      for (const r of [4, 9]) {
        const norms = [1e-3, 3e-2, 0.5, THETA_TAYLOR9_F32, 2, 17, 300, 5000];
        const mats = norms.map((n) => generator(r, n, rand));
        // the reference from the float32-rounded input: only the method's own error remains
        const refs = mats.map((m) => expmOf(Float64Array.from(Float32Array.from(m)), r));
        const a = upload(mats, r);
        const p = await batchedExpm(tf, a);
        const got = await p.data();
        tf.dispose([a, p]);
        mats.forEach((_, q) => {
          const ref = refs[q] as Float64Array;
          const err = maxAbs(ref.map((v, k) => v - (got[q * r * r + k] as number))) / maxAbs(ref);
          // float32 unit roundoff 6e-8; squarings (up to 13 here) and r add a few ulps each:
          // measured at most 7.2e-7 (r = 9, norm 300, wasm)
          expect(err, `r=${r} norm=${norms[q]}`).toBeLessThan(2e-6);
        });
      }
    });

    it('keeps exp(A) - I to float32 relative precision for a small A (the expm1 form)', async () => {
      const rand = rng(11);
      const r = 4;
      const mats = [1e-6, 1e-4, 1e-2].map((n) => generator(r, n, rand));
      const a = upload(mats, r);
      const d = await batchedExpm1(tf, a);
      const got = await d.data();
      tf.dispose([a, d]);
      mats.forEach((m, q) => {
        const p64 = expmOf(Float64Array.from(Float32Array.from(m)), r);
        const ref = p64.map((v, k) => v - (k % (r + 1) === 0 ? 1 : 0));
        const err = maxAbs(ref.map((v, k) => v - (got[q * r * r + k] as number))) / maxAbs(ref);
        // measured 4e-8; exp(A) itself, rounded to float32 next to 1, would keep only
        // 6e-8 / 1e-6 of the smallest A here (6% error in exp(A) - I)
        expect(err).toBeLessThan(5e-7);
      });
    });

    it('chooses squarings per point: a stiff neighbour does not change a small point', async () => {
      const rand = rng(3);
      const r = 4;
      const small = generator(r, 0.05, rand);
      const stiff = generator(r, 4000, rand);
      const a1 = upload([small], r);
      const a2 = upload([small, stiff, small], r);
      const s = expmSquarings(tf, a2);
      expect(Array.from(await s.data())).toEqual([0, Math.ceil(Math.log2(4000 / THETA_TAYLOR9_F32)), 0]);
      const alone = batchedExpmSync(tf, a1);
      const mixed = batchedExpmSync(tf, a2);
      const x = await alone.data();
      const y = await mixed.data();
      tf.dispose([a1, a2, s, alone, mixed]);
      expect(Array.from(y.subarray(0, r * r))).toEqual(Array.from(x));
      expect(Array.from(y.subarray(2 * r * r, 3 * r * r))).toEqual(Array.from(x));
    });

    it('keeps the identity row exact (trace preservation survives float32)', async () => {
      const r = 5;
      const mats = [0.2, 40, 900].map((n) => generator(r, n, rng(5)));
      const a = upload(mats, r);
      const d = await batchedExpm1(tf, a);
      const got = await d.data();
      tf.dispose([a, d]);
      for (let q = 0; q < mats.length; q++) for (let j = 0; j < r; j++) expect(got[q * r * r + j]).toBe(0);
    });

    it('confines a non-finite point to itself and does not let it set the squaring count', async () => {
      const r = 4;
      const good = generator(r, 3, rng(9));
      const bad = good.slice();
      bad[5] = Number.POSITIVE_INFINITY;
      const nan = good.slice();
      nan[6] = Number.NaN;
      const a = upload([good, bad, nan], r);
      const s = expmSquarings(tf, a);
      const sq = Array.from(await s.data());
      expect(sq[1]).toBe(0);
      expect(sq[2]).toBe(0);
      expect(Math.max(...sq)).toBeLessThan(MAX_SQUARINGS);
      const p = await batchedExpm(tf, a);
      const got = await p.data();
      tf.dispose([a, s, p]);
      const ref = expmOf(Float64Array.from(Float32Array.from(good)), r);
      expect(maxAbs(ref.map((v, k) => v - (got[k] as number)))).toBeLessThan(2e-6);
      expect(Array.from(got.subarray(r * r, 2 * r * r)).some((v) => !Number.isFinite(v))).toBe(true);
      expect(Array.from(got.subarray(2 * r * r)).some((v) => !Number.isFinite(v))).toBe(true);
    });
  });
}
