// AssemblyScript source of the WebAssembly mode sums (src/math/wasm-mode-sums.ts): <O>(t) of
// real modes on a time grid without a common step. Compiled ahead of time (`npm run build:wasm`,
// scripts/build-wasm.mjs) into src/math/wasm-mode-sums-binary.ts.
//
// Memory (byte offsets, f64 arrays): rate: nModes; amp: nModes * nObs (mode-major); times: nT;
// steady: nObs; out: nObs * nT (observable-major), overwritten.

@inline function ld(base: usize, i: i32): f64 { return load<f64>(base + (<usize>i << 3)); }
@inline function st(base: usize, i: i32, x: f64): void { store<f64>(base + (<usize>i << 3), x); }

/** out[o][k] += amp[q][o] * e for every observable. */
@inline function addTerm(out: usize, amp: usize, q: i32, nObs: i32, nT: i32, k: i32, e: f64): void {
  for (let o = 0; o < nObs; o++) {
    const j = o * nT + k;
    st(out, j, ld(out, j) + ld(amp, q * nObs + o) * e);
  }
}

// x = k ln2 + r: ln2 split so that k * LN2_HI is exact for the |k| < 2^20 used here (fdlibm's split)
const LN2_HI: f64 = 6.93147180369123816490e-01;
const LN2_LO: f64 = 1.90821492927058770002e-10;
const INV_LN2: f64 = 1.44269504088896338700e+00;

/**
 * exp(-x) in both lanes for 0 <= x <= 700: k = nearest(x / ln2), exp(-x) = 2^-k exp(r) with
 * r = k ln2 - x in [-ln2/2, ln2/2] and exp(r) by its Taylor polynomial to r^13 (truncation
 * below 1e-17), 2^-k applied to the exponent bits. Within 2 ulp of the correctly rounded value
 * (test/math/wasm-mode-sums.test.ts checks it against Math.exp).
 */
@inline function expNeg2(x: v128): v128 {
  const k = f64x2.nearest(f64x2.mul(x, f64x2.splat(INV_LN2)));
  const r = f64x2.add(f64x2.sub(f64x2.mul(k, f64x2.splat(LN2_HI)), x), f64x2.mul(k, f64x2.splat(LN2_LO)));
  let p = f64x2.splat(1.6059043836821613e-10);
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(2.08767569878681e-9));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(2.505210838544172e-8));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(2.755731922398589e-7));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(2.7557319223985893e-6));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(2.48015873015873e-5));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.984126984126984e-4));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.388888888888889e-3));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(8.333333333333333e-3));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(4.1666666666666664e-2));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(0.16666666666666666));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(0.5));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0));
  const kl = i64x2.extend_low_i32x4_s(i32x4.trunc_sat_f64x2_s_zero(k));
  return i64x2.sub(p, i64x2.shl(kl, 52));
}

/** exp(-x) of one value, the same arithmetic as a lane of expNeg2 (tests). */
export function expNeg(x: f64): f64 {
  return f64x2.extract_lane(expNeg2(f64x2.splat(x)), 0);
}

/**
 * out[o][k] = steady[o] + sum_q amp[q][o] exp(-rate[q] t_k), the modes added in order, a mode's
 * terms from the first time at which rate t exceeds `cutoff` (at most 700) on left out (the
 * times ascend). Two times per step in f64x2 lanes. Why WebAssembly: on a log grid each point
 * needs ~10^3 exponentials, and Math.exp is a call out of V8's optimised code (~25 ns on this
 * project's 2 GHz reference machine). A mode with a negative rate (a growing mode of a model
 * without detailed balance) takes the library's exp, one time at a time.
 */
export function realModeSums(rate: usize, amp: usize, nModes: i32, nObs: i32, times: usize, nT: i32, steady: usize, out: usize, cutoff: f64): void {
  for (let o = 0; o < nObs; o++) {
    const s = ld(steady, o);
    for (let k = 0; k < nT; k++) st(out, o * nT + k, s);
  }
  for (let q = 0; q < nModes; q++) {
    const g = ld(rate, q);
    if (!(g >= 0)) {
      for (let k = 0; k < nT; k++) {
        const x = g * ld(times, k);
        if (x > cutoff) break;
        addTerm(out, amp, q, nObs, nT, k, Math.exp(-x));
      }
      continue;
    }
    // the mode's last time within the cutoff first, so that the loop below has no exit that
    // depends on its arithmetic and consecutive exponentials overlap in the CPU
    let end = 0;
    while (end < nT && !(g * ld(times, end) > cutoff)) end++;
    const gv = f64x2.splat(g);
    let k = 0;
    for (; k + 1 < end; k += 2) {
      const e = expNeg2(f64x2.mul(gv, v128.load(times + (<usize>k << 3))));
      for (let o = 0; o < nObs; o++) {
        const at = out + (<usize>(o * nT + k) << 3);
        v128.store(at, f64x2.add(v128.load(at), f64x2.mul(f64x2.splat(ld(amp, q * nObs + o)), e)));
      }
    }
    if (k < end) {
      addTerm(out, amp, q, nObs, nT, k, expNeg(g * ld(times, k)));
    }
  }
}
