import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { formFile } from '../../src/content/schema.js';
import { addBusinessDays, answerProblems, assemble, cleanAnswers, LIMITS, progressOf } from '../../src/features/transfer/answers.js';

const form = formFile.parse(parse(readFileSync(new URL('../../content/curricula/new-rep-onboarding/forms/appointment-script.yaml', import.meta.url), 'utf8')));

/** Every required field of the sample form, answered. */
function complete(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const step of form.steps) {
    for (const f of step.fields) {
      if (f.type === 'choice') out[f.id] = f.options![0];
      else if (f.type === 'list') out[f.id] = Array.from({ length: Math.max(f.minItems ?? 1, 1) }, (_, i) => `Question ${i + 1}?`);
      else if (f.type === 'number') out[f.id] = 1;
      else if (f.type === 'boolean') out[f.id] = true;
      else out[f.id] = `${f.label}: my words.`;
    }
  }
  return out;
}

describe('transfer answers', () => {
  it('the sample form is the appointment-setting script: opening, reason, discovery, the ask and four or more concerns', () => {
    const ids = form.steps.map((s) => s.id);
    for (const id of ['opening', 'reason', 'discovery', 'ask', 'concerns']) expect(ids).toContain(id);
    expect(form.steps.find((s) => s.id === 'concerns')!.fields.length).toBeGreaterThanOrEqual(4);
    expect(form.review.checklist.length).toBeGreaterThan(0);
    expect(form.review.dueBusinessDays).toBe(3);
    expect(form.activityLog.fields.filter((f) => f.target !== undefined).length).toBeGreaterThan(0);
  });

  it('a draft may be incomplete; a submission needs every required field', () => {
    expect(answerProblems(form, { opening: 'Hi Dana' }, { complete: false })).toEqual([]);
    const missing = answerProblems(form, { opening: 'Hi Dana' }, { complete: true });
    expect(missing.length).toBeGreaterThan(3);
    expect(missing[0]!.path).toMatch(/^\w+\.\w+$/);
    expect(missing.every((p) => /required|at least/.test(p.message))).toBe(true);
    expect(answerProblems(form, complete(), { complete: true })).toEqual([]);
  });

  it.each([
    ['an unknown field', { nope: 'x' }, /nope: is not a field/],
    ['text that is too long', { opening: 'x'.repeat(LIMITS.longText + 1) }, /at most 5000 characters/],
    ['a choice that is not offered', { persona: 'CEO' }, /choose one of/],
    ['a list that is not a list', { questions: 'one question' }, /list of text items/],
    ['a number in a text field', { opening: 42 }, /must be text/],
    ['not an object', ['a'], /must be an object/],
  ])('refuses %s with a message naming the field', (_n, answers, message) => {
    const problems = answerProblems(form, answers, { complete: false });
    expect(problems.map((p) => `${p.path}: ${p.message}`).join('\n')).toMatch(message);
  });

  it('cleans, counts and assembles', () => {
    const a = cleanAnswers(form, { opening: 'Hi Dana.  \n\n', questions: ['  What happens today? ', '', 'Who decides?'], persona: ' Service or Dispatch Manager ' } as never);
    expect(a).toEqual({ opening: 'Hi Dana.', questions: ['What happens today?', 'Who decides?'], persona: 'Service or Dispatch Manager' });
    const p = progressOf(form, a);
    expect(p.total).toBe(form.steps.length);
    expect(p.steps.find((s) => s.id === 'opening')!.done).toBe(true);
    const sections = assemble(form, a);
    expect(sections.map((s) => s.id)).toEqual(form.steps.map((s) => s.id));
    expect(sections.find((s) => s.id === 'discovery')!.items[0]!.text).toEqual(['What happens today?', 'Who decides?']);
    expect(sections.find((s) => s.id === 'ask')!.items).toEqual([]);
  });

  it('counts business days, skipping weekends', () => {
    expect(addBusinessDays(new Date('2026-11-27T10:00:00Z'), 3).toISOString()).toBe('2026-12-02T10:00:00.000Z'); // Fri → Wed
    expect(addBusinessDays(new Date('2026-11-24T10:00:00Z'), 3).toISOString()).toBe('2026-11-27T10:00:00.000Z'); // Tue → Fri
  });
});
