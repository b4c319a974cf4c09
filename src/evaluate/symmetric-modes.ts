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

/** The per-point arrays of one evaluation: inputs (coef, pops, rho0) and what is derived from them. */
export interface Slot {
  readonly coef: Float64Array;
  readonly pops: Float64Array;
  readonly rho0: Float64Array;
  readonly ref: Float64Array;
  readonly packed: Float64Array;
  readonly w: Float64Array;
  readonly wClass: Float64Array;
  readonly probes: Float64Array;
  readonly lambda: Float64Array;
}

/**
 * Relaxation modes of one point from a symmetric form (symmetric-form.ts): assemble
 * the symmetric generator block by block from the per-point coefficients, then per block a
 * symmetric eigen-decomposition that carries only the probes it needs: the weighted
 * observables W o and the weighted initial deviation W^-1 (rho0 - rho_ref). With
 * Gs = U diag(lambda) U^T, <O>(t) = <O>_ref + sum_k (o^T W u_k)(u_k^T W^-1 (rho0 - rho_ref)) exp(lambda_k t).
 * The raw modes go to a ModeExtractor, which merges, classifies and reports them by the same
 * rules as the general route. Allocation-free after construction. evaluatePair does the same for
 * two points whose inputs are in the first and the second slot, solving each block of both in
 * one WebAssembly call (bit for bit two evaluate() calls).
 */
export class SymmetricModes {
  readonly form: SymmetricForm;
  readonly nObs: number;
  /**
   * The arrays of evaluate(): the caller fills coef, pops and rho0 (coefficients, Boltzmann
   * populations, initial state in form coordinates); ref is the reference state of the last
   * evaluation. `second` holds the second point of evaluatePair (WebAssembly only).
   */
  readonly first: Slot;
  readonly second: Slot | undefined;
  /** Pieces grouped by their element of `packed` (stable: each element's sum keeps the pieces' order). */
  private readonly elem: Int32Array;
  private readonly elemStart: Int32Array;
  private readonly sortedCoef: Int32Array;
  private readonly sortedVal: Float64Array;
  private readonly blockOffset: Int32Array;
  private readonly ws: SymmetricWorkspace;
  /** The WebAssembly solver (packed blocks, probes and eigenvalues live in its memory), or undefined: the JavaScript one. */
  private readonly wasm: WasmSymmetricEigen | undefined;

  constructor(form: SymmetricForm, nObs: number, nStates: number) {
    this.form = form;
    this.nObs = nObs;
    const r = form.r;
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
    // room for two slots' blocks, eigenvalues, probes and coefficients (evaluatePair), and the
    // sorted pieces (assemblePair reads them there)
    const nPieces = form.pieceElem.length;
    const nCoefSlot = Math.max(1, form.nCoef);
    const pieceDoubles = nPieces + Math.ceil(nPieces / 2) + 2 * Math.ceil((total + 1) / 2) + 4;
    const wasm = useWasm() ? WasmSymmetricEigen.create(maxB, 2 * (total + (nObs + 2) * maxB + nCoefSlot) + pieceDoubles + 16) : undefined;
    this.wasm = wasm;
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
    const count = new Int32Array(total + 1);
    for (let z = 0; z < nPieces; z++) count[(packedElem[z] as number) + 1] = (count[(packedElem[z] as number) + 1] as number) + 1;
    let nElem = 0;
    for (let e = 0; e < total; e++) if ((count[e + 1] as number) > 0) nElem++;
    for (let e = 0; e < total; e++) count[e + 1] = (count[e + 1] as number) + (count[e] as number);
    this.elem = wasm ? wasm.allocInt32(nElem) : new Int32Array(nElem);
    this.elemStart = wasm ? wasm.allocInt32(nElem + 1) : new Int32Array(nElem + 1);
    let q = 0;
    for (let e = 0; e < total; e++) {
      if ((count[e + 1] as number) > (count[e] as number)) {
        this.elem[q] = e;
        this.elemStart[q] = count[e] as number;
        q++;
      }
    }
    this.elemStart[nElem] = nPieces;
    this.sortedCoef = wasm ? wasm.allocInt32(nPieces) : new Int32Array(nPieces);
    this.sortedVal = wasm ? wasm.alloc(nPieces) : new Float64Array(nPieces);
    const fill = count.slice(0, total);
    for (let z = 0; z < nPieces; z++) {
      const e = packedElem[z] as number;
      const at = fill[e] as number;
      fill[e] = at + 1;
      this.sortedCoef[at] = form.pieceCoef[z] as number;
      this.sortedVal[at] = form.pieceVal[z] as number;
    }
    this.ws = new SymmetricWorkspace(maxB);
    // blocks, eigenvalues and probes in the solver's memory when it is WebAssembly
    const alloc = (length: number): Float64Array => (wasm ? wasm.alloc(length) : new Float64Array(length));
    const slot = (): Slot => ({
      coef: alloc(nCoefSlot),
      pops: new Float64Array(nStates),
      rho0: new Float64Array(r),
      ref: new Float64Array(r),
      packed: alloc(total),
      w: new Float64Array(r),
      wClass: new Float64Array(Math.max(1, form.classA.length)),
      probes: alloc((nObs + 1) * maxB),
      lambda: alloc(maxB),
    });
    this.first = slot();
    this.second = wasm ? slot() : undefined;
  }

