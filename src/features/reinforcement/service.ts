import { Types } from 'mongoose';
import { drawQuestion, presentForRep, reviewAfterSubmit, scoreAttempt, validateAnswers, type Banks, type DrawnAttempt, type PresentedItem, type Question, type ReviewItem } from '../../engine/assessment.js';
import { requireAccess, type Actor } from '../../engine/access.js';
import type { CurriculumDef, ModuleDef, ProgressFacts, Roadmap } from '../../engine/curriculum.js';
import {
  answer as answerItem,
  DEFAULT_DECK,
  DEFAULT_SCHEDULE,
  newItem,
  nextDayWindow,
  planDelivery,
  reinforcementItems,
  scheduleProblems,
  streakOf,
  type RepSchedule,
} from '../../engine/reinforcement.js';
import { Conflict, NotFound, ValidationFailed } from '../../errors.js';
import type { Locker } from '../../infra/locks.js';
import type { Logger } from '../../infra/logger.js';
import type { EnrollmentEvent } from '../../xapi/recorder.js';
import type { QuestionAnswer } from '../../xapi/catalogue.js';
import type { AccountModels, UserDoc } from '../accounts/model.js';
import type { CurriculumService } from '../curricula/service.js';
import type { EnrollmentListener } from '../enrollment/service.js';
import type { EnrollmentModels } from '../enrollment/model.js';
import type { MailService } from '../email/service.js';
import type { DeckDoc, DeliveryDoc, DeliveryItem, ReinforcementModels, StoredItem } from './model.js';
import type { DeliveryScheduler } from './scheduler.js';

const DAY = 86_400_000;
/** the first question about a module comes the day after it was learned */
const FIRST_GAP_MS = DAY;
/** a job that fires this much before its slot still delivers (clock skew between machines) */
const EARLY_MS = 5_000;

export type Clock = () => Date;

/** An answer, told to listeners (the xAPI recorder) after it is saved. */
export interface ReinforcementAnswer {
  event: EnrollmentEvent;
  module: ModuleDef;
  question: { bank: string; id: string; prompt: string };
  answer: QuestionAnswer;
  credit: number;
  correct: boolean;
  deliveryId: string;
  channel: 'in-app' | 'email';
  at: string;
}

export interface ReinforcementListener {
  answered(e: ReinforcementAnswer): Promise<void>;
}

export type DeliverOutcome =
  | { status: 'delivered' | 'already-delivered'; deliveryId: string; next: Date | null; emailed: boolean }
  | { status: 'not-due' | 'nothing' | 'nothing-due' | 'inactive'; next: Date | null };

/** One question of a delivery as the rep sees it: the form before answering, the feedback after. */
export interface DeliveryQuestion {
  key: string;
  number: number;
  moduleId: string;
  moduleTitle: string;
  /** the module's page, for "review the lesson" */
  lessonHref: string;
  answered: boolean;
  correct: boolean | null;
  item: PresentedItem;
  review: ReviewItem | null;
}

export interface DeliveryView {
  id: string;
  slot: Date;
  deliveredAt: Date;
  status: DeliveryDoc['status'];
  questions: DeliveryQuestion[];
  answered: number;
  correct: number;
}

export interface HistoryRow {
  id: string;
  slot: Date;
  status: DeliveryDoc['status'];
  asked: number;
  answered: number;
  correct: number;
}

export interface RepOverview {
  /** the newest delivery while it is open: today's questions */
  today: DeliveryView | null;
  streak: number;
  history: HistoryRow[];
  nextDeliveryAt: Date | null;
  items: { total: number; retired: number; due: number };
  schedule: RepSchedule;
}

export const deliveryIdOf = (userId: string, slot: Date): string => `${userId}-${slot.getTime()}`;

const itemId = (i: Pick<StoredItem, 'curriculumId' | 'key'>) => `${i.curriculumId}|${i.key}`;

/**
 * Spaced reinforcement: a rep's deck fills as they complete modules; the worker delivers the items
 * due, a few at a time, inside the rep's window; answers move each item's FSRS schedule. Every change
 * to one rep's deck and deliveries happens under that rep's lock, so the worker delivering and the
 * rep answering never overwrite each other (FerretDB v1 has no atomic concurrent updates).
 */
