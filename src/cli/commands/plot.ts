import { FIGURE_FORMATS, plotRunDirectory, type FigureFormat } from '../../plot/index.js';
import { UsageError } from '../../spec/errors.js';

export interface PlotCommandOptions {
  /** Output directory (default DIR/figures). */
  readonly out?: string;
  readonly x?: string;
  readonly y?: string;
  /** Comma-separated: png, svg (default both). */
  readonly format?: string;
  /** `name=value`, repeatable: fix a dimension at a label or the nearest value. */
  readonly at?: readonly string[];
}

export function parseFormats(text: string | undefined): FigureFormat[] {
  if (text === undefined) return [...FIGURE_FORMATS];
  const list = text.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  if (list.length === 0) throw new UsageError('--format: give png, svg or png,svg');
  for (const f of list) {
    if (!(FIGURE_FORMATS as readonly string[]).includes(f)) throw new UsageError(`--format ${f}: expected png or svg (comma-separated)`);
  }
  return [...new Set(list)] as FigureFormat[];
}

export function parseAt(list: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1) throw new UsageError(`--at ${item}: expected NAME=VALUE (e.g. --at T=300 or --at thermalization=bengs-levitt)`);
    out[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  }
  return out;
}

/** `relaxmap plot DIR`: writes the figures and lists them; UsageError (exit 2) for a bad directory. */
export async function plotCommand(
  dir: string,
  opts: PlotCommandOptions = {},
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<void> {
  const at = parseAt(opts.at);
  const result = await plotRunDirectory(dir, {
    formats: parseFormats(opts.format),
    ...(opts.out !== undefined ? { out: opts.out } : {}),
    ...(opts.x !== undefined ? { x: opts.x } : {}),
    ...(opts.y !== undefined ? { y: opts.y } : {}),
    ...(Object.keys(at).length > 0 ? { at } : {}),
  });
  for (const w of result.warnings) err.write(`relaxmap: note: ${w}\n`);
  for (const f of result.files) out.write(`${f}\n`);
}
