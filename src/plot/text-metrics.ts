/**
 * Text widths from the advance widths of the font the PNGs are rendered with (DejaVu Sans,
 * read from its TrueType `cmap`/`hmtx` tables), for wrapping titles to the figure width and
 * for checking that no label leaves the figure. Without the font file, 0.6 em per character
 * (DejaVu Sans averages about 0.55 em on labels).
 */
import { existsSync, readFileSync } from 'node:fs';

const FONT_FILES = {
  normal: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  bold: '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
} as const;

export const FALLBACK_EM = 0.6;

interface Metrics {
  readonly unitsPerEm: number;
  readonly advance: (codePoint: number) => number;
}

/** Advance widths by code point from a TrueType file: cmap format 4 (the BMP) and hmtx. */
export function parseTrueType(buf: Buffer): Metrics {
  const numTables = buf.readUInt16BE(4);
  const tables = new Map<string, number>();
  for (let i = 0; i < numTables; i++) {
    const rec = 12 + 16 * i;
    tables.set(buf.toString('latin1', rec, rec + 4), buf.readUInt32BE(rec + 8));
  }
  const table = (tag: string): number => {
    const off = tables.get(tag);
    if (off === undefined) throw new Error(`font has no ${tag} table`);
    return off;
  };
  const unitsPerEm = buf.readUInt16BE(table('head') + 18);
  const numberOfHMetrics = buf.readUInt16BE(table('hhea') + 34);
  const hmtx = table('hmtx');
  const advanceOfGlyph = (g: number): number => buf.readUInt16BE(hmtx + 4 * Math.min(g, numberOfHMetrics - 1));
  const cmap = table('cmap');
  let sub = -1;
  const nSub = buf.readUInt16BE(cmap + 2);
  for (let i = 0; i < nSub; i++) {
    const platform = buf.readUInt16BE(cmap + 4 + 8 * i);
    const encoding = buf.readUInt16BE(cmap + 6 + 8 * i);
    const off = cmap + buf.readUInt32BE(cmap + 8 + 8 * i);
    if (buf.readUInt16BE(off) === 4 && ((platform === 3 && encoding === 1) || platform === 0)) sub = off;
  }
  if (sub < 0) throw new Error('font has no format-4 cmap');
  const segX2 = buf.readUInt16BE(sub + 6);
  const ends = sub + 14;
  const starts = ends + segX2 + 2;
  const deltas = starts + segX2;
  const ranges = deltas + segX2;
  const glyphOf = (c: number): number => {
    for (let s = 0; s < segX2; s += 2) {
      if (c > buf.readUInt16BE(ends + s)) continue;
      const start = buf.readUInt16BE(starts + s);
      if (c < start) return 0;
      const delta = buf.readInt16BE(deltas + s);
      const ro = buf.readUInt16BE(ranges + s);
      if (ro === 0) return (c + delta) & 0xffff;
      const g = buf.readUInt16BE(ranges + s + ro + 2 * (c - start));
      return g === 0 ? 0 : (g + delta) & 0xffff;
    }
    return 0;
  };
  const cache = new Map<number, number>();
  return {
    unitsPerEm,
    advance: (c) => {
      let w = cache.get(c);
      if (w === undefined) {
        w = c > 0xffff ? unitsPerEm * FALLBACK_EM : advanceOfGlyph(glyphOf(c));
        cache.set(c, w);
      }
      return w;
    },
  };
}

const loaded = new Map<string, Metrics | null>();

function metrics(weight: 'normal' | 'bold'): Metrics | null {
  if (!loaded.has(weight)) {
    const file = FONT_FILES[weight];
    let m: Metrics | null = null;
    try {
      if (existsSync(file)) m = parseTrueType(readFileSync(file));
    } catch {
      m = null;
    }
    loaded.set(weight, m);
  }
  return loaded.get(weight) ?? null;
}

/** Width in px of `text` at `fontSize` px in DejaVu Sans (bold when asked). */
export function textWidth(text: string, fontSize: number, bold = false): number {
  const m = metrics(bold ? 'bold' : 'normal');
  if (!m) return [...text].length * FALLBACK_EM * fontSize;
  let units = 0;
  for (const ch of text) units += m.advance(ch.codePointAt(0) as number);
  return (units / m.unitsPerEm) * fontSize;
}

/** Lines of at most `width` px, broken at spaces (a word longer than a line stands alone). */
export function wrapText(text: string, width: number, fontSize: number, bold = false): string[] {
  const words = text.split(/ +/);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    const next = line === '' ? w : `${line} ${w}`;
    if (line !== '' && textWidth(next, fontSize, bold) > width) {
      lines.push(line);
      line = w;
    } else {
      line = next;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}
