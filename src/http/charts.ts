/**
 * Charts drawn on the server as SVG markup: no script, and no inline style (the CSP allows neither),
 * so colours, dashes and markers are SVG presentation attributes and the size comes from the
 * stylesheet's `.chart-svg`. Pure: options in, a string out. Every chart is meant to sit beside a
 * table with the same numbers; the SVG itself is one labelled image (`role="img"`, `<title>`, `<desc>`).
 */

/** Okabe–Ito: told apart with the common colour-vision deficiencies. Black is kept for the emphasised series; yellow comes last (low contrast on white). */
export const OKABE_ITO = ['#E69F00', '#56B4E9', '#009E73', '#0072B2', '#D55E00', '#CC79A7', '#F0E442'] as const;
export const EMPHASIS_COLOUR = '#000000';
/** a second cue besides colour: each series also has its own dash pattern and marker */
export const DASHES = [null, '8 4', '2 3', '10 3 2 3', '4 4', '1 3', '12 4 4 4'] as const;
export const MARKERS = ['circle', 'square', 'triangle', 'diamond', 'triangle-down', 'cross', 'plus'] as const;
export type Marker = (typeof MARKERS)[number];

export interface LineSeries {
  name: string;
  /** one value per category, in y-axis units; null: nothing there (the line breaks) */
  values: (number | null)[];
  /** optional words for each point's tooltip, e.g. "n = 12" */
  notes?: (string | null | undefined)[];
  /** the series to read first (e.g. "overall"): black, solid and thicker */
  emphasis?: boolean;
}

export interface LineChartOptions {
  /** unique on the page: the `<title>` and `<desc>` ids derive from it */
  id: string;
  title: string;
  description?: string;
  /** the x axis: evenly spaced categories, in order */
  categories: string[];
  series: LineSeries[];
  xLabel: string;
  yLabel: string;
  /** the y range (default 0–100) and its labelled ticks (default every 25) */
  yMin?: number;
  yMax?: number;
  yTicks?: number[];
  formatY?: (v: number) => string;
  /** the drawing's size in px (the stylesheet scales it down to fit) */
  width?: number;
  plotHeight?: number;
}

export interface SeriesStyle {
  colour: string;
  dash: string | null;
  marker: Marker;
  width: number;
}

/** How series i looks: emphasised ones black and solid; the others walk the palette, dashes and markers. */
export function seriesStyles(series: Pick<LineSeries, 'emphasis'>[]): SeriesStyle[] {
  let plain = 0;
  return series.map((s, i) => {
    if (s.emphasis) return { colour: EMPHASIS_COLOUR, dash: null, marker: MARKERS[i % MARKERS.length]!, width: 3 };
    const j = plain++;
    return { colour: OKABE_ITO[j % OKABE_ITO.length]!, dash: DASHES[(j + 1) % DASHES.length]!, marker: MARKERS[i % MARKERS.length]!, width: 2 };
  });
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

const r1 = (n: number) => String(Math.round(n * 10) / 10);

/** A marker shape centred on (x, y). */
export function markerSvg(shape: Marker, x: number, y: number, colour: string, size = 4.5): string {
  const s = size;
  const filled = (el: string) => `${el} fill="${colour}" stroke="#ffffff" stroke-width="1"/>`;
  const poly = (pts: [number, number][]) => filled(`<polygon points="${pts.map(([px, py]) => `${r1(px)},${r1(py)}`).join(' ')}"`);
  switch (shape) {
    case 'circle':
      return filled(`<circle cx="${r1(x)}" cy="${r1(y)}" r="${r1(s)}"`);
    case 'square':
      return filled(`<rect x="${r1(x - s)}" y="${r1(y - s)}" width="${r1(2 * s)}" height="${r1(2 * s)}"`);
    case 'triangle':
      return poly([[x, y - s * 1.2], [x + s * 1.15, y + s * 0.9], [x - s * 1.15, y + s * 0.9]]);
    case 'triangle-down':
      return poly([[x, y + s * 1.2], [x + s * 1.15, y - s * 0.9], [x - s * 1.15, y - s * 0.9]]);
    case 'diamond':
      return poly([[x, y - s * 1.3], [x + s * 1.3, y], [x, y + s * 1.3], [x - s * 1.3, y]]);
    case 'cross':
      return `<path d="M${r1(x - s)},${r1(y - s)}L${r1(x + s)},${r1(y + s)}M${r1(x - s)},${r1(y + s)}L${r1(x + s)},${r1(y - s)}" fill="none" stroke="${colour}" stroke-width="2.5"/>`;
    case 'plus':
      return `<path d="M${r1(x - s * 1.2)},${r1(y)}L${r1(x + s * 1.2)},${r1(y)}M${r1(x)},${r1(y - s * 1.2)}L${r1(x)},${r1(y + s * 1.2)}" fill="none" stroke="${colour}" stroke-width="2.5"/>`;
  }
}

/** A series' line and marker as a small decorative SVG, to key a table row to its line in the chart. */
export function swatchSvg(style: SeriesStyle): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart-swatch" viewBox="0 0 32 12" width="32" height="12" aria-hidden="true" focusable="false"><line x1="1" y1="6" x2="31" y2="6" stroke="${style.colour}" stroke-width="${style.width}"${style.dash ? ` stroke-dasharray="${style.dash}"` : ''}/>${markerSvg(style.marker, 16, 6, style.colour, 4)}</svg>`;
}