  /** Raw modes of the current inputs into `me` (then me.finish); false on non-finite input or no convergence. */
  evaluate(me: ModeExtractor): boolean {
    this.assemble(this.first);
    return this.weigh(this.first) && this.evaluateSlot(this.first, me);
  }

  /** Whether evaluatePair can run (it needs the WebAssembly solver). */
  get pairs(): boolean {
    return this.second !== undefined;
  }

  /**
   * evaluate() of two points at once, the inputs of the first in `first` and of the second in
   * `second`: each block of both is solved by one solvePair call, so the results are
   * bit for bit those of two evaluate() calls. Returns which points succeeded (bit 0: the
   * first, bit 1: the second); a point that did not is to be evaluated again on its own (if
   * the pair's solve fails, neither bit is set).
   */
  evaluatePair(meA: ModeExtractor, meB: ModeExtractor): number {
    const A = this.first;
    const B = this.second;
    const wasm = this.wasm;
    if (!B || !wasm) throw new Error('SymmetricModes.evaluatePair: no second slot (WebAssembly solver unavailable)');
    this.assemblePair(A, B, wasm);
    const okA = this.weigh(A);
    const okB = this.weigh(B);
    if (!okA && !okB) return 0;
    if (!okA) return this.evaluateSlot(B, meB) ? 2 : 0;
    if (!okB) return this.evaluateSlot(A, meA) ? 1 : 0;
    const normA = this.initialNorm2(A);
    const normB = this.initialNorm2(B);
    const { form, nObs } = this;
    const nBlocks = form.blocks.length - 1;
    let kA = 0;
    let kB = 0;
    for (let b = 0; b < nBlocks; b++) {
      const nb = (form.blocks[b + 1] as number) - (form.blocks[b] as number);
      this.fillProbes(A, b);
      this.fillProbes(B, b);
      const at = this.blockOffset[b] as number;
      if (!wasm.solvePair(A.packed.subarray(at, at + nb * nb), B.packed.subarray(at, at + nb * nb), nb, A.lambda, B.lambda, A.probes, B.probes, nObs + 1)) return 0;
      kA = meA.addSymmetricModes(A.lambda, A.probes, nb, kA);
      kB = meB.addSymmetricModes(B.lambda, B.probes, nb, kB);
    }
    this.finishModes(A, meA, kA, normA);
    this.finishModes(B, meB, kB, normB);
    return 3;
  }

