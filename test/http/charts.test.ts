import { describe, expect, it } from 'vitest';
import { BAR_PATTERNS, barChart, DASHES, escapeXml, lineChart, MARKERS, markerSvg, niceScale, OKABE_ITO, segments, seriesStyles, swatchSvg } from '../../src/http/charts.js';

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

describe('nice scales', () => {
  it('end on a round number above the largest value, with about five ticks 1, 2 or 5 apart', () => {
    expect(niceScale(5)).toEqual({ max: 5, ticks: [0, 1, 2, 3, 4, 5] });
    expect(niceScale(100)).toEqual({ max: 100, ticks: [0, 20, 40, 60, 80, 100] });
    expect(niceScale(108)).toEqual({ max: 150, ticks: [0, 50, 100, 150] });
    expect(niceScale(0)).toEqual({ max: 1, ticks: [0, 1] });
    expect(niceScale(3)).toEqual({ max: 3, ticks: [0, 1, 2, 3] }); // counts: never a tick at 0.5
  });
});

describe('bar chart', () => {
  const bars = {
    id: 'b1',
    title: 'Reps per module',
    description: 'Intro: 4 started, 3 done.',
    categories: ['Intro', 'Check <1> & "2"'],
    xLabel: 'Reps',
    yLabel: 'Module',
  };
  const grouped = barChart({
    ...bars,
    series: [
      { name: 'Started', values: [4, 2], notes: ['of 5', null] },
      { name: 'Done', values: [3, null] },
    ],
    reference: { name: 'Target', values: [5, null] },
    max: 5,
  });

  it('is an accessible image: role, label, title and description', () => {
    expect(grouped.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(grouped).toContain('role="img"');
    expect(grouped).toContain('aria-label="Reps per module"');
    expect(grouped).toContain('aria-describedby="b1-desc"');
    expect(grouped).toContain('<title id="b1-title">Reps per module</title>');
    expect(grouped).toContain('<desc id="b1-desc">Intro: 4 started, 3 done.</desc>');
  });

  it('labels both axes, the categories and the value ticks', () => {
    expect(grouped).toContain('font-weight="600">Reps</text>');
    expect(grouped).toContain('transform="rotate(-90)" text-anchor="middle" font-weight="600">Module</text>');
    for (const t of ['0', '1', '2', '3', '4', '5']) expect(grouped).toContain(`>${t}</text>`);
    expect(grouped).toContain('<title>Intro</title>Intro</text>');
  });

  it('draws horizontal bars to scale: 5 of 5 reaches the end of the axis, 0 starts at it', () => {
    // width 640: plot from x 230 to 584 (354 wide); 4 of 5 → 283.2 wide, 3 of 5 → 212.4 wide
    expect(grouped).toContain('<rect x="230" y="17" width="283.2" height="14"');
    expect(grouped).toContain('<rect x="230" y="33" width="212.4" height="14"');
    expect(grouped).toContain('<line x1="584" y1="13"'); // the reference tick at 5
  });

  it('colours the series with Okabe–Ito, each with its own pattern, and uses no style attribute', () => {
    expect(grouped).toContain(`fill="${OKABE_ITO[0]}"`);
    expect(grouped).toContain(`fill="${OKABE_ITO[1]}"`);
    expect(grouped).toContain(`<pattern id="b1-pattern-1"`);
    expect(grouped).toContain('fill="url(#b1-pattern-1)"');
    expect(BAR_PATTERNS[0]).toBeNull();
    expect(grouped).not.toMatch(/\sstyle=/);
    expect(grouped).not.toMatch(/<style/);
    expect(grouped).not.toMatch(/<script/);
    const coloured = barChart({ ...bars, series: [{ name: 'Behind', colour: '#D55E00', values: [1, 2] }] });
    expect(coloured).toContain('fill="#D55E00"');
  });

  it('gives every bar a tooltip and writes its value beside it; a missing value draws no bar', () => {
    expect(grouped).toContain('<title>Started — Intro: 4 (of 5)</title>');
    expect(grouped).toContain('<title>Done — Intro: 3</title>');
    expect(grouped).not.toContain('<title>Done — Check');
    expect(grouped).toContain('<title>Target — Intro: 5</title>');
    expect(grouped.match(/<g class="chart-values"[^>]*>(.*?)<\/g>/)![1]!.match(/<text /g)).toHaveLength(3);
  });

  it('says "no data" for a category without any value', () => {
    const svg = barChart({ ...bars, series: [{ name: 'Median days', values: [7, null] }] });
    expect(svg).toContain('font-style="italic">no data</text>');
    expect(svg.match(/no data/g)).toHaveLength(1);
    expect(svg).not.toMatch(/\sstyle=/); // font-style is a presentation attribute
  });

  it('stacks the parts of a whole end to end, with the total after the stack', () => {
    const stacked = barChart({
      ...bars,
      stacked: true,
      series: [
        { name: 'On track', values: [1, 0] },
        { name: 'Behind', values: [2, 2] },
      ],
    });
    // total 3 is the largest: the axis ends at 3; On track 1 → 118 wide, Behind starts where it ends
    expect(stacked).toContain('<rect x="230" y="17" width="118" height="20"');
    expect(stacked).toContain('<rect x="348" y="17" width="236" height="20"');
    expect(stacked).toContain('font-weight="600" fill="#344054" stroke="#ffffff" stroke-width="3" paint-order="stroke">3</text>');
  });

  it('has a legend entry per series and for the reference, and grows a row per few series', () => {
    expect(grouped).toContain('<g><title>Started</title>');
    expect(grouped).toContain('<g><title>Target</title><line');
    const height = (s: string) => Number(/height="(\d+)"/.exec(s)![1]);
    const many = barChart({ ...bars, series: Array.from({ length: 7 }, (_, i) => ({ name: `s${i}`, values: [i, i] })) });
    expect(height(many)).toBeGreaterThan(height(grouped));
  });

  it('escapes every text it is given', () => {
    expect(grouped).toContain('Check &lt;1&gt; &amp; &quot;2&quot;');
    expect(grouped).not.toContain('<1>');
    const evil = barChart({ ...bars, id: 'x"><script>', title: '</title><script>x</script>', series: [{ name: '<b>', values: [1, 2] }] });
    expect(evil).not.toContain('<script>');
    expect(evil).not.toContain('<b>');
  });
});
