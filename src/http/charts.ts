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
