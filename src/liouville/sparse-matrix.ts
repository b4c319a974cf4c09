/**
 * Real square matrix in compressed sparse row form. Basis superoperators in the
 * product operator basis have a few non-zeros per row; they are stored this way and
 * densified only after the reachable-subspace reduction.
 */
export class SparseMatrix {
  readonly n: number;
  readonly rowPtr: Int32Array;
  readonly col: Int32Array;
  readonly val: Float64Array;

  constructor(n: number, rowPtr: Int32Array, col: Int32Array, val: Float64Array) {
    if (rowPtr.length !== n + 1) throw new Error(`SparseMatrix: rowPtr length ${rowPtr.length} for n = ${n}`);
    this.n = n;
    this.rowPtr = rowPtr;
    this.col = col;
    this.val = val;
  }

  get nnz(): number {
    return this.val.length;
  }

  /** From a dense row-major n x n array; entries with |v| <= dropTol are dropped. */
  static fromDense(dense: ArrayLike<number>, n: number, dropTol = 0): SparseMatrix {
    const rowPtr = new Int32Array(n + 1);
    const cols: number[] = [];
    const vals: number[] = [];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const v = dense[i * n + j] as number;
        if (Math.abs(v) > dropTol) {
          cols.push(j);
          vals.push(v);
        }
      }
      rowPtr[i + 1] = cols.length;
    }
    return new SparseMatrix(n, rowPtr, Int32Array.from(cols), Float64Array.from(vals));
  }

  toDense(): Float64Array {
    const out = new Float64Array(this.n * this.n);
    for (let i = 0; i < this.n; i++) {
      for (let p = this.rowPtr[i] as number; p < (this.rowPtr[i + 1] as number); p++) {
        out[i * this.n + (this.col[p] as number)] = this.val[p] as number;
      }
    }
    return out;
  }

  /** out = M x (out is overwritten). */
  matvec(x: ArrayLike<number>, out: Float64Array = new Float64Array(this.n)): Float64Array {
    for (let i = 0; i < this.n; i++) {
      let s = 0;
      for (let p = this.rowPtr[i] as number; p < (this.rowPtr[i + 1] as number); p++) {
        s += (this.val[p] as number) * (x[this.col[p] as number] as number);
      }
      out[i] = s;
    }
    return out;
  }

  /** dense += s * M (dense is row-major n x n). */
  addScaledTo(dense: Float64Array, s: number): void {
    for (let i = 0; i < this.n; i++) {
      for (let p = this.rowPtr[i] as number; p < (this.rowPtr[i + 1] as number); p++) {
        const k = i * this.n + (this.col[p] as number);
        dense[k] = (dense[k] as number) + s * (this.val[p] as number);
      }
    }
  }

  /**
   * Q^T M Q for Q with orthonormal columns (n x r, row-major): the reduced block. `rows`:
   * rowNonZeros(q, r), passed by callers that project many matrices on one Q (it scans all
   * n x r entries of Q).
   */
  project(q: Float64Array, r: number, rows: RowNonZeros = rowNonZeros(q, r)): Float64Array {
    // Q's non-zeros by row: reduced bases of basis-aligned systems are nearly coordinate
    // vectors (an electron and three 1H: 42 non-zeros of 256 x 28), so rows of M Q are formed
    // only where Q^T needs them and only from Q's non-zeros. Every skipped term is an exact
    // zero and the surviving ones are summed in the dense loops' order: the same block.
    const out = new Float64Array(r * r);
    const mq = new Float64Array(r);
    const { start, col: qc, val: qv } = rows;
    for (let i = 0; i < this.n; i++) {
      const a0 = start[i] as number;
      const a1 = start[i + 1] as number;
      if (a0 === a1) continue;
      mq.fill(0);
      for (let p = this.rowPtr[i] as number; p < (this.rowPtr[i + 1] as number); p++) {
        const j = this.col[p] as number;
        const v = this.val[p] as number;
        for (let z = start[j] as number; z < (start[j + 1] as number); z++) {
          const c = qc[z] as number;
          mq[c] = (mq[c] as number) + v * (qv[z] as number);
        }
      }
      for (let z = a0; z < a1; z++) {
        const a = qc[z] as number;
        const qa = qv[z] as number;
        for (let c = 0; c < r; c++) out[a * r + c] = (out[a * r + c] as number) + qa * (mq[c] as number);
      }
    }
    return out;
  }

  /** x^T M y */
  bilinear(x: ArrayLike<number>, y: ArrayLike<number>): number {
    let s = 0;
    for (let i = 0; i < this.n; i++) {
      const xi = x[i] as number;
      if (xi === 0) continue;
      let row = 0;
      for (let p = this.rowPtr[i] as number; p < (this.rowPtr[i + 1] as number); p++) {
        row += (this.val[p] as number) * (y[this.col[p] as number] as number);
      }
      s += xi * row;
    }
    return s;
  }

  /** The transpose (CSR of the transpose = CSC of this matrix: columns read as rows). */
  transpose(): SparseMatrix {
    const n = this.n;
    const nnz = this.val.length;
    const rowPtr = new Int32Array(n + 1);
    for (let p = 0; p < nnz; p++) {
      const j = this.col[p] as number;
      rowPtr[j + 1] = (rowPtr[j + 1] as number) + 1;
    }
    for (let i = 0; i < n; i++) rowPtr[i + 1] = (rowPtr[i + 1] as number) + (rowPtr[i] as number);
    const next = rowPtr.slice(0, n);
    const col = new Int32Array(nnz);
    const val = new Float64Array(nnz);
    for (let i = 0; i < n; i++) {
      for (let p = this.rowPtr[i] as number; p < (this.rowPtr[i + 1] as number); p++) {
        const j = this.col[p] as number;
        const q = next[j] as number;
        next[j] = q + 1;
        col[q] = i;
        val[q] = this.val[p] as number;
      }
    }
    return new SparseMatrix(n, rowPtr, col, val);
  }

  scaled(s: number): SparseMatrix {
    return new SparseMatrix(this.n, this.rowPtr, this.col, this.val.map((v) => v * s));
  }
}

/** Sum of sparse matrices with weights (same n), as a new sparse matrix. */
export function sparseSum(terms: ReadonlyArray<readonly [number, SparseMatrix]>, n: number, dropTol = 0): SparseMatrix {
  const dense = new Float64Array(n * n);
  for (const [w, m] of terms) m.addScaledTo(dense, w);
  return SparseMatrix.fromDense(dense, n, dropTol);
}

/** Non-zeros of a row-major matrix by row (CSR): row i's are start[i]..start[i + 1] of col and val. */
export interface RowNonZeros {
  readonly start: Int32Array;
  readonly col: Int32Array;
  readonly val: Float64Array;
}

/** Non-zeros of a row-major n x r matrix by row (CSR). */
export function rowNonZeros(q: Float64Array, r: number): RowNonZeros {
  const n = r === 0 ? 0 : q.length / r;
  const start = new Int32Array(n + 1);
  const col: number[] = [];
  const val: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < r; c++) {
      const x = q[i * r + c] as number;
      if (x !== 0) {
        col.push(c);
        val.push(x);
      }
    }
    start[i + 1] = col.length;
  }
  return { start, col: Int32Array.from(col), val: Float64Array.from(val) };
}
