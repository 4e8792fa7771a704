/**
 * The transfer-activity PDFs: the rep's script for the manager review and the manager's workbook.
 *
 * A Handlebars text template in templates/documents/ writes the document as a small line-oriented
 * markup (documented at the top of templates/documents/script.hbs): the wording lives in the
 * template, the layout here. The markup is parsed into blocks and drawn with PDFKit (built-in
 * Helvetica, no font files). The result is the PDFKit document itself, a Readable stream: the caller
 * pipes it to the response (or to a file). Drawing yields to the event loop between sections so a
 * download never holds up the web process for more than one section's worth of work.
 */
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import Handlebars from 'handlebars';
import PDFDocument from 'pdfkit';
import type { FormFile } from '../../content/schema.js';

export type AnswerValue = string | string[] | number | boolean;
export type Answers = Record<string, AnswerValue | null | undefined>;

export interface DocumentInput {
  form: FormFile;
  answers: Answers;
  rep: { name: string; email: string };
  manager: { name: string } | null;
  curriculum: { title: string };
  module: { title: string };
  version: number;
  submittedAt: Date;
  reviewUrl: string;
  status?: 'draft' | 'submitted' | 'approved';
}

export type BlockKind = 'title' | 'meta' | 'h2' | 'h3' | 'help' | 'para' | 'verbatim' | 'bullet' | 'check' | 'blank' | 'notes' | 'link';
type Block = { kind: Exclude<BlockKind, 'meta' | 'notes'>; text: string } | { kind: 'meta'; rows: [string, string][] } | { kind: 'notes'; lines: number };

/** One drawn block, for tests: where it started and where it ended (pages count from 1). */
export interface LayoutRecord {
  kind: BlockKind;
  text: string;
  page: number;
  y: number;
  endPage: number;
  endY: number;
  /** the lowest y content may reach on the page */
  bottom: number;
}

export type YieldEvery = 'block' | 'section' | 'none';
export const DEFAULT_YIELD: YieldEvery = 'block';

export interface RenderOptions {
  /** filled with one record per block (a test hook) */
  layout?: LayoutRecord[];
  /**
   * how often drawing yields to the event loop: after every block, before every section heading,
   * or never (one synchronous run). bench/pdf measures the three; the default is its pick.
   */
  yieldEvery?: YieldEvery;
}

// ---------------------------------------------------------------- templates

const TEMPLATES = new URL('../../../templates/documents/', import.meta.url);
const hbs = Handlebars.create();
/** Every value reaching a template is made one line, so it cannot start a markup instruction. */
const oneLine = (s: unknown): string => String(s ?? '').replace(/[\r\n\u2028\u2029]+/g, ' ').trim();
hbs.registerHelper('answer', (value: AnswerValue) => {
  if (Array.isArray(value)) return value.map((item) => `* ${oneLine(item)}`).join('\n');
  if (typeof value === 'boolean') return value ? '| Yes' : '| No';
  return String(value)
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => (line.trim() === '' ? '|' : `| ${line.replace(/\s+$/, '')}`))
    .join('\n');
});
const compiled = new Map<string, Handlebars.TemplateDelegate>();
function template(name: 'script' | 'workbook'): Handlebars.TemplateDelegate {
  let t = compiled.get(name);
  if (!t) {
    t = hbs.compile(readFileSync(new URL(`${name}.hbs`, TEMPLATES), 'utf8'), { noEscape: true, strict: false });
    compiled.set(name, t);
  }
  return t;
}

function isAnswered(v: AnswerValue | null | undefined): v is AnswerValue {
  if (v === null || v === undefined) return false;
  if (Array.isArray(v)) return v.some((s) => String(s).trim() !== '');
  if (typeof v === 'string') return v.trim() !== '';
  return true;
}