export class ReinforcementService implements EnrollmentListener {
  private readonly listeners: ReinforcementListener[] = [];
  /** Tests only (test/faults): awaited where a crash hurts most, so a test can kill the worker there. */
  crashPoint?: (point: 'delivery-created' | 'email-queued' | 'deck-saved', deliveryId: string) => Promise<void>;

  constructor(
    private readonly m: ReinforcementModels & AccountModels & EnrollmentModels,
    private readonly curricula: CurriculumService,
    private readonly scheduler: DeliveryScheduler,
    private readonly locks: Locker,
    private readonly log: Logger,
    private readonly mail?: MailService,
    private readonly now: Clock = () => new Date(),
  ) {}

  listen(l: ReinforcementListener): void {
    this.listeners.push(l);
  }

  private lock<T>(userId: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.withLock(`reinforcement:${userId}`, fn);
  }

  // ---- the deck fills ---------------------------------------------------------------------------

  async enrolled(): Promise<void> {}

  /** Enrollment listener: a module completed or tested out adds its reinforcement items. */
  async progressed(e: EnrollmentEvent, before: { facts: ProgressFacts; roadmap: Roadmap }, after: { facts: ProgressFacts; roadmap: Roadmap }): Promise<void> {
    const wasDone = new Set(before.roadmap.modules.filter((s) => s.state === 'completed' || s.state === 'tested_out').map((s) => s.id));
    const done = after.roadmap.modules.filter((s) => (s.state === 'completed' || s.state === 'tested_out') && !wasDone.has(s.id)).map((s) => ({ moduleId: s.id, at: s.doneAt ?? this.now().toISOString() }));
    if (!done.length) return;
    try {
      await this.addModules(e, done);
    } catch (err) {
      // the progress is saved; the deck catches up the next time a module completes
      this.log.error({ err, enrollmentId: e.enrollmentId }, 'could not add reinforcement items');
    }
  }

  /** Adds the items of these modules to the rep's deck (again: nothing changes) and reschedules. */
  async addModules(e: Pick<EnrollmentEvent, 'enrollmentId' | 'curriculum' | 'versionId' | 'rep'>, done: { moduleId: string; at: string }[]): Promise<{ added: number; next: Date | null }> {
    const version = await this.curricula.version(e.versionId);
    const banks = version.content.banks as unknown as Banks;
    const wanted = done.flatMap(({ moduleId, at }) => reinforcementItems(banks as never, moduleId).map((key) => ({ key, moduleId, at })));
    if (!wanted.length) return { added: 0, next: null };
    const settings = e.curriculum.reinforcement ?? DEFAULT_DECK;
    return this.lock(e.rep.id, async () => {
      const now = this.now();
      let deck = await this.m.Deck.findById(e.rep.id).lean<DeckDoc>();
      if (!deck) {
        const user = await this.m.User.findById(e.rep.id, { timezone: 1 }).lean<Pick<UserDoc, 'timezone'>>();
        const created: DeckDoc = { _id: new Types.ObjectId(e.rep.id), items: [], schedule: { ...DEFAULT_SCHEDULE, timeZone: user?.timezone || 'UTC' }, ...settings, nextDeliveryAt: null, lastDeliveryAt: null, rev: 0, createdAt: now, updatedAt: now };
        try {
          await this.m.Deck.create(created);
        } catch (err) {
          if ((err as { code?: number }).code !== 11000) throw err;
        }
        deck = (await this.m.Deck.findById(e.rep.id).lean<DeckDoc>())!;
      }
      const have = new Set(deck.items.map(itemId));
      const added: StoredItem[] = wanted
        .filter((w) => !have.has(`${e.curriculum.id}|${w.key}`))
        .map((w) => {
          const learned = new Date(w.at);
          const base = newItem(w.key, w.moduleId, new Date(Math.max(learned.getTime(), now.getTime() - FIRST_GAP_MS) + FIRST_GAP_MS));
          return { ...base, enrollmentId: e.enrollmentId, curriculumId: e.curriculum.id, versionId: e.versionId, learnedAt: learned.toISOString() };
        });
      if (!added.length) return { added: 0, next: deck.nextDeliveryAt };
      const items = [...deck.items, ...added];
      const next = this.plan({ ...deck, items, ...settings }, now);
      await this.save(deck, { items, retention: settings.retention, perDelivery: settings.perDelivery, nextDeliveryAt: next });
      await this.scheduler.schedule(e.rep.id, next);
      return { added: added.length, next };
    });
  }

