import { createHash } from 'node:crypto';
import type { Statement } from '@xapi/xapi';
import type { CurriculumDef, ModuleDef, ProgressFacts, Roadmap } from '../engine/curriculum.js';
import type { Logger } from '../infra/logger.js';
import * as catalogue from './catalogue.js';
import type { StatementsService } from './lrs/statements.js';
import type { AttachmentPart } from './lrs/multipart.js';
import type { SessionChange, SessionListener } from '../features/sessions/service.js';
import type { TransferEvent, TransferListener } from '../features/transfer/events.js';
import type { ReinforcementAnswer, ReinforcementListener } from '../features/reinforcement/service.js';

/**
 * Turns learning events into stored xAPI statements. Statement ids are derived from the event
 * (enrollment, module, attempt, kind), so recording the same event twice stores it once: the LRS
 * treats a re-sent identical statement as already stored.
 */
export interface EnrollmentEvent {
  enrollmentId: string;
  curriculum: CurriculumDef;
  versionId: string;
  rep: { id: string; name: string; email: string };
}

export interface AttemptEvent extends EnrollmentEvent {
  module: ModuleDef;
  attempt: { id: string; number: number; startedAt: string; submittedAt: string; earned: number; possible: number; percent: number; passed: boolean; testedOut: string[] };
}

