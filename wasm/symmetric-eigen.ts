// AssemblyScript source of the WebAssembly symmetric eigensolver (src/math/wasm-symmetric-eigen.ts).
// The same algorithm as src/math/symmetric-eigen.ts (Householder tridiagonalisation, LAPACK dsytd2
// order, then implicit QL with Wilkinson shifts, EISPACK tql2), every reflection and rotation
// applied to a few probe vectors instead of accumulated into U. Compiled ahead of time
// (`npm run build:wasm`, scripts/build-wasm.mjs) into src/math/wasm-symmetric-eigen-binary.ts.
//
// Memory (byte offsets, f64 arrays): a: n*n row-major, lower triangle read, not modified;
// probes: m*n, overwritten by U^T y (ascending eigenvalue order); lambda: n; work: 2n^2 + 16n + 34.
//
// eigen2 solves two problems of the same size at once: both are reduced in one pass, one in each
// f64x2 lane (tridiagonalize2), then the QL rotations of both run in one loop. A rotation is a
// chain of a square root and a division (~36 ns for the 28 x 28 blocks of an electron and three
// 1H); two independent chains overlap in the CPU. Each problem's operations are those of
// eigen(), in the same order (eigen() runs the same lane-wise reduction), so the results are
// bit for bit two eigen() calls.

@inline function ld(base: usize, i: i32): f64 { return load<f64>(base + (<usize>i << 3)); }
@inline function st(base: usize, i: i32, x: f64): void { store<f64>(base + (<usize>i << 3), x); }

const EPS: f64 = 2.220446049250313e-16;

@inline function ld2(base: usize, i: i32): v128 { return v128.load(base + (<usize>i << 4)); }
@inline function st2(base: usize, i: i32, x: v128): void { v128.store(base + (<usize>i << 4), x); }
/** Lane `lane` (0 or 1) of element i of an interleaved array. */
@inline function ldl(base: usize, i: i32, lane: usize): f64 { return load<f64>(base + (<usize>i << 4) + (lane << 3)); }

/**
 * Householder tridiagonalisation (LAPACK dsytd2 order) of two matrices at once, one in each
 * f64x2 lane: w holds element (i, j) of both at index i*n + j (lower triangle), and every
 * operation of the one-matrix algorithm is one lane-wise f64x2 operation, so each lane's
 * arithmetic is the scalar algorithm's, in its order, whatever the other lane holds. Why: the
 * rows of a 28 x 28 reduction are too short for lanes along a row (the reductions across
 * lanes cost what the lanes save), while two matrices fill both lanes on every row.
 * A lane whose column is already reduced (scale or sigma zero, where the scalar algorithm
 * skips the step) gets the identity reflection (v = e_k1, beta = 0), which changes none of
 * its values. d, e (interleaved, n each) receive the tridiagonal; the reflections are
 * applied to the m probes of each lane (probesB = 0: lane B has none).
 */
