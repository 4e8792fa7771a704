import type { Container } from '../../container.js';
import { requireAccess, type Actor } from '../../engine/access.js';
import type { CurriculumDef } from '../../engine/curriculum.js';
import type { RepSummary } from '../../engine/rep-summary.js';
import { NotFound } from '../../errors.js';
import type { PublicUser } from '../accounts/presenters.js';
import type { LiveSessionView } from '../sessions/presenters.js';
import { withReadiness, type StoredRollup } from './summaries.js';

/**
 * What the coaching view (managers), *My progress* (reps) and the readiness working read: the
 * per-enrollment rollups in `rep_summaries` (built by the worker, see summaries.ts), plus people
 * and curriculum versions for names and titles. Scoping happens here, from the signed-in actor:
 * a manager gets the reps who report to them (never a list from the request), a rep themselves.
 */
export type StoredSummary = RepSummary & { refreshedAt: Date };

export interface Curriculum {
  title: string;
  def: CurriculumDef;
}

export interface TeamData {
  /** the reps who report to the manager, by name */
  team: PublicUser[];
  /** their summaries (one per enrollment) */
  summaries: StoredSummary[];
  /** version id → its curriculum */
  curricula: Map<string, Curriculum>;
  reviews: { waiting: number; overdue: number; results: number };
}

export interface ProgressData {
  rep: PublicUser;
  summaries: StoredSummary[];
  curricula: Map<string, Curriculum>;
  /** the rep's seats (booked or waitlisted) on sessions that are not over, soonest first */
  bookings: { session: LiveSessionView; enrollmentId: string; status: 'booked' | 'waitlisted'; waitlistPosition: number | null }[];
}

export interface ReadinessData {
  person: PublicUser;
  summaries: StoredSummary[];
  curricula: Map<string, Curriculum>;
}

type Deps = Pick<Container, 'models' | 'accounts' | 'curricula' | 'reviews' | 'sessions'>;

export class CoachingReads {
  constructor(
    private readonly c: Deps,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private async summariesOf(userIds: string[]): Promise<StoredSummary[]> {
    if (!userIds.length) return [];
    const query = userIds.length === 1 ? { userId: userIds[0] } : { userId: { $in: userIds } };
    return withReadiness(this.c.models, await this.c.models.RepSummary.find(query).sort({ _id: 1 }).lean<StoredRollup[]>());
  }

  private async curriculaOf(summaries: StoredSummary[]): Promise<Map<string, Curriculum>> {
    const out = new Map<string, Curriculum>();
    for (const versionId of new Set(summaries.map((s) => s.versionId))) {
      const v = await this.c.curricula.version(versionId).catch(() => null);
      if (v) out.set(versionId, { title: v.content.definition.title, def: v.content.definition });
    }
    return out;
  }

  /** The manager's team: their reps, the reps' summaries, and the reviews waiting for the manager. */
  async team(actor: Actor): Promise<TeamData> {
    requireAccess(actor, 'reviews.manage');
    const team = (await this.c.accounts.team(actor)).filter((u) => u.role === 'rep');
    const [summaries, queue] = await Promise.all([this.summariesOf(team.map((u) => u.id)), this.c.reviews.queue(actor)]);
    const now = this.now().getTime();
    return {
      team,
      summaries,
      curricula: await this.curriculaOf(summaries),
      reviews: {
        waiting: queue.waiting.length,
        overdue: queue.waiting.filter((i) => i.submission.reviewDueAt && new Date(i.submission.reviewDueAt).getTime() < now).length,
        results: queue.results.length,
      },
    };
  }

  /** The rep's own figures, and the live sessions they hold a seat on. */
  async progress(actor: Actor): Promise<ProgressData> {
    requireAccess(actor, 'learning.take');
    const rep = await this.c.accounts.get(actor, actor.id);
    const summaries = await this.summariesOf([rep.id]);
    const curricula = await this.curriculaOf(summaries);
    const bookings: ProgressData['bookings'] = [];
    for (const s of summaries) {
      const def = curricula.get(s.versionId)?.def;
      for (const m of def?.modules ?? []) {
        if (m.modality !== 'vilt' && m.modality !== 'ilt') continue;
        for (const session of await this.c.sessions.forModule(s.curriculumId, m.id)) {
          const seat = session.seats.find((x) => x.userId === rep.id && x.status !== 'cancelled');
          if (seat) bookings.push({ session, enrollmentId: seat.enrollmentId, status: seat.status === 'waitlisted' ? 'waitlisted' : 'booked', waitlistPosition: seat.waitlistPosition });
        }
      }
    }
    bookings.sort((a, b) => a.session.startsAt.localeCompare(b.session.startsAt));
    return { rep, summaries, curricula, bookings };
  }

  /**
   * A rep's readiness, for whoever may read their enrollments: the rep themselves, their manager,
   * trainers and admins. Anyone else — and anyone asking about a person who is not a rep — gets
   * NotFound, so the page does not reveal who exists.
   */
  async readiness(actor: Actor, personId: string): Promise<ReadinessData> {
    requireAccess(actor, 'enrollments.read');
    const person = await this.c.accounts.get(actor, personId);
    requireAccess(actor, 'enrollments.read', { userId: person.id, managerId: person.managerId });
    if (person.role !== 'rep') throw new NotFound('Not found.');
    const summaries = await this.summariesOf([person.id]);
    return { person, summaries, curricula: await this.curriculaOf(summaries) };
  }
}
