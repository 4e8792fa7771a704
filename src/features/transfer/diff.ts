import { diffWords } from 'diff';
import type { FormFile } from '../../content/schema.js';
import type { Answers } from './answers.js';

/** Word-level changes from one text to another, as parts the template marks up (no HTML here). */
export function wordDiff(before: string, after: string): { text: string; added: boolean; removed: boolean }[] {
  return diffWords(before, after).map((p) => ({ text: p.value, added: Boolean(p.added), removed: Boolean(p.removed) }));
}

export const asText = (v: Answers[string] | undefined) => (v === undefined ? '' : Array.isArray(v) ? v.join('\n') : String(v));

/** The manager's edits against the rep's last version, field by field (only fields that changed). */
export function editsOf(form: FormFile, repVersion: Answers, managerVersion: Answers) {
  return form.steps.flatMap((s) =>
    s.fields
      .filter((f) => asText(repVersion[f.id]) !== asText(managerVersion[f.id]))
      .map((f) => ({ step: s.title, label: f.label, parts: wordDiff(asText(repVersion[f.id]), asText(managerVersion[f.id])) })),
  );
}

