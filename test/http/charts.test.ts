import { describe, expect, it } from 'vitest';
import { DASHES, escapeXml, lineChart, MARKERS, markerSvg, OKABE_ITO, segments, seriesStyles, swatchSvg } from '../../src/http/charts.js';

const base = {
  id: 'c1',
  title: 'Recall by days',
  description: 'Overall: 0–1 days 100%.',
  categories: ['0–1', '2–3', '4–7'],
  xLabel: 'Days since learning',
  yLabel: 'Recall %',
};

describe('series styles', () => {
  it('give the emphasised series black and solid, the others Okabe–Ito colours, their own dashes and markers', () => {
    const styles = seriesStyles([{ emphasis: true }, {}, {}, {}]);
    expect(styles[0]).toEqual({ colour: '#000000', dash: null, marker: 'circle', width: 3 });
    expect(styles.slice(1).map((s) => s.colour)).toEqual([OKABE_ITO[0], OKABE_ITO[1], OKABE_ITO[2]]);
    expect(new Set(styles.map((s) => s.marker)).size).toBe(4);
    expect(new Set(styles.map((s) => s.dash)).size).toBe(4);
  });

  it('differ in colour, dash or marker for as many series as there are markers', () => {
    const styles = seriesStyles(Array.from({ length: MARKERS.length + 1 }, (_, i) => ({ emphasis: i === 0 })));
    const keys = styles.map((s) => `${s.colour}|${s.dash}|${s.marker}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(DASHES[0]).toBeNull();
  });
});

describe('segments', () => {
  it('break the line where a value is missing', () => {
    expect(segments([1, 2, null, 4, null, null, 7, 8])).toEqual([
      [[0, 1], [1, 2]],
      [[3, 4]],
      [[6, 7], [7, 8]],
    ]);
    expect(segments([null, null])).toEqual([]);
  });
});

describe('line chart', () => {
  const svg = lineChart({
    ...base,
    series: [
      { name: 'Overall', emphasis: true, values: [100, 50, 0], notes: ['2 of 2', '1 of 2', '0 of 1'] },
      { name: 'Module <A> & "B"', values: [80, null, 40] },
    ],
  });

  it('is an accessible image: role, label, title and description', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('role="img"');
    expect(svg).toContain('aria-label="Recall by days"');
    expect(svg).toContain('aria-describedby="c1-desc"');
    expect(svg).toContain('<title id="c1-title">Recall by days</title>');
    expect(svg).toContain('<desc id="c1-desc">Overall: 0–1 days 100%.</desc>');
  });

  it('labels both axes and their ticks, y from 0% to 100%', () => {
    expect(svg).toContain('>Days since learning</text>');
    expect(svg).toContain('>Recall %</text>');
    for (const t of ['0%', '25%', '50%', '75%', '100%']) expect(svg).toContain(`>${t}</text>`);
    for (const c of base.categories) expect(svg).toContain(`>${c}</text>`);
  });

  it('draws each series with presentation attributes only: never a style attribute or element', () => {
    expect(svg).not.toMatch(/style=/);
    expect(svg).not.toMatch(/<style/);
    expect(svg).not.toMatch(/<script/);
    expect(svg).toContain('stroke="#000000" stroke-width="3"');
    expect(svg).toContain(`stroke="${OKABE_ITO[0]}" stroke-width="2" stroke-dasharray="${DASHES[1]}"`);
  });

  it('places points on the scale: 100% at the top of the plot, 0% at its bottom, categories evenly spaced', () => {
    // width 640, plot from x 64 to 624 (560 wide, 3 categories: 93.3, 280, 466.7 from its left); y from 14 (100%) to 274 (0%)
    expect(svg).toContain('<polyline points="157.3,14 344,144 530.7,274"');
  });

  it('breaks a line at a missing value but still marks the points around it', () => {
    // the emphasised series is drawn last (on top): the module's group comes first
    const groups = svg.split('<g class="chart-series">').slice(1);
    expect(groups[0]).toContain('Module &lt;A&gt;');
    expect(groups[0]).not.toContain('<polyline'); // 80, gap, 40: no two neighbours to join
    expect(groups[0]!.slice(0, groups[0]!.indexOf('</g></g>') + 8).match(/<g><title>/g)).toHaveLength(2);
    expect(groups[1]).toContain('Overall — 0–1');
  });

  it('gives every point a tooltip with its value and note, and a legend entry per series', () => {
    expect(svg).toContain('<title>Overall — 2–3: 50% (1 of 2)</title>');
    expect(svg).toContain('<title>Module &lt;A&gt; &amp; &quot;B&quot; — 4–7: 40%</title>');
    expect(svg).toContain('font-weight="600">Overall</text>');
  });

  it('escapes every text it is given', () => {
    expect(svg).not.toContain('<A>');
    expect(escapeXml(`<a href="x">&'`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;');
    const evil = lineChart({ ...base, title: '</title><script>x</script>', series: [{ name: '<b>', values: [1, 2, 3] }] });
    expect(evil).not.toContain('<script>');
    expect(evil).not.toContain('<b>');
  });

  it('clamps values outside the y range to its edges and takes another range and format', () => {
    const clamped = lineChart({ ...base, categories: ['a', 'b'], series: [{ name: 's', values: [150, -20] }] });
    expect(clamped).toContain('<polyline points="204,14 484,274"');
    const counts = lineChart({ ...base, yMax: 10, yTicks: [0, 5, 10], formatY: (v) => String(v), series: [{ name: 's', values: [5, 5, 5] }] });
    expect(counts).toContain('>10</text>');
    expect(counts).toContain('157.3,144');
  });

  it('grows the legend a row per few series', () => {
    const one = lineChart({ ...base, series: [{ name: 'a', values: [1, 2, 3] }] });
    const many = lineChart({ ...base, series: Array.from({ length: 8 }, (_, i) => ({ name: `s${i}`, values: [1, 2, 3] })) });
    const height = (s: string) => Number(/height="(\d+)"/.exec(s)![1]);
    expect(height(many)).toBeGreaterThan(height(one));
  });
});

describe('markers and swatches', () => {
  it('draws each marker shape', () => {
    for (const m of MARKERS) expect(markerSvg(m, 10, 10, '#E69F00')).toMatch(/^<(circle|rect|polygon|path) /);
  });

  it('a swatch is decorative: hidden from assistive technology', () => {
    const s = swatchSvg(seriesStyles([{ emphasis: true }])[0]!);
    expect(s).toContain('aria-hidden="true"');
    expect(s).not.toMatch(/style=/);
  });
});
