import { createHash } from 'node:crypto';
import type { ModuleDef } from '../engine/curriculum.js';
import type { CurriculumContent } from './validate.js';

/** JSON with object keys sorted, so equal content always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value as object)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The version's identity: a hash of everything the version holds. */
export function contentHash(content: CurriculumContent): string {
  return createHash('sha256').update(canonical(content)).digest('hex');
}

const MODULE_FIELDS: [keyof ModuleDef, string][] = [
  ['title', 'title'],
  ['phase', 'phase'],
  ['modality', 'modality'],
  ['minutes', 'minutes'],
  ['objectives', 'objectives'],
  ['prerequisites', 'prerequisites'],
  ['reviews', 'reviews'],
  ['startDay', 'start day'],
  ['dueDay', 'due day'],
  ['completion', 'completion rule'],
  ['mastery', 'mastery gates'],
  ['delay', 'delay'],
  ['assessment', 'assessment'],
  ['form', 'form'],
  ['rubric', 'rubric'],
  ['body', 'lesson text'],
];

/** What changed between two versions, one line each: `+` added, `-` removed, `~` changed. */
export function describeChanges(previous: CurriculumContent | undefined, next: CurriculumContent): string[] {
  if (!previous) return [`+ first version: ${next.definition.modules.length} modules, ${Object.keys(next.banks).length} banks, ${Object.keys(next.forms).length} forms`];
  const lines: string[] = [];
  const p = previous.definition;
  const n = next.definition;
  for (const key of ['title', 'description', 'masteryThreshold'] as const) {
    if (canonical(p[key]) !== canonical(n[key])) lines.push(`~ curriculum ${key}`);
  }
  if (canonical(p.phases) !== canonical(n.phases)) lines.push('~ phases');
  const before = new Map(p.modules.map((m) => [m.id, m]));
  const after = new Map(n.modules.map((m) => [m.id, m]));
  for (const m of n.modules) {
    const old = before.get(m.id);
    if (!old) lines.push(`+ module ${m.id} '${m.title}' (${m.modality})`);
    else {
      const fields = MODULE_FIELDS.filter(([k]) => canonical(old[k]) !== canonical(m[k])).map(([, label]) => label);
      if (fields.length) lines.push(`~ module ${m.id}: ${fields.join(', ')}`);
    }
  }
  for (const m of p.modules) if (!after.has(m.id)) lines.push(`- module ${m.id} '${m.title}'`);
  const shared = (list: ModuleDef[]) => list.filter((m) => before.has(m.id) && after.has(m.id)).map((m) => m.id);
  if (canonical(shared(p.modules)) !== canonical(shared(n.modules))) lines.push('~ module order');
  for (const [kind, prev, nxt] of [
    ['bank', previous.banks, next.banks],
    ['form', previous.forms, next.forms],
  ] as const) {
    for (const id of Object.keys(nxt)) {
      if (!(id in prev)) lines.push(`+ ${kind} ${id}`);
      else if (canonical(prev[id]) !== canonical(nxt[id])) lines.push(`~ ${kind} ${id}`);
    }
    for (const id of Object.keys(prev)) if (!(id in nxt)) lines.push(`- ${kind} ${id}`);
  }
  return lines;
}
