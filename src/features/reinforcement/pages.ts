import type { Request, Response } from 'express';
import type { Container } from '../../container.js';
import { Conflict, ValidationFailed } from '../../errors.js';
import { fieldErrors } from '../../http/forms.js';
import { route, type RouteDef } from '../../http/route.js';
import { flash } from '../../http/views.js';
import { DEFAULT_SCHEDULE, type RepSchedule } from '../../engine/reinforcement.js';
import { actorOf } from '../accounts/service.js';
import { answersFromForm, formItems } from '../assessments/pages.js';
import { timeZoneChoices } from '../sessions/time.js';
import type { DeliveryView, RepOverview } from './service.js';

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** "Tue 10 Mar, 09:00" in the rep's time zone. */
export function whenIn(at: Date | null, timeZone: string): string | null {
  if (!at) return null;
  return new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at);
}

/** A delivery ready for the template: each question either as its form or as its feedback. */
export function presentDelivery(d: DeliveryView, timeZone: string, channel: 'in-app' | 'email' = 'in-app') {
  return {
    ...d,
    when: whenIn(d.slot, timeZone),
    open: d.status === 'open',
    lapsed: d.status === 'lapsed',
    total: d.questions.length,
    channel,
    questions: d.questions.map((q) => {
      const [form] = formItems([q.item], {});
      return {
        ...q,
        anchor: `q-${q.key}`,
        form,
        review: q.review ? { ...q.review, scenario: q.review.type === 'scenario' } : null,
      };
    }),
  };
}

/** The home card and the page header: what is waiting today, and the streak. */
export function todayCard(o: RepOverview) {
  const t = o.today;
  return {
    streak: o.streak,
    waiting: t ? t.questions.filter((q) => !q.answered).length : 0,
    answeredToday: t ? t.answered : 0,
    total: t ? t.questions.length : 0,
    href: t ? `/reinforcement/deliveries/${t.id}` : '/reinforcement',
    next: whenIn(o.nextDeliveryAt, o.schedule.timeZone),
    hasDeck: o.items.total > 0,
  };
}

const hour = (v: unknown): number => (typeof v === 'string' && /^\d{1,2}$/.test(v.trim()) ? Number(v) : NaN);

/** The settings form → a schedule (shape only; the service checks the rest and names the field). */
export function scheduleFromForm(body: Record<string, unknown>): RepSchedule {
  const text = (k: string) => (typeof body[k] === 'string' ? (body[k] as string).trim() : '');
  const days = ([] as unknown[]).concat(body.days ?? []).map((d) => Number(d));
  const quietOn = text('quietFrom') !== '' || text('quietTo') !== '';
  const pauseOn = text('pauseFrom') !== '' || text('pauseTo') !== '';
  return {
    timeZone: text('timeZone'),
    window: { from: hour(body.windowFrom), to: hour(body.windowTo) },
    days,
    quiet: quietOn ? { from: hour(body.quietFrom), to: hour(body.quietTo) } : null,
    pause: pauseOn ? { from: text('pauseFrom'), to: text('pauseTo') } : null,
    email: body.email === 'on' || body.email === 'true',
  };
}

function settingsForm(s: RepSchedule) {
  const hours = Array.from({ length: 25 }, (_, h) => h);
  return {
    timeZones: timeZoneChoices().map((z) => ({ value: z, selected: z === s.timeZone })),
    windowFrom: hours.slice(0, 24).map((h) => ({ value: h, label: `${String(h).padStart(2, '0')}:00`, selected: h === s.window.from })),
    windowTo: hours.slice(1).map((h) => ({ value: h, label: `${String(h).padStart(2, '0')}:00`, selected: h === s.window.to })),
    quietFrom: s.quiet?.from ?? '',
    quietTo: s.quiet?.to ?? '',
    days: WEEKDAYS.map((label, i) => ({ value: i + 1, label, checked: s.days.includes(i + 1) })),
    pauseFrom: s.pause?.from ?? '',
    pauseTo: s.pause?.to ?? '',
    email: s.email,
  };
}