function tridiagonalize2(w: usize, n: i32, d: usize, e: usize, v: usize, p: usize, slot: usize, probesA: usize, probesB: usize, m: i32): void {
  const zero = f64x2.splat(0);
  const one = f64x2.splat(1);
  const half = f64x2.splat(0.5);
  for (let k = 0; k < n - 2; k++) {
    const k1 = k + 1;
    let scale = zero;
    for (let i = k1; i < n; i++) scale = f64x2.add(scale, f64x2.abs(ld2(w, i * n + k)));
    st2(d, k, ld2(w, k * n + k));
    const noScale = f64x2.eq(scale, zero);
    const sc = v128.bitselect(one, scale, noScale);
    let sigma = zero;
    for (let i = k1 + 1; i < n; i++) {
      const x = f64x2.div(ld2(w, i * n + k), sc);
      sigma = f64x2.add(sigma, f64x2.mul(x, x));
    }
    const wk1 = ld2(w, k1 * n + k);
    const x0 = f64x2.div(wk1, sc);
    // a zero column has sigma = 0 too: both are the scalar algorithm's skipped steps
    const skip = f64x2.eq(sigma, zero);
    const mu = f64x2.sqrt(f64x2.add(f64x2.mul(x0, x0), sigma));
    const alpha = v128.bitselect(f64x2.neg(mu), mu, f64x2.gt(x0, zero));
    const v0 = f64x2.sub(x0, alpha);
    st2(v, k1, one);
    const sv = f64x2.div(one, f64x2.mul(sc, v0));
    for (let i = k1 + 1; i < n; i++) st2(v, i, v128.bitselect(zero, f64x2.mul(ld2(w, i * n + k), sv), skip));
    const beta = v128.bitselect(zero, f64x2.div(f64x2.neg(v0), alpha), skip);
    st2(e, k, v128.bitselect(v128.bitselect(zero, wk1, noScale), f64x2.mul(alpha, scale), skip));
    for (let i = k1; i < n; i++) st2(p, i, zero);
    for (let i = k1; i < n; i++) {
      const ri = i * n;
      const vi = ld2(v, i);
      // two partial sums (even and odd j): one chain of dependent additions would set the pace
      let s0 = f64x2.mul(ld2(w, ri + i), vi);
      let s1 = f64x2.splat(0);
      let j = k1;
      for (; j + 1 < i; j += 2) {
        const a0 = ld2(w, ri + j);
        const a1 = ld2(w, ri + j + 1);
        s0 = f64x2.add(s0, f64x2.mul(a0, ld2(v, j)));
        s1 = f64x2.add(s1, f64x2.mul(a1, ld2(v, j + 1)));
        st2(p, j, f64x2.add(ld2(p, j), f64x2.mul(a0, vi)));
        st2(p, j + 1, f64x2.add(ld2(p, j + 1), f64x2.mul(a1, vi)));
      }
      if (j < i) {
        const a0 = ld2(w, ri + j);
        s0 = f64x2.add(s0, f64x2.mul(a0, ld2(v, j)));
        st2(p, j, f64x2.add(ld2(p, j), f64x2.mul(a0, vi)));
      }
      st2(p, i, f64x2.add(ld2(p, i), f64x2.add(s0, s1)));
    }
    let pv = zero;
    for (let i = k1; i < n; i++) {
      const x = f64x2.mul(beta, ld2(p, i));
      st2(p, i, x);
      pv = f64x2.add(pv, f64x2.mul(x, ld2(v, i)));
    }
    const c = f64x2.mul(f64x2.mul(half, beta), pv);
    for (let i = k1; i < n; i++) st2(p, i, f64x2.sub(ld2(p, i), f64x2.mul(c, ld2(v, i))));
    for (let i = k1; i < n; i++) {
      const ri = i * n;
      const vi = ld2(v, i);
      const wi = ld2(p, i);
      for (let j = k1; j <= i; j++) {
        const q = ri + j;
        st2(w, q, f64x2.sub(f64x2.sub(ld2(w, q), f64x2.mul(vi, ld2(p, j))), f64x2.mul(wi, ld2(v, j))));
      }
    }
    st2(slot, 0, beta);
    reflectProbes(v, ldl(slot, 0, 0), 0, probesA, n, k1, m);
    if (probesB != 0) reflectProbes(v, ldl(slot, 0, 1), 1, probesB, n, k1, m);
  }
  if (n >= 2) {
    st2(d, n - 2, ld2(w, (n - 2) * n + n - 2));
    st2(e, n - 2, ld2(w, (n - 1) * n + n - 2));
  }
  st2(d, n - 1, ld2(w, (n - 1) * n + n - 1));
  st2(e, n - 1, zero);
}

/** y <- (I - beta v v^T) y for the m probes of one lane (v interleaved, entries k1..n-1). */
function reflectProbes(v: usize, beta: f64, lane: usize, probes: usize, n: i32, k1: i32, m: i32): void {
  if (beta == 0) return;
  for (let q = 0; q < m; q++) {
    const y = probes + (<usize>(q * n) << 3);
    let s: f64 = 0;
    for (let i = k1; i < n; i++) s += ldl(v, i, lane) * ld(y, i);
    s *= beta;
    if (s == 0) continue;
    for (let i = k1; i < n; i++) st(y, i, ld(y, i) - s * ldl(v, i, lane));
  }
}

