/**
 * Indices 0..n-1 in ascending order of key[i], equal keys in index order: the permutation a
 * stable sort with the comparator (a, b) => key[a] - key[b] returns, for keys that are not NaN.
 * An insertion sort for the short lists of the set-up (levels, eigenvalues of a block, H0
 * parts), as a module-level loop instead of a comparator made per call
 * (README, "Layout": no per-job closures in set-up loops).
 */
export function ascendingOrder(key: ArrayLike<number>, n: number = key.length): number[] {
  const order: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = key[i] as number;
    let j = i;
    while (j > 0 && (key[order[j - 1] as number] as number) > x) {
      order[j] = order[j - 1] as number;
      j--;
    }
    order[j] = i;
  }
  return order;
}
