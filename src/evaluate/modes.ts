import { EigenvalueDecomposition, Matrix, solve } from 'ml-matrix';

/** One relaxation mode of d rho/dt = G rho excited by the initial state. */
export interface Mode {
  /** Decay rate -Re(lambda), 1/s. */
  readonly rate: number;
  /** Im(lambda), rad/s (zero for the relaxation generators relaxmap builds, bar round-off). */
  readonly frequency: number;
  /** |c_k| ||w_k||: how strongly the initial state excites the mode. */
  readonly excitation: number;
  /** Re a_k per observable, with <O>(t) = sum_k a_k exp(lambda_k t). */
  readonly amplitudes: Float64Array;
  /** Im a_k per observable (zero unless lambda_k is complex). */
  readonly amplitudesImag: Float64Array;
}

export interface ModeDecomposition {
  /** Steady-state expectation per observable: sum of the zero modes' amplitudes. */
  readonly steadyState: Float64Array;
  /** Non-zero modes excited by the initial state, ascending by rate. */
  readonly modes: readonly Mode[];
}

export interface ModeOptions {
  /** |lambda| <= zeroTol * ||G||_1 counts as a stationary mode. */
  zeroTol?: number;
  /** Modes with excitation <= excitationTol * ||rho0 - stationary part|| are not reachable. */
  excitationTol?: number;
  /** Eigenvalues closer than mergeTol * ||G||_1 are one (degenerate) mode. */
  mergeTol?: number;
}

/**
 * Eigen-decomposition of a small dense real generator (row-major r x r) into modes.
 * ml-matrix (a JAMA port: Hessenberg + shifted QR, real Schur blocks for complex pairs)
 * is used here, off the hot path; complex pairs come back as (Re v, Im v) columns.
 */
export function modeDecomposition(
  g: Float64Array,
  r: number,
  rho0: Float64Array,
  observables: readonly Float64Array[],
  options: ModeOptions = {},
): ModeDecomposition {
  const zeroTol = options.zeroTol ?? 1e-10;
  const excitationTol = options.excitationTol ?? 1e-9;
  const mergeTol = options.mergeTol ?? 1e-9;
  const nObs = observables.length;
  const rows: number[][] = [];
  for (let i = 0; i < r; i++) rows.push(Array.from(g.subarray(i * r, (i + 1) * r)));
  const gm = new Matrix(rows);
  let norm = 0;
  for (let j = 0; j < r; j++) {
    let s = 0;
    for (let i = 0; i < r; i++) s += Math.abs(g[i * r + j] as number);
    norm = Math.max(norm, s);
  }
  const evd = new EigenvalueDecomposition(gm);
  const re = evd.realEigenvalues;
  const im = evd.imaginaryEigenvalues;
  const v = evd.eigenvectorMatrix;
  const y = solve(v, Matrix.columnVector(Array.from(rho0)), true).getColumn(0);

  interface Raw {
    lr: number;
    li: number;
    cr: number;
    ci: number;
    wr: number[];
    wi: number[];
  }
  const raw: Raw[] = [];
  for (let k = 0; k < r; k++) {
    const b = im[k] as number;
    if (b === 0) {
      raw.push({ lr: re[k] as number, li: 0, cr: y[k] as number, ci: 0, wr: v.getColumn(k), wi: new Array<number>(r).fill(0) });
    } else if (b > 0) {
      const x = v.getColumn(k);
      const z = v.getColumn(k + 1);
      const cr = 0.5 * (y[k] as number);
      const ci = -0.5 * (y[k + 1] as number);
      raw.push({ lr: re[k] as number, li: b, cr, ci, wr: x, wi: z });
      raw.push({ lr: re[k] as number, li: -b, cr, ci: -ci, wr: x, wi: z.map((t) => -t) });
      k++;
    }
  }

  const dot = (a: ArrayLike<number>, w: number[]): number => {
    let s = 0;
    for (let i = 0; i < r; i++) s += (a[i] as number) * (w[i] as number);
    return s;
  };
  interface Grouped {
    lr: number;
    li: number;
    excitation2: number;
    ar: Float64Array;
    ai: Float64Array;
  }
  const groups: Grouped[] = [];
  raw.sort((a, b) => b.lr - a.lr || a.li - b.li);
  const scale = Math.max(norm, Number.MIN_VALUE);
  for (const m of raw) {
    let g0 = groups.find((x) => Math.abs(x.lr - m.lr) <= mergeTol * scale && Math.abs(x.li - m.li) <= mergeTol * scale);
    if (!g0) {
      g0 = { lr: m.lr, li: m.li, excitation2: 0, ar: new Float64Array(nObs), ai: new Float64Array(nObs) };
      groups.push(g0);
    }
    const wn = Math.sqrt(dot(m.wr, m.wr) + dot(m.wi, m.wi));
    g0.excitation2 += (m.cr * m.cr + m.ci * m.ci) * wn * wn;
    observables.forEach((o, q) => {
      const orr = dot(o, m.wr);
      const oi = dot(o, m.wi);
      (g0 as Grouped).ar[q] = ((g0 as Grouped).ar[q] as number) + m.cr * orr - m.ci * oi;
      (g0 as Grouped).ai[q] = ((g0 as Grouped).ai[q] as number) + m.cr * oi + m.ci * orr;
    });
  }

  const steadyState = new Float64Array(nObs);
  const nonzero: Grouped[] = [];
  for (const gr of groups) {
    if (Math.hypot(gr.lr, gr.li) <= zeroTol * scale) {
      for (let q = 0; q < nObs; q++) steadyState[q] = (steadyState[q] as number) + (gr.ar[q] as number);
    } else nonzero.push(gr);
  }
  let dynamic = 0;
  for (const gr of nonzero) dynamic = Math.max(dynamic, Math.sqrt(gr.excitation2));
  const modes: Mode[] = nonzero
    .filter((gr) => Math.sqrt(gr.excitation2) > excitationTol * Math.max(dynamic, Number.MIN_VALUE))
    .map((gr) => ({ rate: -gr.lr, frequency: gr.li, excitation: Math.sqrt(gr.excitation2), amplitudes: gr.ar, amplitudesImag: gr.ai }))
    .sort((a, b) => a.rate - b.rate || a.frequency - b.frequency);
  return { steadyState, modes };
}