// Implicit QL with Wilkinson shifts (EISPACK tql2) as a state machine per problem, so that two
// problems can share their sweeps (tridiagonalQL2). State (f64 slots at s): the eigenvalue l being
// found, the end mm of its unreduced block, tst1, the accumulated shift f, the iteration count,
// whether an iteration is due, and the sweep's rotation state.
const S_L = 0;
const S_MM = 1;
const S_TST = 2;
const S_F = 3;
const S_IT = 4;
const S_READY = 5;
const S_C = 6;
const S_C2 = 7;
const S_C3 = 8;
const S_S = 9;
const S_S2 = 10;
const S_P = 11;
const S_DL1 = 12;
const S_EL1 = 13;
const S_I = 14;
/** Doubles of state per problem. */
const QL_STATE = 16;

function qlInit(s: usize): void {
  for (let k = 0; k < QL_STATE; k++) st(s, k, 0);
}

/** Deflate converged eigenvalues until an iteration is due (ready) or every l is done (l = n). */
function qlAdvance(d: usize, e: usize, n: i32, s: usize): void {
  let l = <i32>ld(s, S_L);
  let tst1 = ld(s, S_TST);
  const f = ld(s, S_F);
  while (l < n) {
    tst1 = Math.max(tst1, Math.abs(ld(d, l)) + Math.abs(ld(e, l)));
    let mm = l;
    while (mm < n) {
      if (Math.abs(ld(e, mm)) <= EPS * tst1) break;
      mm++;
    }
    if (mm > l) {
      st(s, S_MM, <f64>mm);
      st(s, S_IT, 0);
      st(s, S_READY, 1);
      break;
    }
    st(d, l, ld(d, l) + f);
    st(e, l, 0);
    l++;
  }
  st(s, S_L, <f64>l);
  st(s, S_TST, tst1);
}

/** The set-up of the next iteration (shift, origin of the sweep); 0 after 60 iterations. */
function qlBegin(d: usize, e: usize, n: i32, s: usize): i32 {
  const it = ld(s, S_IT) + 1;
  st(s, S_IT, it);
  if (it > 60) return 0;
  const l = <i32>ld(s, S_L);
  const mm = <i32>ld(s, S_MM);
  const g = ld(d, l);
  let p = (ld(d, l + 1) - g) / (2 * ld(e, l));
  let r = Math.sqrt(p * p + 1);
  if (!isFinite(r)) r = Math.hypot(p, 1);
  if (p < 0) r = -r;
  st(d, l, ld(e, l) / (p + r));
  st(d, l + 1, ld(e, l) * (p + r));
  st(s, S_DL1, ld(d, l + 1));
  const h = g - ld(d, l);
  for (let i = l + 2; i < n; i++) st(d, i, ld(d, i) - h);
  st(s, S_F, ld(s, S_F) + h);
  st(s, S_P, ld(d, mm));
  st(s, S_C, 1);
  st(s, S_C2, 1);
  st(s, S_C3, 1);
  st(s, S_EL1, ld(e, l + 1));
  st(s, S_S, 0);
  st(s, S_S2, 0);
  st(s, S_I, <f64>(mm - 1));
  return 1;
}

/** The rotations of the sweep left to do (from state index i down to l), each applied to the probes. */
function qlSweep(d: usize, e: usize, y: usize, n: i32, m: i32, s: usize): void {
  const l = <i32>ld(s, S_L);
  let c = ld(s, S_C);
  let c2 = ld(s, S_C2);
  let c3 = ld(s, S_C3);
  let sg = ld(s, S_S);
  let s2 = ld(s, S_S2);
  let p = ld(s, S_P);
  for (let i = <i32>ld(s, S_I); i >= l; i--) {
    c3 = c2;
    c2 = c;
    s2 = sg;
    const ei = ld(e, i);
    const g = c * ei;
    const h = c * p;
    let r = Math.sqrt(p * p + ei * ei);
    if (!(r > 0 && r < Infinity)) r = Math.hypot(p, ei);
    st(e, i + 1, sg * r);
    const ir = 1 / r;
    sg = ei * ir;
    c = p * ir;
    const di = ld(d, i);
    p = c * di - sg * g;
    st(d, i + 1, h + sg * (c * g + sg * di));
    for (let q = 0; q < m; q++) {
      const yq = y + (<usize>(q * n) << 3);
      const yi = ld(yq, i);
      const yj = ld(yq, i + 1);
      st(yq, i + 1, sg * yi + c * yj);
      st(yq, i, c * yi - sg * yj);
    }
  }
  st(s, S_C, c);
  st(s, S_C2, c2);
  st(s, S_C3, c3);
  st(s, S_S, sg);
  st(s, S_S2, s2);
  st(s, S_P, p);
  st(s, S_I, <f64>(l - 1));
}