  /** When the next delivery is due: the items' due dates, in the rep's window, one delivery a day. */
  private plan(deck: Pick<DeckDoc, 'items' | 'schedule' | 'perDelivery' | 'lastDeliveryAt'>, now: Date): Date | null {
    const notBefore = deck.lastDeliveryAt ? nextDayWindow(deck.lastDeliveryAt, deck.schedule) : null;
    return planDelivery(deck.items, now, deck.schedule, deck.perDelivery, notBefore).at;
  }

  /** A revision-checked write of the deck (the lock is held; the check makes MongoDB alone safe too). */
  private async save(deck: Pick<DeckDoc, '_id' | 'rev'>, set: Partial<DeckDoc>): Promise<void> {
    const res = await this.m.Deck.updateOne({ _id: deck._id, rev: deck.rev }, { $set: set, $inc: { rev: 1 } });
    if (res.matchedCount !== 1) throw new Conflict('Your questions changed while this was being saved. Please try again.');
  }

  // ---- delivering (the worker) ----------------------------------------------------------------------

  /**
   * Delivers the rep's due questions, once per slot. `moveJob` is called with the rep's next slot
   * while the lock is still held (the worker moves its job there), so nothing can reschedule the rep
   * in between. Safe to run twice for one slot: the delivery's id is the slot, an email's dedupe key
   * is the delivery's id.
   */
  async deliver(userId: string, moveJob: (at: Date | null) => Promise<void> = async () => {}): Promise<DeliverOutcome> {
    return this.lock(userId, async () => {
      const now = this.now();
      const deck = Types.ObjectId.isValid(userId) ? await this.m.Deck.findById(userId).lean<DeckDoc>() : null;
      if (!deck?.nextDeliveryAt) {
        await moveJob(null);
        return { status: 'nothing', next: null };
      }
      const slot = new Date(deck.nextDeliveryAt);
      if (slot.getTime() > now.getTime() + EARLY_MS) {
        await moveJob(slot);
        return { status: 'not-due', next: slot };
      }
      const user = await this.m.User.findById(userId).lean<UserDoc>();
      if (!user?.active) {
        await this.save(deck, { nextDeliveryAt: null });
        await moveJob(null);
        return { status: 'inactive', next: null };
      }
      const id = deliveryIdOf(userId, slot);
      let delivery = await this.m.Delivery.findById(id).lean<DeliveryDoc>();
      let created = false;
      if (!delivery) {
        const due = deck.items
          .filter((i) => !i.retired && new Date(i.card.due).getTime() <= Math.max(now.getTime(), slot.getTime()))
          .sort((a, b) => new Date(a.card.due).getTime() - new Date(b.card.due).getTime() || a.key.localeCompare(b.key))
          .slice(0, deck.perDelivery);
        if (!due.length) {
          // answers moved everything out since the slot was planned
          const next = this.plan(deck, now);
          await this.save(deck, { nextDeliveryAt: next });
          await moveJob(next);
          return { status: 'nothing-due', next };
        }
        const items = await this.drawItems(id, due);
        // an earlier set still open is replaced: its unanswered questions are asked again in this one
        await this.m.Delivery.updateMany({ userId: new Types.ObjectId(userId), status: 'open', _id: { $ne: id } }, { $set: { status: 'lapsed' } });
        delivery = { _id: id, userId: new Types.ObjectId(userId), slot, deliveredAt: now, items, status: 'open', emailKey: null };
        try {
          await this.m.Delivery.create(delivery);
          created = true;
        } catch (err) {
          if ((err as { code?: number }).code !== 11000) throw err;
          delivery = (await this.m.Delivery.findById(id).lean<DeliveryDoc>())!;
        }
        if (created) await this.crashPoint?.('delivery-created', id);
      }
      let emailed = false;
      if (deck.schedule.email && !delivery.emailKey && this.mail) {
        const emailKey = `reinforcement:${id}`;
        await this.mail.send({ to: `${user.name} <${user.email}>`, template: 'reinforcement-delivery', data: await this.emailData(user, delivery), dedupeKey: emailKey });
        await this.crashPoint?.('email-queued', id);
        await this.m.Delivery.updateOne({ _id: id }, { $set: { emailKey } });
        emailed = true;
      }
      const next = this.plan({ ...deck, lastDeliveryAt: slot }, now);
      await this.save(deck, { nextDeliveryAt: next, lastDeliveryAt: slot });
      await this.crashPoint?.('deck-saved', id);
      await moveJob(next);
      return { status: created ? 'delivered' : 'already-delivered', deliveryId: id, next, emailed };
    });
  }

