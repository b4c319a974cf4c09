import { SparseMatrix } from '../liouville/sparse-matrix.js';
import { algebraOf, Triplets, type ProductAlgebra } from '../liouville/product-algebra.js';
import { FormSource, type CompactTerm, type GeneratorModel, type Term } from './generator-model.js';

/**
 * The compact term matrices M_k restricted to the columns a problem needs: the closure of its
 * start vectors under every M_k (which contains its reachable subspace) plus the supports of
 * its observables (for the projection rates). An electron and three 1H need 40 of 256
 * columns, an electron and four 1H ~150 of 1024, so a sweep never builds the full
 * Liouville-space superoperators (GeneratorModel's lazy `matrix` still does, for `point`).
 * Columns are computed once per model and shared by every problem and thermal variant of it.
 *
 * Each returned matrix holds exactly the columns computed so far (the others are empty):
 * Q^T M Q, x^T M x and M x are exact for Q, x supported on those columns.
 */
class ColumnCache {
  private readonly n: number;
  private readonly done: Uint8Array;
  /** Rows touched by any term in each computed column. */
  private readonly rowsOf = new Map<number, Int32Array>();
  private readonly trips: Triplets[];
  /** Fine terms by source: (compact index, part, sign). */
  private readonly uses = new Map<FormSource, Array<{ k: number; dc: boolean; sign: number }>>();
  private version = 0;
  private readonly alg: ProductAlgebra | undefined;
  private readonly rawDc = new Triplets();
  private readonly rawTh = new Triplets();
  private cached: { version: number; matrices: SparseMatrix[] } | undefined;
  /**
   * Compact terms without fine terms (the coherent -i [H_m, .] of the rotating frame): their
   * matrices are built whole (one commutator, sparse and cheap) and read by column.
   */
  private readonly direct: Array<{ k: number; byColumn: SparseMatrix }> = [];

  constructor(model: GeneratorModel) {
    this.n = model.basis.size;
    this.done = new Uint8Array(this.n);
    // plain loops here and below (README, "Layout": no per-job closures in set-up loops)
    this.trips = [];
    for (let k = 0; k < model.compact.length; k++) this.trips.push(new Triplets());
    const alg = algebraOf(model.basis, model.system);
    this.alg = alg.isPauli ? alg : undefined;
    for (let k = 0; k < model.compact.length; k++) {
      const c = model.compact[k] as CompactTerm;
      if (c.fine.length === 0) {
        this.direct.push({ k, byColumn: c.matrix.transpose() });
        continue;
      }
      for (const f of c.fine) {
        const t = model.terms[f] as Term & { source?: FormSource };
        if (!(t.source instanceof FormSource)) throw new Error('term-columns: a fine term without its form source');
        const list = this.uses.get(t.source) ?? [];
        list.push({ k, dc: t.label.part === 'dc', sign: t.coefficient.sign });
        this.uses.set(t.source, list);
      }
    }
  }

  /** Compute the columns not computed yet. */
  ensure(cols: readonly number[]): void {
    const todo = Int32Array.from(new Set(cols.filter((c) => this.done[c] === 0))).sort();
    if (todo.length === 0) return;
    const touched = new Map<number, Set<number>>();
    for (const c of todo) touched.set(c, new Set());
    const alg = this.alg;
    for (const [source, uses] of this.uses) {
      if (alg && source.sparse) {
        // raw entries of both forms straight into the compact terms (no per-source matrices)
        const td = this.rawDc;
        const tt = this.rawTh;
        td.clear();
        tt.clear();
        alg.relaxationColumnsInto(source.ea, source.eb, todo, td, tt);
        for (const [raw, dc] of [
          [td, true],
          [tt, false],
        ] as const) {
          for (const u of uses) {
            if (u.dc !== dc) continue;
            const trip = this.trips[u.k] as Triplets;
            const w = -0.5 * u.sign;
            for (let e = 0; e < raw.length; e++) trip.push(raw.row(e), raw.colAt(e), w * raw.value(e));
          }
          for (let e = 0; e < raw.length; e++) (touched.get(raw.colAt(e)) as Set<number>).add(raw.row(e));
        }
        continue;
      }
      const forms = source.columns(todo);
      for (const part of [true, false]) {
        const m = part ? forms.dc : forms.thermal;
        const users = uses.filter((u) => u.dc === part);
        if (users.length === 0) continue;
        for (let i = 0; i < m.n; i++) {
          for (let p = m.rowPtr[i] as number; p < (m.rowPtr[i + 1] as number); p++) {
            const j = m.col[p] as number;
            const set = touched.get(j);
            // the dense route returns every column: keep only the ones asked for
            if (!set) continue;
            set.add(i);
            const v = m.val[p] as number;
            for (const u of users) (this.trips[u.k] as Triplets).push(i, j, u.sign * v);
          }
        }
      }
    }
    for (const { k, byColumn } of this.direct) {
      const trip = this.trips[k] as Triplets;
      for (const j of todo) {
        const set = touched.get(j) as Set<number>;
        for (let p = byColumn.rowPtr[j] as number; p < (byColumn.rowPtr[j + 1] as number); p++) {
          const i = byColumn.col[p] as number;
          set.add(i);
          trip.push(i, j, byColumn.val[p] as number);
        }
      }
    }
    for (const [c, rows] of touched) {
      this.done[c] = 1;
      this.rowsOf.set(c, Int32Array.from(rows));
    }
    this.version++;
  }