/**
 * Two sweeps at once, rotation by rotation, while both have rotations left (then qlSweep
 * finishes the longer one): the rotations of each problem are those of qlSweep, in order.
 */
function qlSweepPair(dA: usize, eA: usize, yA: usize, sA: usize, dB: usize, eB: usize, yB: usize, sB: usize, n: i32, m: i32): void {
  const lA = <i32>ld(sA, S_L);
  const lB = <i32>ld(sB, S_L);
  let iA = <i32>ld(sA, S_I);
  let iB = <i32>ld(sB, S_I);
  let cA = ld(sA, S_C);
  let c2A = ld(sA, S_C2);
  let c3A = ld(sA, S_C3);
  let sgA = ld(sA, S_S);
  let s2A = ld(sA, S_S2);
  let pA = ld(sA, S_P);
  let cB = ld(sB, S_C);
  let c2B = ld(sB, S_C2);
  let c3B = ld(sB, S_C3);
  let sgB = ld(sB, S_S);
  let s2B = ld(sB, S_S2);
  let pB = ld(sB, S_P);
  for (; iA >= lA && iB >= lB; iA--, iB--) {
    c3A = c2A;
    c2A = cA;
    s2A = sgA;
    c3B = c2B;
    c2B = cB;
    s2B = sgB;
    const eiA = ld(eA, iA);
    const eiB = ld(eB, iB);
    const gA = cA * eiA;
    const gB = cB * eiB;
    const hA = cA * pA;
    const hB = cB * pB;
    let rA = Math.sqrt(pA * pA + eiA * eiA);
    let rB = Math.sqrt(pB * pB + eiB * eiB);
    if (!(rA > 0 && rA < Infinity)) rA = Math.hypot(pA, eiA);
    if (!(rB > 0 && rB < Infinity)) rB = Math.hypot(pB, eiB);
    st(eA, iA + 1, sgA * rA);
    st(eB, iB + 1, sgB * rB);
    const irA = 1 / rA;
    const irB = 1 / rB;
    sgA = eiA * irA;
    cA = pA * irA;
    sgB = eiB * irB;
    cB = pB * irB;
    const diA = ld(dA, iA);
    const diB = ld(dB, iB);
    pA = cA * diA - sgA * gA;
    pB = cB * diB - sgB * gB;
    st(dA, iA + 1, hA + sgA * (cA * gA + sgA * diA));
    st(dB, iB + 1, hB + sgB * (cB * gB + sgB * diB));
    for (let q = 0; q < m; q++) {
      const ya = yA + (<usize>(q * n) << 3);
      const yb = yB + (<usize>(q * n) << 3);
      const yai = ld(ya, iA);
      const yaj = ld(ya, iA + 1);
      const ybi = ld(yb, iB);
      const ybj = ld(yb, iB + 1);
      st(ya, iA + 1, sgA * yai + cA * yaj);
      st(ya, iA, cA * yai - sgA * yaj);
      st(yb, iB + 1, sgB * ybi + cB * ybj);
      st(yb, iB, cB * ybi - sgB * ybj);
    }
  }
  st(sA, S_C, cA);
  st(sA, S_C2, c2A);
  st(sA, S_C3, c3A);
  st(sA, S_S, sgA);
  st(sA, S_S2, s2A);
  st(sA, S_P, pA);
  st(sA, S_I, <f64>iA);
  st(sB, S_C, cB);
  st(sB, S_C2, c2B);
  st(sB, S_C3, c3B);
  st(sB, S_S, sgB);
  st(sB, S_S2, s2B);
  st(sB, S_P, pB);
  st(sB, S_I, <f64>iB);
}

