// AssemblyScript source of the WebAssembly symmetric eigensolver (src/math/wasm-symmetric-eigen.ts).
// The same algorithm as src/math/symmetric-eigen.ts (Householder tridiagonalisation, LAPACK dsytd2
// order, then implicit QL with Wilkinson shifts, EISPACK tql2), every reflection and rotation
// applied to a few probe vectors instead of accumulated into U. The symmetric product and the
// rank-2 update of the Householder step run on f64x2 lanes. Compiled ahead of time
// (`npm run build:wasm`, scripts/build-wasm.mjs) into src/math/wasm-symmetric-eigen-binary.ts.
//
// Memory (byte offsets, f64 arrays): a: n*n row-major, lower triangle read, not modified;
// probes: m*n, overwritten by U^T y (ascending eigenvalue order); lambda: n; work: n*n + 6n + 16 (the last 16: QL's state).
//
// eigen2 solves two problems of the same size at once: each is reduced on its own, then the QL
// rotations of both run in one loop. A rotation is a chain of a square root and a division
// (~36 ns for the 28 x 28 blocks of an electron and three 1H); two independent chains
// overlap in the CPU, and each problem's operations are those of eigen(), in the same order,
// so the results are bit for bit two eigen() calls.

@inline function ld(base: usize, i: i32): f64 { return load<f64>(base + (<usize>i << 3)); }
@inline function st(base: usize, i: i32, x: f64): void { store<f64>(base + (<usize>i << 3), x); }

const EPS: f64 = 2.220446049250313e-16;

function tridiagonalize(w: usize, n: i32, d: usize, e: usize, v: usize, p: usize, probes: usize, m: i32): void {
  for (let k = 0; k < n - 2; k++) {
    const k1 = k + 1;
    let scale: f64 = 0;
    for (let i = k1; i < n; i++) scale += Math.abs(ld(w, i * n + k));
    st(d, k, ld(w, k * n + k));
    if (scale == 0) { st(e, k, 0); continue; }
    let sigma: f64 = 0;
    for (let i = k1 + 1; i < n; i++) { const x = ld(w, i * n + k) / scale; sigma += x * x; }
    const x0 = ld(w, k1 * n + k) / scale;
    if (sigma == 0) { st(e, k, ld(w, k1 * n + k)); continue; }
    const mu = Math.sqrt(x0 * x0 + sigma);
    const alpha = x0 > 0 ? -mu : mu;
    const v0 = x0 - alpha;
    st(v, k1, 1);
    const sv = 1 / (scale * v0);
    for (let i = k1 + 1; i < n; i++) st(v, i, ld(w, i * n + k) * sv);
    const beta = -v0 / alpha;
    st(e, k, alpha * scale);
    for (let i = k1; i < n; i++) st(p, i, 0);
    for (let i = k1; i < n; i++) {
      const ri = w + (<usize>(i * n) << 3);
      const vi = ld(v, i);
      const viv = f64x2.splat(vi);
      let acc = f64x2.splat(0);
      let j = k1;
      for (; j + 1 < i; j += 2) {
        const aij = v128.load(ri + (<usize>j << 3));
        const pj = p + (<usize>j << 3);
        acc = f64x2.add(acc, f64x2.mul(aij, v128.load(v + (<usize>j << 3))));
        v128.store(pj, f64x2.add(v128.load(pj), f64x2.mul(aij, viv)));
      }
      let s = load<f64>(ri + (<usize>i << 3)) * vi + f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
      for (; j < i; j++) {
        const aij = load<f64>(ri + (<usize>j << 3));
        s += aij * ld(v, j);
        st(p, j, ld(p, j) + aij * vi);
      }
      st(p, i, ld(p, i) + s);
    }
    let pv: f64 = 0;
    for (let i = k1; i < n; i++) { const x = beta * ld(p, i); st(p, i, x); pv += x * ld(v, i); }
    const c = 0.5 * beta * pv;
    for (let i = k1; i < n; i++) st(p, i, ld(p, i) - c * ld(v, i));
    for (let i = k1; i < n; i++) {
      const ri = w + (<usize>(i * n) << 3);
      const vi = ld(v, i);
      const wi = ld(p, i);
      const viv = f64x2.splat(vi);
      const wiv = f64x2.splat(wi);
      let j = k1;
      for (; j + 1 <= i; j += 2) {
        const q = ri + (<usize>j << 3);
        v128.store(q, f64x2.sub(f64x2.sub(v128.load(q), f64x2.mul(viv, v128.load(p + (<usize>j << 3)))), f64x2.mul(wiv, v128.load(v + (<usize>j << 3)))));
      }
      for (; j <= i; j++) {
        const q = ri + (<usize>j << 3);
        store<f64>(q, load<f64>(q) - vi * ld(p, j) - wi * ld(v, j));
      }
    }
    for (let q = 0; q < m; q++) {
      const y = probes + (<usize>(q * n) << 3);
      let s: f64 = 0;
      for (let i = k1; i < n; i++) s += ld(v, i) * ld(y, i);
      s *= beta;
      if (s == 0) continue;
      for (let i = k1; i < n; i++) st(y, i, ld(y, i) - s * ld(v, i));
    }
  }
  if (n >= 2) {
    st(d, n - 2, ld(w, (n - 2) * n + n - 2));
    st(e, n - 2, ld(w, (n - 1) * n + n - 2));
  }
  st(d, n - 1, ld(w, (n - 1) * n + n - 1));
  st(e, n - 1, 0);
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

/** Eigenvalues (ascending, into lambda) and probe projections U^T y; 1 on success, 0 when QL does not converge. */
export function eigen(a: usize, n: i32, probes: usize, m: i32, lambda: usize, work: usize): i32 {
  const w = work;
  const d = w + (<usize>(n * n) << 3);
  const e = d + (<usize>n << 3);
  const v = e + (<usize>n << 3);
  const p = v + (<usize>n << 3);
  const order = p + (<usize>n << 3);
  const tmp = order + (<usize>n << 3);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) st(w, ri + j, ld(a, ri + j));
  }
  tridiagonalize(w, n, d, e, v, p, probes, m);
  if (tridiagonalQL(d, e, n, probes, m, tmp + (<usize>n << 3)) == 0) return 0;
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

