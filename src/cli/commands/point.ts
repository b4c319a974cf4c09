import type { PointResult } from '../../evaluate/point.js';
import { pointWithOverrides } from '../../api/point.js';
import { parseSets } from '../../spec/overrides.js';

export interface PointCommandOptions {
  readonly set?: string[];
  readonly json?: boolean;
  readonly contributions?: boolean;
}

export function pointCommand(specPath: string, opts: PointCommandOptions, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): void {
  const sets = parseSets(opts.set ?? []);
  const { result, name, thermalizationIsList, initialIsList, warnings } = pointWithOverrides(specPath, sets, opts.contributions);
  for (const w of warnings) err.write(`relaxmap: warning: ${w}\n`);
  if (opts.json) out.write(`${JSON.stringify(result)}\n`);
  else out.write(formatPoint(result, name, thermalizationIsList, initialIsList));
  for (const w of result.warnings ?? []) err.write(`relaxmap: warning: ${w}\n`);
}

const fmt = (v: number): string => (Number.isFinite(v) ? v.toPrecision(6) : String(v));

export function formatPoint(r: PointResult & { readonly initial?: string }, name: string, isList: boolean, initialIsList = false): string {
  const lines: string[] = [];
  lines.push(`${name}: ${r.thermalization}${isList ? ' (first of the listed models; --set thermalization=... for another)' : ''}`);
  if (r.initial !== undefined) lines.push(`  initial state: ${r.initial}${initialIsList ? ' (first of the listed initial states; --set initial=... for another)' : ''}`);
  lines.push(`  parameters: ${Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  lines.push(`  generator: ${r.generator.path}, reduced dimension ${r.generator.reduced_dimension} of ${r.generator.full_dimension}`);
  lines.push('  observable        rate (1/s)     steady state   Boltzmann      ss/Boltzmann');
  for (const name of Object.keys(r.rates)) {
    const ss = r.steady_state[name] as number;
    const b = r.boltzmann[name] as number;
    lines.push(`  ${name.padEnd(16)}  ${fmt(r.rates[name] as number).padEnd(13)}  ${fmt(ss).padEnd(13)}  ${fmt(b).padEnd(13)}  ${b !== 0 ? fmt(ss / b) : '-'}`);
  }
  lines.push(`  eigenrates (1/s): ${r.eigenrates.map(fmt).join(', ')}`);
  for (const [name, a] of Object.entries(r.amplitudes)) lines.push(`  amplitudes ${name}: ${a.map(fmt).join(', ')}`);
  const t = r.trajectories.t;
  if (t.length > 0) {
    lines.push(`  trajectory: ${t.length} times from ${fmt(t[0] as number)} to ${fmt(t[t.length - 1] as number)} s (--json for values)`);
  }
  return `${lines.join('\n')}\n`;
}