  /** Columns reachable from `cols` through the terms' non-zero patterns (computed on the way). */
  close(cols: readonly number[]): void {
    const seen = new Uint8Array(this.n);
    let frontier = cols.filter((c) => (seen[c] === 0 ? ((seen[c] = 1), true) : false));
    while (frontier.length > 0) {
      this.ensure(frontier);
      const next: number[] = [];
      for (const c of frontier) {
        for (const i of this.rowsOf.get(c) ?? []) {
          if (seen[i] === 0) {
            seen[i] = 1;
            next.push(i);
          }
        }
      }
      frontier = next;
    }
  }

  /** One matrix per compact term with the columns computed so far; entries below 1e-14 of its largest dropped, as the full construction does. */
  matrices(): SparseMatrix[] {
    if (this.cached?.version !== this.version) {
      const matrices: SparseMatrix[] = [];
      for (const t of this.trips) matrices.push(t.toSparse(this.n, 1e-14));
      this.cached = { version: this.version, matrices };
    }
    return this.cached.matrices;
  }
}

const caches = new WeakMap<GeneratorModel, ColumnCache>();

function cacheOf(model: GeneratorModel): ColumnCache {
  let c = caches.get(model);
  if (!c) {
    c = new ColumnCache(model);
    caches.set(model, c);
  }
  return c;
}

function support(vectors: readonly ArrayLike<number>[]): number[] {
  const out: number[] = [];
  for (const v of vectors) for (let i = 0; i < v.length; i++) if ((v[i] as number) !== 0) out.push(i);
  return out;
}

/** Whether this model's terms can be built by columns (fixed-basis models built by buildGeneratorModel). */
export function hasColumnSources(model: GeneratorModel): boolean {
  if (model.path !== 'fixed-basis') return false;
  for (const t of model.terms) if (!((t as Term & { source?: unknown }).source instanceof FormSource)) return false;
  return true;
}

/** Compact term matrices containing every column reachable from the start vectors. */
export function closedTermColumns(model: GeneratorModel, start: readonly ArrayLike<number>[]): readonly SparseMatrix[] {
  const c = cacheOf(model);
  c.close(support(start));
  return c.matrices();
}

/** Compact term matrices containing (at least) the columns on which the given vectors, and the columns of Q (n x r), are supported. */
export function termColumns(model: GeneratorModel, vectors: readonly ArrayLike<number>[], q?: { readonly q: Float64Array; readonly r: number }): readonly SparseMatrix[] {
  const c = cacheOf(model);
  const cols = support(vectors);
  if (q) cols.push(...rowSupport(q.q, q.r));
  c.ensure(cols);
  return c.matrices();
}

/** Rows of a row-major n x r matrix with a non-zero entry. */
export function rowSupport(q: Float64Array, r: number): number[] {
  const out: number[] = [];
  const n = r === 0 ? 0 : q.length / r;
  for (let a = 0; a < n; a++) {
    for (let j = 0; j < r; j++) {
      if ((q[a * r + j] as number) !== 0) {
        out.push(a);
        break;
      }
    }
  }
  return out;
}