  private async drawItems(deliveryId: string, due: StoredItem[]): Promise<DeliveryItem[]> {
    const out: DeliveryItem[] = [];
    for (const item of due) {
      const { question, bankId } = await this.question(item.versionId, item.key);
      out.push({
        key: item.key,
        moduleId: item.moduleId,
        enrollmentId: item.enrollmentId,
        curriculumId: item.curriculumId,
        versionId: item.versionId,
        drawn: drawQuestion(bankId, question, `${deliveryId}|${item.key}`).items[0]!,
        answeredAt: null,
        correct: null,
        credit: null,
        chosen: null,
        channel: null,
      });
    }
    return out;
  }

  private async question(versionId: string, key: string): Promise<{ question: Question; bankId: string; banks: Banks; curriculum: CurriculumDef }> {
    const version = await this.curricula.version(versionId);
    const banks = version.content.banks as unknown as Banks;
    const dot = key.indexOf('.');
    const bankId = key.slice(0, dot);
    const question = banks[bankId]?.questions.find((q) => q.id === key.slice(dot + 1));
    if (!question) throw new NotFound(`Question ${key} is not in curriculum version ${versionId}.`);
    return { question, bankId, banks, curriculum: version.content.definition };
  }

  private async emailData(user: UserDoc, delivery: DeliveryDoc) {
    const questions = [];
    for (const item of delivery.items) {
      const { question, curriculum } = await this.question(item.versionId, item.key);
      const prompt = question.type === 'scenario' ? (question.prompt ?? question.case) : question.prompt;
      const module = curriculum.modules.find((m) => m.id === item.moduleId);
      questions.push({ prompt: prompt.length > 400 ? `${prompt.slice(0, 400)}…` : prompt, moduleTitle: module?.title ?? item.moduleId, link: `/reinforcement/deliveries/${delivery._id}?via=email#q-${item.key}` });
    }
    const history = await this.m.Delivery.find({ userId: user._id }, { status: 1, slot: 1 }).sort({ slot: -1 }).limit(60).lean<Pick<DeliveryDoc, 'status'>[]>();
    return { repName: user.name, questions, streak: streakOf(history), link: `/reinforcement/deliveries/${delivery._id}?via=email`, settingsLink: '/reinforcement/settings' };
  }

  // ---- answering -----------------------------------------------------------------------------------

  /** One delivery of the rep's, or NotFound (someone else's delivery is never shown). */
  private async ownDelivery(actor: Actor, deliveryId: string): Promise<DeliveryDoc> {
    requireAccess(actor, 'learning.take');
    const delivery = await this.m.Delivery.findById(deliveryId).lean<DeliveryDoc>();
    if (!delivery || String(delivery.userId) !== actor.id) throw new NotFound('There is no such set of questions.');
    return delivery;
  }

