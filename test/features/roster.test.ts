import { describe, expect, it } from 'vitest';
import { checkRoster, parseRoster, type RosterLookups } from '../../src/features/enrollment/roster.js';

const lookups = (): RosterLookups => ({
  users: new Map([
    ['rep1@x.com', { role: 'rep', active: true, managerEmail: 'm1@x.com' }],
    ['boss@x.com', { role: 'trainer', active: true, managerEmail: null }],
  ]),
  managers: new Set(['m1@x.com', 'm2@x.com']),
  enrolled: new Set(['rep1@x.com']),
});

describe('parseRoster', () => {
  it('reads rows with their line numbers, whatever the column order and case', () => {
    const { rows, problems } = parseRoster('Name,EMAIL,manager_email,cohort,start_date\nNew Rep, New@X.com ,m1@x.com,Jan,2027-01-04\n\nOther,o@x.com,m2@x.com,Jan,2027-01-04\n');
    expect(problems).toEqual([]);
    expect(rows).toEqual([
      { line: 2, email: 'new@x.com', name: 'New Rep', managerEmail: 'm1@x.com', cohort: 'Jan', startDate: '2027-01-04' },
      { line: 4, email: 'o@x.com', name: 'Other', managerEmail: 'm2@x.com', cohort: 'Jan', startDate: '2027-01-04' },
    ]);
  });

  it('names missing columns', () => {
    expect(parseRoster('email,name\na@x.com,A\n').problems).toEqual(['Line 1: missing column(s) manager_email, cohort, start_date (expected email,name,manager_email,cohort,start_date)']);
  });

  it('refuses malformed CSV and empty files with a message', () => {
    expect(parseRoster('email,name,manager_email,cohort,start_date\n"unclosed,A,m@x.com,c,2027-01-01\n').problems[0]).toMatch(/^The file is not valid CSV/);
    expect(parseRoster('email,name,manager_email,cohort,start_date\n').problems).toEqual(['The file has a header but no rows.']);
  });
});

describe('checkRoster', () => {
  const header = 'email,name,manager_email,cohort,start_date\n';
  const check = (body: string) => checkRoster(parseRoster(header + body).rows, lookups());

  it('says what each good row will do', () => {
    const rows = check('new@x.com,New,m1@x.com,Jan,2027-01-04\nrep1@x.com,Rep One,m1@x.com,Jan,2027-01-04\n');
    expect(rows.map((r) => r.action)).toEqual(['create rep and enroll', 'already enrolled']);
    expect(rows.every((r) => r.problems.length === 0)).toBe(true);
  });

  it.each([
    ['not-an-email,X,m1@x.com,c,2027-01-04', 'email "not-an-email" is not an email address'],
    ['a@x.com,,m1@x.com,c,2027-01-04', 'name is empty'],
    ['a@x.com,A,nobody@x.com,c,2027-01-04', 'manager_email "nobody@x.com" is not an active manager'],
    ['a@x.com,A,m1@x.com,c,2027-02-30', 'start_date "2027-02-30" is not a date written YYYY-MM-DD'],
    ['a@x.com,A,m1@x.com,c,04/01/2027', 'start_date "04/01/2027" is not a date written YYYY-MM-DD'],
    ['boss@x.com,Boss,m1@x.com,c,2027-01-04', 'boss@x.com is a trainer; only reps are enrolled'],
    ['rep1@x.com,Rep One,m2@x.com,c,2027-01-04', 'rep1@x.com reports to m1@x.com, not m2@x.com; change the manager on their user page first'],
  ])('%s → %s', (row, problem) => {
    const [r] = check(`${row}\n`);
    expect(r!.problems).toContain(problem);
    expect(r!.action).toBeNull();
  });

  it('flags a repeated email on the later line', () => {
    const rows = check('a@x.com,A,m1@x.com,c,2027-01-04\nb@x.com,B,m1@x.com,c,2027-01-04\na@x.com,A2,m1@x.com,c,2027-01-04\n');
    expect(rows[2]!.problems).toEqual(['a@x.com is also on line 2']);
    expect(rows[0]!.problems).toEqual([]);
  });
});
