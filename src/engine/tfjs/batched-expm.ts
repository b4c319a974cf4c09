/**
 * Batched matrix exponential of float32 tensors [P, r, r] from tensor operations only
 * (tfjs has no expm, solve or eig).
 *
 * Method: scaling and squaring with a truncated Taylor series of degree 9, evaluated by
 * Paterson-Stockmeyer, a per-point number of squarings, and everything carried in the
 * expm1 form D = exp(A) - I (see batchedExpm1Scaled for why that matters in float32).
 *
 * Why Taylor and not Pade: a Pade approximant needs a linear solve (V - U)^-1 (V + U)
 * per point, which tfjs does not have; a batched Gaussian elimination written in tensor
 * ops costs more than the few extra products of Taylor, and it pivots, which tensors do
 * badly. Taylor needs only products and sums.
 *
 * Why degree 9 with theta = 0.8512: ||exp(A) - T_9(A)|| <= sum_{j>9} ||A||^j / j!, which
 * is 2^-24 (float32's unit roundoff) at ||A||_1 = 0.8512 (solved in 40-digit arithmetic).
 * Paterson-Stockmeyer with A^2, A^3 evaluates degree 9 in 4 products:
 *   T_9 = ((c9 A^3 + B2) A^3 + B1) A^3 + B0,  B_i = c_{3i} I + c_{3i+1} A + c_{3i+2} A^2.
 * Degrees 6 | 9 | 12 | 16 cost 3 | 4 | 5 | 6 products and reach theta 0.312 | 0.851 | 1.562 |
 * 2.672, so 9 and 12 tie on products plus squarings (log2(1.562/0.851) = 0.88 squarings
 * for one more product); 9 keeps theta below 1, where the Taylor sum's cancellation for a
 * decaying A costs at most e^(2 theta) ~ 5.5 ulps and each squaring then doubles that
 * relative error: (||A||/theta) e^(2 theta) u is near its minimum (theta = 0.5) at
 * theta = 0.851 and 2.4 times larger at theta = 1.562. Measured against src/math/expm.ts
 * (test/engine/tfjs-expm.test.ts): at most 7e-7 relative, norms 1e-3..5e3, r = 4 and 9.
 *
 * Per-point squarings: s_p = max(0, ceil(log2(||A_p||_1 / theta))). Every point is scaled
 * by its own 2^-s_p and the batch runs max_p s_p squarings, point p taking the square
 * only while step < s_p (tf.where on a full-shape mask): the cost of the stiffest point, the
 * accuracy of each. A common s would over-scale the points of small norm: in the plain
 * form I + 2^-s A keeps only u 2^s / ||A|| of A; in the expm1 form each needless squaring
 * still adds a rounding (about u) to D.
 *
 * The generator itself is formed upstream from the dc and thermal coefficients separately
 * (never f(w) - f(-w) in float32): small thermal couplings stay small entries of A, and
 * the products here keep their relative precision because they never add them to O(1)
 * entries of the same element.
 */
import type { Tensor, Tensor1D, Tensor3D } from '@tensorflow/tfjs';
import { webgpuExpm } from '../fused/expm-wgsl.js';
import type { Tf } from './load-tfjs.js';

export const TAYLOR_DEGREE = 9;
/** Largest ||A||_1 for which the degree-9 Taylor truncation error is below 2^-24. */
export const THETA_TAYLOR9_F32 = 0.8511994080990753;
/** Squarings never exceed this (||A||_1 up to 2^64 theta: beyond it every entry has under- or overflowed). */
export const MAX_SQUARINGS = 64;

const INV_FACT = Array.from({ length: TAYLOR_DEGREE + 1 }, (_, k) => {
  let f = 1;
  for (let j = 2; j <= k; j++) f *= j;
  return 1 / f;
});

/**
 * Per-point squarings s_p = max(0, ceil(log2(||A_p||_1 / theta))), as float32 [P].
 * A point with a non-finite norm gets 0 (its exponential is non-finite whatever happens,
 * and must not make the whole batch run MAX_SQUARINGS steps). The test is on the norm
 * itself (tfjs's isFinite reads the bits): on WebGPU log(NaN) is not NaN (SwiftShader gives
 * 89.1, log(0) gives -88), so testing the logarithm would let a NaN point ask for 64.
 */
export function expmSquarings(tf: Tf, a: Tensor3D): Tensor1D {
  return tf.tidy(() => {
    const norm = tf.max(tf.sum(tf.abs(a), 1), 1) as Tensor1D; // max column sum
    // products with reciprocals: the wasm backend's scalar division is ten times slower than a product
    const s = tf.ceil(tf.mul(tf.log(tf.mul(norm, 1 / THETA_TAYLOR9_F32)), 1 / Math.LN2));
    // norm 0 gives -Infinity (or -88 / ln 2 on WebGPU: clipped to 0), a non-finite norm 0
    const ok = tf.logicalAnd(tf.isFinite(norm), tf.isFinite(s));
    const finite = tf.where(ok, s, tf.zerosLike(s));
    return tf.clipByValue(finite, 0, MAX_SQUARINGS) as Tensor1D;
  });
}

/**
 * Degree-9 Taylor polynomial of each [r, r] block minus the identity, T_9(X) - I
 * (Paterson-Stockmeyer, 4 products): the exponential in its expm1 form.
 */
