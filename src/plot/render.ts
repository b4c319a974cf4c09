/**
 * Rendering: vega-lite spec -> vega -> SVG (headless, renderer 'none') -> PNG (resvg). No
 * canvas, no browser. Warnings from either compiler are collected instead of printed.
 */
import { existsSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { VlSpec } from './specs/common.js';
import { textWidth } from './text-metrics.js';
import { registerTickFunction } from './ticks.js';

interface TextItem {
  readonly fontSize?: number;
  readonly fontWeight?: string | number;
}

/**
 * Vega lays text out by an estimate of 0.8 em per character without a canvas (about 45% wider
 * than DejaVu Sans), which leaves figures with wide blank margins; measure with the font's
 * own advance widths instead (vega supports a user-defined measure, as vl-convert does).
 */
function useFontMetrics(): void {
  const metrics = (vega as unknown as { textMetrics?: { width: (item: TextItem, text: unknown) => number } }).textMetrics;
  if (!metrics) return;
  metrics.width = (item, text) => {
    const t = text == null ? '' : String(text).trim();
    const weight = item.fontWeight;
    const bold = weight === 'bold' || (typeof weight === 'number' && weight >= 600) || weight === '700' || weight === '600';
    return textWidth(t, item.fontSize ?? 11, bold);
  };
}

/** The Debian package whose fonts the figures are laid out for. */
export const FONT_PACKAGE = 'fonts-dejavu-core';
const DEJAVU_DIR = '/usr/share/fonts/truetype/dejavu';
const DEJAVU_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSans-Oblique.ttf'].map((f) => `${DEJAVU_DIR}/${f}`);

type LoggerInterface = NonNullable<vega.ViewOptions['logger']>;

function collectingLogger(sink: string[]): LoggerInterface {
  let level = vega.Warn;
  const text = (args: readonly unknown[]): string => args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ');
  const logger = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error(...args: unknown[]) {
      sink.push(`error: ${text(args)}`);
      return logger;
    },
    warn(...args: unknown[]) {
      if (level >= vega.Warn) sink.push(text(args));
      return logger;
    },
    info() {
      return logger;
    },
    debug() {
      return logger;
    },
  };
  return logger as unknown as LoggerInterface;
}

/** SVG text of a vega-lite spec; compiler and runtime warnings are appended to `warnings`. */
export async function renderSvg(spec: VlSpec, warnings: string[] = []): Promise<string> {
  registerTickFunction();
  useFontMetrics();
  const logger = collectingLogger(warnings);
  const compiled = compile(spec as unknown as TopLevelSpec, { logger }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logger, logLevel: vega.Warn });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Font files the PNG renderer is given explicitly, on top of the system fonts. */
export function figureFontFiles(): string[] {
  return DEJAVU_FILES.filter((f) => existsSync(f));
}

/** PNG bytes of an SVG at `scale` (2: crisp on high-density screens and in print). */
export function svgToPng(svg: string, scale = 2): Buffer {
  const fontFiles = figureFontFiles();
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: {
      loadSystemFonts: true,
      fontFiles,
      ...(fontFiles.length > 0 ? { defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' } : {}),
    },
  });
  return resvg.render().asPng();
}
