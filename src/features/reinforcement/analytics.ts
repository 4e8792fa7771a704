import { Types } from 'mongoose';
import type { CurriculumContent } from '../../content/validate.js';
import { requireAccess, type Actor } from '../../engine/access.js';
import {
  forgettingCurve,
  mostForgotten,
  repsAtRisk,
  DEFAULT_MIN_ITEM_ANSWERS,
  RISK_DEFAULTS,
  type CurveSeries,
  type ItemRecall,
  type RepRisk,
  type RetentionAnswer,
} from '../../engine/retention.js';
import { ValidationFailed } from '../../errors.js';
import type { AccountModels, UserDoc } from '../accounts/model.js';
import type { CurriculumService } from '../curricula/service.js';
import type { AnswerDoc, ReinforcementModels } from './model.js';

/**
 * The trainer's retention analytics over `reinforcement_answers` (one document per answered
 * reinforcement question): the forgetting curve, the most forgotten questions and the reps at risk.
 * Reads plain documents with simple equality filters and a projection (FerretDB v1 pushes little
 * else down), computes with the pure functions in engine/retention.ts, and adds the names people
 * read: module titles and question prompts from the curriculum versions, rep and manager names.
 */

const DAY = 86_400_000;

export interface RetentionFilter {
  /** default: the first curriculum (by title) */
  curriculumId?: string;
  cohort?: string;
  moduleId?: string;
  /** answers on or after this UTC day, YYYY-MM-DD */
  from?: string;
  /** answers on or before this UTC day, YYYY-MM-DD */
  to?: string;
}

export interface NamedSeries extends CurveSeries {
  name: string;
}

export interface ItemRow extends ItemRecall {
  prompt: string;
  moduleTitle: string;
}

export interface RepRow extends RepRisk {
  name: string;
  managerName: string;
}

export interface RetentionSettings {
  minItemAnswers: number;
  riskThreshold: number;
  riskWindowDays: number;
  riskMinAnswers: number;
  inactiveDays: number;
}

export interface RetentionReport {
  curricula: { id: string; title: string }[];
  /** null: no curriculum is published yet */
  curriculumId: string | null;
  curriculumTitle: string;
  filter: Omit<RetentionFilter, 'curriculumId'>;
  /** what the cohort and module filters offer */
  cohorts: string[];
  modules: { id: string; title: string }[];
  /** the moment reps at risk are judged at: now, or the end of the `to` day when that is earlier */
  asOf: Date;
  summary: { answered: number; correct: number; recall: number | null; reps: number; items: number };
  curve: { overall: NamedSeries; byModule: NamedSeries[]; byCohort: NamedSeries[] };
  /** every question with at least `minItemAnswers` answers, lowest recall first */
  items: ItemRow[];
  reps: RepRow[];
  settings: RetentionSettings;
}

export const NO_COHORT_LABEL = 'No cohort';

export const DEFAULT_SETTINGS: RetentionSettings = {
  minItemAnswers: DEFAULT_MIN_ITEM_ANSWERS,
  riskThreshold: RISK_DEFAULTS.threshold,
  riskWindowDays: RISK_DEFAULTS.windowDays,
  riskMinAnswers: RISK_DEFAULTS.minAnswers,
  inactiveDays: RISK_DEFAULTS.inactiveDays,
};

/** The UTC midnight starting a YYYY-MM-DD day; null when it is not a day of the calendar. */
export function startOfDay(day: string): Date | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return null;
  const d = new Date(`${day}T00:00:00Z`);
  return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== day ? null : d;
}

/** Every prompt of a version's banks by item key (`<bank>.<question>`, and `<bank>.<scenario>.<question>` for a scenario's parts). */
export function promptsOf(content: Pick<CurriculumContent, 'banks'>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [bankId, bank] of Object.entries(content.banks ?? {})) {
    for (const q of bank.questions ?? []) {
      if (q.type === 'scenario') {
        out.set(`${bankId}.${q.id}`, q.prompt ?? q.case);
        for (const part of q.questions) out.set(`${bankId}.${q.id}.${part.id}`, part.prompt);
      } else out.set(`${bankId}.${q.id}`, q.prompt);
    }
  }
  return out;
}