/** Runs of consecutive non-null values, as [index, value] pairs: each run is one polyline. */
export function segments(values: (number | null)[]): [number, number][][] {
  const out: [number, number][][] = [];
  let run: [number, number][] = [];
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) {
      if (run.length) out.push(run);
      run = [];
    } else run.push([i, v]);
  });
  if (run.length) out.push(run);
  return out;
}

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"';
const INK = '#344054';
const GRID = '#d0d5dd';

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * A line chart over categories: one line per series, each with its colour, dash pattern and marker,
 * a legend under the plot, labelled axes and tick labels. Values outside the y range are drawn at its
 * edge. Returns SVG markup with every text escaped.
 */
export function lineChart(o: LineChartOptions): string {
  const yMin = o.yMin ?? 0;
  const yMax = o.yMax ?? 100;
  const ticks = o.yTicks ?? [0, 25, 50, 75, 100];
  const fmt = o.formatY ?? ((v: number) => `${v}%`);
  const width = o.width ?? 640;
  const plotHeight = o.plotHeight ?? 260;
  const left = 64;
  const right = 16;
  const top = 14;
  const plotWidth = width - left - right;
  const axisBottom = top + plotHeight;
  const legendTop = axisBottom + 58;
  const legendColumn = 200;
  const columns = Math.max(1, Math.floor(plotWidth / legendColumn));
  const legendRows = Math.ceil(o.series.length / columns);
  const height = legendTop + legendRows * 20 + 6;
  const n = Math.max(1, o.categories.length);
  const xOf = (i: number) => left + ((i + 0.5) * plotWidth) / n;
  const yOf = (v: number) => axisBottom - (plotHeight * (Math.min(yMax, Math.max(yMin, v)) - yMin)) / (yMax - yMin || 1);
  const styles = seriesStyles(o.series);
  const titleId = `${o.id}-title`;
  const descId = `${o.id}-desc`;
  const out: string[] = [];

  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" id="${escapeXml(o.id)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(o.title)}"${o.description ? ` aria-describedby="${escapeXml(descId)}"` : ''}>`,
  );
  out.push(`<title id="${escapeXml(titleId)}">${escapeXml(o.title)}</title>`);
  if (o.description) out.push(`<desc id="${escapeXml(descId)}">${escapeXml(o.description)}</desc>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);

  // grid and y ticks
  out.push(`<g ${FONT} font-size="13" fill="${INK}">`);
  for (const t of ticks) {
    const y = r1(yOf(t));
    out.push(`<line x1="${left}" y1="${y}" x2="${width - right}" y2="${y}" stroke="${GRID}" stroke-width="1"/>`);
    out.push(`<text x="${left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(fmt(t))}</text>`);
  }
  // x ticks
  o.categories.forEach((c, i) => {
    const x = r1(xOf(i));
    out.push(`<line x1="${x}" y1="${axisBottom}" x2="${x}" y2="${axisBottom + 5}" stroke="${INK}" stroke-width="1"/>`);
    out.push(`<text x="${x}" y="${axisBottom + 18}" text-anchor="middle">${escapeXml(c)}</text>`);
  });
  // axes and their labels
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${axisBottom}" stroke="${INK}" stroke-width="1"/>`);
  out.push(`<line x1="${left}" y1="${axisBottom}" x2="${width - right}" y2="${axisBottom}" stroke="${INK}" stroke-width="1"/>`);
  out.push(`<text x="${r1(left + plotWidth / 2)}" y="${axisBottom + 40}" text-anchor="middle" font-weight="600">${escapeXml(o.xLabel)}</text>`);
  out.push(`<text x="${-r1(top + plotHeight / 2)}" y="16" transform="rotate(-90)" text-anchor="middle" font-weight="600">${escapeXml(o.yLabel)}</text>`);
  out.push('</g>');

  // the lines: emphasised series last, so they are drawn on top
  const order = o.series.map((s, i) => i).sort((a, b) => Number(!!o.series[a]!.emphasis) - Number(!!o.series[b]!.emphasis));
  for (const i of order) {
    const s = o.series[i]!;
    const st = styles[i]!;
    out.push(`<g class="chart-series">`);
    for (const run of segments(s.values)) {
      if (run.length < 2) continue;
      out.push(
        `<polyline points="${run.map(([k, v]) => `${r1(xOf(k))},${r1(yOf(v))}`).join(' ')}" fill="none" stroke="${st.colour}" stroke-width="${st.width}"${st.dash ? ` stroke-dasharray="${st.dash}"` : ''} stroke-linejoin="round" stroke-linecap="round"/>`,
      );
    }
    s.values.forEach((v, k) => {
      if (v === null || !Number.isFinite(v)) return;
      const note = s.notes?.[k];
      out.push(`<g><title>${escapeXml(`${s.name} — ${o.categories[k] ?? ''}: ${fmt(Math.round(v))}${note ? ` (${note})` : ''}`)}</title>${markerSvg(st.marker, xOf(k), yOf(v), st.colour)}</g>`);
    });
    out.push('</g>');
  }

  // legend
  out.push(`<g ${FONT} font-size="13" fill="${INK}">`);
  o.series.forEach((s, i) => {
    const st = styles[i]!;
    const x = left + (i % columns) * legendColumn;
    const y = legendTop + Math.floor(i / columns) * 20;
    out.push(
      `<g><title>${escapeXml(s.name)}</title><line x1="${x}" y1="${y}" x2="${x + 30}" y2="${y}" stroke="${st.colour}" stroke-width="${st.width}"${st.dash ? ` stroke-dasharray="${st.dash}"` : ''}/>${markerSvg(st.marker, x + 15, y, st.colour)}<text x="${x + 38}" y="${y}" dominant-baseline="middle"${s.emphasis ? ' font-weight="600"' : ''}>${escapeXml(truncate(s.name, 26))}</text></g>`,
    );
  });
  out.push('</g>');
  out.push('</svg>');
  return out.join('');
}

