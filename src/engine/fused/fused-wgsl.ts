/**
 * The fused float32 kernel as WGSL: one dispatch evaluates a device batch of points, from
 * the per-variant tables (fused-pack.ts) to rates, trajectories, the error estimate and the
 * status word of every point, in the one output buffer of fused-constants.ts. The
 * algorithm is fused-js.ts's, operation for operation.
 *
 * Two ways of mapping points to threads:
 * - 'thread': one thread per point, every matrix in private memory (r = 4: 16 values per
 *   matrix, eight matrices). No barriers; 64 threads per workgroup.
 * - 'group': a slice of a workgroup per point, every matrix in workgroup memory, each
 *   thread owning elements e = lt, lt + tp, ... of each matrix product (tp = r^2 rounded up to
 *   32 threads, so one product is one phase for r <= 16), and pointsPerGroup = 256 / tp
 *   points per workgroup (r = 8: 4 points of 64 threads; r = 12: 1 point of 160). The
 *   squaring loop runs to the largest count of the workgroup's points, each point squaring
 *   only while below its own count (the loop bound is read with workgroupUniformLoad, as
 *   barriers need uniform control flow).
 * The same source text serves both: functions index one module-scope array W (private in
 * 'thread', workgroup in 'group') from the point's base, and per-point scalars live in
 * small arrays updated through helpers that are atomics in 'group' mode.
 *
 * Non-finite values are recognised from their bits ((bits & 0x7f800000) == 0x7f800000):
 * WGSL lets compilers assume finite arithmetic, so x != x or isinf-style comparisons may be
 * folded away. A non-finite norm gives 0 squarings (it must not drive the loop), and a
 * point's non-finite values stay in its own memory: no product mixes points.
 */
import { F32_U, INV_FACT_F32, MAX_SQUARINGS, RATE_ULPS, SALT_G, SALT_RHO, STATUS_NONFINITE, THETA9 } from './fused-constants.js';
import { H, HEADER_SLOTS, PARM } from './fused-pack.js';
import { wgslLiteral } from './wgsl-literal.js';

export type FusedLayout =
  | { readonly kind: 'thread'; readonly workgroup: number }
  | { readonly kind: 'group'; readonly threadsPerPoint: number; readonly pointsPerGroup: number };

/** What fixes the kernel source (everything else is data). */
export interface FusedShape {
  readonly r: number;
  readonly nObs: number;
  readonly nDims: number;
  /** States per time block (1 when the grid is not uniform or there are no trajectories). */
  readonly m: number;
  readonly layout: FusedLayout;
}

/** One thread per point up to this r; a workgroup slice per point above. */
export const THREAD_MAX_R = 6;
const WORKGROUP_THREADS = 256;

export function chooseLayout(r: number, force?: 'thread' | 'group'): FusedLayout {
  const kind = force ?? (r <= THREAD_MAX_R ? 'thread' : 'group');
  if (kind === 'thread') return { kind, workgroup: 64 };
  const tp = Math.min(WORKGROUP_THREADS, Math.ceil((r * r) / 32) * 32);
  return { kind, threadsPerPoint: tp, pointsPerGroup: Math.max(1, Math.floor(WORKGROUP_THREADS / tp)) };
}

/** Floats of W per point. */
export function slotsPerPoint(shape: FusedShape): number {
  const { r, nObs, m } = shape;
  return 8 * r * r + m * r + 2 * nObs * r + 4 * r;
}

/** Bytes of workgroup memory the 'group' layout needs (0 for 'thread'). */
export function workgroupBytes(shape: FusedShape): number {
  if (shape.layout.kind === 'thread') return 0;
  const p = shape.layout.pointsPerGroup;
  return 4 * (p * slotsPerPoint(shape) + p * (4 + 2 * shape.nObs) + 1);
}

export function workgroupSize(layout: FusedLayout): number {
  return layout.kind === 'thread' ? layout.workgroup : layout.threadsPerPoint * layout.pointsPerGroup;
}

/** Workgroups for `count` points. */
export function workgroupsFor(layout: FusedLayout, count: number): number {
  return Math.max(1, Math.ceil(count / (layout.kind === 'thread' ? layout.workgroup : layout.pointsPerGroup)));
}