/** The end of an iteration: 0 on a non-finite result; deflates l when it has converged. */
function qlEnd(d: usize, e: usize, s: usize): i32 {
  const l = <i32>ld(s, S_L);
  const sg = ld(s, S_S);
  const p = (-sg * ld(s, S_S2) * ld(s, S_C3) * ld(s, S_EL1) * ld(e, l)) / ld(s, S_DL1);
  st(e, l, sg * p);
  st(d, l, ld(s, S_C) * p);
  if (!isFinite(p)) return 0;
  if (!(Math.abs(ld(e, l)) > EPS * ld(s, S_TST))) {
    st(d, l, ld(d, l) + ld(s, S_F));
    st(e, l, 0);
    st(s, S_L, <f64>(l + 1));
    st(s, S_READY, 0);
  }
  return 1;
}

/** Eigenvalues of the tridiagonal (d, e) into d, every rotation applied to the m probes; 0 when QL does not converge. */
function tridiagonalQL(d: usize, e: usize, n: i32, probes: usize, m: i32, s: usize): i32 {
  qlInit(s);
  for (;;) {
    // an eigenvalue that has not converged keeps its block end and tst1 (tql2's do-while)
    if (ld(s, S_READY) == 0) qlAdvance(d, e, n, s);
    if (ld(s, S_READY) == 0) return 1;
    if (qlBegin(d, e, n, s) == 0) return 0;
    qlSweep(d, e, probes, n, m, s);
    if (qlEnd(d, e, s) == 0) return 0;
  }
  return 1;
}

/**
 * tridiagonalQL of two problems: each advances and deflates on its own, the rotations of two
 * concurrent sweeps run pairwise (qlSweepPair), the longer sweep's rest alone. 1 when both
 * converge, 0 otherwise.
 */
function tridiagonalQL2(dA: usize, eA: usize, yA: usize, sA: usize, dB: usize, eB: usize, yB: usize, sB: usize, n: i32, m: i32): i32 {
  qlInit(sA);
  qlInit(sB);
  for (;;) {
    if (ld(sA, S_READY) == 0) qlAdvance(dA, eA, n, sA);
    if (ld(sB, S_READY) == 0) qlAdvance(dB, eB, n, sB);
    const readyA = ld(sA, S_READY) != 0;
    const readyB = ld(sB, S_READY) != 0;
    if (!readyA && !readyB) return 1;
    if (readyA && qlBegin(dA, eA, n, sA) == 0) return 0;
    if (readyB && qlBegin(dB, eB, n, sB) == 0) return 0;
    if (readyA && readyB) qlSweepPair(dA, eA, yA, sA, dB, eB, yB, sB, n, m);
    if (readyA) {
      qlSweep(dA, eA, yA, n, m, sA);
      if (qlEnd(dA, eA, sA) == 0) return 0;
    }
    if (readyB) {
      qlSweep(dB, eB, yB, n, m, sB);
      if (qlEnd(dB, eB, sB) == 0) return 0;
    }
  }
  return 1;
}

/**
 * Work layout (f64 offsets from work): the interleaved pair matrix (2 n^2), its d, e, v, p
 * (2n each), then per problem d, e, sort order and scratch (n each) and QL's state
 * (QL_STATE), and one interleaved slot: 2 n^2 + 16 n + 2 QL_STATE + 2 doubles in all.
 */
@inline function workD2(work: usize, n: i32): usize { return work + (<usize>(2 * n * n) << 3); }
@inline function problemArea(work: usize, n: i32, which: i32): usize { return work + (<usize>(2 * n * n + 8 * n + which * (4 * n + QL_STATE)) << 3); }

/** Both lanes' matrices into the interleaved work matrix (lower triangle). */
function interleave(w: usize, aA: usize, aB: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const q = w + (<usize>(ri + j) << 4);
      store<f64>(q, ld(aA, ri + j));
      store<f64>(q + 8, ld(aB, ri + j));
    }
  }
}

