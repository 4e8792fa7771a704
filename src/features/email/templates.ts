import { readFileSync } from 'node:fs';
import Handlebars from 'handlebars';
import { z } from 'zod';
import { ValidationFailed } from '../../errors.js';
import { TEMPLATES_DIR } from '../../http/views.js';

/**
 * The emails Onramp sends, each a pair of Handlebars files in templates/emails/:
 * `<name>.text.hbs` (first line `Subject: …`, then the plain-text body) and `<name>.html.hbs`
 * (the HTML body), set in `layout.text.hbs` / `layout.html.hbs`. The HTML version escapes every
 * value; the text version inserts values as they are (it is not HTML, nothing to escape).
 *
 * Each template declares the data it needs: a caller that forgets a field fails here, at once,
 * instead of mailing "Hi ,".
 */

const name = z.string().trim().min(1).max(200);
const title = z.string().trim().min(1).max(300);
const when = z.union([z.date(), z.iso.datetime({ offset: true })]).transform((v) => (v instanceof Date ? v : new Date(v)));
const timeZone = z
  .string()
  .refine((tz) => {
    try {
      new Intl.DateTimeFormat('en-GB', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'is not a known time zone')
  .optional();
/** a path of this app ("/reviews/…", made absolute with PUBLIC_URL) or an absolute http(s) URL */
const link = z.string().refine((v) => v.startsWith('/') || /^https?:\/\//.test(v), 'must be a path starting with / or an http(s) URL');
/** a reviewer's comment, shortened for the email (the full text is behind the link) */
const comment = z
  .string()
  .trim()
  .transform((v) => (v.length > 600 ? `${v.slice(0, 600).trimEnd()}…` : v))
  .optional();

export const EMAIL_TEMPLATES = {
  /** to a manager: a rep submitted a transfer activity for review */
  'review-requested': z.object({ managerName: name, repName: name, itemTitle: title, curriculumTitle: title.optional(), dueAt: when.optional(), timeZone, link }).strict(),
  /** to a rep: their manager asked for changes */
  'changes-requested': z.object({ repName: name, managerName: name, itemTitle: title, comment, link }).strict(),
  /** to a rep: their manager approved the submission */
  'submission-approved': z.object({ repName: name, managerName: name, itemTitle: title, comment, link }).strict(),
  /** to a manager: a review is past its due date */
  'review-overdue': z.object({ managerName: name, repName: name, itemTitle: title, submittedAt: when, dueAt: when.optional(), timeZone, link }).strict(),
  /** to a rep: today's reinforcement questions, each linked straight to itself */
  'reinforcement-delivery': z
    .object({
      repName: name,
      questions: z.array(z.object({ prompt: z.string().trim().min(1).max(2000), moduleTitle: title, link })).min(1).max(20),
      streak: z.number().int().min(0),
      link,
      settingsLink: link,
    })
    .strict(),
};

export type EmailTemplateName = keyof typeof EMAIL_TEMPLATES;
export const EMAIL_TEMPLATE_NAMES = Object.keys(EMAIL_TEMPLATES) as EmailTemplateName[];
export type EmailData<T extends EmailTemplateName> = z.input<(typeof EMAIL_TEMPLATES)[T]>;

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

type Compiled = (data: unknown) => string;

export class EmailTemplates {
  private readonly hb = Handlebars.create();
  private readonly compiled = new Map<string, { subject: Compiled; text: Compiled; html: Compiled }>();
  private readonly layout: { text: Compiled; html: Compiled };

  /** Reads and compiles every template now, so that a missing or broken one stops the process at start. */
  constructor(
    private readonly appUrl: string,
    private readonly dir = `${TEMPLATES_DIR}/emails`,
  ) {
    this.hb.registerHelper('date', (value: unknown, tz: unknown) => formatDate(value, typeof tz === 'string' ? tz : undefined));
    this.hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
    this.hb.registerHelper('add', (a: unknown, b: unknown) => Number(a) + Number(b));
    this.layout = { text: this.compile('layout.text.hbs', true), html: this.compile('layout.html.hbs', false) };
    for (const template of EMAIL_TEMPLATE_NAMES) {
      const source = this.read(`${template}.text.hbs`);
      const m = /^Subject: *(.+)\r?\n/.exec(source);
      if (!m) throw new Error(`templates/emails/${template}.text.hbs: the first line must be "Subject: …"`);
      this.compiled.set(template, {
        subject: this.hb.compile(m[1]!, { noEscape: true, strict: false }),
        text: this.hb.compile(source.slice(m[0].length), { noEscape: true }),
        html: this.compile(`${template}.html.hbs`, false),
      });
    }
  }

  render<T extends EmailTemplateName>(template: T, data: EmailData<T>): RenderedEmail {
    const parts = this.compiled.get(template);
    if (!parts) throw new ValidationFailed([{ path: 'template', message: `no email template "${template}"` }]);
    const parsed = EMAIL_TEMPLATES[template].safeParse(data);
    if (!parsed.success) {
      throw new ValidationFailed(parsed.error.issues.map((i) => ({ path: `data.${i.path.join('.')}`, message: i.message })), `Email "${template}": some of the data is not valid.`);
    }
    const values = this.absoluteLinks(parsed.data) as Record<string, unknown>;
    // one line, whatever the data holds (a header cannot be split by a name with a line break in it)
    const subject = parts.subject(values).replace(/\s+/g, ' ').trim();
    const text = this.layout.text({ body: parts.text(values).trim(), subject, appUrl: this.appUrl }).trim() + '\n';
    const html = this.layout.html({ body: parts.html(values).trim(), subject, appUrl: this.appUrl });
    return { subject, html, text };
  }

  /** Every `link` / `…Link` field, at any depth, made absolute with PUBLIC_URL. */
  private absoluteLinks(value: unknown, key = ''): unknown {
    if (typeof value === 'string') return (key === 'link' || key.endsWith('Link')) && value.startsWith('/') ? `${this.appUrl}${value}` : value;
    if (Array.isArray(value)) return value.map((v) => this.absoluteLinks(v));
    if (value && typeof value === 'object' && !(value instanceof Date)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.absoluteLinks(v, k)]));
    return value;
  }

  private read(file: string): string {
    return readFileSync(`${this.dir}/${file}`, 'utf8');
  }

  private compile(file: string, noEscape: boolean): Compiled {
    const source = this.read(file);
    this.hb.parse(source); // syntax errors now, not at the first email
    return this.hb.compile(source, { noEscape });
  }
}

const DATE_FORMATS = new Map<string, Intl.DateTimeFormat>();

/** "Friday 13 March 2026" in the reader's time zone (UTC when unknown). */
export function formatDate(value: unknown, timeZone = 'UTC'): string {
  const d = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined;
  if (!d || Number.isNaN(d.getTime())) return '';
  let f = DATE_FORMATS.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone });
    DATE_FORMATS.set(timeZone, f);
  }
  return f.format(d);
}