export function shapeKey(s: FusedShape): string {
  const l = s.layout.kind === 'thread' ? `t${s.layout.workgroup}` : `g${s.layout.threadsPerPoint}x${s.layout.pointsPerGroup}`;
  return `relaxmapFused_r${s.r}_o${s.nObs}_d${s.nDims}_m${s.m}_${l}`;
}

/**
 * WGSL user code for tfjs-backend-webgpu's program wrapper: the bindings `result`
 * (array<f32>), `tabs` (array<f32>), `ints` (array<i32>), `parm` (array<f32>), the uniforms
 * `start` and `count`, and the module-scope builtins (localIndex, workgroupId,
 * numWorkgroups) come from its preamble; `main` is called from its entry point.
 */
export function fusedWgsl(shape: FusedShape): string {
  const { r, nObs, nDims, m, layout } = shape;
  const group = layout.kind === 'group';
  const tp = group ? layout.threadsPerPoint : 1;
  const ppg = group ? layout.pointsPerGroup : 1;
  const nn = r * r;
  const wsize = slotsPerPoint(shape);
  // slot offsets within a point's block of W
  const S = {
    G: 0,
    AB: nn,
    X: 2 * nn,
    X2: 3 * nn,
    X3: 4 * nn,
    AC: 5 * nn,
    TM: 6 * nn,
    D: 7 * nn,
    ST: 8 * nn,
    L: 8 * nn + m * r,
    LN: 8 * nn + m * r + nObs * r,
    RH: 8 * nn + m * r + 2 * nObs * r,
    RN: 8 * nn + m * r + 2 * nObs * r + r,
    R0: 8 * nn + m * r + 2 * nObs * r + 2 * r,
    TV: 8 * nn + m * r + 2 * nObs * r + 3 * r,
  };
  const barrier = group ? 'workgroupBarrier();' : '';
  // per-point scalar slots: [0] bad flag, [1] norm bits, [2] rate estimate bits, [3] squarings,
  // then the difference and peak bits per observable (non-negative floats order like their bits)
  const nScal = 4 + 2 * nObs;
  const scalarDecl = group
    ? `var<workgroup> W: array<f32, ${ppg * wsize}>;
var<workgroup> SC: array<atomic<u32>, ${ppg * nScal}>;
var<workgroup> SMAX: i32;
fn rm_or(i: u32, v: u32) { atomicOr(&SC[i], v); }
fn rm_max(i: u32, v: u32) { atomicMax(&SC[i], v); }
fn rm_get(i: u32) -> u32 { return atomicLoad(&SC[i]); }
fn rm_put(i: u32, v: u32) { atomicStore(&SC[i], v); }`
    : `var<private> W: array<f32, ${wsize}>;
var<private> SC: array<u32, ${nScal}>;
fn rm_or(i: u32, v: u32) { SC[i] = SC[i] | v; }
fn rm_max(i: u32, v: u32) { SC[i] = max(SC[i], v); }
fn rm_get(i: u32) -> u32 { return SC[i]; }
fn rm_put(i: u32, v: u32) { SC[i] = v; }`;
  // loops over the items a thread owns
  // (in 'group' mode the loop bound stays uniform and the thread's item is tested inside:
  // barriers after a loop whose condition depends on the thread would not pass the
  // uniformity analysis)
  const own = (n: string, v = 'e'): string =>
    group ? `for (var ${v}0: u32 = 0u; ${v}0 < ${n}; ${v}0 = ${v}0 + TP) { if (${v}0 + LT < ${n}) { let ${v} = ${v}0 + LT;` : `for (var ${v}: u32 = 0u; ${v} < ${n}; ${v} = ${v} + 1u) {`;
  const close = group ? '}' : '';
  const hdr = (k: keyof typeof H): string => `u32(ints[${H[k]}u])`;

  return `
const R: u32 = ${r}u;
const NN: u32 = ${nn}u;
const NOBS: u32 = ${nObs}u;
const ND: u32 = ${nDims}u;
const M: u32 = ${m}u;
const TP: u32 = ${tp}u;
const PPG: u32 = ${ppg}u;
const WSIZE: u32 = ${wsize}u;
const NSCAL: u32 = ${nScal}u;
const RATE_EPS: f32 = ${wgslLiteral(RATE_ULPS * F32_U)};
const INV_THETA: f32 = ${wgslLiteral(1 / THETA9)};
const MAXSQ: i32 = ${MAX_SQUARINGS};
const HEADER: u32 = ${HEADER_SLOTS}u;
${INV_FACT_F32.map((c, k) => `const IF${k}: f32 = ${wgslLiteral(c)};`).join('\n')}
const sG: u32 = ${S.G}u; const sAB: u32 = ${S.AB}u; const sX: u32 = ${S.X}u; const sX2: u32 = ${S.X2}u;
const sX3: u32 = ${S.X3}u; const sAC: u32 = ${S.AC}u; const sTM: u32 = ${S.TM}u; const sD: u32 = ${S.D}u;
const sST: u32 = ${S.ST}u; const sL: u32 = ${S.L}u; const sLN: u32 = ${S.LN}u; const sRH: u32 = ${S.RH}u;
const sRN: u32 = ${S.RN}u; const sR0: u32 = ${S.R0}u; const sTV: u32 = ${S.TV}u;

${scalarDecl}
var<private> IDX: array<u32, ${Math.max(1, nDims)}>;
var<private> LT: u32;
var<private> PB: u32;
var<private> PS: u32;

fn rm_finite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }

// ceil(log2 x) from the bits of x = ||A||_1 / theta; -1 for a non-finite x
fn rm_squarings(x: f32) -> i32 {
  let b = bitcast<u32>(x);
  let e = (b >> 23u) & 255u;
  if (e == 255u) { return -1; }
  if (!(x > 1.0)) { return 0; }
  let c = i32(e) - 127 + select(0, 1, (b & 0x7fffffu) != 0u);
  return min(c, MAXSQ);
}

fn rm_sign(e: u32, flat: u32, salt: u32) -> f32 {
  var h: u32 = (e + 1u) * 0x9e3779b1u + (flat + salt) * 0x85ebca77u;
  h = h ^ (h >> 15u);
  h = h * 0x2c1b3c6du;
  h = h ^ (h >> 12u);
  return select(-1.0, 1.0, (h & 1u) == 1u);
}

fn rm_setIdx(flat: u32) {
  let dims = ${hdr('dims')};
  for (var d: u32 = 0u; d < ND; d = d + 1u) {
    IDX[d] = (flat / u32(ints[dims + ND + d])) % u32(ints[dims + d]);
  }
}

fn rm_ti(t: i32) -> u32 {
  let b = ${hdr('tables')} + u32(t) * (ND + 1u);
  var s: u32 = u32(ints[b]);
  for (var d: u32 = 0u; d < ND; d = d + 1u) { s = s + IDX[d] * u32(ints[b + 1u + d]); }
  return s;
}

// W[c] = W[a] W[b] (r x r)
fn rm_mul(a: u32, b: u32, c: u32) {
  ${own('NN')}
    let i = e / R;
    let j = e % R;
    var s: f32 = 0.0;
    for (var k: u32 = 0u; k < R; k = k + 1u) { s = s + W[PB + a + i * R + k] * W[PB + b + k * R + j]; }
    W[PB + c + e] = s;
  }${close}
  ${barrier}
}

// D <- 2 D + D D when doIt (every thread takes part in the barriers)
fn rm_square(doIt: bool) {
  rm_mul(sD, sD, sTM);
  if (doIt) {
    ${own('NN')} W[PB + sD + e] = 2.0 * W[PB + sD + e] + W[PB + sTM + e]; }${close}
  }
  ${barrier}
}

fn rm_block(i: u32, c0: f32, c1: f32, c2: f32, out: u32) {
  ${own('NN')}
    var v = W[PB + sX + e] * c1 + W[PB + sX2 + e] * c2;
    if (i > 0u && e % (R + 1u) == 0u) { v = v + c0; }
    W[PB + out + e] = v;
  }${close}
  ${barrier}
}

// D = exp(G h) - I from generator slot g: Taylor degree 9, the point's own squarings
fn rm_expm1(g: u32, h: f32) {
  ${own('R', 'j')}
    var s: f32 = 0.0;
    for (var i: u32 = 0u; i < R; i = i + 1u) { s = s + abs(W[PB + g + i * R + j] * h); }
    rm_max(PS + 1u, bitcast<u32>(s));
  }${close}
  ${barrier}
  let normBits = rm_get(PS + 1u);
  var sq = rm_squarings(bitcast<f32>(normBits) * INV_THETA);
  if (sq < 0) { rm_or(PS, 1u); sq = 0; }
  ${own('NN')} W[PB + sX + e] = ldexp(W[PB + g + e] * h, -sq); }${close}
  ${barrier}
  rm_mul(sX, sX, sX2);
  rm_mul(sX2, sX, sX3);
  rm_block(2u, IF6, IF7, IF8, sTM);
  ${own('NN')} W[PB + sAC + e] = W[PB + sX3 + e] * IF9 + W[PB + sTM + e]; }${close}
  ${barrier}
  rm_mul(sAC, sX3, sD);
  rm_block(1u, IF3, IF4, IF5, sTM);
  ${own('NN')} W[PB + sAC + e] = W[PB + sD + e] + W[PB + sTM + e]; }${close}
  ${barrier}
  rm_mul(sAC, sX3, sD);
  rm_block(0u, IF0, IF1, IF2, sTM);
  ${own('NN')} W[PB + sD + e] = W[PB + sD + e] + W[PB + sTM + e]; }${close}
  ${barrier}
${
  group
    ? `  // the workgroup squares as often as its stiffest point; each point only while below its count
  if (LT == 0u) { atomicStore(&SC[PS + 3u], u32(sq)); }
  workgroupBarrier();
  if (LT == 0u && PB == 0u) {
    var mx: u32 = 0u;
    for (var p: u32 = 0u; p < PPG; p = p + 1u) { mx = max(mx, atomicLoad(&SC[p * NSCAL + 3u])); }
    SMAX = i32(mx);
  }
  let smax = workgroupUniformLoad(&SMAX);
  for (var s: i32 = 0; s < smax; s = s + 1) { rm_square(s < sq); }
  // reset the norm slot for the next exponential
  workgroupBarrier();
  if (LT == 0u) { atomicStore(&SC[PS + 1u], 0u); }
  workgroupBarrier();`
    : `  for (var s: i32 = 0; s < sq; s = s + 1) { rm_square(true); }
  SC[PS + 1u] = 0u;`
}
}

// writes <O>(t) (phase 0) or records its difference to phase 0 (phase 1)
fn rm_emit(at: u32, o: u32, v: f32, phase: u32, live: bool) {
  if (!live) { return; }
  if (phase == 0u) {
    result[at] = v;
    if (!rm_finite(v)) { rm_or(PS, 1u); }
    return;
  }
  let prev = result[at];
  let dv = abs(v - prev);
  if (!rm_finite(dv)) { rm_or(PS, 1u); }
  rm_max(PS + 4u + 2u * o, bitcast<u32>(dv));
  rm_max(PS + 5u + 2u * o, bitcast<u32>(abs(prev)));
}

fn rm_trajectory(phase: u32, tb: u32, live: bool) {
  let nT = ${hdr('nTimes')};
  let kind = ${hdr('timeKind')};
  let obsAt = ${PARM.observables}u;
  if (kind == 1u) {
    let nq = ${hdr('nq')};
    ${own('R', 'i')} W[PB + sST + i] = W[PB + sR0 + i]; }${close}
    ${barrier}
    rm_expm1(sG, parm[${PARM.dt}u]);
    for (var w: u32 = 1u; w < M; w = w * 2u) {
      ${own('w * R', 'q')}
        let j = q / R;
        let i = q % R;
        var s: f32 = 0.0;
        for (var k: u32 = 0u; k < R; k = k + 1u) { s = s + W[PB + sD + i * R + k] * W[PB + sST + j * R + k]; }
        W[PB + sST + (w + j) * R + i] = W[PB + sST + j * R + i] + s;
      }${close}
      ${barrier}
      rm_square(true);
    }
    ${own('NOBS * R', 'q')} W[PB + sL + q] = parm[obsAt + q]; }${close}
    ${barrier}
    for (var q: u32 = 0u; q < nq; q = q + 1u) {
      ${own('NOBS * M', 'it')}
        let o = it / M;
        let j = it % M;
        let t = q * M + j;
        if (t < nT) {
          var s: f32 = 0.0;
          for (var a: u32 = 0u; a < R; a = a + 1u) { s = s + W[PB + sL + o * R + a] * W[PB + sST + j * R + a]; }
          rm_emit(tb + o * nT + t, o, s, phase, live);
        }
      }${close}
      if (q + 1u < nq) {
        ${own('NOBS * R', 'it')}
          let o = it / R;
          let a = it % R;
          var s: f32 = 0.0;
          for (var b: u32 = 0u; b < R; b = b + 1u) { s = s + W[PB + sL + o * R + b] * W[PB + sD + b * R + a]; }
          W[PB + sLN + it] = W[PB + sL + it] + s;
        }${close}
        ${barrier}
        ${own('NOBS * R', 'it')} W[PB + sL + it] = W[PB + sLN + it]; }${close}
        ${barrier}
      }
    }
    return;
  }
  if (kind != 2u) { return; }
  let stepOf = ${hdr('stepOf')};
  let stepsAt = ${PARM.observables}u + NOBS * R + R;
  ${own('R', 'i')} W[PB + sRH + i] = W[PB + sR0 + i]; }${close}
  ${barrier}
  var cur: i32 = -1;
  for (var t: u32 = 0u; t < nT; t = t + 1u) {
    let u = ints[stepOf + t];
    if (u >= 0) {
      if (u != cur) {
        rm_expm1(sG, parm[stepsAt + u32(u)]);
        cur = u;
      }
      ${own('R', 'i')}
        var s: f32 = 0.0;
        for (var k: u32 = 0u; k < R; k = k + 1u) { s = s + W[PB + sD + i * R + k] * W[PB + sRH + k]; }
        W[PB + sRN + i] = W[PB + sRH + i] + s;
      }${close}
      ${barrier}
      ${own('R', 'i')} W[PB + sRH + i] = W[PB + sRN + i]; }${close}
      ${barrier}
    }
    ${own('NOBS', 'o')}
      var s: f32 = 0.0;
      for (var a: u32 = 0u; a < R; a = a + 1u) { s = s + parm[obsAt + o * R + a] * W[PB + sRH + a]; }
      rm_emit(tb + o * nT + t, o, s, phase, live);
    }${close}
    ${barrier}
  }
}

fn rm_point(flat: u32, p: u32, count: u32, live: bool) {
  rm_setIdx(flat);
  let nnz = ${hdr('nnz')};
  let pattern = ${hdr('pattern')};
  let groups = ${hdr('groups')};
  let ng = ${hdr('nGroups')};
  ${own('NN')} W[PB + sG + e] = 0.0; W[PB + sAB + e] = 0.0; }${close}
  ${barrier}
  // generator and |G|abs: each thread its own element slots of every group
  ${own('nnz', 'j')}
    let e = u32(ints[pattern + j]);
    var g: f32 = 0.0;
    var ab: f32 = 0.0;
    for (var q: u32 = 0u; q < ng; q = q + 1u) {
      let gd = groups + q * 5u;
      let c = (tabs[rm_ti(ints[gd])] * tabs[rm_ti(ints[gd + 1u])]) * tabs[rm_ti(ints[gd + 2u])];
      let v = c * tabs[rm_ti(ints[gd + 3u]) + j];
      g = g + v;
      ab = ab + abs(v);
    }
    W[PB + sG + e] = g;
    W[PB + sAB + e] = ab;
  }${close}
  // projection rates, and their a-priori estimate
  if (${hdr('wantRates')} == 1u) {
    ${own('NOBS', 'o')}
      var s: f32 = 0.0;
      var sa: f32 = 0.0;
      for (var q: u32 = 0u; q < ng; q = q + 1u) {
        let gd = groups + q * 5u;
        let rt = ints[gd + 4u];
        if (rt >= 0) {
          let c = (tabs[rm_ti(ints[gd])] * tabs[rm_ti(ints[gd + 1u])]) * tabs[rm_ti(ints[gd + 2u])];
          let v = c * tabs[rm_ti(rt) + o];
          s = s + v;
          sa = sa + abs(v);
        }
      }
      if (live) { result[p * NOBS + o] = s; }
      if (!rm_finite(s)) { rm_or(PS, 1u); }
      if (sa > 0.0) { rm_max(PS + 2u, bitcast<u32>(RATE_EPS * sa / abs(s))); }
    }${close}
  }
  ${barrier}
  // inhomogeneous model: generator on rho - rho_eq, source column -sqrt(d) G rho_eq
  let eq = ints[${H.equilibrium}u];
  if (eq >= 0) {
    let eb = rm_ti(eq);
    ${own('R', 'i')}
      var s: f32 = 0.0;
      var sa: f32 = 0.0;
      for (var j: u32 = 0u; j < R; j = j + 1u) {
        let x = tabs[eb + j];
        s = s + W[PB + sG + i * R + j] * x;
        sa = sa + W[PB + sAB + i * R + j] * abs(x);
      }
      W[PB + sTV + i] = s;
      W[PB + sRN + i] = sa;
    }${close}
    ${barrier}
    let sq = parm[${PARM.sqrtD}u];
    ${own('R', 'i')}
      W[PB + sG + i * R] = W[PB + sG + i * R] - sq * W[PB + sTV + i];
      W[PB + sAB + i * R] = W[PB + sAB + i * R] + sq * W[PB + sRN + i];
    }${close}
    ${barrier}
  }
  let nT = ${hdr('nTimes')};
  let tb = count * NOBS + p * NOBS * nT;
  if (${hdr('timeKind')} != 0u && nT > 0u) {
    let init = ints[${H.initial}u];
    let fixedAt = ${PARM.observables}u + NOBS * R;
    if (init >= 0) {
      let ib = rm_ti(init);
      ${own('R', 'i')} W[PB + sR0 + i] = tabs[ib + i]; }${close}
    } else {
      ${own('R', 'i')} W[PB + sR0 + i] = parm[fixedAt + i]; }${close}
    }
    ${barrier}
    rm_trajectory(0u, tb, live);
    ${barrier}
    // the same from a perturbed generator and initial state: the error estimate
    let gam = parm[${PARM.gamma}u];
    ${own('NN')} W[PB + sG + e] = W[PB + sG + e] + rm_sign(e, flat, ${SALT_G}u) * (gam * W[PB + sAB + e]); }${close}
    ${own('R', 'i')} W[PB + sR0 + i] = W[PB + sR0 + i] + rm_sign(i, flat, ${SALT_RHO}u) * (gam * abs(W[PB + sR0 + i])); }${close}
    ${barrier}
    rm_trajectory(1u, tb, live);
  }
  ${barrier}
  if (LT == 0u && live) {
    var est: f32 = bitcast<f32>(rm_get(PS + 2u));
    for (var o: u32 = 0u; o < NOBS; o = o + 1u) {
      let dv = bitcast<f32>(rm_get(PS + 4u + 2u * o));
      let pk = bitcast<f32>(rm_get(PS + 5u + 2u * o));
      var e: f32 = dv;
      if (pk > 0.0) { e = dv / pk; }
      if (!rm_finite(e)) { rm_or(PS, 1u); } else { est = max(est, e); }
    }
    let eAt = count * (NOBS + NOBS * nT);
    let bad = (rm_get(PS) & 1u) != 0u;
    if (bad) { result[eAt + p] = uniforms.INFINITY; } else { result[eAt + p] = est; }
    result[eAt + count + p] = select(0.0, ${wgslLiteral(STATUS_NONFINITE)}, bad);
  }
}

fn main(index: i32) {
  let wg = workgroupId.z * numWorkgroups.x * numWorkgroups.y + workgroupId.y * numWorkgroups.x + workgroupId.x;
  let count = u32(uniforms.count);
${
  group
    ? `  // no early return for surplus workgroups: tfjs's preamble hands the builtins over in private
  // variables, which the uniformity analysis treats as varying, and barriers follow
  let pt = localIndex / TP;
  LT = localIndex % TP;
  PB = pt * WSIZE;
  PS = pt * NSCAL;
  ${own('NSCAL', 'k')} rm_put(PS + k, 0u); }${close}
  workgroupBarrier();
  let p = wg * PPG + pt;
  let live = p < count;
  let pc = min(p, count - 1u);
  rm_point(u32(uniforms.start) + pc, pc, count, live);`
    : `  let p = wg * ${workgroupSize(layout)}u + localIndex;
  if (p >= count) { return; }
  LT = 0u;
  PB = 0u;
  PS = 0u;
  for (var k: u32 = 0u; k < NSCAL; k = k + 1u) { SC[k] = 0u; }
  rm_point(u32(uniforms.start) + p, p, count, true);`
}
}
`;
}
