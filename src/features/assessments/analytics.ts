import { Types } from 'mongoose';
import type { Banks } from '../../engine/assessment.js';
import { requireAccess, type Actor } from '../../engine/access.js';
import type { AssessmentDef, ModuleDef } from '../../engine/curriculum.js';
import {
  attemptsToMastery,
  firstAttempts,
  gains,
  itemStatistics,
  passRate,
  scoreDistribution,
  type AnalysedQuestion,
  type AttemptRecord,
  type ItemStatistics,
} from '../../engine/item-analysis.js';
import { NotFound } from '../../errors.js';
import type { AccountModels, UserDoc } from '../accounts/model.js';
import type { CurriculumService } from '../curricula/service.js';
import type { EnrollmentDoc, EnrollmentModels } from '../enrollment/model.js';
import type { AssessmentModels, AttemptDoc } from './model.js';

export interface AssessmentRow {
  curriculumId: string;
  moduleId: string;
  title: string;
  purpose: AssessmentDef['purpose'];
  threshold: number;
  attempts: number;
  reps: number;
  passRate: number | null;
  flagged: number;
}

/** Trainer analytics over submitted attempts: pure engine functions over records read here. */
export class AssessmentAnalytics {
  constructor(
    private readonly m: AssessmentModels & EnrollmentModels & AccountModels,
    private readonly curricula: CurriculumService,
  ) {}

  private async records(curriculumId: string, moduleId: string, cohort?: string): Promise<{ records: AttemptRecord[]; attempts: AttemptDoc[] }> {
    const attempts = await this.m.Attempt.find({ curriculumId, moduleId, status: 'submitted' }).sort({ submittedAt: 1 }).lean<AttemptDoc[]>();
    const enrollments = await this.m.Enrollment.find({ _id: { $in: [...new Set(attempts.map((a) => String(a.enrollmentId)))].map((id) => new Types.ObjectId(id)) } }, { cohort: 1 }).lean<EnrollmentDoc[]>();
    const cohortOf = new Map(enrollments.map((e) => [String(e._id), e.cohort]));
    const records = attempts
      .map(
        (a): AttemptRecord => ({
          attemptId: String(a._id),
          userId: String(a.userId),
          cohort: cohortOf.get(String(a.enrollmentId)) || undefined,
          percent: a.percent ?? 0,
          passed: a.passed === true,
          attemptNumber: a.number,
          items: (a.score?.items ?? []).map((i) => ({ questionId: i.questionId, credit: i.credit, chosen: i.chosen })),
        }),
      )
      .filter((r) => !cohort || r.cohort === cohort);
    return { records, attempts };
  }

  private async assessmentModule(curriculumId: string, moduleId: string): Promise<{ module: ModuleDef; def: AssessmentDef; banks: Banks }> {
    const latest = await this.curricula.latest(curriculumId);
    const version = await this.curricula.version(latest.latestVersionId);
    const module = version.content.definition.modules.find((m) => m.id === moduleId);
    if (!module?.assessment) throw new NotFound('No such assessment.');
    return { module, def: module.assessment, banks: version.content.banks as unknown as Banks };
  }

  /** Every assessment of every curriculum, with attempts, pass rate and how many questions need a look. */
  async overview(actor: Actor): Promise<{ curriculumId: string; title: string; rows: AssessmentRow[] }[]> {
    requireAccess(actor, 'assessments.analyze');
    const out = [];
    for (const c of await this.curricula.list(actor)) {
      const version = await this.curricula.version(c.latestVersionId);
      const rows: AssessmentRow[] = [];
      for (const module of version.content.definition.modules.filter((m) => m.assessment)) {
        const { records } = await this.records(c._id, module.id);
        const stats = itemStatistics(firstAttempts(records), this.questionsOf(module.assessment!, version.content.banks as unknown as Banks));
        rows.push({
          curriculumId: c._id,
          moduleId: module.id,
          title: module.title,
          purpose: module.assessment!.purpose,
          threshold: module.assessment!.threshold,
          attempts: records.length,
          reps: new Set(records.map((r) => r.userId)).size,
          passRate: passRate(records).percent,
          flagged: stats.filter((s) => s.flags.some((f) => f !== 'too_few_responses')).length,
        });
      }
      out.push({ curriculumId: c._id, title: c.title, rows });
    }
    return out;
  }

  /** The questions an assessment draws from, for item analysis. */
  private questionsOf(def: AssessmentDef, banks: Banks): AnalysedQuestion[] {
    const seen = new Set<string>();
    const out: AnalysedQuestion[] = [];
    for (const pool of def.pools) {
      for (const q of banks[pool.bank]?.questions ?? []) {
        if (seen.has(q.id) || (pool.tags?.length && !q.tags.some((t) => pool.tags!.includes(t)))) continue;
        seen.add(q.id);
        out.push(q as unknown as AnalysedQuestion);
      }
    }
    return out;
  }

  async detail(actor: Actor, curriculumId: string, moduleId: string, filter: { cohort?: string } = {}) {
    requireAccess(actor, 'assessments.analyze');
    const { module, def, banks } = await this.assessmentModule(curriculumId, moduleId);
    const { records } = await this.records(curriculumId, moduleId, filter.cohort);
    const items: ItemStatistics[] = itemStatistics(firstAttempts(records), this.questionsOf(def, banks));
    const users = await this.m.User.find({ _id: { $in: [...new Set(records.map((r) => r.userId))].map((id) => new Types.ObjectId(id)) } }, { name: 1, email: 1 }).lean<UserDoc[]>();
    const names = new Map(users.map((u) => [String(u._id), u.name]));
    return {
      module,
      def,
      records: records.map((r) => ({ ...r, name: names.get(r.userId) ?? r.userId })),
      distribution: scoreDistribution(records),
      passRate: passRate(records),
      mastery: attemptsToMastery(records),
      items,
    };
  }

  /** Pre-test against post-test, per rep and per cohort, for a curriculum. */
  async gains(actor: Actor, curriculumId: string) {
    requireAccess(actor, 'assessments.analyze');
    const version = await this.curricula.version((await this.curricula.latest(curriculumId)).latestVersionId);
    const ofPurpose = async (purpose: AssessmentDef['purpose']) => {
      const ids = version.content.definition.modules.filter((m) => m.assessment?.purpose === purpose).map((m) => m.id);
      return (await Promise.all(ids.map((id) => this.records(curriculumId, id)))).flatMap((r) => r.records);
    };
    const [pre, post] = await Promise.all([ofPurpose('pretest'), ofPurpose('posttest')]);
    const result = gains(pre, post);
    const users = await this.m.User.find({ _id: { $in: result.reps.map((r) => new Types.ObjectId(r.userId)) } }, { name: 1 }).lean<UserDoc[]>();
    const names = new Map(users.map((u) => [String(u._id), u.name]));
    return { ...result, reps: result.reps.map((r) => ({ ...r, name: names.get(r.userId) ?? r.userId })) };
  }
}
