import { hermitianEigen } from '../math/hermitian-eig.js';
import type { GeneratorModel } from '../physics/generator-model.js';
import type { Observable } from './problem.js';

/** Spectrum [min, max] of each observable: the range of <O> in any physical state. */
export function observableRanges(observables: readonly Observable[], model: GeneratorModel): Array<readonly [number, number]> {
  return observables.map((o) => {
    const ev = hermitianEigen(model.basis.toOperator(o.vector)).values;
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of ev) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    return [lo, hi] as const;
  });
}