type AnswerRead = Pick<AnswerDoc, 'userId' | 'managerId' | 'cohort' | 'moduleId' | 'key' | 'versionId' | 'correct' | 'at' | 'daysSinceLearned'>;
const PROJECTION = { _id: 0, userId: 1, managerId: 1, cohort: 1, moduleId: 1, key: 1, versionId: 1, correct: 1, at: 1, daysSinceLearned: 1 } as const;

export class RetentionAnalytics {
  constructor(
    private readonly m: ReinforcementModels & AccountModels,
    private readonly curricula: CurriculumService,
    private readonly now: () => Date = () => new Date(),
    private readonly settings: RetentionSettings = DEFAULT_SETTINGS,
  ) {}

  async report(actor: Actor, filter: RetentionFilter = {}): Promise<RetentionReport> {
    requireAccess(actor, 'assessments.analyze');
    const curricula = (await this.curricula.list(actor)).map((c) => ({ id: c._id, title: c.title, latestVersionId: c.latestVersionId }));
    const { from, to } = this.range(filter);
    const now = this.now();
    const asOf = to && to.getTime() < now.getTime() ? to : now;
    const shownFilter = {
      ...(filter.cohort ? { cohort: filter.cohort } : {}),
      ...(filter.moduleId ? { moduleId: filter.moduleId } : {}),
      ...(filter.from ? { from: filter.from } : {}),
      ...(filter.to ? { to: filter.to } : {}),
    };
    const list = curricula.map(({ id, title }) => ({ id, title }));

    if (!curricula.length) {
      if (filter.curriculumId) throw new ValidationFailed([{ path: 'curriculum', message: `no curriculum '${filter.curriculumId}' has been published` }], `No curriculum '${filter.curriculumId}' has been published.`);
      return this.empty(list, shownFilter, asOf);
    }
    const curriculum = filter.curriculumId ? curricula.find((c) => c.id === filter.curriculumId) : curricula[0]!;
    if (!curriculum) {
      throw new ValidationFailed(
        [{ path: 'curriculum', message: `no curriculum '${filter.curriculumId}' has been published (choose one of ${curricula.map((c) => c.id).join(', ')})` }],
        `No curriculum '${filter.curriculumId}' has been published.`,
      );
    }
    const latest = await this.curricula.version(curriculum.latestVersionId);

    // the filters' choices: the curriculum's modules (as it is now) and every cohort and module answered in it
    const [cohorts, answeredModules] = await Promise.all([
      this.m.Answer.distinct('cohort', { curriculumId: curriculum.id }) as Promise<string[]>,
      this.m.Answer.distinct('moduleId', { curriculumId: curriculum.id }) as Promise<string[]>,
    ]);
    const moduleOrder = latest.content.definition.modules.map((m) => m.id);
    const titles = new Map(latest.content.definition.modules.map((m) => [m.id, m.title]));
    const moduleIds = [...moduleOrder, ...answeredModules.filter((id) => !titles.has(id)).sort()];
    if (filter.moduleId && !moduleIds.includes(filter.moduleId)) {
      throw new ValidationFailed([{ path: 'module', message: `'${filter.moduleId}' is not a module of ${curriculum.title}` }], `'${filter.moduleId}' is not a module of ${curriculum.title}.`);
    }

    const query: Record<string, unknown> = { curriculumId: curriculum.id };
    if (filter.cohort) query.cohort = filter.cohort;
    if (filter.moduleId) query.moduleId = filter.moduleId;
    if (from || to) query.at = { ...(from ? { $gte: from } : {}), ...(to ? { $lt: to } : {}) };
    const docs = await this.m.Answer.find(query, PROJECTION).lean<AnswerRead[]>();

    // titles and prompts: older versions first, so the current version's wording wins
    const prompts = new Map<string, string>();
    for (const versionId of new Set(docs.map((d) => d.versionId))) {
      if (versionId === latest._id) continue;
      const v = await this.curricula.version(versionId).catch(() => null);
      if (!v) continue;
      for (const m of v.content.definition.modules) if (!titles.has(m.id)) titles.set(m.id, m.title);
      for (const [k, p] of promptsOf(v.content)) prompts.set(k, p);
    }
    for (const [k, p] of promptsOf(latest.content)) prompts.set(k, p);
    const titleOf = (id: string) => titles.get(id) ?? id;

    const answers: RetentionAnswer[] = docs.map((d) => ({
      userId: String(d.userId),
      cohort: d.cohort ?? '',
      moduleId: d.moduleId,
      key: d.key,
      correct: d.correct === true,
      at: new Date(d.at),
      daysSinceLearned: d.daysSinceLearned,
    }));
    const curve = forgettingCurve(answers);
    const items = mostForgotten(answers, { minAnswers: this.settings.minItemAnswers, limit: Infinity });
    const risks = repsAtRisk(answers, {
      now: asOf,
      windowDays: this.settings.riskWindowDays,
      minAnswers: this.settings.riskMinAnswers,
      threshold: this.settings.riskThreshold,
      inactiveDays: this.settings.inactiveDays,
    });

    // the rep's manager as of their latest answer
    const managerOf = new Map<string, { at: number; id: string | null }>();
    for (const d of docs) {
      const at = new Date(d.at).getTime();
      const seen = managerOf.get(String(d.userId));
      if (!seen || at >= seen.at) managerOf.set(String(d.userId), { at, id: d.managerId ? String(d.managerId) : null });
    }
    const people = new Set<string>();
    for (const r of risks) {
      people.add(r.userId);
      const mgr = managerOf.get(r.userId)?.id;
      if (mgr) people.add(mgr);
    }
    const users = people.size ? await this.m.User.find({ _id: { $in: [...people].map((id) => new Types.ObjectId(id)) } }, { name: 1 }).lean<UserDoc[]>() : [];
    const names = new Map(users.map((u) => [String(u._id), u.name]));

    const order = new Map(moduleIds.map((id, i) => [id, i]));
    const byModule = curve.byModule
      .map((s) => ({ ...s, name: titleOf(s.id) }))
      .sort((a, b) => (order.get(a.id) ?? Infinity) - (order.get(b.id) ?? Infinity) || a.id.localeCompare(b.id));
    return {
      curricula: list,
      curriculumId: curriculum.id,
      curriculumTitle: curriculum.title,
      filter: shownFilter,
      cohorts: cohorts.filter((c) => typeof c === 'string' && c !== '').sort((a, b) => a.localeCompare(b)),
      modules: moduleIds.map((id) => ({ id, title: titleOf(id) })),
      asOf,
      summary: {
        answered: curve.overall.answered,
        correct: curve.overall.correct,
        recall: curve.overall.recall,
        reps: new Set(answers.map((a) => a.userId)).size,
        items: new Set(answers.map((a) => a.key)).size,
      },
      curve: {
        overall: { ...curve.overall, name: 'Overall' },
        byModule,
        byCohort: curve.byCohort.map((s) => ({ ...s, name: s.id || NO_COHORT_LABEL })),
      },
      items: items.map((i) => ({ ...i, prompt: prompts.get(i.key) ?? i.key, moduleTitle: titleOf(i.moduleId) })),
      reps: risks.map((r) => {
        const mgr = managerOf.get(r.userId)?.id;
        return { ...r, name: names.get(r.userId) ?? r.userId, managerName: mgr ? (names.get(mgr) ?? mgr) : '' };
      }),
      settings: this.settings,
    };
  }

