/**
 * Checks a user makes with their eyes, made on the files: every axis and colour bar has
 * distinct tick labels, no text is truncated (`…`) or leaves the figure, labels of one axis do
 * not overlap, and a surface titled constant is drawn in one colour without a colour bar.
 * For the report, the same in the browser: ticks distinct and in one notation, no text outside
 * its plot, the toolbar clear of every title.
 */
import { Resvg } from '@resvg/resvg-js';
import { figureFontFiles } from '../../src/plot/render.js';
import { labelGroups, readFigure, type SvgText } from './svg.js';

const TOL = 1;

function overlaps(a: SvgText['box'], b: SvgText['box']): boolean {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  return w > 1 && h > 1;
}

/** Problems of one vega SVG figure; empty when it reads well. */
export function figureProblems(svg: string): string[] {
  const fig = readFigure(svg);
  const out: string[] = [];
  const visible = fig.texts.filter((t) => t.text.trim() !== '');
  for (const role of ['axis-label', 'legend-label']) {
    for (const labels of labelGroups({ ...fig, texts: visible }, role)) {
      const dup = labels.filter((l, i) => labels.indexOf(l) !== i);
      if (dup.length > 0) out.push(`${role}s repeat: ${JSON.stringify(labels)}`);
    }
  }
  for (const t of visible) {
    if (t.text.includes('…')) out.push(`truncated text ${JSON.stringify(t.text)}`);
    const [x0, y0, x1, y1] = t.box;
    if (x0 < -TOL || y0 < -TOL || x1 > fig.width + TOL || y1 > fig.height + TOL) {
      out.push(`text ${JSON.stringify(t.text)} at [${t.box.map((v) => v.toFixed(0)).join(', ')}] leaves the ${fig.width} x ${fig.height} figure`);
    }
  }
  const byGroup = new Map<number, SvgText[]>();
  for (const t of visible) if (t.role === 'axis-label') byGroup.set(t.group, [...(byGroup.get(t.group) ?? []), t]);
  for (const list of byGroup.values()) {
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i] as SvgText;
        const b = list[j] as SvgText;
        if (overlaps(a.box, b.box)) out.push(`tick labels ${JSON.stringify(a.text)} and ${JSON.stringify(b.text)} overlap`);
      }
    }
  }
  // resvg's own extent of everything drawn (paths, text as outlined by the font)
  const fonts = figureFontFiles();
  const bbox = new Resvg(svg, { font: { loadSystemFonts: fonts.length === 0, fontFiles: fonts, defaultFontFamily: 'DejaVu Sans' } }).getBBox();
  if (bbox && (bbox.x < -TOL || bbox.y < -TOL || bbox.x + bbox.width > fig.width + TOL || bbox.y + bbox.height > fig.height + TOL)) {
    out.push(`drawing extends to [${bbox.x.toFixed(0)}, ${bbox.y.toFixed(0)}, ${(bbox.x + bbox.width).toFixed(0)}, ${(bbox.y + bbox.height).toFixed(0)}] beyond the ${fig.width} x ${fig.height} figure`);
  }
  const title = fig.texts.filter((t) => t.role === 'title-text').map((t) => t.text).join(' ');
  if (/ everywhere\b/.test(title)) {
    const fills = new Set(fig.cellFills);
    if (fills.size !== 1) out.push(`titled constant but drawn in ${fills.size} colours`);
    if (fig.gradients !== 0) out.push('titled constant but has a colour bar');
  }
  return out;
}

/**
 * Runs in the report page (as a string, so it needs no DOM types here): for every plotly plot,
 * the problems a reader would see.
 */
export const REPORT_CHECKS = String.raw`(() => {
  const out = [];
  const rect = (el) => el.getBoundingClientRect();
  const meets = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 0.5 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 0.5;
  const plots = [...document.querySelectorAll('.js-plotly-plot')];
  for (const plot of plots) {
    const id = plot.id || '(plot)';
    if (plot.offsetParent === null) continue;
    const svg = plot.querySelector('svg.main-svg');
    if (!svg) { out.push(id + ': no plot drawn'); continue; }
    const box = rect(plot);
    const bar = plot.querySelector('.modebar-container') || plot.querySelector('.modebar');
    const titles = [...plot.querySelectorAll('.gtitle, .annotation-text, .g-xtitle text, .g-ytitle text, .cbtitle text, .legendtext, .legendtitletext')];
    const above = plot.previousElementSibling;
    if (above && above.className === 'plot-title') titles.push(above);
    if (bar) {
      const b = rect(bar);
      for (const t of titles) if (t.textContent.trim() !== '' && meets(b, rect(t))) out.push(id + ': the toolbar covers "' + t.textContent + '"');
    }
    for (const t of titles) if (/\u2026|\.\.\.$/.test(t.textContent)) out.push(id + ': cut text "' + t.textContent + '"');
    const axes = [...plot.querySelectorAll('g.xaxislayer-above, g.yaxislayer-above, g.cbaxis, g.colorbar g.yaxislayer-above')];
    for (const ax of axes) {
      const labels = [...ax.querySelectorAll('text')].map((t) => t.textContent.trim()).filter((t) => t !== '');
      const dup = labels.filter((l, i) => labels.indexOf(l) !== i);
      if (dup.length > 0) out.push(id + ': tick labels repeat ' + JSON.stringify(labels));
      for (const l of labels) {
        if (/^[\u2212-]?[0-9.]+\s*[kMGTPEBmunp\u00b5]$/.test(l)) out.push(id + ': SI-prefixed tick label "' + l + '"');
        if (/[0-9]e[+-]?[0-9]/.test(l)) out.push(id + ': e-notation tick label "' + l + '"');
        if (/^0\.0000/.test(l.replace('\u2212', ''))) out.push(id + ': long decimal tick label "' + l + '"');
      }
    }
    for (const t of plot.querySelectorAll('svg text')) {
      if (t.textContent.trim() === '') continue;
      const r = rect(t);
      if (r.width === 0 && r.height === 0) continue;
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1) out.push(id + ': text "' + t.textContent + '" is cut by the plot edge');
    }
  }
  return { plots: plots.length, problems: out };
})()`;