// ---- horizontal bar charts ---------------------------------------------------------------------------

/** A second cue besides colour for bars: series 0 solid, the next ones hatched or dotted (it survives black-and-white print). */
export const BAR_PATTERNS = [null, 'diagonal', 'dots', 'crosshatch', 'horizontal', 'backslash', 'vertical'] as const;
export type BarPattern = (typeof BAR_PATTERNS)[number];

export interface BarSeries {
  name: string;
  /** one value per category; null: nothing there (no bar) */
  values: (number | null)[];
  /** optional words for each bar's tooltip, e.g. "3 of 5 reps" */
  notes?: (string | null | undefined)[];
  /** an Okabe–Ito colour that means something here (e.g. vermillion for "behind"); default: the palette in order */
  colour?: string;
}

export interface BarChartOptions {
  /** unique on the page: the `<title>`, `<desc>` and pattern ids derive from it */
  id: string;
  title: string;
  description?: string;
  /** one row per category, top to bottom (the labels on the left) */
  categories: string[];
  series: BarSeries[];
  /** the series of a category side by side (default) or end to end (parts of a whole) */
  stacked?: boolean;
  /** a reference value per category (e.g. a target), drawn as a black tick across its bars */
  reference?: { name: string; values: (number | null)[] };
  /** the value axis (along the bars) and the category axis */
  xLabel: string;
  yLabel: string;
  /** the value axis runs from 0 to max (default: a round number above the largest bar or reference) */
  max?: number;
  format?: (v: number) => string;
  width?: number;
}