/** One lane of the interleaved d, e into a problem's own d, e. */
function takeLane(d2: usize, e2: usize, lane: usize, d: usize, e: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    st(d, i, ldl(d2, i, lane));
    st(e, i, ldl(e2, i, lane));
  }
}

/**
 * Eigenvalues (ascending, into lambda) and probe projections U^T y; 1 on success, 0 when QL
 * does not converge. The matrix is reduced in both lanes of the pair reduction (lane B a copy,
 * without probes), so a matrix solved alone gets bit for bit its result in a pair.
 */
export function eigen(a: usize, n: i32, probes: usize, m: i32, lambda: usize, work: usize): i32 {
  const w = work;
  const d2 = workD2(work, n);
  const e2 = d2 + (<usize>(2 * n) << 3);
  const v2 = e2 + (<usize>(2 * n) << 3);
  const p2 = v2 + (<usize>(2 * n) << 3);
  const pa = problemArea(work, n, 0);
  const d = pa;
  const e = d + (<usize>n << 3);
  const order = e + (<usize>n << 3);
  const tmp = order + (<usize>n << 3);
  const state = tmp + (<usize>n << 3);
  const slot = problemArea(work, n, 2);
  interleave(w, a, a, n);
  tridiagonalize2(w, n, d2, e2, v2, p2, slot, probes, 0, m);
  takeLane(d2, e2, 0, d, e, n);
  if (tridiagonalQL(d, e, n, probes, m, state) == 0) return 0;
  sortProbes(d, lambda, probes, n, m, order, tmp);
  return 1;
}

function sortProbes(d: usize, lambda: usize, probes: usize, n: i32, m: i32, order: usize, tmp: usize): void {
  for (let k = 0; k < n; k++) st(order, k, <f64>k);
  for (let i = 1; i < n; i++) {
    const x = ld(order, i);
    const dx = ld(d, <i32>x);
    let j = i - 1;
    while (j >= 0 && ld(d, <i32>ld(order, j)) > dx) {
      st(order, j + 1, ld(order, j));
      j--;
    }
    st(order, j + 1, x);
  }
  for (let k = 0; k < n; k++) st(lambda, k, ld(d, <i32>ld(order, k)));
  for (let q = 0; q < m; q++) {
    const y = probes + (<usize>(q * n) << 3);
    for (let k = 0; k < n; k++) st(tmp, k, ld(y, <i32>ld(order, k)));
    for (let k = 0; k < n; k++) st(y, k, ld(tmp, k));
  }
}

/** eigen() of two matrices of the same size at once (one reduction in two lanes, the QL rotations of both in one loop): bit for bit two eigen() calls. */
export function eigen2(aA: usize, aB: usize, n: i32, probesA: usize, probesB: usize, m: i32, lambdaA: usize, lambdaB: usize, work: usize): i32 {
  const w = work;
  const d2 = workD2(work, n);
  const e2 = d2 + (<usize>(2 * n) << 3);
  const v2 = e2 + (<usize>(2 * n) << 3);
  const p2 = v2 + (<usize>(2 * n) << 3);
  const A = problemArea(work, n, 0);
  const dA = A; const eA = dA + (<usize>n << 3); const oA = eA + (<usize>n << 3); const tA = oA + (<usize>n << 3); const sA = tA + (<usize>n << 3);
  const B = problemArea(work, n, 1);
  const dB = B; const eB = dB + (<usize>n << 3); const oB = eB + (<usize>n << 3); const tB = oB + (<usize>n << 3); const sB = tB + (<usize>n << 3);
  const slot = problemArea(work, n, 2);
  interleave(w, aA, aB, n);
  tridiagonalize2(w, n, d2, e2, v2, p2, slot, probesA, probesB, m);
  takeLane(d2, e2, 0, dA, eA, n);
  takeLane(d2, e2, 1, dB, eB, n);
  if (tridiagonalQL2(dA, eA, probesA, sA, dB, eB, probesB, sB, n, m) == 0) return 0;
  sortProbes(dA, lambdaA, probesA, n, m, oA, tA);
  sortProbes(dB, lambdaB, probesB, n, m, oB, tB);
  return 1;
}
