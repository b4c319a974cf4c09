/** A float32 value as a WGSL literal that parses back to the same float32. */
export function wgslLiteral(x: number): string {
  const v = Math.fround(x);
  if (v === 0) return '0.0';
  let s = v.toPrecision(9);
  if (!/[.e]/.test(s)) s += '.0';
  return s;
}
