import type { Request, Response } from 'express';
import { Conflict, GateLocked, ValidationFailed } from '../../errors.js';
import { fieldErrors, renderFormProblem } from '../../http/forms.js';
import { parse } from '../../http/middleware/validate.js';
import { route, type RouteDef } from '../../http/route.js';
import { flash } from '../../http/views.js';
import { actorOf, type AccountService } from '../accounts/service.js';
import type { CurriculumService } from '../curricula/service.js';
import type { EnrollmentService } from '../enrollment/service.js';
import type { SessionSummary } from './presenters.js';
import { attendanceEntriesOf, bookForm, leaveForm, rubricInputOf, scheduleForm, scheduleInputOf, type ScheduleForm } from './schemas.js';
import type { LiveSessionService, SchedulingOptions, SessionDetail } from './service.js';
import { timeZoneChoices } from './time.js';

export interface SessionPageDeps {
  sessions: LiveSessionService;
  enrollments: EnrollmentService;
  accounts: AccountService;
  curricula: CurriculumService;
}

/** The page of one module of one enrollment: where a rep books sessions (the lead's learning pages). */
export function modulePath(enrollmentId: string, moduleId: string): string {
  return `/learn/${encodeURIComponent(enrollmentId)}/modules/${encodeURIComponent(moduleId)}`;
}

/** The service names curriculumId and moduleId; on the form both are the one module select. */
function onModuleSelect(err: unknown): unknown {
  if (!(err instanceof ValidationFailed)) return err;
  return new ValidationFailed(err.problems.map((p) => (p.path === 'curriculumId' || p.path === 'moduleId' ? { ...p, path: 'module' } : p)), err.message);
}

const TIME_ZONES = timeZoneChoices();

// ---- the scheduling form --------------------------------------------------------------------------

function scheduleFormModel(options: SchedulingOptions, values: Partial<ScheduleForm>) {
  return {
    title: 'Schedule a session',
    values,
    curricula: options.curricula.map((c) => ({
      title: c.title,
      modules: c.modules.map((m) => {
        const value = `${c.id}/${m.id}`;
        return { value, title: m.title, modalityLabel: m.modality === 'vilt' ? 'virtual' : 'classroom', selected: value === values.module };
      }),
    })),
    instructors: options.instructors.map((u) => ({ value: u.id, label: `${u.name} (${u.email})`, selected: u.id === values.instructorId })),
    timeZones: TIME_ZONES.map((z) => ({ value: z, selected: z === values.timeZone })),
    hasModules: options.curricula.length > 0,
  };
}

// ---- one session ----------------------------------------------------------------------------------

const ATTENDANCE_CHOICES = [
  { value: 'attended', label: 'Attended' },
  { value: 'partial', label: 'Partly attended' },
  { value: 'absent', label: 'Absent' },
] as const;

interface DetailState {
  errors?: Record<string, string>;
  /** the rubric form a problem belongs to, with what was typed */
  rubricFor?: { userId: string; raw: Record<string, string>; feedback: string };
  formError?: string;
}

function detailModel(d: SessionDetail, state: DetailState = {}) {
  const errors = state.errors ?? {};
  const open = d.state === 'in_progress' || d.state === 'ended';
  const booked = d.roster.filter((r) => r.status === 'booked');
  const attendees = booked.filter((r) => r.attendance && r.attendance.status !== 'absent');
  return {
    title: d.title,
    session: d,
    stateLabel: { scheduled: 'Scheduled', in_progress: 'In progress', ended: 'Ended', cancelled: 'Cancelled' }[d.state],
    booked: booked.map((r) => ({
      ...r,
      attendanceLabel: r.attendance ? ATTENDANCE_CHOICES.find((c) => c.value === r.attendance!.status)?.label : null,
      scoreLabel: r.attendance?.rubricPercent != null ? `${r.attendance.rubricPercent}%` : null,
    })),
    waitlist: d.roster.filter((r) => r.status === 'waitlisted'),
    left: d.roster.filter((r) => r.status === 'cancelled'),
    canMarkAttendance: open && booked.length > 0,
    attendanceNotYet: d.state === 'scheduled' && booked.length > 0,
    attendanceError: errors.attendance,
    attendance: booked.map((r) => ({
      userId: r.userId,
      name: r.name,
      errorId: `att-${r.userId}`,
      error: errors[`attendance.${r.userId}`],
      choices: ATTENDANCE_CHOICES.map((c) => ({ ...c, id: `att-${r.userId}-${c.value}`, checked: r.attendance?.status === c.value })),
    })),
    rubrics: attendees
      .filter((r) => r.rubric)
      .map((r) => {
        const retyped = state.rubricFor?.userId === r.userId ? state.rubricFor : undefined;
        const fieldErrors = retyped ? errors : {};
        const max = r.rubric!.reduce((sum, c) => sum + c.max, 0);
        return {
          userId: r.userId,
          name: r.name,
          partial: r.attendance!.status === 'partial',
          percent: r.attendance!.rubricPercent,
          scored: r.attendance!.rubricPercent !== null,
          passed: r.rubricPass === null || r.attendance!.rubricPercent === null ? null : r.attendance!.rubricPercent >= r.rubricPass,
          rubricPass: r.rubricPass,
          maxPoints: max,
          feedbackId: `feedback-${r.userId}`,
          feedback: retyped ? retyped.feedback : r.attendance!.feedback,
          feedbackError: fieldErrors.feedback,
          criteria: r.rubric!.map((c) => ({
            ...c,
            inputId: `score-${r.userId}-${c.id}`,
            name: `score.${c.id}`,
            value: retyped ? (retyped.raw[c.id] ?? '') : (r.attendance!.rubricScores?.[c.id] ?? ''),
            error: fieldErrors[`scores.${c.id}`],
          })),
        };
      }),
    canCancel: d.state === 'scheduled',
    formError: state.formError,
  };
}

