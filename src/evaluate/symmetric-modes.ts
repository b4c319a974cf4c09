import type { ModeExtractor } from './mode-extractor.js';
import { symmetricEigen, SymmetricWorkspace } from '../math/symmetric-eigen.js';
import { WasmSymmetricEigen } from '../math/wasm-symmetric-eigen.js';
import type { SymmetricForm } from './symmetric-form.js';

/** RELAXMAP_WASM=0 keeps the JavaScript eigensolver (for comparisons). */
function useWasm(): boolean {
  return process.env.RELAXMAP_WASM !== '0';
}

/** Largest ratio of Boltzmann weights the weighted route accepts (errors ~ eps times it). */
export const MAX_WEIGHT_SPREAD = 1e6;

/**
 * Relaxation modes of one point from a symmetric form (symmetric-form.ts): assemble
 * the symmetric generator block by block from the per-point coefficients, then per block a
 * symmetric eigen-decomposition that carries only the probes it needs: the weighted
 * observables W o and the weighted initial deviation W^-1 (rho0 - rho_ref). With
 * Gs = U diag(lambda) U^T, <O>(t) = <O>_ref + sum_k (o^T W u_k)(u_k^T W^-1 (rho0 - rho_ref)) exp(lambda_k t).
 * The raw modes go to a ModeExtractor, which merges, classifies and reports them by the same
 * rules as the general route. Allocation-free after construction.
 */
export class SymmetricModes {
  readonly form: SymmetricForm;
  readonly nObs: number;
  /** Per-point inputs, filled by the caller: coefficients, Boltzmann populations, initial state (form coordinates). */
  readonly coef: Float64Array;
  readonly pops: Float64Array;
  readonly rho0: Float64Array;
  /** The reference state of the last evaluate (form coordinates). */
  readonly ref: Float64Array;
  private readonly packed: Float64Array;
  /** Pieces grouped by their element of `packed` (stable: each element's sum keeps the pieces' order). */
  private readonly elem: Int32Array;
  private readonly elemStart: Int32Array;
  private readonly sortedCoef: Int32Array;
  private readonly sortedVal: Float64Array;
  private readonly blockOffset: Int32Array;
  private readonly ws: SymmetricWorkspace;
  private readonly lambda: Float64Array;
  private readonly probes: Float64Array;
  private readonly w: Float64Array;
  private readonly wClass: Float64Array;
  /** The WebAssembly solver (packed blocks, probes and eigenvalues live in its memory), or undefined: the JavaScript one. */
  private readonly wasm: WasmSymmetricEigen | undefined;

  constructor(form: SymmetricForm, nObs: number, nStates: number) {
    this.form = form;
    this.nObs = nObs;
    const r = form.r;
    this.coef = new Float64Array(Math.max(1, form.nCoef));
    this.pops = new Float64Array(nStates);
    this.rho0 = new Float64Array(r);
    this.ref = new Float64Array(r);
    // each block stored contiguously (nb x nb, row-major), pieces addressed there directly
    const nBlocks = form.blocks.length - 1;
    this.blockOffset = new Int32Array(nBlocks + 1);
    let maxB = 1;
    for (let b = 0; b < nBlocks; b++) {
      const nb = (form.blocks[b + 1] as number) - (form.blocks[b] as number);
      maxB = Math.max(maxB, nb);
      this.blockOffset[b + 1] = (this.blockOffset[b] as number) + nb * nb;
    }
    const total = this.blockOffset[nBlocks] as number;
    this.wasm = useWasm() ? WasmSymmetricEigen.create(maxB, total + (nObs + 2) * maxB + 16) : undefined;
    this.packed = this.wasm ? this.wasm.alloc(total) : new Float64Array(total);
    const blockOf = new Int32Array(r);
    for (let b = 0; b < nBlocks; b++) for (let i = form.blocks[b] as number; i < (form.blocks[b + 1] as number); i++) blockOf[i] = b;
    // (a plain loop: Int32Array.from with a mapping function goes through the iterator protocol)
    const packedElem = new Int32Array(form.pieceElem.length);
    for (let z = 0; z < packedElem.length; z++) {
      const e = form.pieceElem[z] as number;
      const j = e % r;
      const i = (e - j) / r;
      const b = blockOf[i] as number;
      if (blockOf[j] !== b) throw new Error('symmetric form: a piece couples two blocks');
      const b0 = form.blocks[b] as number;
      const nb = (form.blocks[b + 1] as number) - b0;
      packedElem[z] = (this.blockOffset[b] as number) + (i - b0) * nb + (j - b0);
    }
    // each element is then one running sum in registers instead of a load and a store per
    // piece (1,452 pieces on 406 elements for an electron and three 1H)
    // (a counting sort: stable, linear; a kernel is built per run and per worker)
    const nPieces = packedElem.length;
    const count = new Int32Array(total + 1);
    for (let z = 0; z < nPieces; z++) count[(packedElem[z] as number) + 1] = (count[(packedElem[z] as number) + 1] as number) + 1;
    let nElem = 0;
    for (let e = 0; e < total; e++) if ((count[e + 1] as number) > 0) nElem++;
    for (let e = 0; e < total; e++) count[e + 1] = (count[e + 1] as number) + (count[e] as number);
    this.elem = new Int32Array(nElem);
    this.elemStart = new Int32Array(nElem + 1);
    let q = 0;
    for (let e = 0; e < total; e++) {
      if ((count[e + 1] as number) > (count[e] as number)) {
        this.elem[q] = e;
        this.elemStart[q] = count[e] as number;
        q++;
      }
    }
    this.elemStart[nElem] = nPieces;
    this.sortedCoef = new Int32Array(nPieces);
    this.sortedVal = new Float64Array(nPieces);
    const fill = count.slice(0, total);
    for (let z = 0; z < nPieces; z++) {
      const e = packedElem[z] as number;
      const at = fill[e] as number;
      fill[e] = at + 1;
      this.sortedCoef[at] = form.pieceCoef[z] as number;
      this.sortedVal[at] = form.pieceVal[z] as number;
    }
    this.ws = new SymmetricWorkspace(maxB);
    this.lambda = this.wasm ? this.wasm.alloc(maxB) : new Float64Array(maxB);
    this.probes = this.wasm ? this.wasm.alloc((nObs + 1) * maxB) : new Float64Array((nObs + 1) * maxB);
    this.w = new Float64Array(r);
    this.wClass = new Float64Array(Math.max(1, form.classA.length));
  }