export function taylor9m1(tf: Tf, x: Tensor3D): Tensor3D {
  return tf.tidy(() => {
    const r = x.shape[1];
    const eye = tf.eye(r);
    const x2 = tf.matMul(x, x);
    const x3 = tf.matMul(x2, x);
    const c = INV_FACT;
    const at = (k: number): number => c[k] as number;
    const block = (i: number): Tensor => {
      const lin = tf.add(tf.mul(x, at(3 * i + 1)), tf.mul(x2, at(3 * i + 2)));
      return i === 0 ? lin : tf.add(lin, tf.mul(eye, at(3 * i)));
    };
    let acc: Tensor = tf.add(tf.mul(x3, at(9)), block(2));
    acc = tf.add(tf.matMul(acc as Tensor3D, x3), block(1));
    acc = tf.add(tf.matMul(acc as Tensor3D, x3), block(0));
    return acc as Tensor3D;
  });
}

/**
 * exp(A_p) - I for every block, given the per-point squarings `s` [P] (from expmSquarings,
 * as a tensor or already read back to the host) and their maximum `sMax` (a host number,
 * so the loop length is known without reading the device inside the computation).
 *
 * Why the expm1 form: a relaxation propagator exp(G dt) of a slow mode has an eigenvalue
 * 1 - R dt; stored in float32 next to 1 it keeps only u / (R dt) of R (a singlet decaying
 * at 5e-3 /s with dt = 0.47 s: 5e-5 relative per step, 1e-3 after 128 steps, measured).
 * D = exp(A) - I keeps R dt to u relative: the Taylor sum simply drops its I term, and
 * a squaring becomes (I + D)^2 - I = 2 D + D D, which never adds a small entry to a 1.
 * The propagation rho + D rho then rounds once per step, at the size of rho.
 */
export function batchedExpm1Scaled(tf: Tf, a: Tensor3D, s: Tensor1D | Float32Array | Float64Array, sMax: number): Tensor3D {
  return tf.tidy(() => {
    const [p, r] = [a.shape[0], a.shape[1]];
    const steps = Number.isFinite(sMax) ? Math.min(Math.max(0, Math.round(sMax)), MAX_SQUARINGS) : 0;
    // The per-point scale 2^-s and the squaring mask at the full [P, r, r] shape: a [P, 1, 1]
    // operand is broadcast by tiling on every call, which costs more than the squaring itself
    // on the cpu and wasm backends. From host squarings both are filled on the host.
    let scale: Tensor;
    let sFull: Tensor | undefined;
    if (s instanceof Float32Array || s instanceof Float64Array) {
      const sc = new Float32Array(p * r * r);
      const sf = new Float32Array(p * r * r);
      for (let i = 0; i < p; i++) {
        const si = s[i] as number;
        sc.fill(2 ** -si, i * r * r, (i + 1) * r * r);
        sf.fill(si, i * r * r, (i + 1) * r * r);
      }
      scale = tf.tensor3d(sc, [p, r, r]);
      sFull = steps > 0 ? tf.tensor3d(sf, [p, r, r]) : undefined;
    } else {
      // 2^-s exactly: pow of 2 to an integer exponent is exact in float32
      sFull = tf.tile(tf.reshape(s, [p, 1, 1]), [1, r, r]);
      scale = tf.pow(tf.scalar(2), tf.neg(sFull));
    }
    let d = taylor9m1(tf, tf.mul(a, scale) as Tensor3D);
    for (let i = 0; i < steps; i++) {
      const sq = tf.add(tf.mul(d, 2), tf.matMul(d, d));
      d = tf.where(tf.greater(sFull as Tensor, i), sq, d) as Tensor3D;
    }
    return d;
  });
}

/** exp(A_p) for every block (I + the expm1 form), squarings as for batchedExpm1Scaled. */
export function batchedExpmScaled(tf: Tf, a: Tensor3D, s: Tensor1D | Float32Array | Float64Array, sMax: number): Tensor3D {
  return tf.tidy(() => tf.add(batchedExpm1Scaled(tf, a, s, sMax), tf.eye(a.shape[1])) as Tensor3D);
}

/** Largest squaring count of a batch (one scalar read from the device). */
export async function maxSquarings(tf: Tf, s: Tensor1D): Promise<number> {
  const m = tf.max(s);
  try {
    const v = (await m.data())[0];
    return v === undefined || !Number.isFinite(v) ? 0 : v;
  } finally {
    m.dispose();
  }
}

/** exp(A_p) for a batch [P, r, r]: squarings per point, one scalar read for their maximum (none on WebGPU). */
export async function batchedExpm(tf: Tf, a: Tensor3D): Promise<Tensor3D> {
  if (tf.getBackend() === 'webgpu') return webgpuExpm(tf, a, false);
  const s = expmSquarings(tf, a);
  try {
    return batchedExpmScaled(tf, a, s, await maxSquarings(tf, s));
  } finally {
    s.dispose();
  }
}

/** exp(A_p) - I for a batch [P, r, r]. */
export async function batchedExpm1(tf: Tf, a: Tensor3D): Promise<Tensor3D> {
  if (tf.getBackend() === 'webgpu') return webgpuExpm(tf, a, true);
  const s = expmSquarings(tf, a);
  try {
    return batchedExpm1Scaled(tf, a, s, await maxSquarings(tf, s));
  } finally {
    s.dispose();
  }
}

/**
 * Synchronous exp(A_p): dataSync of the largest squaring count on cpu, wasm and tensorflow;
 * on WebGPU, which has no synchronous read in Node, the one-dispatch kernel of
 * expm-wgsl.ts, where each matrix squares to its own count on the device.
 */
export function batchedExpmSync(tf: Tf, a: Tensor3D): Tensor3D {
  if (tf.getBackend() === 'webgpu') return webgpuExpm(tf, a, false);
  return tf.tidy(() => {
    const s = expmSquarings(tf, a);
    const sMax = tf.max(s).dataSync()[0] ?? 0;
    return batchedExpmScaled(tf, a, s, Number.isFinite(sMax) ? sMax : 0);
  });
}