/** A round axis maximum and its ticks (1, 2 or 5 times a power of ten apart, about five of them). */
export function niceScale(largest: number, integer = true): { max: number; ticks: number[] } {
  const top = Math.max(largest, integer ? 1 : Number.EPSILON);
  const rough = top / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = Math.max(integer ? 1 : 0, [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough)!);
  const max = Math.ceil(top / step) * step;
  const ticks: number[] = [];
  for (let t = 0; t <= max + step / 2; t += step) ticks.push(Math.round(t * 1e6) / 1e6);
  return { max, ticks };
}

/** The pattern's tile as SVG (dark strokes at partial opacity, so the colour under it still shows). */
function patternSvg(id: string, pattern: Exclude<BarPattern, null>): string {
  const line = (x1: number, y1: number, x2: number, y2: number) => `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="#000000" stroke-opacity="0.45" stroke-width="1.5"/>`;
  const tile = (body: string) => `<pattern id="${escapeXml(id)}" width="8" height="8" patternUnits="userSpaceOnUse">${body}</pattern>`;
  switch (pattern) {
    case 'diagonal':
      return tile(`${line(0, 8, 8, 0)}${line(-2, 2, 2, -2)}${line(6, 10, 10, 6)}`);
    case 'backslash':
      return tile(`${line(0, 0, 8, 8)}${line(-2, 6, 2, 10)}${line(6, -2, 10, 2)}`);
    case 'dots':
      return tile('<circle cx="4" cy="4" r="1.6" fill="#000000" fill-opacity="0.5"/>');
    case 'crosshatch':
      return tile(`${line(0, 8, 8, 0)}${line(0, 0, 8, 8)}`);
    case 'horizontal':
      return tile(line(0, 4, 8, 4));
    case 'vertical':
      return tile(line(4, 0, 4, 8));
  }
}

/**
 * A horizontal bar chart: one row per category with its label on the left, the series side by side
 * (or stacked), each in an Okabe–Ito colour with its own pattern, the value written at the end of
 * each bar, an optional reference tick per category (a target), labelled axes and a legend. Values
 * below 0 are drawn as 0 and above the axis as reaching its end. Returns SVG markup with every text
 * escaped and no style attribute.
 */
