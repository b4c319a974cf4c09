/**
 * The report's browser script, kept as text: it runs in the page, next to the inlined
 * plotly.js, and reads the payload from the `relaxmap-data` JSON block. Plain ES2017, no
 * template literals (it lives inside one here).
 */
export const CLIENT_JS = String.raw`(function () {
  'use strict';
  var P = JSON.parse(document.getElementById('relaxmap-data').textContent);
  var CONFIG = { displaylogo: false, responsive: true };
  var DC = '#d62728', THERMAL = '#1f77b4';
  var DASHES = ['solid', 'dash', 'dot', 'dashdot', 'longdash', 'longdashdot'];
  var SUP = { '-': '\u207b', '0': '\u2070', '1': '\u00b9', '2': '\u00b2', '3': '\u00b3', '4': '\u2074', '5': '\u2075', '6': '\u2076', '7': '\u2077', '8': '\u2078', '9': '\u2079' };

  function unitText(u) {
    if (!u || u === '1') return '';
    return u.replace(/([A-Za-z])(-?\d+)/g, function (m, s, e) {
      return s + e.split('').map(function (c) { return SUP[c] || c; }).join('');
    });
  }
  function withUnits(name, u) { var t = unitText(u); return t ? name + ' (' + t + ')' : name; }
  function sup(n) { return String(n).split('').map(function (c) { return SUP[c] || c; }).join(''); }
  /** Numbers in the notation of the figures' ticks: plain in [1e-3, 1e5), else mantissa × 10ⁿ. */
  function fmt(x, digits) {
    if (x === null || x === undefined || !isFinite(x)) return 'NaN';
    if (x === 0) return '0';
    var a = Math.abs(x), sign = x < 0 ? '−' : '';
    digits = digits || 5;
    if (a >= 1e-3 && a < 1e5) return sign + String(Number(a.toPrecision(digits)));
    var parts = a.toExponential(digits - 1).split('e'), m = String(Number(parts[0])), p = Number(parts[1]);
    return sign + (m === '1' ? '10' + sup(p) : m + '×10' + sup(p));
  }
  /**
   * One tick format on every axis and colour bar: plotly's power notation (2×10⁹, never
   * SI prefixes such as 2B or 10n); log axes labelled at decades only (labels at 2 and 5 would
   * repeat in every decade), or at 1-2-5 below a decade and a half.
   */
  function styleAxis(ax, values) {
    ax.exponentformat = 'power';
    ax.showexponent = 'all';
    ax.automargin = true;
    if (ax.type === 'log' && values) {
      var pos = values.filter(function (x) { return x !== null && x > 0; });
      var r = finiteRange(pos), dec = Math.log10(r[1] / r[0]);
      if (dec >= 1.3) { ax.dtick = Math.max(1, Math.ceil(dec / 8)); }
      else if (isFinite(dec)) {
        var tv = [], e0 = Math.floor(Math.log10(r[0])), e1 = Math.ceil(Math.log10(r[1]));
        for (var e = e0; e <= e1; e++) [1, 2, 5].forEach(function (m) { var t = m * Math.pow(10, e); if (t >= r[0] * 0.999 && t <= r[1] * 1.001) tv.push(t); });
        if (tv.length < 2) tv = [r[0], r[1]];
        ax.tickvals = tv;
        ax.ticktext = tv.map(function (t) { return fmt(t, 3); });
      }
    }
    return ax;
  }
  /** Values of a constant surface (spread within round-off of the scale): { value } or null. */
  function constantOf(values, spectrum) {
    var r = finiteRange(values);
    if (!isFinite(r[0])) return null;
    var scale = Math.max(Math.abs(r[0]), Math.abs(r[1]), spectrum || 0);
    if (r[1] - r[0] > P.roundoff * scale) return null;
    var sum = 0, n = 0;
    values.forEach(function (x) { if (x !== null) { sum += x; n++; } });
    return { value: sum / n, spread: r[1] - r[0] };
  }
  /** The title of a plot, above it in the page (the plot's own top edge is left to the toolbar). */
  function setTitle(div, text) {
    var el = typeof div === 'string' ? document.getElementById(div) : div;
    var t = el.previousElementSibling;
    if (!t || t.className !== 'plot-title') {
      t = h('div', { 'class': 'plot-title' });
      el.parentNode.insertBefore(t, el);
    }
    t.textContent = text;
  }
  /** Common layout: titles live in the page, the top margin holds the toolbar only, hover names whole. */
  function layoutOf(l) {
    l.margin = Object.assign({ t: 34, r: 20, b: 60, l: 80 }, l.margin || {});
    l.hoverlabel = { namelength: -1 };
    return l;
  }
  function safeId(s) { return String(s).replace(/[^A-Za-z0-9_-]/g, '_'); }
  function byName(list, name) { for (var i = 0; i < list.length; i++) if (list[i].name === name) return list[i]; return null; }

  function decode(v) {
    if (v._d) return v._d;
    var bin = atob(v.data);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var dv = new DataView(bytes.buffer);
    var out = new Float32Array(bin.length >> 2);
    for (var j = 0; j < out.length; j++) out[j] = dv.getFloat32(4 * j, true);
    v._d = out;
    return out;
  }
  function stridesOf(shape) {
    var s = shape.map(function () { return 1; });
    for (var k = shape.length - 2; k >= 0; k--) s[k] = s[k + 1] * shape[k + 1];
    return s;
  }
  /** Values of v over the keep dims (in that order), every other dim at fixed[name] (0 if absent); NaN -> null. */
  function slice(v, keep, fixed) {
    var data = decode(v), st = stridesOf(v.shape), base = 0, k, q;
    for (k = 0; k < v.dims.length; k++) if (keep.indexOf(v.dims[k]) < 0) base += (fixed[v.dims[k]] || 0) * st[k];
    var ks = keep.map(function (d) { var i = v.dims.indexOf(d); return { n: v.shape[i], s: st[i] }; });
    var total = ks.reduce(function (a, b) { return a * b.n; }, 1);
    var out = new Array(total), cur = ks.map(function () { return 0; });
    for (var n = 0; n < total; n++) {
      var off = base;
      for (q = 0; q < ks.length; q++) off += cur[q] * ks[q].s;
      var x = data[off];
      out[n] = isFinite(x) ? x : null;
      for (q = ks.length - 1; q >= 0; q--) { cur[q]++; if (cur[q] < ks[q].n) break; cur[q] = 0; }
    }
    return out;
  }
  function monotonic(a) {
    var up = true, down = true;
    for (var i = 1; i < a.length; i++) { if (!(a[i] > a[i - 1])) up = false; if (!(a[i] < a[i - 1])) down = false; }
    return up || down;
  }
  /** Plot coordinate of a dim: zipped groups use their first member; 'values' axes are categories. */
  function axisOf(d) {
    var m = d.members && d.members[0];
    if (d.role === 'sweep' && m && monotonic(m.values)) {
      var others = d.members.filter(function (o) { return o !== m; }).map(function (o) { return o.name + ' from ' + fmt(o.values[0], 4) + ' to ' + fmt(o.values[o.values.length - 1], 4) + (unitText(o.units) ? ' ' + unitText(o.units) : ''); });
      var title = withUnits(m.name, m.units) + (others.length ? ', zipped with ' + others.join(', ') : '');
      if (m.axisKind === 'log' && m.values.every(function (x) { return x > 0; })) return { values: m.values, type: 'log', title: title };
      if (m.axisKind === 'values') return { values: m.values.map(fmt), type: 'category', title: title };
      return { values: m.values, type: 'linear', title: title };
    }
    if (!d.values || d.axisKind === 'values' || (d.role === 'sweep' && m)) return { values: d.labels, type: 'category', title: withUnits(d.name, d.values ? d.units : '') };
    var log = d.axisKind === 'log' && d.values.every(function (x) { return x > 0; });
    return { values: d.values, type: log ? 'log' : 'linear', title: d.role === 'time' ? withUnits('time', d.units || 's') : withUnits(d.name, d.units) };
  }
  function describe(d, i) {
    if (d.role === 'sweep' && d.members && d.members.length > 0) {
      return d.members.map(function (m) { return m.name + ' = ' + fmt(m.values[i]) + (unitText(m.units) ? ' ' + unitText(m.units) : ''); }).join(', ');
    }
    return d.name + ' = ' + d.labels[i] + (d.values && unitText(d.units) ? ' ' + unitText(d.units) : '');
  }
  function representative(n, k) {
    if (n <= k) return Array.from({ length: n }, function (_, i) { return i; });
    var out = [];
    for (var j = 0; j < k; j++) { var i = Math.round(j * (n - 1) / (k - 1)); if (out.indexOf(i) < 0) out.push(i); }
    return out;
  }
  function h(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var a in attrs) if (Object.prototype.hasOwnProperty.call(attrs, a)) e.setAttribute(a, attrs[a]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  /** A labelled <select>; options are [value, text] pairs. */
  function selectBox(parent, id, label, options, value, onChange) {
    var wrap = h('label', { 'class': 'ctl' });
    wrap.appendChild(h('span', {}, label));
    var sel = h('select', { id: id });
    options.forEach(function (o) {
      var opt = h('option', { value: String(o[0]) }, o[1]);
      if (String(o[0]) === String(value)) opt.selected = true;
      sel.appendChild(opt);
    });
    sel.addEventListener('change', function () { onChange(sel.value); });
    wrap.appendChild(sel);
    parent.appendChild(wrap);
    return sel;
  }
  function dimOptions(d) { return d.labels.map(function (l, i) { return [i, d.values && unitText(d.units) ? l + ' ' + unitText(d.units) : l]; }); }
  function finiteRange(values) {
    var lo = Infinity, hi = -Infinity;
    values.forEach(function (x) { if (x !== null) { if (x < lo) lo = x; if (x > hi) hi = x; } });
    return [lo, hi];
  }
  function decadeTicks(lo, hi) {
    var a = Math.floor(Math.log10(lo)), b = Math.ceil(Math.log10(hi)), vals = [], txt = [], every = Math.max(1, Math.ceil((b - a) / 8));
    for (var k = a; k <= b; k++) { if (k % every !== 0) continue; vals.push(k); txt.push(fmt(Math.pow(10, k))); }
    return { tickvals: vals, ticktext: txt };
  }

  /**
   * A heatmap trace of v over (x, y) at fixed; opt.range = [lo, hi] shares one color range
   * between panels. Log color (decades span, all positive) plots log10 and labels the bar.
   */
  function heatmap(file, v, xName, yName, fixed, opt) {
    opt = opt || {};
    var X = axisOf(byName(file.dims, xName)), Y = axisOf(byName(file.dims, yName));
    var flat = slice(v, [yName, xName], fixed), nx = X.values.length, ny = Y.values.length;
    var diff = /^diff_/.test(v.name) ? differencePlan(file, v, [yName, xName], fixed, flat) : null;
    var shown = diff ? diff.values : flat;
    var r = opt.range || finiteRange(shown), lo = r[0], hi = r[1];
    var constant = diff ? (diff.max === 0 ? { value: 0 } : null) : constantOf(flat, v.spectrum);
    var diverging = !constant && (diff !== null || (lo < 0 && hi > 0));
    var logc = !diverging && !constant && lo > 0 && hi / lo >= 100;
    var z = [], text = [];
    for (var j = 0; j < ny; j++) {
      var row = [], trow = [];
      for (var i = 0; i < nx; i++) {
        var val = shown[j * nx + i], raw = flat[j * nx + i];
        var zval = val === null || (logc && val <= 0) ? null : logc ? Math.log10(val) : diff && diff.symlog ? symlog(val, diff.symlog) : val;
        row.push(constant && zval !== null ? 0 : zval);
        trow.push(fmt(raw) + (diff && diff.relative && val !== null ? ' (relative ' + fmt(val, 3) + ')' : ''));
      }
      z.push(row);
      text.push(trow);
    }
    var cbTitle = diff ? (diff.relative ? '(model − ' + diff.ref + ') / |' + diff.ref + '|' : withUnits('model − ' + diff.ref, v.units)) : withUnits(opt.label || v.name, v.units);
    var cb = styleAxis({ title: { text: cbTitle, side: 'right' } });
    if (logc) { var t = decadeTicks(lo, hi); cb.tickvals = t.tickvals; cb.ticktext = t.ticktext; }
    var tr = {
      type: 'heatmap', x: X.values, y: Y.values, z: z, text: text,
      hovertemplate: X.title + ' = %{x}<br>' + Y.title + ' = %{y}<br>' + v.name + ' = %{text}<extra></extra>',
      colorscale: diverging ? 'RdBu' : 'Viridis', colorbar: cb, showscale: opt.showscale !== false && !constant
    };
    if (constant) { tr.colorscale = [[0, '#21918c'], [1, '#21918c']]; tr.zmin = -1; tr.zmax = 1; }
    else if (diverging) {
      var m = diff ? (diff.symlog ? symlog(diff.max, diff.symlog) : diff.max) : Math.max(Math.abs(lo), Math.abs(hi)) || 1;
      tr.zmin = -m; tr.zmax = m; tr.zmid = 0;
      if (diff && diff.symlog) { var st = symlogTicks(diff.max, diff.symlog); cb.tickvals = st.map(function (x) { return symlog(x, diff.symlog); }); cb.ticktext = st.map(function (x) { return fmt(x, 2); }); }
    }
    else if (opt.range && isFinite(lo)) { tr.zmin = logc ? Math.log10(lo) : lo; tr.zmax = logc ? Math.log10(hi) : hi; }
    return { trace: tr, X: X, Y: Y, constant: constant, diff: diff };
  }
  function symlog(x, c) { return (x < 0 ? -1 : 1) * Math.log10(1 + Math.abs(x) / c); }
  function symlogTicks(max, c) {
    var e1 = Math.floor(Math.log10(max) + 1e-12), e0 = Math.ceil(Math.log10(c) - 1e-12), every = Math.max(1, Math.ceil((e1 - e0 + 1) / 4)), pos = [];
    for (var e = e1; e >= e0; e -= every) pos.unshift(Math.pow(10, e));
    return pos.map(function (x) { return -x; }).reverse().concat([0], pos);
  }
  /**
   * As the static figures draw differences (src/plot/difference.ts): relative to the reference
   * model where it spans two decades, within-round-off differences as 0, symmetric about 0,
   * symlog where the rest spans three decades.
   */
  function differencePlan(file, v, keep, fixed, flat) {
    var base = byName(file.vars, v.name.replace(/^diff_/, '')), td = byName(file.dims, 'thermalization');
    var ref = v.reference || (td ? td.labels[0] : 'reference');
    var refIdx = td ? Math.max(0, td.labels.indexOf(ref)) : 0;
    var f = Object.assign({}, fixed); f.thermalization = refIdx;
    var refVals = base ? slice(base, keep, f) : flat.map(function () { return null; });
    var spectrum = base ? base.spectrum : 0, lo = Infinity, hi = 0, sign = 0, same = true;
    refVals.forEach(function (x) { if (x === null) return; var a = Math.abs(x); if (a === 0 || (sign !== 0 && Math.sign(x) !== sign)) same = false; if (sign === 0) sign = Math.sign(x); lo = Math.min(lo, a); hi = Math.max(hi, a); });
    var relative = same && lo > 0 && hi / lo >= 100, max = 0, minSig = Infinity;
    var values = flat.map(function (d, i) {
      var rv = refVals[i];
      if (d === null || rv === null) return null;
      if (Math.abs(d) <= P.roundoff * Math.max(Math.abs(rv), Math.abs(rv + d), spectrum)) return 0;
      var x = relative ? d / Math.abs(rv) : d;
      max = Math.max(max, Math.abs(x)); minSig = Math.min(minSig, Math.abs(x));
      return x;
    });
    var sl = max > 0 && max / minSig >= 1e3 ? Math.max(minSig, max / 1e6) : null;
    return { values: values, relative: relative, max: max, symlog: sl, ref: ref };
  }
  function heatLayout(hm, extra) {
    var l = {
      xaxis: styleAxis({ title: { text: hm.X.title }, type: hm.X.type }, hm.X.values),
      yaxis: styleAxis({ title: { text: hm.Y.title }, type: hm.Y.type }, hm.Y.values),
      height: 440
    };
    for (var k in extra || {}) l[k] = extra[k];
    return layoutOf(l);
  }
  /** Title of a heatmap with what it shows when the surface is constant or a difference. */
  function heatTitle(title, hm) {
    if (hm.diff && hm.diff.max === 0) return title + ': no difference above round-off';
    if (hm.constant) return title + ' = ' + fmt(hm.constant.value, 6) + ' everywhere (constant to round-off)';
    if (hm.diff && hm.diff.relative) return title + ' (relative)';
    return title;
  }
  /** Lines of v along dim xName, one per entry of series (a dim name or null), at fixed. */
  function lineTraces(file, v, xName, seriesName, fixed) {
    var X = axisOf(byName(file.dims, xName));
    var sd = seriesName ? byName(file.dims, seriesName) : null;
    var idx = sd ? representative(sd.length, 8) : [0];
    // categories (thermalization, initial) have no order to draw a line through
    var mode = X.type === 'category' && byName(file.dims, xName).role !== 'sweep' ? 'markers' : 'lines+markers';
    var traces = idx.map(function (s) {
      var f = Object.assign({}, fixed);
      if (sd) f[sd.name] = s;
      return { type: 'scatter', mode: mode, marker: { size: 9 }, x: X.values, y: slice(v, [xName], f), name: sd ? describe(sd, s) : v.name,
        hovertemplate: X.title + ' = %{x}<br>' + v.name + ' = %{y:.5g}<extra>%{fullData.name}</extra>' };
    });
    // constant to round-off: drawn flat at the value, on an axis around it (not over the noise)
    var all = [];
    traces.forEach(function (t) { all = all.concat(t.y); });
    var c = constantOf(all, v.spectrum), yRange = {}, note = '';
    if (c) {
      traces.forEach(function (t) { t.y = t.y.map(function (y) { return y === null ? null : c.value; }); });
      var w = Math.abs(c.value) > 0 ? 0.1 * Math.abs(c.value) : 1;
      yRange = { range: [c.value - w, c.value + w] };
      note = ' = ' + fmt(c.value, 6) + ' (constant to round-off)';
    }
    return { X: X, traces: traces, yRange: yRange, note: note };
  }

  /* ------------------------------------------------------------------ surfaces */
  var S = P.surfaces;
  var surfState = null;
  function surfaceVars() {
    return S.vars.filter(function (v) { return v.name !== 'flags' || S.vars.length === 1; });
  }
  function axisDims(v) {
    var sweep = v.dims.filter(function (d) { return byName(S.dims, d).role === 'sweep'; });
    if (sweep.length > 0) return sweep;
    return v.dims.filter(function (d) { var r = byName(S.dims, d).role; return r === 'thermalization' || r === 'initial'; });
  }
  function initSurfaces() {
    var sec = document.getElementById('surfaces');
    var vars = surfaceVars();
    if (!sec || vars.length === 0) return;
    var first = P.observables.length > 0 ? byName(vars, 'rate_' + P.observables[0].name) : null;
    surfState = { v: (first || vars[0]).name, x: null, y: null, fixed: {} };
    var ax = axisDims(byName(S.vars, surfState.v));
    var longer = ax.filter(function (d) { return byName(S.dims, d).length > 1; });
    surfState.x = longer[0] || ax[0] || null;
    surfState.y = longer[1] || null;
    buildSurfaceControls();
    drawSurface();
  }
  function buildSurfaceControls() {
    var ctl = document.getElementById('surface-controls');
    ctl.textContent = '';
    var vars = surfaceVars();
    selectBox(ctl, 'surface-var', 'quantity', vars.map(function (v) { return [v.name, v.name + ' \u2014 ' + v.title]; }), surfState.v, function (val) {
      surfState.v = val;
      var ax = axisDims(byName(S.vars, val));
      if (ax.indexOf(surfState.x) < 0) surfState.x = ax[0] || null;
      if (surfState.y !== null && ax.indexOf(surfState.y) < 0) surfState.y = ax.filter(function (d) { return d !== surfState.x; })[0] || null;
      buildSurfaceControls();
      drawSurface();
    });
    var v = byName(S.vars, surfState.v);
    var ax = axisDims(v);
    if (ax.length > 0) {
      selectBox(ctl, 'surface-x', 'x axis', ax.map(function (d) { return [d, d]; }), surfState.x, function (val) {
        if (val === surfState.y) surfState.y = surfState.x;
        surfState.x = val;
        buildSurfaceControls();
        drawSurface();
      });
    }
    if (ax.length > 1) {
      var yOpts = [['', '(none: line plot)']].concat(ax.filter(function (d) { return d !== surfState.x; }).map(function (d) { return [d, d]; }));
      selectBox(ctl, 'surface-y', 'y axis', yOpts, surfState.y || '', function (val) {
        surfState.y = val || null;
        buildSurfaceControls();
        drawSurface();
      });
    }
    v.dims.forEach(function (name) {
      if (name === surfState.x || name === surfState.y) return;
      var d = byName(S.dims, name);
      selectBox(ctl, 'surface-dim-' + safeId(name), name, dimOptions(d), surfState.fixed[name] || 0, function (val) {
        surfState.fixed[name] = Number(val);
        drawSurface();
      });
    });
  }
  function drawSurface() {
    var div = document.getElementById('surface-plot');
    var v = byName(S.vars, surfState.v);
    if (!surfState.x) { div.textContent = 'no axis to plot ' + v.name + ' against'; return; }
    if (surfState.y) {
      var hm = heatmap(S, v, surfState.x, surfState.y, surfState.fixed);
      setTitle(div, heatTitle(v.title, hm));
      Plotly.react(div, [hm.trace], heatLayout(hm), CONFIG);
    } else {
      var lt = lineTraces(S, v, surfState.x, null, surfState.fixed);
      setTitle(div, v.title + lt.note);
      Plotly.react(div, lt.traces, layoutOf({
        height: 420, xaxis: styleAxis({ title: { text: lt.X.title }, type: lt.X.type }, lt.X.values),
        yaxis: styleAxis(Object.assign({ title: { text: withUnits(v.name, v.units) } }, lt.yRange))
      }), CONFIG);
    }
    drawCompare();
  }

  /* ------------------------------------------------------------------ model comparison */
  var thermDim = byName(S.dims, 'thermalization');
  var cmpState = null;
  function initCompare() {
    var sec = document.getElementById('compare');
    if (!sec) return;
    var vars = S.vars.filter(function (v) { return v.dims.indexOf('thermalization') >= 0 && !/^diff_/.test(v.name) && v.name !== 'flags'; });
    if (!thermDim || thermDim.length < 2 || vars.length === 0) { sec.hidden = true; return; }
    var first = P.observables.length > 0 ? byName(vars, 'rate_' + P.observables[0].name) : null;
    cmpState = { v: (first || vars[0]).name };
    var ctl = document.getElementById('compare-controls');
    selectBox(ctl, 'compare-var', 'quantity', vars.map(function (v) { return [v.name, v.name]; }), cmpState.v, function (val) { cmpState.v = val; drawCompare(); });
    var grid = document.getElementById('compare-plots');
    // each plot in a cell of its own, with its title above it
    var cell = function (id) { var c = h('div', { 'class': 'cell' }); c.appendChild(h('div', { id: id })); grid.appendChild(c); };
    thermDim.labels.forEach(function (l, i) { cell('compare-model-' + i); });
    thermDim.labels.forEach(function (l, i) { if (i > 0) cell('compare-diff-' + i); });
  }
  function drawCompare() {
    if (!cmpState || !surfState) return;
    var v = byName(S.vars, cmpState.v);
    var fixed = Object.assign({}, surfState.fixed);
    var x = surfState.x, y = surfState.y;
    if (x === 'thermalization' || y === 'thermalization' || !x) return;
    var models = thermDim.labels;
    var diff = byName(S.vars, 'diff_' + v.name);
    if (!y) {
      // one sweep axis: the models as lines in one panel
      var lt = lineTraces(S, v, x, 'thermalization', fixed);
      setTitle('compare-model-0', v.title + ': models compared' + lt.note);
      Plotly.react('compare-model-0', lt.traces, layoutOf({ height: 380, xaxis: styleAxis({ title: { text: lt.X.title }, type: lt.X.type }, lt.X.values), yaxis: styleAxis(Object.assign({ title: { text: withUnits(v.name, v.units) } }, lt.yRange)) }), CONFIG);
      return;
    }
    var all = [];
    models.forEach(function (m, i) { var f = Object.assign({}, fixed); f.thermalization = i; all = all.concat(slice(v, [y, x], f)); });
    var range = finiteRange(all);
    models.forEach(function (m, i) {
      var f = Object.assign({}, fixed); f.thermalization = i;
      var hm = heatmap(S, v, x, y, f, { range: range, showscale: i === models.length - 1 });
      setTitle('compare-model-' + i, heatTitle(v.name + ': ' + m, hm));
      Plotly.react('compare-model-' + i, [hm.trace], heatLayout(hm, { height: 360 }), CONFIG);
    });
    models.forEach(function (m, i) {
      if (i === 0) return;
      var div = document.getElementById('compare-diff-' + i);
      if (!diff) { div.hidden = true; return; }
      var f = Object.assign({}, fixed); f.thermalization = i;
      var hm = heatmap(S, diff, x, y, f, {});
      setTitle(div, heatTitle(diff.name + ': ' + m + ' minus ' + (diff.reference || models[0]) + ' (reference)', hm));
      Plotly.react(div, [hm.trace], heatLayout(hm, { height: 360 }), CONFIG);
    });
  }

  /* ------------------------------------------------------------------ trajectories */
  function initTrajectories() {
    var T = P.trajectories, sec = document.getElementById('trajectories');
    if (!T || !sec) return;
    var time = T.dims.filter(function (d) { return d.role === 'time'; })[0];
    var vars = T.vars.filter(function (v) { return /^traj_/.test(v.name); });
    if (!time || vars.length === 0) { sec.hidden = true; return; }
    var dims = T.dims.filter(function (d) { return d.role !== 'time'; });
    var alongDefault = (dims.filter(function (d) { return d.role === 'sweep' && d.length > 1; })[0] || dims.filter(function (d) { return d.length > 1; })[0] || { name: '' }).name;
    var st = { v: vars[0].name, along: alongDefault, fixed: {} };
    var ctl = document.getElementById('traj-controls');
    function build() {
      ctl.textContent = '';
      selectBox(ctl, 'traj-obs', 'observable', vars.map(function (v) { return [v.name, v.name]; }), st.v, function (val) { st.v = val; draw(); });
      selectBox(ctl, 'traj-along', 'lines along', [['', '(single line)']].concat(dims.filter(function (d) { return d.length > 1; }).map(function (d) { return [d.name, d.name]; })), st.along, function (val) { st.along = val; build(); draw(); });
      dims.forEach(function (d) {
        if (d.name === st.along) return;
        selectBox(ctl, 'traj-dim-' + safeId(d.name), d.name, dimOptions(d), st.fixed[d.name] || 0, function (val) { st.fixed[d.name] = Number(val); draw(); });
      });
    }
    function draw() {
      var v = byName(T.vars, st.v);
      var lt = lineTraces(T, v, time.name, st.along || null, st.fixed);
      lt.traces.forEach(function (t) { t.mode = 'lines'; });
      setTitle('traj-plot', '\u27e8' + v.name.replace(/^traj_/, '') + '\u27e9(t)' + lt.note);
      Plotly.react('traj-plot', lt.traces, layoutOf({
        height: 420, xaxis: styleAxis({ title: { text: lt.X.title }, type: lt.X.type }, lt.X.values),
        yaxis: styleAxis(Object.assign({ title: { text: withUnits('\u27e8' + v.name.replace(/^traj_/, '') + '\u27e9', v.units) } }, lt.yRange))
      }), CONFIG);
    }
    build();
    draw();
  }

  /* ------------------------------------------------------------------ contributions */
  function muLabel(mu) { return mu > 0 ? '+' + mu : String(mu); }
  function initContributions() {
    var C = P.contributions, sec = document.getElementById('contributions');
    if (!C || !sec) return;
    var time = C.dims.filter(function (d) { return d.role === 'time'; })[0];
    var vars = C.vars.filter(function (v) { return /^dOdt_/.test(v.name); });
    if (!time || vars.length === 0) { sec.hidden = true; return; }
    var terms = C.terms;
    var mechs = [];
    terms.forEach(function (t) { if (mechs.indexOf(t.mechanism) < 0) mechs.push(t.mechanism); });
    var mus = [];
    terms.forEach(function (t) { if (mus.indexOf(t.mu) < 0) mus.push(t.mu); });
    mus.sort(function (a, b) { return b - a; });
    var init = C.dims.filter(function (d) { return d.role === 'initial'; })[0] || null;
    var others = C.dims.filter(function (d) { return d.role !== 'time' && d.role !== 'term' && d.role !== 'part' && d.role !== 'initial'; });
    var partDim = C.dims.filter(function (d) { return d.role === 'part'; })[0];
    var parts = partDim ? partDim.labels : [];
    var st = { v: vars[0].name, fixed: {} };
    var ctl = document.getElementById('contrib-controls');
    selectBox(ctl, 'contrib-obs', 'observable', vars.map(function (v) { return [v.name, v.name.replace(/^dOdt_/, '')]; }), st.v, function (val) { st.v = val; draw(); });
    others.forEach(function (d) {
      selectBox(ctl, 'contrib-dim-' + safeId(d.name), d.name, dimOptions(d), 0, function (val) { st.fixed[d.name] = Number(val); draw(); });
    });
    function draw() {
      var v = byName(C.vars, st.v), obs = v.name.replace(/^dOdt_/, '');
      var rows = init ? init.length : 1, cols = mechs.length, traces = [], layout = {
        grid: { rows: rows, columns: cols, pattern: 'independent', roworder: 'top to bottom' },
        height: 300 * rows + 90, margin: { t: 70, r: 20, b: 50, l: 80 }, annotations: []
      };
      setTitle('contrib-plot', 'Contributions to d\u27e8' + obs + '\u27e9/dt: double commutator (red), thermal (blue), one line per \u03bc');
      var initAttr = typeof P.attrs.initial === 'string' ? P.attrs.initial : '';
      for (var r = 0; r < rows; r++) {
        for (var c = 0; c < cols; c++) {
          var k = r * cols + c + 1, sfx = k === 1 ? '' : String(k);
          terms.forEach(function (t, ti) {
            if (t.mechanism !== mechs[c]) return;
            parts.forEach(function (part, q) {
              var f = Object.assign({}, st.fixed);
              f.term = ti;
              f[partDim.name] = q;
              if (init) f[init.name] = r;
              traces.push({
                type: 'scatter', mode: 'lines', x: time.values, y: slice(v, [time.name], f), xaxis: 'x' + sfx, yaxis: 'y' + sfx,
                name: part + ' \u03bc=' + muLabel(t.mu), legendgroup: part + t.mu, showlegend: k === 1,
                line: { color: part === 'dc' ? DC : THERMAL, dash: DASHES[mus.indexOf(t.mu) % DASHES.length], width: 1.6 },
                hovertemplate: t.label + ' ' + part + '<br>t = %{x} s<br>%{y:.4e}<extra></extra>'
              });
            });
          });
          layout['xaxis' + sfx] = styleAxis({ title: { text: withUnits('time', time.units || 's') } });
          layout['yaxis' + sfx] = styleAxis({ title: { text: withUnits('d\u27e8' + obs + '\u27e9/dt', v.units) } });
          var from = init ? init.labels[r] : initAttr;
          layout.annotations.push({ text: '(' + String.fromCharCode(97 + k - 1) + ') ' + mechs[c] + (from ? ', from ' + from : ''),
            xref: 'x' + sfx + ' domain', yref: 'y' + sfx + ' domain', x: 0, y: 1.12, xanchor: 'left', showarrow: false });
        }
      }
      Plotly.react('contrib-plot', traces, layoutOf(layout), CONFIG);
    }
    draw();
  }

  var failures = [];
  [initSurfaces, initCompare, initTrajectories, initContributions].forEach(function (f) {
    try { f(); } catch (e) { failures.push(e); }
  });
  if (surfState) drawCompare();
  if (failures.length > 0) throw failures[0];
})();
`;
