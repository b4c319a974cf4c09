/**
 * The report page: static sections rendered here (spec, provenance, notes), interactive
 * ones drawn in the browser by CLIENT_JS from the embedded payload. Everything is inline:
 * the page loads nothing, and its Content-Security-Policy forbids it to.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CLIENT_JS } from './client.js';
import type { ReportPayload } from './payload.js';

export interface ReportPage {
  readonly payload: ReportPayload;
  readonly specText: string;
  readonly run: Readonly<Record<string, unknown>>;
  readonly sourceDir: string;
  readonly generated: string;
}

let plotlySource: string | null = null;

/** plotly.js from plotly.js-dist-min, made safe to inline in a <script> element. */
export function plotlyInline(): string {
  if (plotlySource === null) {
    const path = createRequire(import.meta.url).resolve('plotly.js-dist-min');
    plotlySource = inlineScript(readFileSync(path, 'utf8'));
  }
  return plotlySource;
}

/**
 * `</script`, `<script` and `<!--` would end or confuse the HTML script element. Rewritten as
 * `\x3C...` they mean the same in JS strings and regular expressions, where they occur.
 */
export function inlineScript(js: string): string {
  return js.replace(/<(\/?script|!--)/gi, '\\x3C$1');
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** JSON for a <script type="application/json"> block: no `<` can close it early. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function get(obj: unknown, ...path: string[]): unknown {
  let o = obj;
  for (const p of path) {
    if (o === null || typeof o !== 'object') return undefined;
    o = (o as Record<string, unknown>)[p];
  }
  return o;
}

function provenanceRows(run: Readonly<Record<string, unknown>>): Array<[string, string]> {
  const rows: Array<[string, unknown]> = [
    ['spec', `${String(get(run, 'spec', 'name') ?? '')} (${String(get(run, 'spec', 'source') ?? '')})`],
    ['spec sha256', get(run, 'spec', 'sha256')],
    ['overrides', (get(run, 'spec', 'overrides') as unknown[] | undefined)?.join(', ')],
    ['command', get(run, 'command')],
    ['relaxmap', get(run, 'relaxmap_version')],
    ['created', get(run, 'created')],
    ['finished', get(run, 'finished')],
    ['backend', [get(run, 'backend', 'name'), get(run, 'backend', 'precision'), get(run, 'backend', 'description')].filter((x) => x !== undefined && x !== '').join(', ')],
    ['points', get(run, 'grid', 'points')],
    ['precision checks', get(run, 'precision') === undefined ? undefined : JSON.stringify(get(run, 'precision'))],
    ['non-finite points', (get(run, 'nonfinite') as unknown[] | undefined)?.length],
    ['timings', get(run, 'timings') === undefined ? undefined : JSON.stringify(get(run, 'timings'))],
    ['node / platform', [get(run, 'node'), get(run, 'platform')].filter((x) => x !== undefined).join(', ')],
  ];
  return rows.filter(([, v]) => v !== undefined && v !== '' && v !== null).map(([k, v]) => [k, String(v)]);
}

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; margin: 0 auto; max-width: 1280px; padding: 0 20px 40px; color: #1b1b1b; }
h1 { font-size: 1.5em; margin: 20px 0 4px; } h2 { font-size: 1.2em; margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.sub { color: #555; margin: 0 0 12px; } .notes { background: #fff8e1; border: 1px solid #f0d98c; padding: 8px 12px; border-radius: 4px; }
.controls { display: flex; flex-wrap: wrap; gap: 8px 16px; margin: 8px 0; } .ctl { display: flex; flex-direction: column; font-size: 0.85em; color: #444; }
.ctl select { font-size: 1em; padding: 2px 4px; max-width: 420px; } .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 8px; }
pre { background: #f6f6f6; padding: 10px; overflow: auto; font-size: 0.85em; } table { border-collapse: collapse; font-size: 0.9em; }
td { padding: 3px 10px 3px 0; vertical-align: top; } td:first-child { color: #555; white-space: nowrap; } nav a { margin-right: 12px; }
.plot-title { font-weight: 600; font-size: 0.95em; margin: 14px 0 2px; }
`;

export function reportHtml(page: ReportPage): string {
  const p = page.payload;
  const obs = p.observables.map((o) => (o.expression ? `${o.name} = ${o.expression}` : o.name)).join('; ');
  const thermal = p.surfaces.dims.find((d) => d.role === 'thermalization');
  const sections: string[] = [];
  const nav: string[] = ['<a href="#surfaces">surfaces</a>'];
  sections.push(`<section id="surfaces"><h2>Surfaces</h2>
<p class="sub">Hover a cell for its value; the selectors pick the quantity, the axes and the slice of every other dimension.</p>
<div id="surface-controls" class="controls"></div><div id="surface-plot"></div></section>`);
  if (thermal && thermal.labels.length > 1) {
    nav.push('<a href="#compare">model comparison</a>');
    sections.push(`<section id="compare"><h2>Model comparison</h2>
<p class="sub">The same quantity under each thermalization model (shared color range; axes and slice as above), and the differences from the reference model.</p>
<div id="compare-controls" class="controls"></div><div id="compare-plots" class="grid"></div></section>`);
  }
  if (p.trajectories) {
    nav.push('<a href="#trajectories">trajectories</a>');
    sections.push(`<section id="trajectories"><h2>Trajectories</h2><div id="traj-controls" class="controls"></div><div id="traj-plot"></div></section>`);
  }
  if (p.contributions) {
    nav.push('<a href="#contributions">contributions</a>');
    sections.push(`<section id="contributions"><h2>Contributions to d⟨O⟩/dt</h2>
<p class="sub">Per mechanism and eigenoperator component μ: double-commutator part (red) and thermal part (blue); they sum to d⟨O⟩/dt.</p>
<div id="contrib-controls" class="controls"></div><div id="contrib-plot"></div></section>`);
  }
  nav.push('<a href="#spec">spec</a>', '<a href="#provenance">provenance</a>');
  const rows = provenanceRows(page.run)
    .map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(v)}</td></tr>`)
    .join('\n');
  const notes = p.notes.length > 0 ? `<div class="notes"><ul>${p.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul></div>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; font-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="relaxmap report">
<title>${escapeHtml(p.title)} · relaxmap report</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(p.title)}</h1>
<p class="sub">${escapeHtml(obs)}${obs ? ' · ' : ''}run directory ${escapeHtml(page.sourceDir)} · report generated ${escapeHtml(page.generated)}</p>
<nav>${nav.join('')}</nav>
</header>
${notes}
${sections.join('\n')}
<section id="spec"><h2>Spec</h2><pre>${escapeHtml(page.specText)}</pre></section>
<section id="provenance"><h2>Provenance</h2><table>${rows}</table>
<details><summary>run.json</summary><pre>${escapeHtml(JSON.stringify(page.run, null, 2))}</pre></details></section>
<script type="application/json" id="relaxmap-data">${jsonForScript(p)}</script>
<script>${plotlyInline()}</script>
<script>${inlineScript(CLIENT_JS)}</script>
</body>
</html>
`;
}