export function barChart(o: BarChartOptions): string {
  const fmt = o.format ?? ((v: number) => String(Math.round(v * 10) / 10));
  const width = o.width ?? 640;
  const n = o.categories.length;
  const k = Math.max(1, o.series.length);
  const valueAt = (s: BarSeries, i: number) => {
    const v = s.values[i];
    return v === null || v === undefined || !Number.isFinite(v) ? null : v;
  };
  const totals = o.categories.map((_, i) => o.series.reduce((sum, s) => sum + Math.max(0, valueAt(s, i) ?? 0), 0));
  const largest = Math.max(
    0,
    ...(o.stacked ? totals : o.series.flatMap((s) => o.categories.map((_, i) => valueAt(s, i) ?? 0))),
    ...(o.reference?.values.map((v) => v ?? 0) ?? []),
  );
  const scale = o.max !== undefined ? niceScale(o.max) : niceScale(largest);
  const max = o.max ?? scale.max;
  const ticks = scale.ticks.filter((t) => t <= max);

  const labelWidth = 190;
  const left = 40 + labelWidth;
  const right = 56; // room for the value written after the longest bar
  const plotWidth = width - left - right;
  const bar = o.stacked ? 20 : k > 2 ? 13 : 16;
  const band = (o.stacked ? bar : k * bar) + 14;
  // a chart of one or two rows is still tall enough for the sideways y-axis label
  const pad = Math.max(0, (o.yLabel.length * 7 + 24 - Math.max(1, n) * band) / 2);
  const outerTop = 10;
  const top = outerTop + pad;
  const plotHeight = Math.max(1, n) * band + 2 * pad;
  const axisBottom = outerTop + plotHeight;
  const legendTop = axisBottom + 62;
  const legendColumn = 190;
  const columns = Math.max(1, Math.floor((width - 40) / legendColumn));
  const legendItems = o.series.length + (o.reference ? 1 : 0);
  const height = legendTop + Math.ceil(legendItems / columns) * 20 + 6;
  const xOf = (v: number) => left + (plotWidth * Math.min(max, Math.max(0, v))) / (max || 1);
  const colours = o.series.map((s, i) => s.colour ?? OKABE_ITO[i % OKABE_ITO.length]!);
  const patterns = o.series.map((_, i) => BAR_PATTERNS[i % BAR_PATTERNS.length]!);
  const patternId = (i: number) => `${o.id}-pattern-${i}`;
  const titleId = `${o.id}-title`;
  const descId = `${o.id}-desc`;
  const out: string[] = [];

  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" id="${escapeXml(o.id)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(o.title)}"${o.description ? ` aria-describedby="${escapeXml(descId)}"` : ''}>`,
  );
  out.push(`<title id="${escapeXml(titleId)}">${escapeXml(o.title)}</title>`);
  if (o.description) out.push(`<desc id="${escapeXml(descId)}">${escapeXml(o.description)}</desc>`);
  const defs = patterns.map((p, i) => (p ? patternSvg(patternId(i), p) : '')).join('');
  if (defs) out.push(`<defs>${defs}</defs>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);

  // value grid and ticks, category labels, axes and their labels
  out.push(`<g ${FONT} font-size="13" fill="${INK}">`);
  for (const t of ticks) {
    const x = r1(xOf(t));
    out.push(`<line x1="${x}" y1="${outerTop}" x2="${x}" y2="${axisBottom}" stroke="${GRID}" stroke-width="1"/>`);
    out.push(`<text x="${x}" y="${axisBottom + 18}" text-anchor="middle">${escapeXml(fmt(t))}</text>`);
  }
  o.categories.forEach((c, i) => {
    const y = top + i * band + band / 2;
    out.push(`<text x="${left - 8}" y="${r1(y)}" text-anchor="end" dominant-baseline="middle"><title>${escapeXml(c)}</title>${escapeXml(truncate(c, 28))}</text>`);
  });
  out.push(`<line x1="${left}" y1="${outerTop}" x2="${left}" y2="${axisBottom}" stroke="${INK}" stroke-width="1"/>`);
  out.push(`<line x1="${left}" y1="${axisBottom}" x2="${left + plotWidth}" y2="${axisBottom}" stroke="${INK}" stroke-width="1"/>`);
  out.push(`<text x="${r1(left + plotWidth / 2)}" y="${axisBottom + 40}" text-anchor="middle" font-weight="600">${escapeXml(o.xLabel)}</text>`);
  out.push(`<text x="${-r1(outerTop + plotHeight / 2)}" y="16" transform="rotate(-90)" text-anchor="middle" font-weight="600">${escapeXml(o.yLabel)}</text>`);
  out.push('</g>');

  // the bars: one group per series, each bar with its tooltip; then the reference ticks over them, then
  // the values (with a white halo, so a value stays readable where a tick crosses it)
  const rect = (i: number, x: number, y: number, w: number, h: number) =>
    `<rect x="${r1(x)}" y="${r1(y)}" width="${r1(w)}" height="${r1(h)}" fill="${colours[i]}" stroke="#1f2933" stroke-width="0.75"/>` +
    (patterns[i] ? `<rect x="${r1(x)}" y="${r1(y)}" width="${r1(w)}" height="${r1(h)}" fill="url(#${escapeXml(patternId(i))})"/>` : '');
  const halo = 'stroke="#ffffff" stroke-width="3" paint-order="stroke"';
  const labels: string[] = [];
  const offsets = o.categories.map(() => 0);
  o.series.forEach((s, si) => {
    out.push(`<g class="chart-series">`);
    o.categories.forEach((c, ci) => {
      const v = valueAt(s, ci);
      if (v === null) return;
      const note = s.notes?.[ci];
      const tooltip = `<title>${escapeXml(`${s.name} — ${c}: ${fmt(v)}${note ? ` (${note})` : ''}`)}</title>`;
      const bandTop = top + ci * band + 7;
      if (o.stacked) {
        const x0 = xOf(offsets[ci]!);
        offsets[ci]! += Math.max(0, v);
        const w = xOf(offsets[ci]!) - x0;
        if (w <= 0) return;
        out.push(`<g>${tooltip}${rect(si, x0, bandTop, w, bar)}</g>`);
        if (w >= 9 * fmt(v).length + 6) labels.push(`<text x="${r1(x0 + w / 2)}" y="${r1(bandTop + bar / 2)}" text-anchor="middle" dominant-baseline="middle" fill="#000000" ${halo}>${escapeXml(fmt(v))}</text>`);
      } else {
        const y = bandTop + si * bar;
        const w = Math.max(0, xOf(v) - left);
        out.push(`<g>${tooltip}${w > 0 ? rect(si, left, y, w, bar - 2) : `<rect x="${left}" y="${r1(y)}" width="1" height="${bar - 2}" fill="${colours[si]}"/>`}</g>`);
        labels.push(`<text x="${r1(left + w + 4)}" y="${r1(y + (bar - 2) / 2)}" dominant-baseline="middle" fill="${INK}" ${halo}>${escapeXml(fmt(v))}</text>`);
      }
    });
    out.push('</g>');
  });
  o.categories.forEach((_, ci) => {
    if (o.series.every((s) => valueAt(s, ci) === null)) labels.push(`<text x="${left + 6}" y="${r1(top + ci * band + band / 2)}" dominant-baseline="middle" fill="${INK}" font-style="italic">no data</text>`);
  });
  if (o.stacked) totals.forEach((t, ci) => labels.push(`<text x="${r1(xOf(t) + 4)}" y="${r1(top + ci * band + 7 + bar / 2)}" dominant-baseline="middle" font-weight="600" fill="${INK}" ${halo}>${escapeXml(fmt(t))}</text>`));
  if (o.reference) {
    const ref = o.reference;
    out.push(`<g class="chart-reference">`);
    o.categories.forEach((c, ci) => {
      const v = ref.values[ci];
      if (v === null || v === undefined || !Number.isFinite(v)) return;
      const x = r1(xOf(v));
      out.push(`<g><title>${escapeXml(`${ref.name} — ${c}: ${fmt(v)}`)}</title><line x1="${x}" y1="${r1(top + ci * band + 3)}" x2="${x}" y2="${r1(top + (ci + 1) * band - 3)}" stroke="#000000" stroke-width="3" stroke-dasharray="5 2"/></g>`);
    });
    out.push('</g>');
  }
  out.push(`<g class="chart-values" ${FONT} font-size="12">${labels.join('')}</g>`);

  // legend
  out.push(`<g ${FONT} font-size="13" fill="${INK}">`);
  o.series.forEach((s, i) => {
    const x = 40 + (i % columns) * legendColumn;
    const y = legendTop + Math.floor(i / columns) * 20;
    out.push(`<g><title>${escapeXml(s.name)}</title>${rect(i, x, y - 7, 26, 14)}<text x="${x + 34}" y="${y}" dominant-baseline="middle">${escapeXml(truncate(s.name, 22))}</text></g>`);
  });
  if (o.reference) {
    const i = o.series.length;
    const x = 40 + (i % columns) * legendColumn;
    const y = legendTop + Math.floor(i / columns) * 20;
    out.push(`<g><title>${escapeXml(o.reference.name)}</title><line x1="${x + 13}" y1="${y - 8}" x2="${x + 13}" y2="${y + 8}" stroke="#000000" stroke-width="3" stroke-dasharray="5 2"/><text x="${x + 34}" y="${y}" dominant-baseline="middle">${escapeXml(truncate(o.reference.name, 22))}</text></g>`);
  }
  out.push('</g>');
  out.push('</svg>');
  return out.join('');
}