/** A UUID (version 5 layout) from an event key. */
export function eventId(key: string): string {
  const h = createHash('sha1').update(`onramp-event|${key}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class LearningRecorder implements SessionListener, TransferListener, ReinforcementListener {
  constructor(
    private readonly statements: StatementsService,
    private readonly config: catalogue.CatalogueConfig,
    private readonly log: Logger,
  ) {}

  private env(key: string): catalogue.CatalogueEnv {
    let n = 0;
    return { config: this.config, newId: () => eventId(`${key}|${n++}`) };
  }

  private authority() {
    return catalogue.onrampAgent(this.config.homePage ?? new URL(this.config.baseIri).origin);
  }

  /** Stores the statements; a failure is logged, never thrown at the rep whose progress is saved. */
  private async save(statements: Statement[], parts: AttachmentPart[] = []): Promise<void> {
    if (!statements.length) return;
    try {
      await this.statements.save(statements, this.authority(), undefined, parts);
    } catch (err) {
      this.log.error({ err, ids: statements.map((s) => s.id) }, 'could not record xAPI statements');
    }
  }

  private refs(e: EnrollmentEvent) {
    return { enrollmentId: e.enrollmentId, curriculum: { id: e.curriculum.id, title: e.curriculum.title, version: e.versionId }, rep: e.rep };
  }

  private moduleRef(m: ModuleDef): catalogue.ModuleRef {
    return { id: m.id, title: m.title, modality: m.modality, ...(m.cmi5 ? { cmi5Au: m.cmi5.au } : {}) };
  }

  async enrolled(e: EnrollmentEvent, at: string, cohort: string, startDate: string): Promise<void> {
    await this.save([catalogue.registered(this.env(`${e.enrollmentId}|registered`), { ...this.refs(e), at, cohort, startDate })]);
  }

  /**
   * What one event changed, as statements: modules launched, and modules completed by their own
   * rule. Assessment results (and test-out waivers) are recorded from the attempt itself.
   */
  async progressed(e: EnrollmentEvent, before: { facts: ProgressFacts; roadmap: Roadmap }, after: { facts: ProgressFacts; roadmap: Roadmap }): Promise<void> {
    const out: Statement[] = [];
    const base = this.refs(e);
    const wasDone = new Set(before.roadmap.modules.filter((s) => s.state === 'completed' || s.state === 'tested_out').map((s) => s.id));
    const byId = new Map(e.curriculum.modules.map((m) => [m.id, m]));
    for (const m of e.curriculum.modules) {
      // a cmi5 module's launches and results are the cmi5 statements (the LMS's and the AU's own)
      if (m.cmi5) continue;
      if (after.facts.started[m.id] && !before.facts.started[m.id]) {
        out.push(catalogue.launched(this.env(`${e.enrollmentId}|${m.id}|launched`), { ...base, module: this.moduleRef(m), at: after.facts.started[m.id]! }));
      }
    }
    for (const s of after.roadmap.modules) {
      const m = byId.get(s.id);
      // an assessment's result is its passed / failed statement, not a separate completion
      if (!m || m.modality === 'assessment' || m.cmi5 || s.state !== 'completed' || wasDone.has(s.id) || !s.doneAt) continue;
      out.push(catalogue.completed(this.env(`${e.enrollmentId}|${m.id}|completed`), { ...base, module: this.moduleRef(m), at: s.doneAt }));
    }
    await this.save(out);
  }

  /** A submitted attempt: scored, then passed or failed (a pre-test with its test-outs and waivers). */
  async attemptSubmitted(e: AttemptEvent): Promise<void> {
    const env = this.env(`${e.enrollmentId}|attempt|${e.attempt.id}`);
    const input = {
      ...this.refs(e),
      module: this.moduleRef(e.module),
      at: e.attempt.submittedAt,
      attempt: { id: e.attempt.id, number: e.attempt.number },
      purpose: e.module.assessment!.purpose,
      score: { earned: e.attempt.earned, possible: e.attempt.possible },
      durationMs: Date.parse(e.attempt.submittedAt) - Date.parse(e.attempt.startedAt),
      threshold: e.module.assessment!.threshold,
    };
    const out: Statement[] = [catalogue.scored(env, input)];
    if (e.attempt.testedOut.length) {
      const modules = e.curriculum.modules.filter((m) => e.attempt.testedOut.includes(m.id)).map((m) => this.moduleRef(m));
      out.push(...catalogue.testedOut(env, { ...input, success: e.attempt.passed, testedOut: modules }));
    } else {
      out.push(e.attempt.passed ? catalogue.passed(env, input) : catalogue.failed(env, input));
    }
    await this.save(out);
  }

  async attemptStarted(e: EnrollmentEvent & { module: ModuleDef; attempt: { id: string; number: number; startedAt: string } }): Promise<void> {
    await this.save([
      catalogue.attempted(this.env(`${e.enrollmentId}|attempt|${e.attempt.id}|start`), {
        ...this.refs(e),
        module: this.moduleRef(e.module),
        at: e.attempt.startedAt,
        attempt: { id: e.attempt.id, number: e.attempt.number },
        purpose: e.module.assessment!.purpose,
      }),
    ]);
  }

  // ---- live sessions ----------------------------------------------------------------------------

  private sessionInput(e: SessionChange, at: string) {
    const module = e.view.curriculum.modules.find((m) => m.id === e.session.moduleId);
    return {
      ...this.refs({ enrollmentId: String(e.view.enrollment._id), curriculum: e.view.curriculum, versionId: e.view.enrollment.versionId, rep: e.view.rep }),
      module: module ? this.moduleRef(module) : { id: e.session.moduleId, title: e.session.title, modality: e.session.modality },
      session: { id: e.session.id, title: e.session.title, modality: e.session.modality, startsAt: e.session.startsAt, endsAt: e.session.endsAt },
      at,
    };
  }

  private sessionKey(e: SessionChange): string {
    return `${String(e.view.enrollment._id)}|session|${e.session.id}`;
  }

  /** A seat or a waitlist place; each seat change (sequence, status) is its own event. */
  async seatTaken(e: SessionChange & { status: 'booked' | 'waitlisted'; sequence: number; at: string }): Promise<void> {
    await this.save([catalogue.booked(this.env(`${this.sessionKey(e)}|seat|${e.sequence}|${e.status}`), { ...this.sessionInput(e, e.at), seat: e.status })]);
  }

  async seatReleased(e: SessionChange & { sequence: number; at: string; reason: 'rep' | 'session-cancelled' | 'module-done' }): Promise<void> {
    await this.save([catalogue.bookingCancelled(this.env(`${this.sessionKey(e)}|release|${e.sequence}`), { ...this.sessionInput(e, e.at), reason: e.reason })]);
  }

  private attendanceId(e: SessionChange, status: string, markedAt: string): string {
    return eventId(`${this.sessionKey(e)}|attendance|${status}|${markedAt}|0`);
  }

  /**
   * Attended / partial (attended) or absent (skipped), with the instructor in context, timed at the
   * session's start. Re-marking voids the statement of the earlier mark first; a rubric score is a
   * scored statement of its own.
   */
  async attendanceMarked(e: Parameters<SessionListener['attendanceMarked']>[0]): Promise<void> {
    const out: Statement[] = [];
    const input = { ...this.sessionInput(e, e.session.startsAt), instructor: e.instructor };
    if (e.previous) {
      out.push(
        catalogue.voided(this.env(`${this.sessionKey(e)}|void|${e.previous.status}|${e.previous.markedAt}`), {
          at: e.markedAt,
          actor: e.instructor,
          statementId: this.attendanceId(e, e.previous.status, e.previous.markedAt),
          enrollmentId: String(e.view.enrollment._id),
        }),
      );
    }
    const env = this.env(`${this.sessionKey(e)}|attendance|${e.status}|${e.markedAt}`);
    out.push(e.status === 'absent' ? catalogue.absent(env, input) : catalogue.attended(env, { ...input, status: e.status }));
    if (e.rubric) {
      out.push(
        catalogue.rubricScored(this.env(`${this.sessionKey(e)}|rubric|${JSON.stringify(e.rubric.scores)}|${e.rubric.feedback}`), {
          ...input,
          criteria: e.rubric.scores,
          points: e.rubric.points,
          maxPoints: e.rubric.maxPoints,
          passed: e.rubric.passed,
          feedback: e.rubric.feedback,
        }),
      );
    }
    await this.save(out);
  }

  // ---- transfer activities --------------------------------------------------------------------

  private transferInput(e: TransferEvent) {
    const module = e.view.curriculum.modules.find((m) => m.id === e.moduleId);
    return {
      ...this.refs({ enrollmentId: String(e.view.enrollment._id), curriculum: e.view.curriculum, versionId: e.view.enrollment.versionId, rep: e.view.rep }),
      module: module ? this.moduleRef(module) : { id: e.moduleId, title: e.form.title, modality: 'transfer' as const },
      form: e.form,
      submissionId: e.submissionId,
      at: e.at,
    };
  }

  private submittedKey(e: TransferEvent, version: number): string {
    return `${String(e.view.enrollment._id)}|submission|${e.submissionId}|v${version}|submitted`;
  }

  async submitted(e: Parameters<TransferListener['submitted']>[0]): Promise<void> {
    await this.save([catalogue.submitted(this.env(this.submittedKey(e, e.version)), { ...this.transferInput(e), ...(e.manager ? { manager: e.manager } : {}) })]);
  }

  /** Approved or returned, with the manager as the actor, pointing at the submitted statement. */
  async reviewed(e: Parameters<TransferListener['reviewed']>[0]): Promise<void> {
    const input = { ...this.transferInput(e), manager: e.manager, submittedStatementId: eventId(`${this.submittedKey(e, e.submittedVersion)}|0`), comment: e.comment };
    const env = this.env(`${String(e.view.enrollment._id)}|submission|${e.submissionId}|v${e.version}|${e.decision}`);
    const statement = e.decision === 'approved' ? catalogue.approved(env, { ...input, adjusted: e.adjusted }) : catalogue.returned(env, input);
    if (!e.pdf) return this.save([statement]);
    // the approved script travels with the statement (multipart/mixed, by its SHA-256)
    statement.attachments = [
      {
        usageType: 'http://id.tincanapi.com/attachment/supporting_media',
        display: { 'en-US': `${e.form.title} (approved version ${e.version})` },
        contentType: 'application/pdf',
        length: e.pdf.content.length,
        sha2: e.pdf.sha2,
      },
    ];
    await this.save([statement], [{ sha2: e.pdf.sha2, contentType: 'application/pdf', content: e.pdf.content }]);
  }

  async resultsLogged(e: Parameters<TransferListener['resultsLogged']>[0]): Promise<void> {
    const n = (key: string) => (typeof e.results[key] === 'number' ? (e.results[key] as number) : 0);
    await this.save([
      catalogue.loggedActivity(this.env(`${String(e.view.enrollment._id)}|submission|${e.submissionId}|results|${e.at}`), {
        ...this.transferInput(e),
        metWithManager: e.results.metWithManager === true,
        calls: n('calls'),
        contacts: n('contacts'),
        presentations: n('presentations'),
        appointments: n('appointments'),
        ...(e.manager ? { manager: e.manager } : {}),
      }),
    ]);
  }

  /** A reinforcement question answered: one statement, its id fixed by the delivery and question. */
  async answered(e: ReinforcementAnswer): Promise<void> {
    await this.save([
      catalogue.reinforcementAnswered(this.env(`${e.event.enrollmentId}|reinforcement|${e.deliveryId}|${e.question.bank}.${e.question.id}`), {
        ...this.refs(e.event),
        module: this.moduleRef(e.module),
        at: e.at,
        question: e.question,
        answer: e.answer,
        credit: e.credit,
        correct: e.correct,
        deliveryId: e.deliveryId,
        channel: e.channel,
      }),
    ]);
  }
}
