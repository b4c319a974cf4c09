/** Titles, units and file names shared by the figures and the report. */
import { formatNumber, type Dim, type Field, type GroupMember } from './run-directory.js';
import { shortNumber } from './ticks.js';

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

/**
 * Axis title of a dimension; a zipped group is titled by the member it is plotted against,
 * with the range of the members zipped with it (`T (K), zipped with tau_ran from 10⁻¹¹ to 4×10⁻¹¹ s`).
 */
export function axisTitle(dim: Dim, member: GroupMember | null = null): string {
  if (dim.role === 'time') return withUnits('time', dim.units || 's');
  if (member && dim.role === 'sweep') {
    const others = dim.members
      .filter((m) => m !== member)
      .map((m) => {
        const u = unitText(m.units);
        const v = m.values;
        return `${m.name} from ${shortNumber(v[0] ?? NaN)} to ${shortNumber(v[v.length - 1] ?? NaN)}${u ? ` ${u}` : ''}`;
      });
    return withUnits(member.name, member.units) + (others.length > 0 ? `, zipped with ${others.join(', ')}` : '');
  }
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