  /** Raw modes of the current inputs into `me` (then me.finish); false on non-finite input or no convergence. */
  evaluate(me: ModeExtractor): boolean {
    const { form, nObs, coef, packed, w, ref, rho0, pops } = this;
    const r = form.r;
    packed.fill(0);
    const { elem, elemStart, sortedCoef, sortedVal } = this;
    for (let q = 0; q < elem.length; q++) {
      let x = 0;
      for (let z = elemStart[q] as number; z < (elemStart[q + 1] as number); z++) x += (coef[sortedCoef[z] as number] as number) * (sortedVal[z] as number);
      packed[elem[q] as number] = x;
    }
    // weights (p_a p_b)^(1/4) per mean-energy class; reference state
    if (form.route === 'weighted') {
      const wc = this.wClass;
      let wMin = Infinity;
      let wMax = 0;
      for (let c = 0; c < form.classA.length; c++) {
        const x = Math.sqrt(Math.sqrt((pops[form.classA[c] as number] as number) * (pops[form.classB[c] as number] as number)));
        wc[c] = x;
        wMin = Math.min(wMin, x);
        wMax = Math.max(wMax, x);
      }
      // amplitudes lose about eps * wMax / wMin: beyond MAX_WEIGHT_SPREAD (beta w > ~28 between
      // levels, far-from-equilibrium states of electrons below ~0.5 K at 3.4 T) the general
      // route decides
      if (!(wMax <= MAX_WEIGHT_SPREAD * wMin)) return false;
      for (let j = 0; j < r; j++) w[j] = wc[form.classOf[j] as number] as number;
    } else w.fill(1);
    if (form.reference === 'identity') ref.set(form.identity);
    else {
      ref.fill(0);
      const nStates = pops.length;
      for (let s = 0; s < nStates; s++) {
        const p = pops[s] as number;
        if (p === 0) continue;
        for (let j = 0; j < r; j++) ref[j] = (ref[j] as number) + p * (form.projectors[s * r + j] as number);
      }
    }
    const { probes, lambda, ws } = this;
    const nBlocks = form.blocks.length - 1;
    let k = 0;
    // norm of the initial state in the metric of the excitations (weighted: W^-1 rho0)
    let norm2 = 0;
    for (let j = 0; j < r; j++) norm2 += ((rho0[j] as number) / (w[j] as number)) ** 2;
    for (let b = 0; b < nBlocks; b++) {
      const b0 = form.blocks[b] as number;
      const nb = (form.blocks[b + 1] as number) - b0;
      for (let o = 0; o < nObs; o++) {
        for (let i = 0; i < nb; i++) probes[o * nb + i] = (form.observables[o * r + b0 + i] as number) * (w[b0 + i] as number);
      }
      for (let i = 0; i < nb; i++) probes[nObs * nb + i] = ((rho0[b0 + i] as number) - (ref[b0 + i] as number)) / (w[b0 + i] as number);
      const a = packed.subarray(this.blockOffset[b] as number, (this.blockOffset[b] as number) + nb * nb);
      if (!(this.wasm ? this.wasm.solve(a, nb, lambda, probes, nObs + 1) : symmetricEigen(a, nb, ws, lambda, probes, nObs + 1))) return false;
      k = me.addSymmetricModes(lambda, probes, nb, k);
    }
    me.growth = 1;
    me.oscillating = false;
    me.finish(k, Math.sqrt(norm2));
    for (let o = 0; o < nObs; o++) {
      let s = 0;
      for (let j = 0; j < r; j++) s += (form.observables[o * r + j] as number) * (ref[j] as number);
      me.steady[o] = (me.steady[o] as number) + s;
    }
    return true;
  }
}
