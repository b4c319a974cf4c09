/**
 * Physicality of `initial: { deviation: X }`: rho = E/d + X is a density operator only when
 * its smallest eigenvalue is >= 0. Deviation operators written as in product-operator
 * notation (X = Iz(a)) are usually not: E/4 + Iz(a) has the eigenvalue -1/4. relaxmap warns
 * and computes anyway (the policy in docs/spec.md): rates, eigenrates and the steady state do
 * not depend on the initial state, while amplitudes and trajectories are those of the linear
 * dynamics from a start that is no physical state.
 */
import { hermitianEigen } from '../math/hermitian-eig.js';
import { add, scale } from '../math/cmatrix.js';
import { evaluateExpression, type OpExpr } from '../physics/operator-expression.js';
import { SpinSystem } from '../spin/spin-system.js';

/** Eigenvalues below this count as negative (round-off of the Jacobi decomposition is ~1e-15). */
const NEGATIVE = -1e-12;

export interface DeviationCheck {
  /** Smallest eigenvalue of E/d + X. */
  readonly minEigenvalue: number;
  /** Largest factor s with E/d + s X positive semidefinite (Infinity when X >= 0 never binds). */
  readonly maxScale: number;
}

export function checkDeviation(spins: ReadonlyArray<{ id: string; spin: number }>, expr: OpExpr): DeviationCheck {
  const system = new SpinSystem(spins.map((s) => ({ id: s.id, spin: s.spin, gamma: 1 })));
  const x = evaluateExpression(expr, system);
  const d = system.dim;
  const op = typeof x === 'number' ? scale(system.identity(), x) : x;
  const rho = add(scale(system.identity(), 1 / d), op);
  const lambdaRho = hermitianEigen(rho).values[0] as number;
  const lambdaX = hermitianEigen(op).values[0] as number;
  return { minEigenvalue: lambdaRho, maxScale: lambdaX < 0 ? 1 / (d * -lambdaX) : Infinity };
}

/** The warning for an unphysical deviation, or null when E/d + X is a state. */
export function deviationWarning(path: string, expression: string, check: DeviationCheck): string | null {
  if (check.minEigenvalue >= NEGATIVE) return null;
  const fmt = (v: number): string => String(Number(v.toPrecision(4)));
  return (
    `${path}: E/d + ${expression} is not a density operator (its smallest eigenvalue is ${fmt(check.minEigenvalue)}): ` +
    `rates, eigenrates and the steady state do not depend on it, but amplitudes and trajectories start from no physical state; ` +
    `s*(${expression}) is a state for s <= ${fmt(check.maxScale)}`
  );
}