  /**
   * The rep answers one question of a delivery. The item's memory state moves (FSRS), the next
   * delivery is rescheduled from it, and the answer is recorded for analytics and as xAPI.
   * Answering twice changes nothing the second time.
   */
  async answer(actor: Actor, deliveryId: string, key: string, answers: Record<string, unknown>, channel: 'in-app' | 'email' = 'in-app'): Promise<{ correct: boolean; already: boolean }> {
    await this.ownDelivery(actor, deliveryId);
    let told: ReinforcementAnswer | null = null;
    const result = await this.lock(actor.id, async () => {
      const now = this.now();
      const delivery = (await this.m.Delivery.findById(deliveryId).lean<DeliveryDoc>())!;
      const item = delivery.items.find((i) => i.key === key);
      if (!item) throw new NotFound(`This set has no question ${key}.`);
      if (item.answeredAt) return { correct: item.correct === true, already: true };
      if (delivery.status === 'lapsed') throw new Conflict('These questions were replaced by a newer set: the ones you did not answer are asked again there.');
      const { banks, curriculum, question } = await this.question(item.versionId, item.key);
      const drawn: DrawnAttempt = { items: [item.drawn], pools: [{ bank: item.drawn.bankId, wanted: 1, drawn: 1 }] };
      const problems = validateAnswers(drawn, banks, answers);
      const given = Object.values(answers).filter((v) => v !== null && v !== undefined);
      if (!given.length) problems.push({ path: 'answer', message: 'Choose an answer first.' });
      if (problems.length) throw new ValidationFailed(problems, 'That answer could not be read.');
      const score = scoreAttempt(drawn, banks, answers as never, { partialCredit: false });
      const correct = score.items.every((i) => i.correct);
      const credit = score.possible ? score.earned / score.possible : 0;

      const deck = await this.m.Deck.findById(actor.id).lean<DeckDoc>();
      if (deck) {
        const items = deck.items.map((i) =>
          itemId(i) === itemId(item) && !i.history.some((h) => h.deliveryId === deliveryId) ? answerItem(i, correct, now, { retention: deck.retention }, deliveryId) : i,
        );
        const next = this.plan({ ...deck, items }, now);
        await this.save(deck, { items, nextDeliveryAt: next });
        await this.scheduler.schedule(actor.id, next);
      }
      const chosen = Object.fromEntries(score.items.map((i) => [i.key, i.chosen]));
      const first = score.items[0]?.chosen ?? null;
      const items = delivery.items.map((i) => (i.key === key ? { ...i, answeredAt: now.toISOString(), correct, credit, chosen, channel } : i));
      const status = items.every((i) => i.answeredAt) ? 'answered' : 'open';
      await this.m.Delivery.updateOne({ _id: deliveryId }, { $set: { items, status } });

      const enrollment = await this.m.Enrollment.findById(item.enrollmentId, { cohort: 1 }).lean<{ cohort: string }>();
      const user = await this.m.User.findById(actor.id).lean<UserDoc>();
      const stored = deck?.items.find((i) => itemId(i) === itemId(item));
      const learnedAt = new Date(stored?.learnedAt ?? delivery.deliveredAt);
      await this.m.Answer.updateOne(
        { _id: `${deliveryId}/${key}` },
        {
          $setOnInsert: {
            userId: new Types.ObjectId(actor.id),
            managerId: user?.managerId ?? null,
            cohort: enrollment?.cohort ?? '',
            curriculumId: item.curriculumId,
            versionId: item.versionId,
            moduleId: item.moduleId,
            key,
            deliveryId,
            correct,
            at: now,
            learnedAt,
            daysSinceLearned: Math.max(0, Math.floor((now.getTime() - learnedAt.getTime()) / DAY)),
          },
        },
        { upsert: true },
      );
      const module = curriculum.modules.find((m) => m.id === item.moduleId);
      if (module && user) {
        const simple = question.type === 'scenario' ? null : question;
        told = {
          event: { enrollmentId: item.enrollmentId, curriculum, versionId: item.versionId, rep: { id: actor.id, name: user.name, email: user.email } },
          module,
          question: { bank: item.drawn.bankId, id: question.id, prompt: simple?.prompt ?? question.prompt ?? (question as { case?: string }).case ?? question.id },
          answer:
            simple?.type === 'numeric'
              ? { interactionType: 'numeric', value: typeof first === 'number' ? first : null }
              : simple?.type === 'truefalse'
                ? { interactionType: 'true-false', value: Array.isArray(first) && first.length === 1 ? simple.options[first[0]!]?.text.trim().toLowerCase() === 'true' : null }
                : { interactionType: 'choice', chosen: Array.isArray(first) ? first : null, ...(simple ? { options: simple.options.map((o) => o.text) } : {}) },
          credit,
          correct,
          deliveryId,
          channel,
          at: now.toISOString(),
        };
      }
      return { correct, already: false };
    });
    if (told) for (const l of this.listeners) await l.answered(told).catch((err: unknown) => this.log.error({ err }, 'a reinforcement listener failed'));
    return result;
  }