  /** The answers' time range: [from's midnight, the midnight after `to`), UTC. */
  private range(filter: RetentionFilter): { from: Date | null; to: Date | null } {
    const problems = [];
    const from = filter.from ? startOfDay(filter.from) : null;
    const toDay = filter.to ? startOfDay(filter.to) : null;
    if (filter.from && !from) problems.push({ path: 'from', message: `'${filter.from}' is not a date as YYYY-MM-DD` });
    if (filter.to && !toDay) problems.push({ path: 'to', message: `'${filter.to}' is not a date as YYYY-MM-DD` });
    if (from && toDay && from.getTime() > toDay.getTime()) problems.push({ path: 'to', message: `must be on or after from (${filter.from}), not ${filter.to}` });
    if (problems.length) throw new ValidationFailed(problems, `The date range is not valid: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}.`);
    return { from, to: toDay ? new Date(toDay.getTime() + DAY) : null };
  }

  private empty(curricula: { id: string; title: string }[], filter: RetentionReport['filter'], asOf: Date): RetentionReport {
    const curve = forgettingCurve([]);
    return {
      curricula,
      curriculumId: null,
      curriculumTitle: '',
      filter,
      cohorts: [],
      modules: [],
      asOf,
      summary: { answered: 0, correct: 0, recall: null, reps: 0, items: 0 },
      curve: { overall: { ...curve.overall, name: 'Overall' }, byModule: [], byCohort: [] },
      items: [],
      reps: [],
      settings: this.settings,
    };
  }
}
