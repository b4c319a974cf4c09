import { evaluatePoint, type PointResult } from '../../evaluate/point.js';
import { loadSpecFile } from '../../spec/load.js';
import { baseParameters, buildProblem } from '../../spec/resolve.js';
import { applyOverrides, checkOverridesUsed, parseSets } from '../../spec/overrides.js';

export interface PointCommandOptions {
  readonly set?: string[];
  readonly json?: boolean;
  readonly contributions?: boolean;
}

export function pointCommand(specPath: string, opts: PointCommandOptions, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): void {
  const sets = parseSets(opts.set ?? []);
  const checked = loadSpecFile(specPath, (raw) => applyOverrides(raw, sets));
  checkOverridesUsed(sets, checked.usedParameters, specPath);
  const problem = buildProblem(checked);
  const params = baseParameters(checked);
  const thermal = checked.thermalizations[0];
  if (!thermal) throw new Error('no thermalization model');
  const wantContrib = opts.contributions ?? checked.outputs.includes('contributions');
  const result = evaluatePoint(problem, params, thermal, { contributions: wantContrib && problem.times.length > 0 });
  if (opts.json) out.write(`${JSON.stringify(result)}\n`);
  else out.write(formatPoint(result, checked.spec.name ?? specPath, checked.thermalizations.length > 1));
  for (const w of [...checked.warnings, ...(result.warnings ?? [])]) err.write(`relaxmap: warning: ${w}\n`);
}

const fmt = (v: number): string => (Number.isFinite(v) ? v.toPrecision(6) : String(v));

export function formatPoint(r: PointResult, name: string, isList: boolean): string {
  const lines: string[] = [];
  lines.push(`${name}: ${r.thermalization}${isList ? ' (first of the listed models; --set thermalization=... for another)' : ''}`);
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
