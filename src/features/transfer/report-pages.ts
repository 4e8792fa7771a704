import type { Request } from 'express';
import { z } from 'zod';
import type { Container } from '../../container.js';
import { toCsv } from '../../http/csv.js';
import { parse } from '../../http/middleware/validate.js';
import { route, type RouteDef } from '../../http/route.js';
import { actorOf } from '../accounts/service.js';
import { TransferReport, type ManagerRow, type RepRow, type TransferReportData } from './report.js';

export const DEFAULT_WAITING_DAYS = 3;

const blankToUndefined = (v: unknown) => (v === '' ? undefined : v);
const reportQuery = z
  .object({
    curriculum: z.preprocess(blankToUndefined, z.string().trim().max(80).optional()),
    waiting: z.preprocess(blankToUndefined, z.coerce.number().int('must be a whole number of days').min(1).max(365).optional()),
  })
  .strict();

const STATUS_LABELS: Record<RepRow['status'], string> = { draft: 'draft', submitted: 'waiting for review', returned: 'changes asked', approved: 'approved' };
const day = (d: Date | null) => (d ? new Date(d).toISOString().slice(0, 10) : '');
const percent = (x: number | null) => (x === null ? '—' : `${Math.round(x * 100)}%`);
const decimal = (x: number | null, digits = 2) => (x === null ? '' : x.toFixed(digits));
const iso = (d: Date | null) => (d ? new Date(d).toISOString() : '');
const num = (x: number | null) => (x === null ? '' : x);
const yesNo = (x: boolean | null) => (x === null ? '' : x ? 'yes' : 'no');

/** "5.5 h" under two days, "3.2 d" from then on; "—" without decisions. */
export function turnaroundLabel(hours: number | null): string {
  if (hours === null) return '—';
  return hours < 48 ? `${hours.toFixed(1)} h` : `${(hours / 24).toFixed(1)} d`;
}

/** Trainers' transfer report: manager participation and per-rep results, with CSV exports. */
export function transferReportRoutes(c: Container): RouteDef[] {
  const report = new TransferReport(c.models, c.curricula);
  const load = async (req: Request): Promise<{ data: TransferReportData; curriculumId?: string; waitingDays: number }> => {
    const q = parse(reportQuery, req.query, 'query');
    const waitingDays = q.waiting ?? DEFAULT_WAITING_DAYS;
    const data = await report.load(actorOf(req.user!), { waitingDays, ...(q.curriculum ? { curriculumId: q.curriculum } : {}) });
    return { data, waitingDays, ...(q.curriculum ? { curriculumId: q.curriculum } : {}) };
  };
  const suffix = (curriculumId: string | undefined) => (curriculumId ? `-${curriculumId.replace(/[^\w-]/g, '_')}` : '');

  return [
    route({
      method: 'get',
      path: '/reports/transfer',
      kind: 'page',
      access: 'assessments.analyze',
      handler: async (req, res) => {
        const { data, curriculumId, waitingDays } = await load(req);
        const qs = new URLSearchParams({ ...(curriculumId ? { curriculum: curriculumId } : {}), waiting: String(waitingDays) }).toString();
        res.render('transfer/report', {
          title: 'Transfer report',
          waitingDays,
          qs,
          curricula: data.curricula.map((x) => ({ ...x, selected: x.id === curriculumId })),
          totals: {
            pending: data.managers.reduce((n, m) => n + m.pending, 0),
            overdue: data.managers.reduce((n, m) => n + m.overdue, 0),
            decisions: data.managers.reduce((n, m) => n + m.decisions, 0),
          },
          managers: data.managers.map((m: ManagerRow) => ({ ...m, turnaround: turnaroundLabel(m.medianTurnaroundHours) })),
          reps: data.reps.map((r) => ({
            ...r,
            statusLabel: STATUS_LABELS[r.status],
            submittedOn: day(r.submittedAt) || '—',
            dueOn: day(r.reviewDueAt),
            approvedOn: day(r.approvedAt) || '—',
            confirmedOn: day(r.resultsConfirmedAt),
            calls: r.calls ?? '—',
            contacts: r.contacts ?? '—',
            presentations: r.presentations ?? '—',
            appointments: r.appointments ?? '—',
            met: r.metWithManager === null ? '—' : r.metWithManager ? 'yes' : 'no',
            contactRate: percent(r.contactRate),
            appointmentRate: percent(r.appointmentRate),
          })),
        });
      },
    }),
    route({
      method: 'get',
      path: '/reports/transfer/managers.csv',
      kind: 'page',
      access: 'assessments.analyze',
      handler: async (req, res) => {
        const { data, curriculumId, waitingDays } = await load(req);
        res.type('text/csv').attachment(`transfer-managers${suffix(curriculumId)}.csv`);
        res.send(
          toCsv(
            ['manager', 'decisions', 'submissions_reviewed', 'median_turnaround_hours', 'pending', 'overdue', `reps_waiting_over_${waitingDays}_days`, 'meetings_recorded', 'observations_recorded'],
            data.managers.map((m) => [m.name, m.decisions, m.reviewed, decimal(m.medianTurnaroundHours, 1), m.pending, m.overdue, m.repsWaiting, m.meetings, m.observations]),
          ),
        );
      },
    }),
    route({
      method: 'get',
      path: '/reports/transfer/reps.csv',
      kind: 'page',
      access: 'assessments.analyze',
      handler: async (req, res) => {
        const { data, curriculumId } = await load(req);
        res.type('text/csv').attachment(`transfer-reps${suffix(curriculumId)}.csv`);
        res.send(
          toCsv(
            ['rep', 'manager', 'curriculum', 'module', 'status', 'submitted_versions', 'submitted_at', 'review_due_at', 'overdue', 'approved_at', 'calls', 'contacts', 'presentations', 'appointments', 'met_with_manager', 'contacts_per_call', 'appointments_per_contact', 'results_confirmed_at'],
            data.reps.map((r) => [
              r.repName,
              r.managerName,
              r.curriculum,
              r.module,
              r.status,
              r.submittedVersions,
              iso(r.submittedAt),
              iso(r.reviewDueAt),
              r.overdue ? 'yes' : 'no',
              iso(r.approvedAt),
              num(r.calls),
              num(r.contacts),
              num(r.presentations),
              num(r.appointments),
              yesNo(r.metWithManager),
              decimal(r.contactRate),
              decimal(r.appointmentRate),
              iso(r.resultsConfirmedAt),
            ]),
          ),
        );
      },
    }),
  ];
}
