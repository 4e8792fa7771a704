import { mkdirSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseMarkup, pdfBuffer, renderScriptPdf, renderWorkbookPdf, scriptMarkup, type LayoutRecord } from '../../src/features/transfer/documents.js';
import { readPdf, renderPageToPng, type PdfPage } from '../support/pdf-text.js';
import { LONG_TOKEN, SAMPLE_ANSWERS, SAMPLE_FORM, SAMPLE_INPUT } from '../support/transfer-sample.js';

const squash = (s: string) => s.replace(/\s+/g, '');
/** All pages' text without the footers, whitespace removed (wrapping and page breaks vanish). */
function body(pages: PdfPage[]): string {
  return squash(pages.map((p) => p.text.replace(/Page \d+ of \d+/, '')).join(''));
}
function expectPageNumbers(pages: PdfPage[]): void {
  pages.forEach((p, i) => expect(p.text).toContain(`Page ${i + 1} of ${pages.length}`));
}
function expectNoOverflow(pages: PdfPage[]): void {
  for (const p of pages) {
    for (const it of p.items) {
      if (!it.str.trim()) continue;
      expect(it.x, it.str).toBeGreaterThanOrEqual(60);
      expect(it.x + it.width, it.str).toBeLessThanOrEqual(p.width - 60);
    }
  }
}
/** A heading is never the last thing on its page: what follows starts on the same page with room for two lines. */
function expectHeadingsKeptWithContent(layout: LayoutRecord[]): void {
  layout.forEach((r, i) => {
    if (r.kind !== 'h2' && r.kind !== 'h3') return;
    const next = layout[i + 1];
    expect(next, r.text).toBeDefined();
    expect(r.endPage, r.text).toBe(r.page);
    expect(next!.page, `content after "${r.text}"`).toBe(r.page);
    if (next!.kind !== 'h3') expect(next!.endPage > next!.page || next!.bottom - next!.y >= 2 * 12, `room after "${r.text}"`).toBe(true);
  });
}

describe('the script PDF', async () => {
  const layout: LayoutRecord[] = [];
  const started = performance.now();
  const pdf = await pdfBuffer(renderScriptPdf(SAMPLE_INPUT, { layout }));
  const elapsed = performance.now() - started;
  const pages = await readPdf(pdf);
  mkdirSync('test-results', { recursive: true });
  writeFileSync('test-results/sample-script.pdf', pdf);

  it('is a PDF of a few pages, built in well under a second', () => {
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pages.length).toBeGreaterThanOrEqual(3);
    expect(pages.length).toBeLessThanOrEqual(6);
    expect(elapsed).toBeLessThan(1500);
  });

  it('has the header: title, rep, manager, date, curriculum, module, version', () => {
    const first = pages[0]!.text;
    for (const s of ['Your appointment-setting call script', 'Riley Chen', 'rep1@demo.onramp.dev', 'Morgan Diaz', 'February 3, 2027', 'New rep onboarding', 'Appointment setting on the job', '2 (submitted)']) {
      expect(first).toContain(s);
    }
  });

  it('has every step, every field label and every answer, verbatim', () => {
    const text = body(pages);
    SAMPLE_FORM.steps.forEach((step, i) => {
      expect(text).toContain(squash(`${i + 1}. ${step.title}`));
      for (const f of step.fields) {
        expect(text).toContain(squash(f.label));
        const a = SAMPLE_ANSWERS[f.id];
        if (Array.isArray(a)) a.forEach((item) => expect(text).toContain(squash(item)));
        else if (typeof a === 'string' && a.trim()) expect(text).toContain(squash(a));
      }
    });
    expect(text).toContain(squash(LONG_TOKEN));
    expect(text).toContain(squash('Not answered.')); // otherConcern was left empty
  });

  it('keeps user text as text: markup in an answer is not interpreted', () => {
    const text = body(pages);
    expect(text).toContain(squash("# Hi Dana, it's Sam Lee from Crewline."));
    expect(text).toContain(squash('## What would it be worth to cut second visits in half?'));
    expect(text).toContain(squash('@link https://evil.example.com'));
    expect(text).toContain(squash('---notes 30'));
    expect(pages.flatMap((p) => p.links)).toEqual([SAMPLE_INPUT.reviewUrl]);
    const blocks = parseMarkup(scriptMarkup(SAMPLE_INPUT));
    expect(blocks.filter((b) => b.kind === 'title')).toHaveLength(1);
    expect(blocks.filter((b) => b.kind === 'notes')).toHaveLength(1);
    expect(blocks.filter((b) => b.kind === 'link')).toHaveLength(1);
  });

  it('keeps multi-line answers on separate lines', () => {
    const opening = pages.map((p) => p.text).join('\n');
    expect(opening).toMatch(/Crewline\.\s*\n\s*I saw Harbor/);
  });

  it('has the checklist with a box per item, a notes area and the review link', () => {
    const text = body(pages);
    for (const item of SAMPLE_FORM.review.checklist) expect(text).toContain(squash(item));
    expect(layout.filter((r) => r.kind === 'check')).toHaveLength(SAMPLE_FORM.review.checklist.length);
    expect(layout.filter((r) => r.kind === 'notes')).toHaveLength(1);
    expect(text).toContain(squash(SAMPLE_INPUT.reviewUrl));
    expect(layout.at(-1)!.kind).toBe('link');
  });

  it('numbers every page "Page N of M"', () => expectPageNumbers(pages));
  it('wraps long words and URLs inside the margins', () => expectNoOverflow(pages));
  it('never leaves a heading at the bottom of a page', () => {
    expect(layout.filter((r) => r.kind === 'h2').length).toBeGreaterThanOrEqual(SAMPLE_FORM.steps.length + 2);
    expectHeadingsKeptWithContent(layout);
  });

  it('keeps headings with their content whatever the length of the answers', async () => {
    for (const words of [5, 40, 90, 160]) {
      const answers = Object.fromEntries(Object.entries(SAMPLE_ANSWERS).map(([k, v]) => [k, typeof v === 'string' ? Array.from({ length: words }, (_, i) => `word${i}`).join(' ') : v]));
      const log: LayoutRecord[] = [];
      await pdfBuffer(renderScriptPdf({ ...SAMPLE_INPUT, answers }, { layout: log }));
      expectHeadingsKeptWithContent(log);
    }
  });

  it('renders page 1 to PNG when a canvas is available', async () => {
    const png = await renderPageToPng(pdf, 1);
    if (!png) return;
    writeFileSync('test-results/sample-script-page1.png', png);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  });
});