/** eigen() of two matrices of the same size at once (the QL rotations of both in one loop): bit for bit two eigen() calls. */
export function eigen2(aA: usize, aB: usize, n: i32, probesA: usize, probesB: usize, m: i32, lambdaA: usize, lambdaB: usize, workA: usize, workB: usize): i32 {
  const wA = workA; const dA = wA + (<usize>(n * n) << 3); const eA = dA + (<usize>n << 3); const vA = eA + (<usize>n << 3); const pA = vA + (<usize>n << 3); const oA = pA + (<usize>n << 3); const tA = oA + (<usize>n << 3);
  const wB = workB; const dB = wB + (<usize>(n * n) << 3); const eB = dB + (<usize>n << 3); const vB = eB + (<usize>n << 3); const pB = vB + (<usize>n << 3); const oB = pB + (<usize>n << 3); const tB = oB + (<usize>n << 3);
  for (let i = 0; i < n; i++) { const ri = i * n; for (let j = 0; j <= i; j++) { st(wA, ri + j, ld(aA, ri + j)); st(wB, ri + j, ld(aB, ri + j)); } }
  tridiagonalize(wA, n, dA, eA, vA, pA, probesA, m);
  tridiagonalize(wB, n, dB, eB, vB, pB, probesB, m);
  if (tridiagonalQL2(dA, eA, probesA, tA + (<usize>n << 3), dB, eB, probesB, tB + (<usize>n << 3), n, m) == 0) return 0;
  sortProbes(dA, lambdaA, probesA, n, m, oA, tA);
  sortProbes(dB, lambdaB, probesB, n, m, oB, tB);
  return 1;
}

/**
 * The generator blocks of two points from the pieces of a symmetric form (SymmetricModes):
 * packed[elem[q]] = sum over z in elemStart[q]..elemStart[q+1] of coef[sortedCoef[z]] * sortedVal[z],
 * every other entry of packed (total doubles) zero. The same sums, in the same order, as the
 * JavaScript assembly (bit for bit); here without its bounds checks and boxed loop exits.
 * Int32 arrays: elem, elemStart (nElem + 1), sortedCoef.
 */
export function assemble2(coefA: usize, coefB: usize, elem: usize, elemStart: usize, nElem: i32, sortedCoef: usize, sortedVal: usize, packedA: usize, packedB: usize, total: i32): void {
  for (let i = 0; i < total; i++) {
    st(packedA, i, 0);
    st(packedB, i, 0);
  }
  let z = load<i32>(elemStart);
  for (let q = 0; q < nElem; q++) {
    const z1 = load<i32>(elemStart + (<usize>(q + 1) << 2));
    let x: f64 = 0;
    let y: f64 = 0;
    for (; z < z1; z++) {
      const c = load<i32>(sortedCoef + (<usize>z << 2));
      const v = ld(sortedVal, z);
      x += ld(coefA, c) * v;
      y += ld(coefB, c) * v;
    }
    const e = load<i32>(elem + (<usize>q << 2));
    st(packedA, e, x);
    st(packedB, e, y);
  }
}
