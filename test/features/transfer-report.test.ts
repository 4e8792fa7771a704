import { Types } from 'mongoose';
import { describe, expect, it } from 'vitest';
import { toCsv } from '../../src/http/csv.js';
import { turnaroundLabel } from '../../src/features/transfer/report-pages.js';
import { managerRows, median, ratio, repRows, turnarounds, type ReportSubmission } from '../../src/features/transfer/report.js';

/** The transfer report's computation, on hand-built submissions (no database). */
const H = 3_600_000;
const DAY = 24 * H;
const now = new Date('2026-03-20T12:00:00Z');
const at = (hoursBeforeNow: number) => new Date(now.getTime() - hoursBeforeNow * H);

const mgrA = new Types.ObjectId();
const mgrB = new Types.ObjectId();
const rep1 = new Types.ObjectId();
const rep2 = new Types.ObjectId();
const rep3 = new Types.ObjectId();
const names = new Map([
  [String(mgrA), 'Alex Manager'],
  [String(mgrB), 'Blair Manager'],
  [String(rep1), 'Rita Rep'],
  [String(rep2), 'Sam Rep'],
  [String(rep3), 'Tom Rep'],
]);

const repVersion = (n: number, hoursAgo: number, by = rep1) => ({ n, answers: {}, by, kind: 'rep' as const, at: at(hoursAgo) });
const decision = (kind: 'approved' | 'returned' | 'edited-approved', version: number, hoursAgo: number, by = mgrA) => ({ kind, version, by, at: at(hoursAgo), comments: {}, note: '' });

/** returned after 10 h, resubmitted, approved 20 h after the second version */
const returnedThenApproved: ReportSubmission = {
  _id: new Types.ObjectId(),
  repId: rep1,
  managerId: mgrA,
  status: 'approved',
  versions: [repVersion(1, 200), repVersion(2, 150)],
  decisions: [decision('returned', 1, 190), decision('approved', 2, 130)],
  submittedAt: at(150),
  reviewDueAt: at(80),
  approvedAt: at(130),
  coaching: { metAt: '2026-03-10', observedAt: '2026-03-12' },
  results: { metWithManager: true, calls: 50, contacts: 20, presentations: 8, appointments: 5 },
  resultsLoggedAt: at(20),
  resultsConfirmedAt: at(10),
};
/** edited and approved 4 h after the rep's only version (the decision names the manager's version 2) */
const editedApproved: ReportSubmission = {
  _id: new Types.ObjectId(),
  repId: rep2,
  managerId: mgrA,
  status: 'approved',
  versions: [repVersion(1, 100, rep2), { n: 2, answers: {}, by: mgrA, kind: 'manager-edit', at: at(96) }],
  decisions: [decision('edited-approved', 2, 96)],
  submittedAt: at(100),
  reviewDueAt: at(30),
  approvedAt: at(96),
  coaching: { metAt: '2026-03-15' },
  results: { metWithManager: false, calls: 0, contacts: 0, presentations: 0, appointments: 0 },
};
/** waiting 5 days, past its due date */
const overdue: ReportSubmission = {
  _id: new Types.ObjectId(),
  repId: rep3,
  managerId: mgrB,
  status: 'submitted',
  versions: [repVersion(1, 5 * 24, rep3)],
  decisions: [],
  submittedAt: at(5 * 24),
  reviewDueAt: at(24),
};
/** waiting 1 day, not due yet */
const waitingFresh: ReportSubmission = { ...overdue, _id: new Types.ObjectId(), repId: rep2, versions: [repVersion(1, 24, rep2)], submittedAt: at(24), reviewDueAt: new Date(now.getTime() + 2 * DAY) };

const subs = [returnedThenApproved, editedApproved, overdue, waitingFresh];

describe('median', () => {
  it('is the middle value of an odd count and the mean of the middle two of an even count, in any order', () => {
    expect(median([])).toBeNull();
    expect(median([7])).toBe(7);
    expect(median([9, 1, 5])).toBe(5);
    expect(median([10, 2, 4, 8])).toBe(6);
  });
});

