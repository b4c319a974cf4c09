import { SYMMETRIC_EIGEN_WASM } from './wasm-symmetric-eigen-binary.js';
import { isMemoryShortage, WASM_BASE, wasmInstance, wasmModule, type WasmMemory } from './wasm-module.js';

/**
 * The symmetric eigensolver of symmetric-eigen.ts compiled to WebAssembly (source:
 * wasm/symmetric-eigen.ts, AssemblyScript, f64x2 lanes on the Householder step). Why: for the
 * r = 12-128 blocks of electron + nuclei systems it is 2-3x faster than the JavaScript one
 * warm, and it needs no JIT warm-up: V8 compiles WebAssembly before the first call (Liftoff,
 * then optimised in the background), while the JavaScript solver runs ~100x slower until
 * TurboFan has compiled it, which costs a fresh process or worker several hundred
 * milliseconds of CPU on the first few hundred points.
 *
 * Each instance owns a small linear memory; the arrays it hands out are views into it, so the
 * caller assembles matrices and probes in place (no copies per call). Memory is sized once and
 * never grown (growing would detach the views).
 */
type EigenFn = (a: number, n: number, probes: number, m: number, lambda: number, work: number) => number;
type Assemble2Fn = (coefA: number, coefB: number, elem: number, elemStart: number, nElem: number, sortedCoef: number, sortedVal: number, packedA: number, packedB: number, total: number) => void;
type Eigen2Fn = (aA: number, aB: number, n: number, probesA: number, probesB: number, m: number, lambdaA: number, lambdaB: number, workA: number, workB: number) => number;

export class WasmSymmetricEigen {
  /** Largest matrix size this instance solves. */
  readonly n: number;
  private readonly memory: WasmMemory;
  private readonly fn: EigenFn;
  private readonly fn2: Eigen2Fn;
  private readonly fnAssemble2: Assemble2Fn;
  private readonly work: number;
  /** A second work area: solvePair reduces two matrices at once. */
  private readonly work2: number;
  private next: number;
  private readonly end: number;

  private constructor(n: number, doubles: number, mod: object) {
    this.n = n;
    // wasm/symmetric-eigen.ts: n x n, six vectors and QL's state (16) per work area
    const workBytes = 8 * (n * n + 6 * n + 16);
    const inst = wasmInstance(mod, WASM_BASE + 2 * workBytes + 8 * doubles + 64);
    this.memory = inst.memory;
    this.fn = inst.exports.eigen as EigenFn;
    this.fn2 = inst.exports.eigen2 as Eigen2Fn;
    this.fnAssemble2 = inst.exports.assemble2 as Assemble2Fn;
    this.work = WASM_BASE;
    this.work2 = WASM_BASE + workBytes;
    this.next = WASM_BASE + 2 * workBytes;
    this.end = this.memory.buffer.byteLength;
  }

  /**
   * An instance for matrices up to n x n with room for `doubles` more float64 values handed
   * out by alloc(), or undefined where WebAssembly is not available.
   */
  static create(n: number, doubles: number): WasmSymmetricEigen | undefined {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`WasmSymmetricEigen: invalid size ${n}`);
    const mod = wasmModule(SYMMETRIC_EIGEN_WASM);
    if (!mod) return undefined;
    try {
      return new WasmSymmetricEigen(n, doubles, mod);
    } catch (e) {
      // no address space for another linear memory (a process under ulimit -v): the
      // JavaScript solver needs none and gives the same modes to round-off
      if (isMemoryShortage(e)) return undefined;
      throw e;
    }
  }

  /** A zeroed float64 array in this instance's memory (for matrices, probes, eigenvalues). */
  alloc(length: number): Float64Array {
    const at = this.next;
    if (at + 8 * length > this.end) throw new RangeError('WasmSymmetricEigen: memory reserved at creation exhausted');
    this.next = at + 8 * length;
    return new Float64Array(this.memory.buffer, at, length);
  }

  /** A zeroed int32 array in this instance's memory (alloc() of half as many doubles, rounded up). */
  allocInt32(length: number): Int32Array {
    const f = this.alloc(Math.ceil(length / 2));
    return new Int32Array(f.buffer, f.byteOffset, length);
  }

  /**
   * Two points' generator blocks from a symmetric form's pieces (wasm/symmetric-eigen.ts
   * assemble2): packed[elem[q]] = sum_z coef[sortedCoef[z]] sortedVal[z] over z in
   * elemStart[q]..elemStart[q + 1], the rest of packed zero; all arrays from alloc()/allocInt32().
   */
  assemblePair(coefA: Float64Array, coefB: Float64Array, elem: Int32Array, elemStart: Int32Array, sortedCoef: Int32Array, sortedVal: Float64Array, packedA: Float64Array, packedB: Float64Array): void {
    const buf = this.memory.buffer;
    if (coefA.buffer !== buf || coefB.buffer !== buf || elem.buffer !== buf || elemStart.buffer !== buf || sortedCoef.buffer !== buf || sortedVal.buffer !== buf || packedA.buffer !== buf || packedB.buffer !== buf) {
      throw new Error('WasmSymmetricEigen.assemblePair: arrays must come from alloc()');
    }
    if (packedB.length !== packedA.length || elemStart.length !== elem.length + 1) throw new RangeError('WasmSymmetricEigen.assemblePair: inconsistent lengths');
    this.fnAssemble2(coefA.byteOffset, coefB.byteOffset, elem.byteOffset, elemStart.byteOffset, elem.length, sortedCoef.byteOffset, sortedVal.byteOffset, packedA.byteOffset, packedB.byteOffset, packedA.length);
  }

  /**
   * Same contract as symmetricEigen: `a` (n x n row-major, lower triangle read, not modified),
   * `probes` (m rows of n, overwritten by U^T y in ascending eigenvalue order), eigenvalues
   * into `lambda`; all three must come from alloc(). False when QL does not converge.
   */
  solve(a: Float64Array, n: number, lambda: Float64Array, probes: Float64Array, m: number): boolean {
    if (n > this.n) throw new RangeError(`WasmSymmetricEigen: n = ${n} but the instance holds ${this.n}`);
    const buf = this.memory.buffer;
    if (a.buffer !== buf || probes.buffer !== buf || lambda.buffer !== buf) throw new Error('WasmSymmetricEigen.solve: arrays must come from alloc()');
    return this.fn(a.byteOffset, n, probes.byteOffset, m, lambda.byteOffset, this.work) === 1;
  }

  /**
   * solve() of two n x n matrices at once, bit for bit two solve() calls: the QL rotations of
   * both run in one loop, so that the latency of one (a square root, then a division) hides
   * behind the other's (wasm/symmetric-eigen.ts). False when either does not converge (then
   * neither result is to be used).
   */
  solvePair(aA: Float64Array, aB: Float64Array, n: number, lambdaA: Float64Array, lambdaB: Float64Array, probesA: Float64Array, probesB: Float64Array, m: number): boolean {
    if (n > this.n) throw new RangeError(`WasmSymmetricEigen: n = ${n} but the instance holds ${this.n}`);
    const buf = this.memory.buffer;
    if (aA.buffer !== buf || aB.buffer !== buf || lambdaA.buffer !== buf || lambdaB.buffer !== buf || probesA.buffer !== buf || probesB.buffer !== buf) {
      throw new Error('WasmSymmetricEigen.solvePair: arrays must come from alloc()');
    }
    return this.fn2(aA.byteOffset, aB.byteOffset, n, probesA.byteOffset, probesB.byteOffset, m, lambdaA.byteOffset, lambdaB.byteOffset, this.work, this.work2) === 1;
  }
}
