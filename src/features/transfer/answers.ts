import type { FormFile } from '../../content/schema.js';
import type { FieldProblem } from '../../errors.js';

/**
 * A rep's answers to a transfer form, checked against the form: pure, no I/O. Answers are keyed by
 * field id (ids are unique within a form); a list field is an array of strings.
 */
export type AnswerValue = string | string[] | number | boolean;
export type Answers = Record<string, AnswerValue>;

type Field = FormFile['steps'][number]['fields'][number];

export const LIMITS = { shortText: 300, longText: 5000, listItem: 500, listItems: 30 } as const;

export function fieldsOf(form: FormFile): { step: FormFile['steps'][number]; field: Field }[] {
  return form.steps.flatMap((step) => step.fields.map((field) => ({ step, field })));
}

function isBlank(v: AnswerValue | undefined): boolean {
  if (v === undefined) return true;
  if (typeof v === 'string') return v.trim() === '';
  if (Array.isArray(v)) return v.every((x) => x.trim() === '');
  return false;
}

/**
 * Problems with the answers, with paths `<stepId>.<fieldId>`. Drafts (`complete: false`) may leave
 * fields empty; a submission needs every required field. Unknown fields are refused: nothing a
 * form does not ask for is stored.
 */
export function answerProblems(form: FormFile, answers: unknown, opts: { complete: boolean }): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (!answers || typeof answers !== 'object' || Array.isArray(answers)) return [{ path: 'answers', message: 'must be an object of field id → answer' }];
  const given = answers as Record<string, unknown>;
  const known = new Map(fieldsOf(form).map((x) => [x.field.id, x]));
  for (const key of Object.keys(given)) if (!known.has(key)) problems.push({ path: key, message: 'is not a field of this form' });
  for (const { step, field } of known.values()) {
    const path = `${step.id}.${field.id}`;
    const v = given[field.id];
    if (v === undefined || v === null) {
      if (opts.complete && field.required) problems.push({ path, message: `${field.label}: required` });
      continue;
    }
    switch (field.type) {
      case 'shortText':
      case 'longText': {
        const max = LIMITS[field.type];
        if (typeof v !== 'string') problems.push({ path, message: `${field.label}: must be text` });
        else if (v.length > max) problems.push({ path, message: `${field.label}: at most ${max} characters (has ${v.length})` });
        break;
      }
      case 'choice':
        if (typeof v !== 'string' || (v !== '' && !(field.options ?? []).includes(v))) problems.push({ path, message: `${field.label}: choose one of ${(field.options ?? []).join(', ')}` });
        break;
      case 'list':
        if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) problems.push({ path, message: `${field.label}: must be a list of text items` });
        else if (v.length > LIMITS.listItems) problems.push({ path, message: `${field.label}: at most ${LIMITS.listItems} items` });
        else if (v.some((x) => (x as string).length > LIMITS.listItem)) problems.push({ path, message: `${field.label}: each item at most ${LIMITS.listItem} characters` });
        else if (opts.complete && field.minItems !== undefined && v.filter((x) => (x as string).trim()).length < field.minItems) {
          problems.push({ path, message: `${field.label}: at least ${field.minItems} items` });
        }
        break;
      case 'number':
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) problems.push({ path, message: `${field.label}: must be a number, 0 or more` });
        break;
      case 'boolean':
        if (typeof v !== 'boolean') problems.push({ path, message: `${field.label}: must be yes or no` });
        break;
    }
    if (opts.complete && field.required && isBlank(v as AnswerValue) && !problems.some((p) => p.path === path)) problems.push({ path, message: `${field.label}: required` });
  }
  return problems;
}

/** Keeps what the form asks for, trimmed at the ends; list items that are empty are dropped. */
export function cleanAnswers(form: FormFile, answers: Answers): Answers {
  const out: Answers = {};
  for (const { field } of fieldsOf(form)) {
    const v = answers[field.id];
    if (v === undefined) continue;
    if (typeof v === 'string') out[field.id] = field.type === 'longText' ? v.replace(/\s+$/, '') : v.trim();
    else if (Array.isArray(v)) out[field.id] = v.map((x) => x.trim()).filter(Boolean);
    else out[field.id] = v;
  }
  return out;
}

/** How far the rep is: steps whose required fields all have an answer. */
export function progressOf(form: FormFile, answers: Answers): { done: number; total: number; steps: { id: string; done: boolean }[] } {
  const steps = form.steps.map((s) => ({ id: s.id, done: s.fields.every((f) => !f.required || !isBlank(answers[f.id])) }));
  return { done: steps.filter((s) => s.done).length, total: steps.length, steps };
}

/** The assembled script, section by section, as the preview and the PDF show it. */
export function assemble(form: FormFile, answers: Answers): { id: string; title: string; items: { label: string; text: string[] }[] }[] {
  return form.steps.map((step) => ({
    id: step.id,
    title: step.title,
    items: step.fields
      .map((f) => {
        const v = answers[f.id];
        const text = v === undefined ? [] : Array.isArray(v) ? v.filter(Boolean) : typeof v === 'boolean' ? [v ? 'Yes' : 'No'] : [String(v)].filter((x) => x.trim());
        return { label: f.label, text };
      })
      .filter((i) => i.text.length),
  }));
}

/** A due date N business days (Mon–Fri) after `from`, at the same time of day. */
export function addBusinessDays(from: Date, days: number): Date {
  const d = new Date(from);
  let left = days;
  while (left > 0) {
    d.setUTCDate(d.getUTCDate() + 1);
    const wd = d.getUTCDay();
    if (wd !== 0 && wd !== 6) left--;
  }
  return d;
}