  // ---- what the rep sees -------------------------------------------------------------------------------

  async delivery(actor: Actor, deliveryId: string): Promise<DeliveryView> {
    return this.present(await this.ownDelivery(actor, deliveryId));
  }

  private async present(d: DeliveryDoc): Promise<DeliveryView> {
    const questions: DeliveryQuestion[] = [];
    for (const [n, item] of d.items.entries()) {
      const { banks, curriculum } = await this.question(item.versionId, item.key);
      const drawn: DrawnAttempt = { items: [item.drawn], pools: [{ bank: item.drawn.bankId, wanted: 1, drawn: 1 }] };
      const presented = presentForRep(drawn, banks)[0]!;
      let review: ReviewItem | null = null;
      if (item.answeredAt) {
        // scoring needs presented positions: the bank indexes kept go back through each part's option order
        const answers: Record<string, number[] | number | null> = {};
        const parts = presented.type === 'scenario' ? presented.parts.map((p) => ({ key: p.key, type: p.type, order: item.drawn.parts?.find((d) => `${presented.key}.${d.questionId}` === p.key)?.optionOrder ?? [] })) : [{ key: presented.key, type: presented.type, order: item.drawn.optionOrder }];
        for (const part of parts) {
          const kept = item.chosen?.[part.key] ?? null;
          answers[part.key] = part.type === 'numeric' ? (typeof kept === 'number' ? kept : null) : part.order.map((bankIndex, position) => (Array.isArray(kept) && kept.includes(bankIndex) ? position : -1)).filter((p) => p >= 0);
        }
        review = reviewAfterSubmit(drawn, banks, scoreAttempt(drawn, banks, answers, { partialCredit: false }))[0]!;
      }
      const module = curriculum.modules.find((m) => m.id === item.moduleId);
      questions.push({
        key: item.key,
        number: n + 1,
        moduleId: item.moduleId,
        moduleTitle: module?.title ?? item.moduleId,
        lessonHref: `/learn/${item.enrollmentId}/modules/${item.moduleId}`,
        answered: item.answeredAt !== null,
        correct: item.correct,
        item: presented,
        review,
      });
    }
    return { id: d._id, slot: d.slot, deliveredAt: d.deliveredAt, status: d.status, questions, answered: d.items.filter((i) => i.answeredAt).length, correct: d.items.filter((i) => i.correct).length };
  }

  /** The rep's reinforcement at a glance: today's questions, streak, history, schedule. */
  async overview(actor: Actor, historyLimit = 30): Promise<RepOverview> {
    requireAccess(actor, 'learning.take');
    const [deck, deliveries] = await Promise.all([
      this.m.Deck.findById(actor.id).lean<DeckDoc>(),
      this.m.Delivery.find({ userId: new Types.ObjectId(actor.id) }).sort({ slot: -1 }).limit(Math.max(historyLimit, 60)).lean<DeliveryDoc[]>(),
    ]);
    const newest = deliveries[0];
    const now = this.now();
    return {
      today: newest?.status === 'open' ? await this.present(newest) : null,
      streak: streakOf(deliveries),
      history: deliveries.slice(0, historyLimit).map((d) => ({ id: d._id, slot: d.slot, status: d.status, asked: d.items.length, answered: d.items.filter((i) => i.answeredAt).length, correct: d.items.filter((i) => i.correct).length })),
      nextDeliveryAt: deck?.nextDeliveryAt ?? null,
      items: {
        total: deck?.items.length ?? 0,
        retired: deck?.items.filter((i) => i.retired).length ?? 0,
        due: deck?.items.filter((i) => !i.retired && new Date(i.card.due).getTime() <= now.getTime()).length ?? 0,
      },
      schedule: deck?.schedule ?? DEFAULT_SCHEDULE,
    };
  }

