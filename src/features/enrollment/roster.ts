import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { isCalendarDate } from '../../engine/calendar.js';

/**
 * CSV rosters: `email,name,manager_email,cohort,start_date`, one rep per row. Parsing and checking
 * are pure; the service looks the people up and applies a roster only when every row is good.
 */
export const ROSTER_COLUMNS = ['email', 'name', 'manager_email', 'cohort', 'start_date'] as const;
export const MAX_ROSTER_ROWS = 5000;

export interface RosterRow {
  /** the line in the file (the header is line 1) */
  line: number;
  email: string;
  name: string;
  managerEmail: string;
  cohort: string;
  startDate: string;
}

export type RowAction = 'create rep and enroll' | 'enroll' | 'already enrolled';

export interface CheckedRow extends RosterRow {
  action: RowAction | null;
  problems: string[];
}

export interface RosterLookups {
  /** existing users by lowercase email */
  users: Map<string, { role: string; active: boolean; managerEmail: string | null }>;
  /** emails of active managers */
  managers: Set<string>;
  /** emails of reps already enrolled on this curriculum */
  enrolled: Set<string>;
}

const emailSchema = z.email();

export function parseRoster(text: string): { rows: RosterRow[]; problems: string[] } {
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text.replace(/^\uFEFF/, ''), {
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      skip_empty_lines: true,
      trim: true,
      info: true,
      relax_column_count: false,
    }) as typeof records;
  } catch (err) {
    return { rows: [], problems: [`The file is not valid CSV: ${(err as Error).message}`] };
  }
  const header = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0]!.split(',').map((h) => h.trim().toLowerCase());
  const missing = ROSTER_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length) return { rows: [], problems: [`Line 1: missing column(s) ${missing.join(', ')} (expected ${ROSTER_COLUMNS.join(',')})`] };
  if (!records.length) return { rows: [], problems: ['The file has a header but no rows.'] };
  if (records.length > MAX_ROSTER_ROWS) return { rows: [], problems: [`The file has ${records.length} rows; import at most ${MAX_ROSTER_ROWS} at a time.`] };
  return {
    rows: records.map(({ record, info }) => ({
      line: info.lines,
      email: (record.email ?? '').toLowerCase(),
      name: record.name ?? '',
      managerEmail: (record.manager_email ?? '').toLowerCase(),
      cohort: record.cohort ?? '',
      startDate: record.start_date ?? '',
    })),
    problems: [],
  };
}

/** Every problem of every row, and what importing would do with each good one. */
export function checkRoster(rows: RosterRow[], lookups: RosterLookups): CheckedRow[] {
  const seen = new Map<string, number>();
  return rows.map((row) => {
    const problems: string[] = [];
    if (!emailSchema.safeParse(row.email).success) problems.push(`email "${row.email}" is not an email address`);
    if (seen.has(row.email)) problems.push(`${row.email} is also on line ${seen.get(row.email)}`);
    else seen.set(row.email, row.line);
    if (!row.name) problems.push('name is empty');
    if (row.name.length > 120) problems.push('name is longer than 120 characters');
    if (!lookups.managers.has(row.managerEmail)) problems.push(`manager_email "${row.managerEmail}" is not an active manager`);
    if (!isCalendarDate(row.startDate)) problems.push(`start_date "${row.startDate}" is not a date written YYYY-MM-DD`);
    if (row.cohort.length > 80) problems.push('cohort is longer than 80 characters');
    const existing = lookups.users.get(row.email);
    if (existing) {
      if (existing.role !== 'rep') problems.push(`${row.email} is a ${existing.role}; only reps are enrolled`);
      else if (!existing.active) problems.push(`${row.email} is inactive`);
      else if (existing.managerEmail !== row.managerEmail) {
        problems.push(`${row.email} reports to ${existing.managerEmail ?? 'nobody'}, not ${row.managerEmail}; change the manager on their user page first`);
      }
    }
    const action: RowAction | null = problems.length ? null : !existing ? 'create rep and enroll' : lookups.enrolled.has(row.email) ? 'already enrolled' : 'enroll';
    return { ...row, action, problems };
  });
}
