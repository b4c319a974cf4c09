/**
 * The eigenvalue range of each observable: every expectation value <O> of a state lies in it,
 * and float64 round-off of <O> is relative to its larger end. Written as the `spectrum_range`
 * attribute of the variables that hold expectation values (plots use it to tell round-off
 * from structure; readers to check physicality).
 */
import { hermitianEigen } from '../math/hermitian-eig.js';
import { evaluateExpression } from '../physics/operator-expression.js';
import type { SpinSystem } from '../spin/spin-system.js';
import type { CheckedSpec } from '../spec/semantic.js';

export function observableSpectra(observables: CheckedSpec['observables'], system: SpinSystem): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (const o of observables) {
    const op = evaluateExpression(o.parsed, system);
    if (typeof op === 'number') {
      out.set(o.name, [op, op]);
      continue;
    }
    const values = hermitianEigen(op).values;
    out.set(o.name, [values[0] as number, values[values.length - 1] as number]);
  }
  return out;
}