  /** The rep changes when questions come: the next delivery moves at once. */
  async updateSchedule(actor: Actor, schedule: RepSchedule): Promise<{ next: Date | null }> {
    requireAccess(actor, 'learning.take');
    const problems = scheduleProblems(schedule);
    if (problems.length) throw new ValidationFailed(problems, 'Those settings could not be saved.');
    return this.lock(actor.id, async () => {
      const deck = await this.m.Deck.findById(actor.id).lean<DeckDoc>();
      if (!deck) {
        const now = this.now();
        await this.m.Deck.updateOne(
          { _id: new Types.ObjectId(actor.id) },
          { $setOnInsert: { items: [], ...DEFAULT_DECK, nextDeliveryAt: null, lastDeliveryAt: null, rev: 0, createdAt: now }, $set: { schedule, updatedAt: now } },
          { upsert: true },
        );
        return { next: null };
      }
      const next = this.plan({ ...deck, schedule }, this.now());
      await this.save(deck, { schedule, nextDeliveryAt: next });
      await this.scheduler.schedule(actor.id, next);
      return { next };
    });
  }

  // ---- recovery -------------------------------------------------------------------------------------------

  /**
   * At worker start: every deck with a next delivery gets its job if it has none (addBulk leaves
   * existing jobs as they are). Covers a Redis that lost its data, and decks written while no
   * Redis was reachable (the demo's history).
   */
  async resync(): Promise<number> {
    const decks = await this.m.Deck.find({ nextDeliveryAt: { $ne: null } }, { _id: 1, nextDeliveryAt: 1 }).lean<Pick<DeckDoc, '_id' | 'nextDeliveryAt'>[]>();
    return this.scheduler.ensureMany(decks.map((d) => ({ userId: String(d._id), at: new Date(d.nextDeliveryAt!) })));
  }

  /**
   * The sweep that makes Redis losing a job harmless: every deck whose delivery is overdue by more
   * than `graceMs` gets its job back if it has none. A job that failed for good (out of retries)
   * stays visible in the queue board for an hour, then is started afresh, so a rep is never left
   * without questions by a passing fault. Run by the worker every 5 minutes.
   */
  async reconcile(graceMs = 60_000, limit = 5000, failedRetryAfterMs = 3_600_000): Promise<{ overdue: number; restored: number; retried: number }> {
    const cutoff = new Date(this.now().getTime() - graceMs);
    const overdue = await this.m.Deck.find({ nextDeliveryAt: { $ne: null, $lte: cutoff } }, { _id: 1, nextDeliveryAt: 1 }).limit(limit).lean<Pick<DeckDoc, '_id' | 'nextDeliveryAt'>[]>();
    let restored = 0;
    let retried = 0;
    for (const d of overdue) {
      const userId = String(d._id);
      const { state, finishedOn } = await this.scheduler.state(userId);
      const lost = state === 'missing' || state === 'completed' || state === 'unknown';
      const failedLongAgo = state === 'failed' && finishedOn !== null && Date.now() - finishedOn > failedRetryAfterMs;
      if (!lost && !failedLongAgo) continue;
      // schedule() replaces a finished job with the rep's id (addBulk would keep it)
      await this.lock(userId, () => this.scheduler.schedule(userId, new Date(d.nextDeliveryAt!)));
      if (lost) restored++;
      else retried++;
    }
    if (restored || retried) this.log.warn({ restored, retried }, 'put back reinforcement delivery jobs (missing from Redis, or failed over an hour ago)');
    return { overdue: overdue.length, restored, retried };
  }
}
