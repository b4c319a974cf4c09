/**
 * `relaxmap plot`: PNG and SVG figures of a finished run directory: surface heatmaps,
 * trajectories at representative points and the contribution plots of the seed's Figures 1-2.
 */
import { promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../spec/errors.js';
import { contributionFigures, surfaceFigures, trajectoryFigures, type FigureSpec } from './figures.js';
import { checkAxisOptions } from './layout.js';
import { nmrdFigures } from './nmrd.js';
import { FONT_PACKAGE, figureFontFiles, renderSvg, svgToPng } from './render.js';
import { loadRunDirectory, type RunData } from './run-directory.js';

export type FigureFormat = 'png' | 'svg';
export const FIGURE_FORMATS: readonly FigureFormat[] = ['png', 'svg'];

export interface PlotOptions {
  /** Output directory; default `<dir>/figures`. */
  readonly out?: string;
  /** Sweep dims for the heatmap axes; default the first two numeric sweep dims. */
  readonly x?: string;
  readonly y?: string;
  /** Default both. */
  readonly formats?: readonly FigureFormat[];
  /** Fix dimensions: `name -> label or value` (nearest coordinate for numeric dims). */
  readonly at?: Readonly<Record<string, string>>;
  /** PNG pixels per SVG unit; default 2. */
  readonly scale?: number;
}

export interface PlotResult {
  /** Paths written, in order. */
  readonly files: string[];
  /** What was skipped and why; vega warnings. */
  readonly warnings: string[];
}

/** All figure specs for a loaded run (pure apart from the data already in memory). */
export function buildFigures(run: RunData, options: Pick<PlotOptions, 'x' | 'y' | 'at'> = {}): { figures: FigureSpec[]; notes: string[] } {
  const axes = { ...(options.x !== undefined ? { x: options.x } : {}), ...(options.y !== undefined ? { y: options.y } : {}), ...(options.at ? { at: options.at } : {}) };
  const sets = [surfaceFigures(run, axes), nmrdFigures(run, axes), trajectoryFigures(run, axes), contributionFigures(run, axes)];
  return { figures: sets.flatMap((s) => s.figures), notes: sets.flatMap((s) => s.notes) };
}

export async function plotRunDirectory(dir: string, options: PlotOptions = {}): Promise<PlotResult> {
  const formats = options.formats ?? FIGURE_FORMATS;
  if (formats.length === 0) throw new UsageError('--format: give at least one of png, svg');
  for (const f of formats) if (!FIGURE_FORMATS.includes(f)) throw new UsageError(`--format ${String(f)}: expected png or svg`);
  const run = await loadRunDirectory(dir);
  checkAxisOptions(run.surfaces.dims, options);
  const { figures, notes } = buildFigures(run, options);
  const warnings = [...run.warnings, ...notes];
  if (formats.includes('png') && figureFontFiles().length === 0) {
    warnings.push(`DejaVu Sans not found: PNG text falls back to whatever system font resvg finds (Debian: apt-get install ${FONT_PACKAGE})`);
  }
  const out = resolve(options.out ?? join(run.dir, 'figures'));
  await fsp.mkdir(out, { recursive: true });
  const files: string[] = [];
  for (const fig of figures) {
    const vegaWarnings: string[] = [];
    const svg = await renderSvg(fig.spec, vegaWarnings);
    for (const w of vegaWarnings) warnings.push(`${fig.name}: ${w}`);
    if (formats.includes('svg')) {
      const p = join(out, `${fig.name}.svg`);
      await fsp.writeFile(p, svg);
      files.push(p);
    }
    if (formats.includes('png')) {
      const p = join(out, `${fig.name}.png`);
      await fsp.writeFile(p, svgToPng(svg, options.scale ?? 2));
      files.push(p);
    }
  }
  return { files, warnings };
}

export { loadRunDirectory } from './run-directory.js';
export type { RunData } from './run-directory.js';
