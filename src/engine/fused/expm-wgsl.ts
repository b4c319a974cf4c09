/**
 * exp(A_p) (or exp(A_p) - I) of a batch [P, r, r] in one WGSL dispatch, one thread per
 * matrix: the exponential of the fused kernel (degree-9 Taylor, the matrix's own squaring
 * count from the exponent bits of ||A||_1 / theta, 0 squarings for a non-finite norm) on
 * its own. It is what batched-expm.ts runs on WebGPU, where tfjs has no synchronous read
 * (dataSync needs OffscreenCanvas there) and the tensor version's per-batch maximum of the
 * squaring counts would be one: here every matrix loops to its own count on the device.
 */
import type { Tensor3D } from '@tensorflow/tfjs';
import type { Tf } from '../tfjs/load-tfjs.js';
import { INV_FACT_F32, MAX_SQUARINGS, THETA9 } from './fused-constants.js';
import { webgpuBackendOf } from './webgpu-program.js';
import { wgslLiteral } from './wgsl-literal.js';

function expmWgsl(r: number, minusOne: boolean): string {
  const nn = r * r;
  return `
const R: u32 = ${r}u;
const NN: u32 = ${nn}u;
const INV_THETA: f32 = ${wgslLiteral(1 / THETA9)};
${INV_FACT_F32.map((c, k) => `const IF${k}: f32 = ${wgslLiteral(c)};`).join('\n')}
var<private> X: array<f32, ${nn}>;
var<private> X2: array<f32, ${nn}>;
var<private> X3: array<f32, ${nn}>;
var<private> AC: array<f32, ${nn}>;
var<private> TM: array<f32, ${nn}>;
var<private> D: array<f32, ${nn}>;

fn rm_mul(a: ptr<private, array<f32, ${nn}>>, b: ptr<private, array<f32, ${nn}>>, c: ptr<private, array<f32, ${nn}>>) {
  for (var e: u32 = 0u; e < NN; e = e + 1u) {
    let i = e / R;
    let j = e % R;
    var s: f32 = 0.0;
    for (var k: u32 = 0u; k < R; k = k + 1u) { s = s + (*a)[i * R + k] * (*b)[k * R + j]; }
    (*c)[e] = s;
  }
}

fn rm_squarings(x: f32) -> i32 {
  let b = bitcast<u32>(x);
  let e = (b >> 23u) & 255u;
  if (e == 255u) { return 0; }
  if (!(x > 1.0)) { return 0; }
  return min(i32(e) - 127 + select(0, 1, (b & 0x7fffffu) != 0u), ${MAX_SQUARINGS});
}

fn rm_block(i: u32, c0: f32, c1: f32, c2: f32) {
  for (var e: u32 = 0u; e < NN; e = e + 1u) {
    var v = X[e] * c1 + X2[e] * c2;
    if (i > 0u && e % (R + 1u) == 0u) { v = v + c0; }
    TM[e] = v;
  }
}

fn main(index: i32) {
  let p = u32(index);
  if (p >= u32(uniforms.count)) { return; }
  let base = p * NN;
  var norm: f32 = 0.0;
  for (var j: u32 = 0u; j < R; j = j + 1u) {
    var s: f32 = 0.0;
    for (var i: u32 = 0u; i < R; i = i + 1u) { s = s + abs(A[base + i * R + j]); }
    norm = select(norm, s, bitcast<u32>(s) > bitcast<u32>(norm));
  }
  let sq = rm_squarings(norm * INV_THETA);
  for (var e: u32 = 0u; e < NN; e = e + 1u) { X[e] = ldexp(A[base + e], -sq); }
  rm_mul(&X, &X, &X2);
  rm_mul(&X2, &X, &X3);
  rm_block(2u, IF6, IF7, IF8);
  for (var e: u32 = 0u; e < NN; e = e + 1u) { AC[e] = X3[e] * IF9 + TM[e]; }
  rm_mul(&AC, &X3, &D);
  rm_block(1u, IF3, IF4, IF5);
  for (var e: u32 = 0u; e < NN; e = e + 1u) { AC[e] = D[e] + TM[e]; }
  rm_mul(&AC, &X3, &D);
  rm_block(0u, IF0, IF1, IF2);
  for (var e: u32 = 0u; e < NN; e = e + 1u) { D[e] = D[e] + TM[e]; }
  for (var s: i32 = 0; s < sq; s = s + 1) {
    rm_mul(&D, &D, &TM);
    for (var e: u32 = 0u; e < NN; e = e + 1u) { D[e] = 2.0 * D[e] + TM[e]; }
  }
  for (var e: u32 = 0u; e < NN; e = e + 1u) {
    ${minusOne ? 'result[base + e] = D[e];' : 'result[base + e] = D[e] + select(0.0, 1.0, e % (R + 1u) == 0u);'}
  }
}
`;
}

class ExpmProgram {
  readonly variableNames = ['A'];
  readonly outputShape: number[];
  readonly shaderKey: string;
  readonly dispatchLayout = { x: [0] };
  readonly dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [64, 1, 1];
  readonly uniforms = 'count : i32,';
  private readonly code: string;

  constructor(p: number, r: number, minusOne: boolean) {
    this.outputShape = [p, r, r];
    this.shaderKey = `relaxmapExpm_r${r}_${minusOne ? 'm1' : 'e'}`;
    this.dispatch = [Math.max(1, Math.ceil(p / 64)), 1, 1];
    this.code = expmWgsl(r, minusOne);
  }

  getUserCode(): string {
    return this.code;
  }
}

/** exp(A_p) (minusOne: exp(A_p) - I) for a float32 batch [P, r, r] on the WebGPU backend. */
export function webgpuExpm(tf: Tf, a: Tensor3D, minusOne: boolean): Tensor3D {
  const [p, r] = [a.shape[0], a.shape[1]];
  const program = new ExpmProgram(p, r, minusOne);
  const info = webgpuBackendOf(tf).runWebGPUProgram(program, [a], 'float32', [{ type: 'int32', data: [p] }]);
  return tf.engine().makeTensorFromTensorInfo(info as never) as Tensor3D;
}