  /** evaluate() of a prepared slot. */
  private evaluateSlot(slot: Slot, me: ModeExtractor): boolean {
    const norm2 = this.initialNorm2(slot);
    const { form, nObs, ws } = this;
    const nBlocks = form.blocks.length - 1;
    let k = 0;
    for (let b = 0; b < nBlocks; b++) {
      const nb = (form.blocks[b + 1] as number) - (form.blocks[b] as number);
      this.fillProbes(slot, b);
      const a = slot.packed.subarray(this.blockOffset[b] as number, (this.blockOffset[b] as number) + nb * nb);
      if (!(this.wasm ? this.wasm.solve(a, nb, slot.lambda, slot.probes, nObs + 1) : symmetricEigen(a, nb, ws, slot.lambda, slot.probes, nObs + 1))) return false;
      k = me.addSymmetricModes(slot.lambda, slot.probes, nb, k);
    }
    this.finishModes(slot, me, k, norm2);
    return true;
  }

  /** The generator's blocks of a slot from its coefficients. */
  private assemble(slot: Slot): void {
    const { coef, packed } = slot;
    packed.fill(0);
    const { elem, elemStart, sortedCoef, sortedVal } = this;
    for (let q = 0; q < elem.length; q++) {
      let x = 0;
      for (let z = elemStart[q] as number; z < (elemStart[q + 1] as number); z++) x += (coef[sortedCoef[z] as number] as number) * (sortedVal[z] as number);
      packed[elem[q] as number] = x;
    }
  }

  /**
   * assemble() of two slots in one pass over the pieces, in WebAssembly (wasm/symmetric-eigen.ts
   * assemble2; pairs run only with that solver). Each element's two sums are those of
   * assemble(), in the same order (bit for bit); why one pass: the pieces' loop is short per
   * element, and its exits, not the arithmetic, set its time, so two independent sums per exit
   * take little more than one.
   */
  private assemblePair(A: Slot, B: Slot, wasm: WasmSymmetricEigen): void {
    wasm.assemblePair(A.coef, B.coef, this.elem, this.elemStart, this.sortedCoef, this.sortedVal, A.packed, B.packed);
  }

  /** The weights and the reference state of a slot whose blocks are assembled; false when the weights spread too far. */
  private weigh(slot: Slot): boolean {
    const { form } = this;
    const { w, ref, pops } = slot;
    const r = form.r;
    // weights (p_a p_b)^(1/4) per mean-energy class; reference state
    if (form.route === 'weighted') {
      const wc = slot.wClass;
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
    return true;
  }

  /** Norm of the initial state in the metric of the excitations (weighted: W^-1 rho0), squared. */
  private initialNorm2(slot: Slot): number {
    const { rho0, w } = slot;
    let norm2 = 0;
    for (let j = 0; j < this.form.r; j++) norm2 += ((rho0[j] as number) / (w[j] as number)) ** 2;
    return norm2;
  }

  /** Probes of block b: the weighted observables and the weighted initial deviation. */
  private fillProbes(slot: Slot, b: number): void {
    const { form, nObs } = this;
    const { probes, w, rho0, ref } = slot;
    const r = form.r;
    const b0 = form.blocks[b] as number;
    const nb = (form.blocks[b + 1] as number) - b0;
    for (let o = 0; o < nObs; o++) {
      for (let i = 0; i < nb; i++) probes[o * nb + i] = (form.observables[o * r + b0 + i] as number) * (w[b0 + i] as number);
    }
    for (let i = 0; i < nb; i++) probes[nObs * nb + i] = ((rho0[b0 + i] as number) - (ref[b0 + i] as number)) / (w[b0 + i] as number);
  }

  /** Group and report the raw modes, then add the reference state's part to the steady state. */
  private finishModes(slot: Slot, me: ModeExtractor, k: number, norm2: number): void {
    const { form, nObs } = this;
    const r = form.r;
    me.growth = 1;
    me.oscillating = false;
    me.finish(k, Math.sqrt(norm2));
    for (let o = 0; o < nObs; o++) {
      let s = 0;
      for (let j = 0; j < r; j++) s += (form.observables[o * r + j] as number) * (slot.ref[j] as number);
      me.steady[o] = (me.steady[o] as number) + s;
    }
  }
}