/** The rep's reinforcement pages: today's questions, one delivery, the settings. */
export function reinforcementPageRoutes(c: Container): RouteDef[] {
  const r = c.reinforcement;
  const bodyOf = (req: Request) => (req.body ?? {}) as Record<string, unknown>;

  const renderDelivery = async (req: Request, res: Response, id: string, extra: Record<string, unknown> = {}, status = 200) => {
    const actor = actorOf(req.user!);
    const [view, overview] = await Promise.all([r.delivery(actor, id), r.overview(actor, 0)]);
    const channel = req.query.via === 'email' ? 'email' : 'in-app';
    res.status(status).render('reinforcement/delivery', { title: 'Your questions', delivery: presentDelivery(view, overview.schedule.timeZone, channel), card: todayCard(overview), ...extra });
  };

  return [
    route({
      method: 'get',
      path: '/reinforcement',
      kind: 'page',
      access: 'learning.take',
      handler: async (req, res) => {
        const o = await r.overview(actorOf(req.user!));
        const tz = o.schedule.timeZone;
        res.render('reinforcement/index', {
          title: 'Your questions',
          card: todayCard(o),
          today: o.today ? presentDelivery(o.today, tz) : null,
          history: o.history.map((h) => ({ ...h, when: whenIn(h.slot, tz), percent: h.asked ? Math.round((h.correct / h.asked) * 100) : 0, open: h.status === 'open', lapsed: h.status === 'lapsed' })),
          items: o.items,
          paused: o.schedule.pause,
        });
      },
    }),
    route({
      method: 'get',
      path: '/reinforcement/deliveries/:id',
      kind: 'page',
      access: 'learning.take',
      handler: (req, res) => renderDelivery(req, res, String(req.params.id)),
    }),
    route({
      method: 'post',
      path: '/reinforcement/deliveries/:id/answers',
      kind: 'page',
      access: 'learning.take',
      handler: async (req, res) => {
        const id = String(req.params.id);
        const body = bodyOf(req);
        const key = typeof body.key === 'string' ? body.key : '';
        const channel = body.channel === 'email' ? 'email' : 'in-app';
        const actor = actorOf(req.user!);
        const view = await r.delivery(actor, id);
        const question = view.questions.find((q) => q.key === key);
        if (!question) throw new ValidationFailed([{ path: 'key', message: `This set has no question "${key}".` }]);
        try {
          await r.answer(actor, id, key, answersFromForm(body, [question.item]), channel);
        } catch (err) {
          if (err instanceof ValidationFailed) {
            return renderDelivery(req, res, id, { errorKey: key, formError: err.problems.map((p) => p.message).join(' ') }, 422);
          }
          if (err instanceof Conflict) {
            flash(req, 'error', err.message);
            return res.redirect(303, '/reinforcement');
          }
          throw err;
        }
        res.redirect(303, `/reinforcement/deliveries/${id}${channel === 'email' ? '?via=email' : ''}#q-${key}`);
      },
    }),
    route({
      method: 'get',
      path: '/reinforcement/settings',
      kind: 'page',
      access: 'learning.take',
      handler: async (req, res) => {
        const o = await r.overview(actorOf(req.user!), 0);
        const schedule = o.items.total ? o.schedule : { ...DEFAULT_SCHEDULE, ...o.schedule, timeZone: o.schedule.timeZone === 'UTC' ? (req.user!.timezone ?? 'UTC') : o.schedule.timeZone };
        res.render('reinforcement/settings', { title: 'Question settings', form: settingsForm(schedule), next: whenIn(o.nextDeliveryAt, o.schedule.timeZone) });
      },
    }),
    route({
      method: 'post',
      path: '/reinforcement/settings',
      kind: 'page',
      access: 'learning.take',
      handler: async (req, res) => {
        const schedule = scheduleFromForm(bodyOf(req));
        try {
          const { next } = await r.updateSchedule(actorOf(req.user!), schedule);
          flash(req, 'success', next ? `Saved. Your next questions arrive ${whenIn(next, schedule.timeZone)!}.` : 'Saved.');
          res.redirect(303, '/reinforcement');
        } catch (err) {
          if (!(err instanceof ValidationFailed)) throw err;
          const shown = { ...schedule, window: { from: Number.isNaN(schedule.window.from) ? 9 : schedule.window.from, to: Number.isNaN(schedule.window.to) ? 17 : schedule.window.to } };
          res.status(422).render('reinforcement/settings', { title: 'Question settings', form: { ...settingsForm(shown), quietFrom: bodyOf(req).quietFrom ?? '', quietTo: bodyOf(req).quietTo ?? '' }, errors: fieldErrors(err), formError: 'Please correct the highlighted fields.' });
        }
      },
    }),
  ];
}
