/**
 * Reading the figures as a user sees them: the text of a vega SVG with its position (the
 * translate/rotate transforms of its groups), its extent from DejaVu Sans's advance widths,
 * and the vega role of the mark it belongs to (axis labels per axis, legend labels per legend).
 */
import { textWidth } from '../../src/plot/text-metrics.js';

interface Node {
  readonly tag: string;
  readonly attrs: Record<string, string>;
  readonly children: Node[];
  text: string;
  readonly parent: Node | null;
}

function parseAttrs(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(/([\w:-]+)="([^"]*)"/g)) out[m[1] as string] = m[2] as string;
  return out;
}

const ENTITIES: Record<string, string> = { '&lt;': '<', '&gt;': '>', '&amp;': '&', '&quot;': '"', '&apos;': "'" };
const unescape = (s: string): string => s.replace(/&(lt|gt|amp|quot|apos);|&#(\d+);|&#x([0-9a-f]+);/gi, (m, _n, d, h) => ENTITIES[m] ?? String.fromCodePoint(d ? Number(d) : parseInt(h as string, 16)));

export function parseSvg(svg: string): Node {
  const root: Node = { tag: '#root', attrs: {}, children: [], text: '', parent: null };
  let cur = root;
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z][\w:-]*)([^>]*?)(\/?)>|([^<]+)/g)) {
    if (m[5] !== undefined) {
      cur.text += unescape(m[5]);
      continue;
    }
    if (m[1]) {
      cur = cur.parent ?? root;
      continue;
    }
    const node: Node = { tag: m[2] as string, attrs: parseAttrs(m[3] ?? ''), children: [], text: '', parent: cur };
    cur.children.push(node);
    if (!m[4]) cur = node;
  }
  return root;
}

type Matrix = [number, number, number, number, number, number];
const IDENTITY: Matrix = [1, 0, 0, 1, 0, 0];
function mul(a: Matrix, b: Matrix): Matrix {
  return [a[0] * b[0] + a[2] * b[1], a[1] * b[0] + a[3] * b[1], a[0] * b[2] + a[2] * b[3], a[1] * b[2] + a[3] * b[3], a[0] * b[4] + a[2] * b[5] + a[4], a[1] * b[4] + a[3] * b[5] + a[5]];
}
function transformOf(t: string | undefined): Matrix {
  let m = IDENTITY;
  if (!t) return m;
  for (const op of t.matchAll(/(translate|rotate|scale)\(([^)]*)\)/g)) {
    const a = (op[2] as string).split(/[ ,]+/).filter((x) => x !== '').map(Number);
    if (op[1] === 'translate') m = mul(m, [1, 0, 0, 1, a[0] ?? 0, a[1] ?? 0]);
    else if (op[1] === 'scale') m = mul(m, [a[0] ?? 1, 0, 0, a[1] ?? a[0] ?? 1, 0, 0]);
    else {
      const r = ((a[0] ?? 0) * Math.PI) / 180;
      m = mul(m, [Math.cos(r), Math.sin(r), -Math.sin(r), Math.cos(r), 0, 0]);
    }
  }
  return m;
}

export interface SvgText {
  readonly text: string;
  /** Vega role of the enclosing mark: `axis-label`, `legend-label`, `title-text`, ... */
  readonly role: string;
  /** Index of the enclosing axis or legend group (labels are compared within one). */
  readonly group: number;
  /** Extent in SVG units: [x0, y0, x1, y1]. */
  readonly box: readonly [number, number, number, number];
}

export interface SvgFigure {
  readonly width: number;
  readonly height: number;
  readonly texts: SvgText[];
  /** Fill colours of the heatmap cells (rect marks). */
  readonly cellFills: string[];
  /** Number of gradient (colour bar) legends. */
  readonly gradients: number;
}

export function readFigure(svg: string): SvgFigure {
  const root = parseSvg(svg);
  const top = root.children.find((n) => n.tag === 'svg');
  if (!top) throw new Error('no <svg> element');
  const texts: SvgText[] = [];
  const cellFills: string[] = [];
  let groups = 0;
  let gradients = 0;
  const walk = (n: Node, m: Matrix, role: string, group: number): void => {
    const cls = n.attrs.class ?? '';
    const r = /role-([\w-]+)/.exec(cls)?.[1];
    let g = group;
    if (/\brole-(axis|legend)\b/.test(cls)) g = ++groups;
    if (/\brole-legend-gradient\b/.test(cls)) gradients++;
    const mm = mul(m, transformOf(n.attrs.transform));
    const here = r ?? role;
    if (n.tag === 'path' && /\brole-mark\b/.test(n.parent?.attrs.class ?? '') && /mark-rect/.test(n.parent?.attrs.class ?? '') && n.attrs.fill) cellFills.push(n.attrs.fill);
    if (n.tag === 'text') {
      // labels vega hides to avoid overlaps are drawn with opacity 0
      if (n.attrs.opacity === '0') return;
      const size = parseFloat(n.attrs['font-size'] ?? '11');
      const bold = n.attrs['font-weight'] === 'bold';
      const lines = n.children.filter((c) => c.tag === 'tspan').map((c) => c.text);
      const all = lines.length > 0 ? lines : [n.text];
      const w = Math.max(...all.map((l) => textWidth(l, size, bold)));
      const anchor = n.attrs['text-anchor'] ?? 'start';
      const x0 = anchor === 'middle' ? -w / 2 : anchor === 'end' ? -w : 0;
      const lineHeight = size + 2;
      // baseline at y = 0 (alphabetic): ascent ~0.76 em above, descent ~0.24 em below, further lines below
      const corners: Array<[number, number]> = [
        [x0, -0.76 * size],
        [x0 + w, -0.76 * size],
        [x0, 0.24 * size + (all.length - 1) * lineHeight],
        [x0 + w, 0.24 * size + (all.length - 1) * lineHeight],
      ];
      const pts = corners.map(([x, y]) => [mm[0] * x + mm[2] * y + mm[4], mm[1] * x + mm[3] * y + mm[5]] as const);
      const xs = pts.map((p) => p[0]);
      const ys = pts.map((p) => p[1]);
      for (const line of all) texts.push({ text: line, role: here, group: g, box: [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)] });
      return;
    }
    for (const c of n.children) walk(c, mm, here, g);
  };
  walk(top, IDENTITY, '', 0);
  return { width: Number(top.attrs.width), height: Number(top.attrs.height), texts, cellFills, gradients };
}

/** Texts of one role, grouped by their axis or legend. */
export function labelGroups(fig: SvgFigure, role: string): string[][] {
  const by = new Map<number, string[]>();
  for (const t of fig.texts) {
    if (t.role !== role) continue;
    const list = by.get(t.group) ?? [];
    list.push(t.text);
    by.set(t.group, list);
  }
  return [...by.values()];
}
