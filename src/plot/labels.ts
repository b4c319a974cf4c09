/** Titles, units and file names shared by the figures and the report. */
import { formatNumber, type Dim, type Field } from './run-directory.js';

const SUPERSCRIPT: Readonly<Record<string, string>> = { '-': '⁻', '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹' };

/** CF unit strings for display: `s-1` -> `s⁻¹`; dimensionless (`1`, empty) -> empty. */
export function unitText(units: string): string {
  const u = units.trim();
  if (u === '' || u === '1') return '';
  return u.replace(/([A-Za-z])(-?\d+)/g, (_, sym: string, exp: string) => sym + [...exp].map((c) => SUPERSCRIPT[c] ?? c).join(''));
}

export function withUnits(name: string, units: string): string {
  const u = unitText(units);
  return u ? `${name} (${u})` : name;
}

/** The coordinate a dimension is plotted against: a zipped group uses its first member. */
export function axisTitle(dim: Dim): string {
  if (dim.role === 'time') return withUnits('time', dim.units || 's');
  const member = dim.members[0];
  if (member && dim.role === 'sweep') return withUnits(`${member.name} [${dim.name}]`, member.units);
  return withUnits(dim.name, dim.units);
}

export function fieldTitle(field: Field): string {
  return withUnits(field.name, field.units);
}

/** `T = 300 K`, `thermalization = bengs-levitt`. */
export function describeCoordinate(dim: Dim, index: number): string {
  const label = dim.labels[index] ?? String(index);
  const member = dim.members[0];
  if (member && dim.role === 'sweep') {
    const parts = dim.members.map((m) => `${m.name} = ${formatNumber(m.values[index] ?? NaN)}${unitText(m.units) ? ` ${unitText(m.units)}` : ''}`);
    return parts.join(', ');
  }
  const u = dim.values ? unitText(dim.units) : '';
  return `${dim.name} = ${label}${u ? ` ${u}` : ''}`;
}

/** A file-name fragment safe on every file system. */
export function safeFileName(s: string): string {
  return s.replace(/[^A-Za-z0-9._+-]+/g, '_').replace(/^_+|_+$/g, '') || 'x';
}
