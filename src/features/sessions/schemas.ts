import { z } from 'zod';
import { objectId } from '../accounts/schemas.js';
import type { AttendanceEntry, ScheduleInput } from './service.js';

/**
 * Form input for live sessions. The shapes stay loose (strings, bounded in length) so that the
 * service can check everything at once and name every problem; these only keep out what is not a
 * string (`{"$ne": …}`) and absurd sizes.
 */
const field = (max: number) => z.string().trim().max(max, `must be at most ${max} characters`).optional().default('');

export const scheduleForm = z.object({
  /** "<curriculumId>/<moduleId>" from the grouped module select */
  module: field(200),
  title: field(160),
  startsAt: field(40),
  endsAt: field(40),
  timeZone: field(64),
  capacity: field(10),
  location: field(300),
  meetingUrl: field(600),
  instructorId: field(24),
  notes: field(4000),
});
export type ScheduleForm = z.infer<typeof scheduleForm>;

export function scheduleInputOf(form: ScheduleForm): ScheduleInput {
  const [curriculumId = '', moduleId = ''] = form.module.split('/');
  return {
    curriculumId,
    moduleId,
    title: form.title,
    startsAt: form.startsAt,
    endsAt: form.endsAt,
    timeZone: form.timeZone,
    capacity: form.capacity === '' ? NaN : Number(form.capacity),
    location: form.location,
    meetingUrl: form.meetingUrl,
    instructorId: form.instructorId,
    notes: form.notes,
  };
}

export const bookForm = z.object({ enrollmentId: objectId });
export const leaveForm = z.object({ enrollmentId: z.union([objectId, z.literal('')]).optional() });

const formBody = z.record(z.string(), z.unknown());

/** `status.<userId>` radio groups → attendance entries. */
export function attendanceEntriesOf(body: unknown): AttendanceEntry[] {
  const parsed = formBody.safeParse(body ?? {});
  if (!parsed.success) return [];
  const entries: AttendanceEntry[] = [];
  for (const [key, value] of Object.entries(parsed.data)) {
    const m = /^status\.([a-f0-9]{24})$/i.exec(key);
    if (m && typeof value === 'string') entries.push({ userId: m[1]!, status: value as AttendanceEntry['status'] });
  }
  return entries;
}

/** `score.<criterionId>` number inputs and `feedback` → what scoreRubric takes. An empty box is NaN (reported as required). */
export function rubricInputOf(body: unknown): { scores: Record<string, number>; feedback: string; raw: Record<string, string> } {
  const parsed = formBody.safeParse(body ?? {});
  const data = parsed.success ? parsed.data : {};
  const scores: Record<string, number> = {};
  const raw: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) {
    const m = /^score\.([a-z0-9][a-z0-9-]{0,63})$/.exec(key);
    if (!m || typeof value !== 'string') continue;
    raw[m[1]!] = value.slice(0, 20);
    scores[m[1]!] = value.trim() === '' ? NaN : Number(value);
  }
  const feedback = typeof data.feedback === 'string' ? data.feedback : '';
  return { scores, feedback, raw };
}
