/** The real Liouville layer: orthonormal Hermitian bases and superoperators built from them. */
import { describe, expect, it } from 'vitest';
import { CMatrix, adjoint, hsInner, mul, sub } from '../../src/math/cmatrix.js';
import { OperatorBasis } from '../../src/liouville/operator-basis.js';
import {
  commutatorOfAnticommutator,
  doubleCommutator,
  hamiltonianCommutator,
  leftMultiplication,
  relaxationForms,
  rightMultiplication,
} from '../../src/liouville/superoperators.js';
import { SpinSystem } from '../../src/spin/spin-system.js';
import { mulberry32 } from '../../src/math/mulberry32.js';

/** Uniform in [-0.5, 0.5). */
function rng(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() - 0.5;
}

function randomMatrix(n: number, r: () => number): CMatrix {
  const m = new CMatrix(n, n);
  for (let k = 0; k < n * n; k++) {
    m.re[k] = r();
    m.im[k] = r();
  }
  return m;
}

const SYSTEMS: Record<string, SpinSystem> = {
  'two spins 1/2': new SpinSystem([
    { id: 'a', spin: 0.5, gamma: 1 },
    { id: 'b', spin: 0.5, gamma: 1 },
  ]),
  'spin 1 and spin 1/2': new SpinSystem([
    { id: 'd', spin: 1, gamma: 1 },
    { id: 'h', spin: 0.5, gamma: 2 },
  ]),
  'spin 3/2': new SpinSystem([{ id: 'q', spin: 1.5, gamma: 1 }]),
};

describe('operator basis', () => {
  for (const [name, system] of Object.entries(SYSTEMS)) {
    it(`${name}: Hermitian, orthonormal (Tr(B_a B_b) = delta_ab to 1e-15), identity first`, () => {
      const basis = new OperatorBasis(system);
      expect(basis.size).toBe(system.dim * system.dim);
      const ops = Array.from({ length: basis.size }, (_, a) => basis.operator(a));
      ops.forEach((x) => expect(sub(x, adjoint(x)).re.every((v) => Math.abs(v) < 1e-15)).toBe(true));
      for (let a = 0; a < basis.size; a++) {
        for (let b = 0; b < basis.size; b++) {
          const [re, im] = hsInner(ops[a] as CMatrix, ops[b] as CMatrix);
          expect(Math.abs(re - (a === b ? 1 : 0))).toBeLessThan(1e-15);
          expect(Math.abs(im)).toBeLessThan(1e-15);
        }
      }
      const e = ops[0] as CMatrix;
      for (let i = 0; i < system.dim; i++) expect(e.re[i * system.dim + i]).toBeCloseTo(1 / Math.sqrt(system.dim), 15);
    });
  }
  it('vector / toOperator round trip of a random Hermitian operator', () => {
    const system = SYSTEMS['spin 1 and spin 1/2'] as SpinSystem;
    const basis = new OperatorBasis(system);
    const m = randomMatrix(system.dim, rng(1));
    const h = mul(m, adjoint(m));
    const back = basis.toOperator(basis.vector(h));
    for (let k = 0; k < h.re.length; k++) {
      expect(Math.abs((back.re[k] as number) - (h.re[k] as number))).toBeLessThan(1e-14);
      expect(Math.abs((back.im[k] as number) - (h.im[k] as number))).toBeLessThan(1e-14);
    }
  });
});

describe('superoperators', () => {
  const system = SYSTEMS['two spins 1/2'] as SpinSystem;
  const basis = new OperatorBasis(system);
  const n = basis.size;
  it('the fused relaxation forms equal the generic double commutator and [A, {B, .}]', () => {
    const r = rng(7);
    const a = randomMatrix(system.dim, r);
    const b = randomMatrix(system.dim, r);
    const fused = relaxationForms(basis, a, b);
    const dc = doubleCommutator(basis, a, b).dense;
    const th = commutatorOfAnticommutator(basis, a, b).dense;
    for (let k = 0; k < n * n; k++) {
      expect(Math.abs((fused.dc[k] as number) - (dc[k] as number))).toBeLessThan(1e-13);
      expect(Math.abs((fused.thermal[k] as number) - (th[k] as number))).toBeLessThan(1e-13);
    }
  });
  it('-i[H, .] is real antisymmetric for Hermitian H, and equals -i (left - right)', () => {
    const m = randomMatrix(system.dim, rng(3));
    const h = mul(m, adjoint(m));
    const c = hamiltonianCommutator(basis, h);
    expect(c.maxImag).toBeLessThan(1e-14);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(Math.abs((c.dense[i * n + j] as number) + (c.dense[j * n + i] as number))).toBeLessThan(1e-13);
  });
  it('left and right products with E are the identity; with Iz(a) they commute with each other', () => {
    const e = system.identity();
    for (const s of [leftMultiplication(basis, e), rightMultiplication(basis, e)]) {
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(Math.abs((s.dense[i * n + j] as number) - (i === j ? 1 : 0))).toBeLessThan(1e-15);
    }
    const z = system.op(0, 'z');
    const l = leftMultiplication(basis, z).dense;
    const r = rightMultiplication(basis, z).dense;
    // L(Iz) and R(Iz) are real here (Iz is real symmetric): (A X) B = A (X B) means L R = R L
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let lr = 0;
        let rl = 0;
        for (let k = 0; k < n; k++) {
          lr += (l[i * n + k] as number) * (r[k * n + j] as number);
          rl += (r[i * n + k] as number) * (l[k * n + j] as number);
        }
        expect(Math.abs(lr - rl)).toBeLessThan(1e-15);
      }
    }
  });
});