describe('ratio', () => {
  it('divides, and has no value when the denominator is 0 or missing', () => {
    expect(ratio(20, 50)).toBe(0.4);
    expect(ratio(0, 0)).toBeNull();
    expect(ratio(3, null)).toBeNull();
    expect(ratio(null, 4)).toBeNull();
  });
});

describe('turnarounds', () => {
  it('counts each answered version of a returned-and-resubmitted submission, from its own submission time', () => {
    expect(turnarounds(returnedThenApproved)).toEqual([
      { by: String(mgrA), version: 1, ms: 10 * H },
      { by: String(mgrA), version: 2, ms: 20 * H },
    ]);
  });

  it("measures an edit-and-approve from the rep's version it answered", () => {
    expect(turnarounds(editedApproved)).toEqual([{ by: String(mgrA), version: 1, ms: 4 * H }]);
  });

  it('has none for a submission without decisions', () => {
    expect(turnarounds(overdue)).toEqual([]);
  });
});

describe('manager rows', () => {
  it('counts decisions, submissions reviewed, the median turnaround, waiting, overdue and coaching per manager', () => {
    const rows = managerRows(subs, names, { now, waitingDays: 3 });
    expect(rows.map((r) => r.name)).toEqual(['Alex Manager', 'Blair Manager']);
    const [a, b] = rows;
    // turnarounds 10 h, 20 h and 4 h → median 10 h
    expect(a).toMatchObject({ decisions: 3, reviewed: 2, medianTurnaroundHours: 10, pending: 0, overdue: 0, repsWaiting: 0, meetings: 2, observations: 1 });
    expect(b).toMatchObject({ decisions: 0, reviewed: 0, medianTurnaroundHours: null, pending: 2, overdue: 1, repsWaiting: 1, meetings: 0, observations: 0 });
  });

  it('counts reps waiting more than N days with the N asked for', () => {
    expect(managerRows(subs, names, { now, waitingDays: 0 })[1]!.repsWaiting).toBe(2);
    expect(managerRows(subs, names, { now, waitingDays: 6 })[1]!.repsWaiting).toBe(0);
  });

  it('takes the mean of the middle two turnarounds for an even count', () => {
    const [a] = managerRows([returnedThenApproved], names, { now, waitingDays: 3 });
    expect(a!.medianTurnaroundHours).toBe(15);
    expect(turnaroundLabel(15)).toBe('15.0 h');
    expect(turnaroundLabel(72)).toBe('3.0 d');
    expect(turnaroundLabel(null)).toBe('—');
  });
});

describe('rep rows', () => {
  const rows = repRows(subs, { names, now, where: () => ({ curriculum: 'Sales onboarding', module: 'Call script' }) });
  const of = (s: ReportSubmission) => rows.find((r) => r.submissionId === String(s._id))!;

  it('shows status, submitted versions, approval, results and conversion ratios', () => {
    expect(of(returnedThenApproved)).toMatchObject({
      repName: 'Rita Rep',
      managerName: 'Alex Manager',
      status: 'approved',
      submittedVersions: 2,
      approvedAt: returnedThenApproved.approvedAt,
      calls: 50,
      contacts: 20,
      presentations: 8,
      appointments: 5,
      metWithManager: true,
      contactRate: 0.4,
      appointmentRate: 0.25,
      resultsConfirmedAt: returnedThenApproved.resultsConfirmedAt,
      overdue: false,
    });
    // the manager's edit is not a submitted version
    expect(of(editedApproved).submittedVersions).toBe(1);
  });

  it('has no ratio when the denominator is 0, and no results before they are logged', () => {
    expect(of(editedApproved)).toMatchObject({ calls: 0, contactRate: null, appointmentRate: null, metWithManager: false });
    expect(of(overdue)).toMatchObject({ calls: null, contacts: null, contactRate: null, metWithManager: null, resultsConfirmedAt: null, overdue: true });
    expect(of(waitingFresh).overdue).toBe(false);
  });

  it('sorts by rep name', () => {
    expect(rows.map((r) => r.repName)).toEqual(['Rita Rep', 'Sam Rep', 'Sam Rep', 'Tom Rep']);
  });

  it('exports names that look like formulas as text', () => {
    expect(toCsv(['rep'], [['=HYPERLINK("x")']])).toBe('rep\r\n"\'=HYPERLINK(""x"")"\r\n');
  });
});