describe('the manager workbook PDF', async () => {
  const layout: LayoutRecord[] = [];
  const pdf = await pdfBuffer(renderWorkbookPdf({ ...SAMPLE_INPUT, manager: null }, { layout }));
  const pages = await readPdf(pdf);

  it('has the header, every prompt with note lines, the checklist, the meeting record and the activity targets', () => {
    expect(squash(pages[0]!.text)).toContain(squash("Manager's workbook: Appointment setting on the job"));
    expect(pages[0]!.text).toContain('Not assigned yet');
    const text = body(pages);
    for (const s of ['Riley Chen', 'February 3, 2027', 'New rep onboarding', 'Met with the rep on', 'Observed calls on']) expect(text).toContain(squash(s));
    for (const p of SAMPLE_FORM.review.workbookPrompts) expect(text).toContain(squash(p));
    expect(layout.filter((r) => r.kind === 'notes').length).toBe(SAMPLE_FORM.review.workbookPrompts.length + 1);
    for (const item of SAMPLE_FORM.review.checklist) expect(text).toContain(squash(item));
    for (const f of SAMPLE_FORM.activityLog.fields.filter((x) => x.target !== undefined)) expect(text).toContain(squash(`${f.label}: target ${f.target}`));
    expect(text).not.toContain(squash('I met with my manager')); // no target: not a target row
    expect(pages.flatMap((p) => p.links)).toEqual([SAMPLE_INPUT.reviewUrl]);
  });

  it('numbers pages, stays in the margins and keeps headings with their content', () => {
    expectPageNumbers(pages);
    expectNoOverflow(pages);
    expectHeadingsKeptWithContent(layout);
  });
});

describe('the document markup', () => {
  it('refuses an unknown instruction (a template typo)', () => {
    expect(() => parseMarkup('@metta Rep: x')).toThrow(/unknown instruction/);
  });
  it('groups header rows and joins paragraph lines', () => {
    expect(parseMarkup('@meta A: 1\n@meta B: 2: 3\n\none\ntwo\n| x\n|\n| y')).toEqual([
      { kind: 'meta', rows: [['A', '1'], ['B', '2: 3']] },
      { kind: 'para', text: 'one two' },
      { kind: 'verbatim', text: 'x\n\ny' },
    ]);
  });
});