const dateFormat = new Intl.DateTimeFormat('en-US', { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' });

function commonContext(input: DocumentInput) {
  return {
    title: oneLine(input.form.title),
    description: oneLine(input.form.description),
    rep: { name: oneLine(input.rep.name), email: oneLine(input.rep.email) },
    manager: input.manager ? { name: oneLine(input.manager.name) } : null,
    date: dateFormat.format(input.submittedAt),
    curriculum: { title: oneLine(input.curriculum.title) },
    module: { title: oneLine(input.module.title) },
    version: input.version,
    status: input.status ?? null,
    reviewUrl: oneLine(input.reviewUrl),
    checklist: input.form.review.checklist.map(oneLine),
  };
}

/** The markup of the script document (exported for tests). */
export function scriptMarkup(input: DocumentInput): string {
  return template('script')({
    ...commonContext(input),
    steps: input.form.steps.map((step, i) => ({
      number: i + 1,
      title: oneLine(step.title),
      fields: step.fields.map((f) => {
        const value = input.answers[f.id];
        return { label: oneLine(f.label), answered: isAnswered(value), value: Array.isArray(value) ? value.filter((s) => String(s).trim() !== '') : value };
      }),
    })),
  });
}

/** The markup of the workbook document (exported for tests). */
export function workbookMarkup(input: DocumentInput): string {
  return template('workbook')({
    ...commonContext(input),
    prompts: input.form.review.workbookPrompts.map((p, i) => ({ number: i + 1, text: oneLine(p) })),
    targets: input.form.activityLog.fields.filter((f) => f.target !== undefined).map((f) => ({ label: oneLine(f.label), target: f.target })),
  });
}

// ---------------------------------------------------------------- markup → blocks

export function parseMarkup(markup: string): Block[] {
  const blocks: Block[] = [];
  let open: Block | null = null; // a paragraph, guidance or verbatim block still taking lines
  const close = () => {
    if (open) blocks.push(open);
    open = null;
  };
  const append = (kind: 'para' | 'help' | 'verbatim', text: string) => {
    if (open && open.kind === kind && 'text' in open) {
      open.text += kind === 'verbatim' ? `\n${text}` : ` ${text}`;
    } else {
      close();
      open = { kind, text };
    }
  };
  const push = (b: Block) => {
    close();
    blocks.push(b);
  };
  for (const raw of markup.replace(/\r\n?/g, '\n').split('\n')) {
    const line = raw.trimStart();
    if (line === '|' || line.startsWith('| ')) append('verbatim', line.slice(2));
    else if (line === '>' || line.startsWith('> ')) append('help', line.slice(2).trim());
    else if (line.trim() === '') close();
    else if (line.startsWith('### ')) push({ kind: 'h3', text: line.slice(4).trim() });
    else if (line.startsWith('## ')) push({ kind: 'h2', text: line.slice(3).trim() });
    else if (line.startsWith('# ')) push({ kind: 'title', text: line.slice(2).trim() });
    else if (line.startsWith('- [ ] ')) push({ kind: 'check', text: line.slice(6).trim() });
    else if (line.startsWith('* ')) push({ kind: 'bullet', text: line.slice(2).trim() });
    else if (line.startsWith('@meta ')) {
      const body = line.slice(6);
      const at = body.indexOf(':');
      const row: [string, string] = at < 0 ? [body.trim(), ''] : [body.slice(0, at).trim(), body.slice(at + 1).trim()];
      const last = blocks.at(-1);
      if (!open && last?.kind === 'meta') last.rows.push(row);
      else push({ kind: 'meta', rows: [row] });
    } else if (line.startsWith('@link ')) push({ kind: 'link', text: line.slice(6).trim() });
    else if (line.startsWith('@blank ')) push({ kind: 'blank', text: line.slice(7).trim() });
    else if (line.startsWith('---notes')) push({ kind: 'notes', lines: Math.max(1, Math.min(40, Number(line.slice(8).trim()) || 4)) });
    else if (line.startsWith('@') || line.startsWith('---')) throw new Error(`document template: unknown instruction "${line.slice(0, 40)}"`);
    else append('para', line.trim());
  }
  close();
  return blocks;
}

// ---------------------------------------------------------------- layout

const PAGE = { size: 'LETTER' as const, margin: { top: 64, bottom: 76, left: 68, right: 68 } };
const INK = '#1a1a1a';
const MUTED = '#5f6670';
const ACCENT = '#1f4e79';
const RULE = '#b9c0c8';
const BODY = 10.5;
const GAP = 2.5; // line gap of body text
const NOTE_LINE = 22; // distance between ruled note lines

type Doc = PDFKit.PDFDocument;

interface Ctx {
  doc: Doc;
  page: number;
  left: number;
  width: number;
  bottom: number;
}

function font(doc: Doc, name: string, size: number, color = INK): Doc {
  return doc.font(name).fontSize(size).fillColor(color);
}

/** How tall a block is, at most `maxLines` lines of it (for keep-with-next). */
function heightOf(ctx: Ctx, b: Block, maxLines = Infinity): number {
  const { doc, width } = ctx;
  const limited = Number.isFinite(maxLines);
  /** the height of the first `maxLines` lines: estimated without wrapping the whole text (which costs as much as drawing it) */
  const measure = (text: string, w: number, lineGap: number) => {
    const lineH = doc.currentLineHeight(true) + lineGap;
    if (!limited) return doc.heightOfString(text || ' ', { width: w, lineGap });
    const head = text.slice(0, 400);
    const lineCount = head.includes('\n') || doc.widthOfString(head) > w ? 2 : 1;
    return Math.min(maxLines, lineCount) * lineH;
  };
  switch (b.kind) {
    case 'h2':
      font(doc, 'Helvetica-Bold', 13.5);
      return 18 + doc.heightOfString(b.text, { width }) + 8;
    case 'h3':
      font(doc, 'Helvetica-Bold', BODY);
      return 9 + doc.heightOfString(b.text, { width, lineGap: 1 }) + 3;
    case 'para':
    case 'verbatim':
    case 'link':
      font(doc, 'Helvetica', BODY);
      return measure(b.text, width, GAP) + 6;
    case 'help':
      font(doc, 'Helvetica-Oblique', 9.5);
      return measure(b.text, width, 2) + 6;
    case 'bullet':
    case 'check':
      font(doc, 'Helvetica', BODY);
      return measure(b.text, width - 20, GAP) + 5;
    case 'blank':
      return 26;
    case 'notes':
      return Math.min(b.lines, maxLines) * NOTE_LINE + 6;
    default:
      return 0;
  }
}

function ensureRoom(ctx: Ctx, need: number): void {
  if (ctx.doc.y + need > ctx.bottom) ctx.doc.addPage();
}

function draw(ctx: Ctx, b: Block, next: Block[]): void {
  const { doc, left, width } = ctx;
  switch (b.kind) {
    case 'title':
      font(doc, 'Helvetica-Bold', 20, ACCENT).text(b.text, left, doc.y, { width, lineGap: 2 });
      doc.moveDown(0.5);
      break;
    case 'meta': {
      const labelW = 86;
      doc.moveTo(left, doc.y).lineTo(left + width, doc.y).lineWidth(0.6).strokeColor(RULE).stroke();
      doc.y += 8;
      for (const [label, value] of b.rows) {
        const y = doc.y;
        font(doc, 'Helvetica-Bold', 9, MUTED).text(label.toUpperCase(), left, y + 1, { width: labelW, characterSpacing: 0.4 });
        font(doc, 'Helvetica', BODY).text(value, left + labelW, y, { width: width - labelW, lineGap: 1 });
        doc.y = Math.max(doc.y, y + 14) + 3;
      }
      doc.y += 4;
      doc.moveTo(left, doc.y).lineTo(left + width, doc.y).lineWidth(0.6).strokeColor(RULE).stroke();
      doc.y += 10;
      break;
    }
    case 'h2':
    case 'h3': {
      // keep the heading with any headings right after it and two lines of the content that follows
      let need = heightOf(ctx, b);
      for (const n of next) {
        if (n.kind === 'h2' || n.kind === 'h3') need += heightOf(ctx, n);
        else {
          need += heightOf(ctx, n, 2);
          break;
        }
      }
      ensureRoom(ctx, need);
      if (b.kind === 'h2') {
        doc.y += ctx.doc.y <= doc.page.margins.top + 1 ? 0 : 14;
        font(doc, 'Helvetica-Bold', 13.5, ACCENT).text(b.text, left, doc.y, { width });
        doc.y += 2;
        doc.moveTo(left, doc.y).lineTo(left + width, doc.y).lineWidth(0.5).strokeColor(RULE).stroke();
        doc.y += 6;
      } else {
        doc.y += ctx.doc.y <= doc.page.margins.top + 1 ? 0 : 7;
        font(doc, 'Helvetica-Bold', BODY, '#2b2f33').text(b.text, left, doc.y, { width, lineGap: 1 });
        doc.y += 3;
      }
      break;
    }
    case 'para':
    case 'verbatim':
      ensureRoom(ctx, heightOf(ctx, b, 2));
      font(doc, 'Helvetica', BODY).text(b.text || ' ', left, doc.y, { width, lineGap: GAP });
      doc.y += 6;
      break;
    case 'help':
      ensureRoom(ctx, heightOf(ctx, b, 2));
      font(doc, 'Helvetica-Oblique', 9.5, MUTED).text(b.text, left, doc.y, { width, lineGap: 2 });
      doc.y += 6;
      break;
    case 'bullet':
    case 'check': {
      ensureRoom(ctx, heightOf(ctx, b, 2));
      const y = doc.y;
      if (b.kind === 'check') doc.rect(left + 1, y + 1, 9, 9).lineWidth(0.8).strokeColor('#444').stroke();
      else doc.circle(left + 5, y + 5.5, 1.8).fillColor(INK).fill();
      font(doc, 'Helvetica', BODY).text(b.text, left + 20, y, { width: width - 20, lineGap: GAP });
      doc.y += 5;
      break;
    }
    case 'blank': {
      ensureRoom(ctx, heightOf(ctx, b));
      const y = doc.y + 6;
      font(doc, 'Helvetica', BODY).text(b.text, left, y, { width: width * 0.6, lineBreak: false });
      const x = left + Math.min(doc.widthOfString(b.text) + 8, width * 0.62);
      doc.moveTo(x, y + 11).lineTo(left + width, y + 11).lineWidth(0.6).strokeColor('#7a828c').stroke();
      doc.x = left;
      doc.y = y + 20;
      break;
    }
    case 'notes':
      for (let i = 0; i < b.lines; i++) {
        ensureRoom(ctx, NOTE_LINE);
        doc.y += NOTE_LINE;
        doc.moveTo(left, doc.y).lineTo(left + width, doc.y).lineWidth(0.5).strokeColor(RULE).stroke();
      }
      doc.y += 6;
      break;
    case 'link':
      ensureRoom(ctx, heightOf(ctx, b, 2));
      font(doc, 'Helvetica', BODY, ACCENT).text(b.text, left, doc.y, { width, lineGap: GAP, link: b.text, underline: true });
      doc.fillColor(INK);
      doc.y += 6;
      break;
  }
}

function footer(doc: Doc, left: string, pages: number, index: number): void {
  const bottom = doc.page.margins.bottom;
  doc.page.margins.bottom = 0; // writing inside the margin must not add a page
  const x = doc.page.margins.left;
  const w = doc.page.width - doc.page.margins.left - doc.page.margins.right;
  const y = doc.page.height - 44;
  doc.moveTo(x, y - 8).lineTo(x + w, y - 8).lineWidth(0.5).strokeColor(RULE).stroke();
  font(doc, 'Helvetica', 8.5, MUTED).text(left, x, y, { width: w * 0.7, lineBreak: false, ellipsis: true, height: 12 });
  font(doc, 'Helvetica', 8.5, MUTED).text(`Page ${index + 1} of ${pages}`, x + w * 0.7, y, { width: w * 0.3, align: 'right', lineBreak: false });
  doc.page.margins.bottom = bottom;
}

function render(markup: string, meta: { title: string; author: string; date: Date; footer: string }, options: RenderOptions): Readable {
  const blocks = parseMarkup(markup);
  const doc = new PDFDocument({
    size: PAGE.size,
    margins: PAGE.margin,
    bufferPages: true,
    info: { Title: meta.title, Author: meta.author, Creator: 'Onramp', CreationDate: meta.date },
  });
  const ctx: Ctx = {
    doc,
    page: 1,
    left: PAGE.margin.left,
    width: doc.page.width - PAGE.margin.left - PAGE.margin.right,
    bottom: doc.page.height - PAGE.margin.bottom,
  };
  doc.on('pageAdded', () => (ctx.page += 1));
  const yieldEvery = options.yieldEvery ?? DEFAULT_YIELD;
  const drawAll = async () => {
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i]!;
      if (i > 0 && (yieldEvery === 'block' || (yieldEvery === 'section' && b.kind === 'h2'))) await nextTurn();
      const start = { page: ctx.page, y: doc.y };
      draw(ctx, b, blocks.slice(i + 1, i + 4));
      if (options.layout) {
        // a heading that moved itself to a new page starts there
        const moved = ctx.page !== start.page && (b.kind === 'h2' || b.kind === 'h3');
        options.layout.push({
          kind: b.kind,
          text: 'text' in b ? b.text : b.kind === 'meta' ? b.rows.map((r) => r.join(': ')).join('\n') : '',
          page: moved ? ctx.page : start.page,
          y: moved ? doc.page.margins.top : start.y,
          endPage: ctx.page,
          endY: doc.y,
          bottom: ctx.bottom,
        });
      }
    }
    const range = doc.bufferedPageRange();
    for (let i = range.start; i < range.start + range.count; i++) {
      doc.switchToPage(i);
      footer(doc, meta.footer, range.count, i);
    }
    doc.end();
  };
  drawAll().catch((err: unknown) => doc.destroy(err instanceof Error ? err : new Error(String(err))));
  return doc as unknown as Readable;
}

/** The rep's script for the manager review, as a PDF stream. */
export function renderScriptPdf(input: DocumentInput, options: RenderOptions = {}): Readable {
  return render(
    scriptMarkup(input),
    { title: oneLine(input.form.title), author: oneLine(input.rep.name), date: input.submittedAt, footer: `${oneLine(input.form.title)} · ${oneLine(input.rep.name)}` },
    options,
  );
}

/** The manager's workbook for the module, as a PDF stream. */
export function renderWorkbookPdf(input: DocumentInput, options: RenderOptions = {}): Readable {
  return render(
    workbookMarkup(input),
    {
      title: `Manager's workbook: ${oneLine(input.module.title)}`,
      author: input.manager ? oneLine(input.manager.name) : 'Onramp',
      date: input.submittedAt,
      footer: `Manager's workbook · ${oneLine(input.module.title)} · ${oneLine(input.rep.name)}`,
    },
    options,
  );
}

/** Collects a PDF stream into one Buffer. */
export function pdfBuffer(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}