function byState(list: SessionSummary[]) {
  return {
    upcoming: list.filter((s) => !s.past),
    recent: list.filter((s) => s.past && s.state !== 'cancelled').reverse(),
  };
}

export function sessionPageRoutes(deps: SessionPageDeps): RouteDef[] {
  const { sessions } = deps;

  const renderDetail = async (req: Request, res: Response, status: number, state: DetailState) => {
    const detail = await sessions.get(actorOf(req.user!), String(req.params.id));
    res.status(status).render('sessions/show', detailModel(detail, state));
  };

  /** A rep's request that the state refuses (locked, full, started): say why on the module page. */
  const backToModule = async (req: Request, res: Response, enrollmentId: string | undefined, err: unknown) => {
    if (!(err instanceof Conflict || err instanceof GateLocked)) throw err;
    flash(req, 'error', err instanceof GateLocked ? `${err.message} ${err.reasons.join(' ')}` : err.message);
    if (!enrollmentId) return res.redirect(303, '/');
    const { moduleId } = await sessions.moduleOf(String(req.params.id));
    res.redirect(303, modulePath(enrollmentId, moduleId));
  };

  return [
    // ---- trainers ----------------------------------------------------------------------------------
    route({
      method: 'get',
      path: '/sessions',
      kind: 'page',
      access: 'sessions.manage',
      handler: async (req, res) => {
        const { upcoming, recent } = byState(await sessions.upcoming(actorOf(req.user!), { recentDays: 14, includeCancelled: true }));
        res.render('sessions/list', { title: 'Live sessions', upcoming, recent });
      },
    }),
    route({
      method: 'get',
      path: '/sessions/new',
      kind: 'page',
      access: 'sessions.manage',
      handler: async (req, res) => {
        const options = await sessions.schedulingOptions(actorOf(req.user!));
        const me = options.instructors.find((i) => i.id === req.user!.id);
        res.render('sessions/new', scheduleFormModel(options, { timeZone: req.user!.timezone || 'UTC', capacity: '12', instructorId: me?.id ?? '' }));
      },
    }),
    route({
      method: 'post',
      path: '/sessions',
      kind: 'page',
      access: 'sessions.manage',
      handler: async (req, res) => {
        const actor = actorOf(req.user!);
        const raw = req.body as Record<string, unknown>;
        const typed = Object.fromEntries(Object.entries(raw).filter(([k, v]) => k !== '_csrf' && typeof v === 'string')) as Partial<ScheduleForm>;
        try {
          const created = await sessions.schedule(actor, scheduleInputOf(parse(scheduleForm, req.body)));
          flash(req, 'success', `Scheduled '${created.title}' on ${created.when}.`);
          res.redirect(303, `/sessions/${created.id}`);
        } catch (err) {
          if (!(err instanceof ValidationFailed || err instanceof Conflict)) throw err;
          renderFormProblem(res, 'sessions/new', scheduleFormModel(await sessions.schedulingOptions(actor), typed), onModuleSelect(err));
        }
      },
    }),
    route({
      method: 'get',
      path: '/sessions/:id',
      kind: 'page',
      access: 'sessions.manage',
      handler: (req, res) => renderDetail(req, res, 200, {}),
    }),
    route({
      method: 'post',
      path: '/sessions/:id/attendance',
      kind: 'page',
      access: 'sessions.manage',
      handler: async (req, res) => {
        const id = String(req.params.id);
        try {
          const { marked } = await sessions.markAttendance(actorOf(req.user!), id, attendanceEntriesOf(req.body));
          flash(req, 'success', `Attendance saved for ${marked} ${marked === 1 ? 'rep' : 'reps'}.`);
          res.redirect(303, `/sessions/${id}`);
        } catch (err) {
          if (err instanceof ValidationFailed) return renderDetail(req, res, 422, { errors: fieldErrors(err), formError: 'Please correct the highlighted attendance.' });
          if (err instanceof Conflict) return renderDetail(req, res, 409, { formError: err.message });
          throw err;
        }
      },
    }),
    route({
      method: 'post',
      path: '/sessions/:id/rubric/:userId',
      kind: 'page',
      access: 'sessions.manage',
      handler: async (req, res) => {
        const id = String(req.params.id);
        const userId = String(req.params.userId);
        const input = rubricInputOf(req.body);
        try {
          const r = await sessions.scoreRubric(actorOf(req.user!), id, userId, input.scores, input.feedback);
          const verdict = r.passed === null ? '' : r.passed ? ' — a pass' : ' — below the pass mark';
          flash(req, 'success', `Score saved: ${r.points} of ${r.maxPoints} points (${r.rubricPercent}%)${verdict}.`);
          res.redirect(303, `/sessions/${id}#rubric-${userId}`);
        } catch (err) {
          if (err instanceof ValidationFailed) {
            return renderDetail(req, res, 422, { errors: fieldErrors(err), rubricFor: { userId, raw: input.raw, feedback: input.feedback }, formError: 'Please correct the highlighted scores.' });
          }
          if (err instanceof Conflict) return renderDetail(req, res, 409, { formError: err.message });
          throw err;
        }
      },
    }),
    route({
      method: 'post',
      path: '/sessions/:id/cancel',
      kind: 'page',
      access: 'sessions.manage',
      handler: async (req, res) => {
        const id = String(req.params.id);
        try {
          const { invites } = await sessions.cancelSession(actorOf(req.user!), id);
          const n = invites.length;
          flash(req, 'success', n ? `Session cancelled. ${n} ${n === 1 ? 'rep was' : 'reps were'} taken off it and can book another session.` : 'Session cancelled.');
        } catch (err) {
          if (!(err instanceof Conflict)) throw err;
          flash(req, 'error', err.message);
        }
        res.redirect(303, `/sessions/${id}`);
      },
    }),

    // ---- reps --------------------------------------------------------------------------------------
    route({
      method: 'post',
      path: '/sessions/:id/book',
      kind: 'page',
      access: 'learning.take',
      handler: async (req, res) => {
        const { enrollmentId } = parse(bookForm, req.body);
        try {
          const r = await sessions.book(actorOf(req.user!), enrollmentId, String(req.params.id));
          const what = `'${r.session.title}' on ${r.session.when}`;
          flash(
            req,
            r.already ? 'info' : 'success',
            r.seat.status === 'booked'
              ? `${r.already ? 'You already have a seat on' : 'You are booked on'} ${what}. Add it to your calendar with the invite link.`
              : `${what} is full: you are number ${r.seat.waitlistPosition} on the waitlist. If a seat frees up, it is yours automatically.`,
          );
          res.redirect(303, modulePath(enrollmentId, r.session.moduleId));
        } catch (err) {
          await backToModule(req, res, enrollmentId, err);
        }
      },
    }),
    route({
      method: 'post',
      path: '/sessions/:id/leave',
      kind: 'page',
      access: 'learning.take',
      handler: async (req, res) => {
        const { enrollmentId } = parse(leaveForm, req.body);
        try {
          const r = await sessions.cancel(actorOf(req.user!), String(req.params.id));
          flash(req, 'success', `You have left '${r.session.title}' on ${r.session.when}. Book another session when it suits you.`);
          res.redirect(303, modulePath(r.enrollmentId, r.moduleId));
        } catch (err) {
          await backToModule(req, res, enrollmentId || undefined, err);
        }
      },
    }),
    route({
      method: 'get',
      path: '/sessions/:id/invite.ics',
      kind: 'page',
      access: 'learning.take',
      handler: async (req, res) => {
        const ics = await sessions.invite(String(req.params.id), req.user!.id);
        const method = /^METHOD:(\w+)/m.exec(ics)?.[1] ?? 'PUBLISH';
        res.attachment('onramp-session.ics');
        res.set('Content-Type', `text/calendar; charset=utf-8; method=${method}`);
        res.set('Cache-Control', 'no-store');
        res.send(ics);
      },
    }),
  ];
}
