// AssemblyScript source of the WebAssembly symmetric eigensolver (src/math/wasm-symmetric-eigen.ts).
// The same algorithm as src/math/symmetric-eigen.ts (Householder tridiagonalisation, LAPACK dsytd2
// order, then implicit QL with Wilkinson shifts, EISPACK tql2), every reflection and rotation
// applied to a few probe vectors instead of accumulated into U. The symmetric product and the
// rank-2 update of the Householder step run on f64x2 lanes. Compiled ahead of time
// (`npm run build:wasm`, scripts/build-wasm.mjs) into src/math/wasm-symmetric-eigen-binary.ts.
//
// Memory (byte offsets, f64 arrays): a: n*n row-major, lower triangle read, not modified;
// probes: m*n, overwritten by U^T y (ascending eigenvalue order); lambda: n; work: n*n + 6n.

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

function tridiagonalQL(d: usize, e: usize, n: i32, probes: usize, m: i32): i32 {
  let f: f64 = 0;
  let tst1: f64 = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(ld(d, l)) + Math.abs(ld(e, l)));
    let mm = l;
    while (mm < n) {
      if (Math.abs(ld(e, mm)) <= EPS * tst1) break;
      mm++;
    }
    if (mm > l) {
      let iter = 0;
      do {
        if (++iter > 60) return 0;
        let g = ld(d, l);
        let p = (ld(d, l + 1) - g) / (2 * ld(e, l));
        let r = Math.sqrt(p * p + 1);
        if (!isFinite(r)) r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        st(d, l, ld(e, l) / (p + r));
        st(d, l + 1, ld(e, l) * (p + r));
        const dl1 = ld(d, l + 1);
        let h = g - ld(d, l);
        for (let i = l + 2; i < n; i++) st(d, i, ld(d, i) - h);
        f += h;
        p = ld(d, mm);
        let c: f64 = 1;
        let c2 = c;
        let c3 = c;
        const el1 = ld(e, l + 1);
        let s: f64 = 0;
        let s2: f64 = 0;
        for (let i = mm - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          const ei = ld(e, i);
          g = c * ei;
          h = c * p;
          r = Math.sqrt(p * p + ei * ei);
          if (!(r > 0 && r < Infinity)) r = Math.hypot(p, ei);
          st(e, i + 1, s * r);
          const ir = 1 / r;
          s = ei * ir;
          c = p * ir;
          const di = ld(d, i);
          p = c * di - s * g;
          st(d, i + 1, h + s * (c * g + s * di));
          for (let q = 0; q < m; q++) {
            const y = probes + (<usize>(q * n) << 3);
            const yi = ld(y, i);
            const yj = ld(y, i + 1);
            st(y, i + 1, s * yi + c * yj);
            st(y, i, c * yi - s * yj);
          }
        }
        p = (-s * s2 * c3 * el1 * ld(e, l)) / dl1;
        st(e, l, s * p);
        st(d, l, c * p);
        if (!isFinite(p)) return 0;
      } while (Math.abs(ld(e, l)) > EPS * tst1);
    }
    st(d, l, ld(d, l) + f);
    st(e, l, 0);
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
  if (tridiagonalQL(d, e, n, probes, m) == 0) return 0;
  // ascending order (insertion sort of indices, kept as f64), probes permuted alongside
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
  return 1;
}
