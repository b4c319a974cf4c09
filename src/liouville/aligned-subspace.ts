/**
 * A basis of the same subspace as Q whose columns are basis coordinates wherever possible.
 *
 * Generators with coherent terms (physics/coherent-terms.ts) hold entries of ~1e9 s^-1
 * (electron offset, nuclear Zeeman) next to nuclear rates of ~1e-2 s^-1. In natural
 * coordinates those scales sit in different rows, and an equilibrated solve resolves both
 * (evaluate/steady-state.ts); a Krylov basis that mixes, say, Iz with Sz and 2 Sz Iz adds
 * round-off of the large entries to the small ones (measured: 6e-10 relative on a nuclear
 * steady state, 1e-7 with the pseudo-secular coupling, against 1e-14 in natural coordinates).
 * Every coordinate e_i that lies in span(Q) becomes a column (the identity first); the rest
 * of the subspace is orthonormalised after those are projected out. Then Q^T M Q copies the
 * entries of M exactly on the aligned part.
 */
export function alignToCoordinates(q: Float64Array, n: number, r: number, identityIndex = 0): { q: Float64Array; r: number } {
  const inSpan: number[] = [];
  for (let i = 0; i < n; i++) {
    let w = 0;
    for (let c = 0; c < r; c++) w += (q[i * r + c] as number) ** 2;
    if (Math.abs(w - 1) < 1e-10) inSpan.push(i);
  }
  if (!inSpan.includes(identityIndex)) return { q, r };
  const aligned = [identityIndex, ...inSpan.filter((i) => i !== identityIndex)];
  const taken = new Set(aligned);
  const cols: Float64Array[] = aligned.map((i) => {
    const v = new Float64Array(n);
    v[i] = 1;
    return v;
  });
  // the rest: Q's columns with the aligned coordinates removed, Gram-Schmidt twice
  const rest: Float64Array[] = [];
  for (let c = 0; c < r && cols.length + rest.length < r; c++) {
    const w = new Float64Array(n);
    for (let i = 0; i < n; i++) if (!taken.has(i)) w[i] = q[i * r + c] as number;
    for (let pass = 0; pass < 2; pass++) {
      for (const u of rest) {
        let d = 0;
        for (let i = 0; i < n; i++) d += (u[i] as number) * (w[i] as number);
        for (let i = 0; i < n; i++) w[i] = (w[i] as number) - d * (u[i] as number);
      }
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += (w[i] as number) ** 2;
    norm = Math.sqrt(norm);
    if (norm < 1e-8) continue;
    for (let i = 0; i < n; i++) {
      const x = (w[i] as number) / norm;
      w[i] = Math.abs(x) < 1e-15 ? 0 : x;
    }
    rest.push(w);
  }
  const all = [...cols, ...rest];
  if (all.length !== r) return { q, r };
  const out = new Float64Array(n * r);
  all.forEach((v, c) => {
    for (let i = 0; i < n; i++) out[i * r + c] = v[i] as number;
  });
  return { q: out, r };
}
