import { createHash } from 'node:crypto';
import type { Queue } from 'bullmq';
import { Binary, type Db } from 'mongodb';
import { Types } from 'mongoose';
import { Conflict, NotFound } from '../../errors.js';
import { pseudonymise, relationOf, type PersonKeys, type StatementErasure, type StatementPeople } from '../../engine/privacy.js';
import type { Locker } from '../../infra/locks.js';
import type { Logger } from '../../infra/logger.js';
import { escapeRegex } from '../../infra/regex.js';
import { onrampAgent, registrationOf } from '../../xapi/catalogue.js';
import { eventId } from '../../xapi/recorder.js';
import { DOCUMENTS_COLLECTION } from '../../xapi/lrs/documents.js';
import { attachmentHashes, type StatementsService } from '../../xapi/lrs/statements.js';
import { STATEMENT_REFS_COLLECTION, STATEMENTS_COLLECTION, VOIDED, type StatementDoc, type StatementRefDoc, type StatementStore } from '../../xapi/lrs/store.js';
import { agentKey } from '../../xapi/validate.js';
import type { AccountModels, UserDoc } from '../accounts/model.js';
import type { AuditLog } from '../audit/service.js';
import type { AssessmentModels } from '../assessments/model.js';
import type { SummaryModels, RepSummaries } from '../dashboards/summaries.js';
import type { EmailModels } from '../email/model.js';
import type { EnrollmentModels } from '../enrollment/model.js';
import type { ReinforcementModels } from '../reinforcement/model.js';
import type { DeliveryScheduler } from '../reinforcement/scheduler.js';
import type { LiveSessionDoc, LiveSessionModels } from '../sessions/model.js';
import type { LiveSessionService } from '../sessions/service.js';
import type { SubmissionModels } from '../transfer/model.js';

type Json = Record<string, unknown>;

/** What the steps of an export or an erasure work with. */
export interface PrivacyDeps {
  models: AccountModels & EnrollmentModels & AssessmentModels & SubmissionModels & EmailModels & LiveSessionModels & ReinforcementModels & SummaryModels;
  /** the database, for the collections written with the native driver */
  db: Db;
  /** the statement store, with the write lock the LRS uses */
  store: StatementStore;
  /** the LRS's Statements resource: voiding statements are stored (and forwarded) like any other */
  statements: Pick<StatementsService, 'save'>;
  sessions: Pick<LiveSessionService, 'cancel'>;
  summaries: Pick<RepSummaries, 'refresh'>;
  deliveries: Pick<DeliveryScheduler, 'schedule'>;
  queue: Pick<Queue, 'getJob'>;
  /** where exports and erasures are recorded (ids and the choice made, nothing of the person) */
  audit: Pick<AuditLog, 'record' | 'recordThen'>;
  /** Redis locks under the keys the features use (`session:<id>`, `reinforcement:<user id>`) */
  locks: Locker;
  /** the lock one erasure of a person holds from start to end (`privacy-erase:<id>`) */
  erasureLocks: Locker;
  /** account.homePage of Onramp's agents: how its statements name a person */
  homePage: string;
  log: Logger;
  now: () => Date;
}

/** The person an export or erasure is about, with every key their records are found by. */
export interface Subject {
  user: UserDoc;
  id: string;
  oid: Types.ObjectId;
  /** agent keys: Onramp's account, and the email as mbox and mbox_sha1sum (other xAPI clients) */
  agentKeys: string[];
  /**
   * The same, and their Onramp account under any homePage: statements recorded before the site's
   * PUBLIC_URL changed (or by a command run with another one) name them by their id all the same.
   */
  isAgent(key: string): boolean;
  /** the key of Onramp's account agent for them: what a pseudonymised statement keeps */
  accountKey: string;
  /** kept in the erasure's record too, so a rerun after the enrollments are gone still finds what hangs off them */
  enrollmentIds: string[];
  registrations: string[];
  submissionIds: string[];
  /** erasure only: what happens to their statements, and the erasure's start (the voiding statements' timestamp) */
  erasure?: { statements: StatementErasure; startedAt: Date };
}

/**
 * One collection and what Onramp keeps in it about a person. PERSONAL_DATA lists every collection
 * of the database (test/features/privacy.test.ts fails for one it does not list, and for a
 * person-like field of a model that is not in `fields`). Export reads the collections in this
 * order; erasure runs their steps in this order, which is what makes a crashed erasure safe to run
 * again: what could still make new records comes first (the reinforcement job, upcoming seats, cmi5
 * launches), the statements come after the enrollments (no event can record one then), and the
 * account comes last.
 */
export interface PersonalData {
  collection: string;
  /** the fields that hold a person's id, email or xAPI identifiers */
  fields: string[];
  /** fields named like a person's that hold none (the list's test would take them for one) */
  notPersonal?: string[];
  /** what erasure does here, in a sentence (shown on the erase page) */
  erasure: string;
  /** the person's records as they go into the export (no password hash, token hash or secret) */
  export?: (s: Subject, d: PrivacyDeps) => Promise<unknown[]>;
  /** this collection's step of an erasure: idempotent; returns how many records it changed */
  erase?: (s: Subject, d: PrivacyDeps) => Promise<number>;
}

const base64 = (b: Binary | Buffer): string => (b instanceof Binary ? Buffer.from(b.buffer) : b).toString('base64');
const same = (a: unknown, id: string) => String(a) === id;

/** The agent keys a person's statements carry (as the learner timeline reads them). */
export function agentKeysOf(homePage: string, user: Pick<UserDoc, '_id' | 'email'>): Pick<Subject, 'agentKeys' | 'accountKey' | 'isAgent'> {
  const accountKey = agentKey({ account: { homePage, name: String(user._id) } })!;
  const mbox = `mailto:${user.email}`;
  const agentKeys = [accountKey, agentKey({ mbox }), agentKey({ mbox_sha1sum: createHash('sha1').update(mbox).digest('hex') })].filter((k): k is string => k !== null);
  const keys = new Set(agentKeys);
  const anyHome = new RegExp(accountPattern(String(user._id)));
  return { agentKeys, accountKey, isAgent: (key) => keys.has(key) || anyHome.test(key) };
}

/** An agent key of the account `id` under any homePage (`|` cannot occur in an IRI). */
const accountPattern = (id: string) => `^account:[^|]*\\|${escapeRegex(id)}$`;

/** A filter on an agent-key field (or array of them) that matches the person. */
function agentFilter(s: Subject, field: string): Json {
  return { $or: [{ [field]: { $in: s.agentKeys } }, { [field]: { $regex: accountPattern(s.id) } }] };
}

// ---- xAPI -------------------------------------------------------------------------------------------

interface PersonStatements {
  /** the person's record: their statements, those of their enrollments, and those that point at them */
  theirs: StatementDoc[];
  /** other people's statements that name them */
  mentions: StatementDoc[];
  /** what statements pointing at a mention borrowed from it */
  mentionRefs: string[];
}

/** An export reads the person's statements once for two collections; an erasure step reads them afresh. */
const exported = new WeakMap<Subject, Promise<PersonStatements>>();
function statementsForExport(s: Subject, d: PrivacyDeps): Promise<PersonStatements> {
  let p = exported.get(s);
  if (!p) exported.set(s, (p = personStatements(s, d)));
  return p;
}

async function personStatements(s: Subject, d: PrivacyDeps): Promise<PersonStatements> {
  const regs = s.registrations;
  const [docs, refs] = await Promise.all([
    d.store.col.find({ $or: [agentFilter(s, 'agents'), agentFilter(s, 'relatedAgents'), ...(regs.length ? [{ registration: { $in: regs } }] : [])] }).toArray(),
    d.store.refs.find({ $or: [agentFilter(s, 'refAgents'), agentFilter(s, 'refRelatedAgents'), ...(regs.length ? [{ refRegistrations: { $in: regs } }] : [])] }).toArray(),
  ]);
  const mine = new Set(regs);
  const foreign = [...docs.map((x) => x.registration), ...refs.flatMap((r) => r.refRegistrations)].some((r) => r && !mine.has(r));
  // the registrations of everyone else's enrollments, read only when some statement has another registration
  const others = foreign ? new Set((await d.models.Enrollment.find({ userId: { $ne: s.oid } }, { _id: 1 }).lean<{ _id: Types.ObjectId }[]>()).map((e) => registrationOf(String(e._id)))) : new Set<string>();
  const person: PersonKeys = { isAgent: s.isAgent, registrations: mine, isOthers: (r) => others.has(r) };
  const ofDoc = (x: StatementDoc): StatementPeople => ({ agents: x.agents, relatedAgents: x.relatedAgents, registrations: x.registration ? [x.registration] : [] });
  const ofRef = (r: StatementRefDoc): StatementPeople => ({ agents: r.refAgents, relatedAgents: r.refRelatedAgents, registrations: r.refRegistrations });

  const theirs = new Map<string, StatementDoc>();
  const mentions = new Map<string, StatementDoc>();
  for (const x of docs) {
    const relation = relationOf(ofDoc(x), person);
    if (relation === 'theirs') theirs.set(x._id, x);
    else if (relation === 'mentions') mentions.set(x._id, x);
  }
  // statements whose target is theirs (a voiding statement, a comment on it) are theirs too
  const pointing = refs.filter((r) => relationOf(ofRef(r), person) === 'theirs' && !theirs.has(r._id)).map((r) => r._id);
  for (const x of await d.store.byIds(pointing)) {
    theirs.set(x._id, x);
    mentions.delete(x._id);
  }
  const mentionRefs = refs.filter((r) => relationOf(ofRef(r), person) === 'mentions' && !theirs.has(r._id)).map((r) => r._id);
  return { theirs: [...theirs.values()], mentions: [...mentions.values()], mentionRefs };
}

const voidingId = (targetId: string) => eventId(`privacy-erase|${targetId}`);

/** The voiding statement for one of the person's statements: the same id and content on every run. */
function voidingStatement(targetId: string, s: Subject, d: PrivacyDeps): Json {
  return {
    id: voidingId(targetId),
    actor: onrampAgent(d.homePage),
    verb: { id: VOIDED, display: { 'en-US': 'voided' } },
    object: { objectType: 'StatementRef', id: targetId },
    timestamp: s.erasure!.startedAt.toISOString(),
  };
}

async function eraseStatements(s: Subject, d: PrivacyDeps): Promise<number> {
  const { theirs, mentions, mentionRefs } = await personStatements(s, d);
  let changed = 0;
  const voidedNow = new Set<string>();
  /** the statements that stay and name them: pseudonymised below, with what statements pointing at them borrowed */
  const staying = [...mentions];
  const stayingRefs = [...mentionRefs];
  if (s.erasure!.statements === 'void') {
    // a voiding statement cannot be voided, and one voided already stays as it is
    const open = theirs.filter((x) => !x.voided && x.verb !== VOIDED);
    for (let i = 0; i < open.length; i += 50) {
      await d.statements.save(open.slice(i, i + 50).map((x) => voidingStatement(x._id, s, d)), onrampAgent(d.homePage));
    }
    changed += open.length;
    for (const x of open) voidedNow.add(x._id);
    // Voided, they are no longer served, so they can change: every one of theirs (voided before,
    // voiding statements they sent too) keeps what happened without their name or email, and so do
    // the filter fields that the statements pointing at them (the voiding ones above among them) borrowed.
    staying.push(...theirs);
    stayingRefs.push(...theirs.map((x) => x._id), ...theirs.filter((x) => x.verb !== VOIDED).map((x) => voidingId(x._id)));
  } else {
    const ids = new Set(theirs.map((x) => x._id));
    // attachment content no other statement names goes first: a rerun still finds the statements that named it
    const attachments = d.db.collection<{ _id: string }>('xapi_attachments');
    for (const hash of attachmentHashes(theirs.map((x) => JSON.parse(x.json) as Json))) {
      const kept = await d.store.col.findOne({ _id: { $nin: [...ids] }, json: { $regex: escapeRegex(hash) } }, { projection: { _id: 1 } });
      if (!kept) await attachments.deleteOne({ _id: hash });
    }
    changed += await d.store.erase([...ids]);
  }
  // other people's statements that name them, and their own voided ones, keep what happened without the person's name or email
  const pseudonym = { homePage: d.homePage, name: s.id };
  const isTheirs = (agent: Json) => s.isAgent(agentKey(agent as never) ?? '');
  const rewritten = staying.flatMap((x) => {
    const before = JSON.parse(x.json) as Json;
    const after = pseudonymise(before, isTheirs, pseudonym);
    return after === before ? [] : [{ id: x._id, json: JSON.stringify(after) }];
  });
  await d.store.rewrite(rewritten);
  await d.store.replaceRefAgents([...new Set(stayingRefs)], s.isAgent, s.accountKey);
  return changed + rewritten.filter((x) => !voidedNow.has(x.id)).length;
}

// ---- the list ---------------------------------------------------------------------------------------

export const PERSONAL_DATA: readonly PersonalData[] = [
  {
    collection: 'reinforcement_decks',
    fields: ['_id'],
    erasure: 'Deleted first, with the rep’s delivery job in Redis: no more questions are sent. Deleted once more after the enrollments, in case a step in between completed a module.',
    export: async (s, d) => d.models.Deck.find({ _id: s.oid }).lean(),
    erase: removeDeck,
  },
  {
    collection: 'live_sessions',
    fields: ['seats.userId', 'attendance.userId', 'instructorId', 'createdBy'],
    erasure:
      'Their seats on sessions still to come are given up (the waitlist moves up), then their seats and attendance are taken off every session. Sessions they teach or created keep their id, which names nobody once the account is gone.',
    export: async (s, d) =>
      (await sessionsOf(s, d)).map((x) => ({
        sessionId: String(x._id),
        title: x.title,
        curriculumId: x.curriculumId,
        moduleId: x.moduleId,
        startsAt: x.startsAt,
        endsAt: x.endsAt,
        seats: x.seats.filter((seat) => same(seat.userId, s.id)),
        attendance: x.attendance.filter((a) => same(a.userId, s.id)),
      })),
    erase: async (s, d) => {
      let changed = 0;
      for (const x of await sessionsOf(s, d)) {
        const active = x.seats.some((seat) => same(seat.userId, s.id) && seat.status !== 'cancelled');
        if (active && !x.cancelledAt && x.startsAt > d.now()) {
          try {
            await d.sessions.cancel({ id: s.id, role: 'rep' }, String(x._id));
          } catch (err) {
            // The enrollment is gone already (a rerun), or the session started meanwhile: the seat is
            // taken off below. Any other refusal (a lock not had, a concurrent change) leaves the seat
            // for a rerun to give up the proper way, moving the waitlist up.
            if (!(err instanceof NotFound) && !(err instanceof Conflict && (await hasStarted(x._id, d)))) throw err;
          }
        }
        changed += await d.locks.withLock(`session:${String(x._id)}`, async () => {
          const current = await d.models.LiveSession.findById(x._id).lean<LiveSessionDoc>();
          if (!current) return 0;
          const seats = current.seats.filter((seat) => !same(seat.userId, s.id));
          const attendance = current.attendance.filter((a) => !same(a.userId, s.id));
          if (seats.length === current.seats.length && attendance.length === current.attendance.length) return 0;
          const res = await d.models.LiveSession.updateOne({ _id: current._id, rev: current.rev }, { $set: { seats, attendance }, $inc: { rev: 1 } });
          if (res.modifiedCount !== 1) throw new Conflict(`The session ${String(current._id)} was changed at the same moment: run the erasure again to finish it.`);
          return 1;
        });
      }
      return changed;
    },
  },
  {
    collection: 'cmi5_sessions',
    fields: ['repId', 'actor', 'registration'],
    erasure: 'Their course launches are deleted (a launched course can store nothing more).',
    export: async (s, d) => (await d.db.collection('cmi5_sessions').find(cmi5SessionsOf(s), { projection: { fetchTokenHash: 0, secretHash: 0 } }).toArray()) as unknown[],
    erase: async (s, d) => (await d.db.collection('cmi5_sessions').deleteMany(cmi5SessionsOf(s))).deletedCount,
  },
  {
    collection: 'cmi5_registrations',
    fields: ['_id'],
    erasure: 'What their enrollments’ course registrations satisfied is deleted.',
    export: async (s, d) => (s.registrations.length ? await d.db.collection<{ _id: string }>('cmi5_registrations').find(cmi5RegistrationsOf(s)).toArray() : []),
    erase: async (s, d) => (s.registrations.length ? (await d.db.collection<{ _id: string }>('cmi5_registrations').deleteMany(cmi5RegistrationsOf(s))).deletedCount : 0),
  },
  {
    collection: 'email_messages',
    fields: ['to'],
    erasure: 'Emails to them, and emails to others about their work (a review request naming them), are deleted; those still queued are taken out of the queue.',
    export: async (s, d) => d.models.EmailMessage.find({ to: toThem(s) }).lean(),
    erase: async (s, d) => {
      const about = [s.id, ...s.submissionIds].map(escapeRegex).join('|');
      const docs = await d.models.EmailMessage.find({ $or: [{ to: toThem(s) }, { dedupeKey: { $regex: about } }] }, { _id: 1, status: 1 }).lean<{ _id: Types.ObjectId; status: string }[]>();
      for (const m of docs.filter((x) => x.status === 'queued')) await (await d.queue.getJob(`email-${String(m._id)}`))?.remove().catch(() => undefined);
      return docs.length ? (await d.models.EmailMessage.deleteMany({ _id: { $in: docs.map((x) => x._id) } })).deletedCount : 0;
    },
  },
  {
    collection: 'submission_documents',
    fields: ['submissionId'],
    erasure: 'The PDFs of their approved work are deleted. (A rep’s approved PDF names the approving manager; it is the rep’s record and stays while the rep’s data does.)',
    export: async (s, d) =>
      (await d.db.collection<{ _id: string; submissionId: string; version: number; contentType: string; sha256: string; data: Binary; createdAt: Date }>('submission_documents').find({ submissionId: { $in: s.submissionIds } }).toArray()).map(({ data, ...doc }) => ({
        ...doc,
        base64: base64(data),
      })),
    erase: async (s, d) => (await d.db.collection('submission_documents').deleteMany({ submissionId: { $in: s.submissionIds } })).deletedCount,
  },
  {
    collection: 'submissions',
    fields: ['repId', 'managerId', 'resultsConfirmedBy', 'versions.by', 'decisions.by'],
    erasure:
      'Their transfer work is deleted with its versions and the review decisions on it. Work they reviewed as a manager stays with the rep; the decisions keep their id, which names nobody once the account is gone.',
    export: async (s, d) => d.models.Submission.find({ repId: s.oid }).lean(),
    erase: async (s, d) => (await d.models.Submission.deleteMany({ repId: s.oid })).deletedCount,
  },
  {
    collection: 'attempts',
    fields: ['userId'],
    notPersonal: ['submittedBy'], // 'rep' or 'time-limit'
    erasure: 'Their assessment attempts and answers are deleted (item statistics are computed without them from then on).',
    export: async (s, d) => d.models.Attempt.find({ userId: s.oid }).lean(),
    erase: async (s, d) => (await d.models.Attempt.deleteMany({ userId: s.oid })).deletedCount,
  },
  {
    collection: 'reinforcement_deliveries',
    fields: ['userId'],
    erasure: 'Deleted.',
    export: async (s, d) => d.models.Delivery.find({ userId: s.oid }).lean(),
    erase: async (s, d) => (await d.models.Delivery.deleteMany({ userId: s.oid })).deletedCount,
  },
  {
    collection: 'reinforcement_answers',
    fields: ['userId', 'managerId'],
    erasure: 'Their answers are deleted (retention reports are computed without them). A manager’s id on their reps’ answers stays, naming nobody.',
    export: async (s, d) => d.models.Answer.find({ userId: s.oid }).lean(),
    erase: async (s, d) => (await d.models.Answer.deleteMany({ userId: s.oid })).deletedCount,
  },
  {
    collection: 'enrollments',
    fields: ['userId', 'enrolledBy'],
    erasure: 'Their enrollments (progress and roadmap) are deleted. Enrollments they made for others keep their id as enrolledBy.',
    export: async (s, d) => d.models.Enrollment.find({ userId: s.oid }).lean(),
    erase: async (s, d) => {
      const { deletedCount } = await d.models.Enrollment.deleteMany({ userId: s.oid });
      // an event of a step since the deck's (a seat given up, progress changed) may have made the
      // deck and its delivery job again; with the enrollments gone, none can any more
      return deletedCount + (await removeDeck(s, d));
    },
  },
  {
    collection: 'rep_summaries',
    fields: ['userId', 'managerId'],
    erasure: 'Their dashboard summaries are rebuilt now that the enrollments are gone, which removes them and their rows in the dashboard cells.',
    export: async (s, d) => d.models.RepSummary.find({ userId: s.id }).lean(),
    erase: async (s, d) => {
      const ids = new Set([...s.enrollmentIds, ...(await d.models.RepSummary.find({ userId: s.id }, { _id: 1 }).lean<{ _id: string }[]>()).map((x) => x._id)]);
      for (const id of ids) await d.summaries.refresh(id);
      // a read that has not seen the enrollments' deletion yet would have rebuilt a summary: none may stay
      return (await d.models.RepSummary.deleteMany({ userId: s.id })).deletedCount + ids.size;
    },
  },
  {
    collection: 'rep_readiness',
    fields: ['userId'],
    erasure: 'Deleted with the summaries.',
    export: async (s, d) => d.models.RepReadiness.find({ userId: s.id }).lean(),
    erase: async (s, d) => (await d.models.RepReadiness.deleteMany({ userId: s.id })).deletedCount,
  },
  {
    collection: 'dashboard_cells',
    fields: ['managerId', 'reps.userId'],
    erasure: 'Rows of the trainer dashboard, a copy of the summaries: removed when the summaries are rebuilt (and by the six-hourly rebuild).',
  },
  {
    collection: STATEMENTS_COLLECTION,
    fields: ['agents', 'relatedAgents', 'registration'],
    erasure:
      'Their statements, those of their enrollments and those pointing at them are voided (voiding statements stored, the originals kept, marked voided and reduced like those below) or deleted, as chosen. Other people’s statements that name them (a manager’s approval, an instructor) are kept with the person reduced to their bare account id: no name, no email.',
    export: async (s, d) =>
      [...(await statementsForExport(s, d)).theirs]
        .sort((a, b) => a.stored.getTime() - b.stored.getTime() || a.seq - b.seq)
        .map((x) => ({ id: x._id, stored: x.stored, voided: x.voided, statement: JSON.parse(x.json) as Json })),
    erase: eraseStatements,
  },
  {
    collection: STATEMENT_REFS_COLLECTION,
    fields: ['refAgents', 'refRelatedAgents', 'refRegistrations'],
    erasure: 'Index data of statements that point at other statements: removed or pseudonymised with the statements.',
  },
  {
    collection: 'xapi_attachments',
    fields: [],
    erasure: 'When statements are deleted, the attachment content no remaining statement names is deleted with them.',
    export: async (s, d) => {
      const hashes = attachmentHashes((await statementsForExport(s, d)).theirs.map((x) => JSON.parse(x.json) as Json));
      const found = await Promise.all(hashes.map((_id) => d.db.collection<{ _id: string; contentType: string; length: number; data: Binary }>('xapi_attachments').findOne({ _id })));
      return found.filter((a) => a !== null).map((a) => ({ sha2: a._id, contentType: a.contentType, length: a.length, base64: base64(a.data) }));
    },
  },
  {
    collection: DOCUMENTS_COLLECTION,
    fields: ['agent', 'registration'],
    erasure: 'Their State and Agent Profile documents, and the State of their enrollments, are deleted.',
    export: async (s, d) =>
      (await d.db.collection(DOCUMENTS_COLLECTION).find(documentsOf(s)).toArray()).map(({ content, ...doc }) => ({
        ...doc,
        content: /json|^text\//i.test(String(doc.contentType)) ? Buffer.from((content as Binary).buffer).toString('utf8') : { base64: base64(content as Binary) },
      })),
    erase: async (s, d) => (await d.db.collection(DOCUMENTS_COLLECTION).deleteMany(documentsOf(s))).deletedCount,
  },
  {
    collection: 'review_delegates',
    fields: ['_id', 'delegateId', 'setBy'],
    erasure: 'Delegations from or to them are deleted.',
    export: async (s, d) => d.db.collection<{ _id: string }>('review_delegates').find({ $or: [{ _id: s.id }, { delegateId: s.id }] }).toArray(),
    erase: async (s, d) => (await d.db.collection<{ _id: string }>('review_delegates').deleteMany({ $or: [{ _id: s.id }, { delegateId: s.id }] })).deletedCount,
  },
  {
    collection: 'api_tokens',
    fields: ['userId'],
    erasure: 'Deleted.',
    export: async (s, d) => d.models.ApiToken.find({ userId: s.oid }, { tokenHash: 0 }).lean(),
    erase: async (s, d) => (await d.models.ApiToken.deleteMany({ userId: s.oid })).deletedCount,
  },
  {
    collection: 'users',
    fields: ['email', 'managerId'],
    erasure: 'The account is deleted last: until then it is inactive (signed out everywhere, tokens refused) and the erasure can be run again to finish.',
    export: async (s, d) => d.models.User.find({ _id: s.oid }, { passwordHash: 0 }).lean(),
    erase: async (s, d) => (await d.models.User.deleteOne({ _id: s.oid })).deletedCount,
  },
  {
    collection: 'audit_log',
    fields: ['actorId', 'targetId'],
    erasure: 'Kept: who did what, by id only (no names or emails), including this erasure.',
    export: async (s, d) => d.db.collection('audit_log').find({ $or: [{ actorId: s.id }, { targetId: s.id }] }).sort({ at: 1 }).toArray(),
  },
  // ---- holding nobody's personal data ----
  { collection: 'curricula', fields: [], erasure: 'Content: nothing personal.' },
  { collection: 'curriculum_versions', fields: ['publishedBy'], erasure: 'Content. A version keeps the id of who published it, which names nobody once the account is gone.' },
  { collection: 'cmi5_files', fields: [], erasure: 'Course package files: nothing personal.' },
  { collection: 'lrs_credentials', fields: [], erasure: 'xAPI client credentials: nothing personal.' },
  { collection: 'privacy_erasures', fields: ['_id', 'by'], erasure: 'The record that an erasure happened: ids, dates and counts, never the person’s data.' },
];

/** The rep's reinforcement deck and its delivery job, under the lock the deck is changed under. */
function removeDeck(s: Subject, d: PrivacyDeps): Promise<number> {
  return d.locks.withLock(`reinforcement:${s.id}`, async () => {
    const { deletedCount } = await d.models.Deck.deleteOne({ _id: s.oid });
    await d.deliveries.schedule(s.id, null);
    return deletedCount;
  });
}

/** Whether the session has started (or is gone): a seat on it can no longer be given up. */
async function hasStarted(id: Types.ObjectId, d: PrivacyDeps): Promise<boolean> {
  const current = await d.models.LiveSession.findById(id, { startsAt: 1 }).lean<Pick<LiveSessionDoc, 'startsAt'>>();
  return !current || current.startsAt <= d.now();
}

function sessionsOf(s: Subject, d: PrivacyDeps): Promise<LiveSessionDoc[]> {
  // sessions are few: read them all rather than rely on a query into arrays of sub-documents (FerretDB v1)
  return d.models.LiveSession.find({}, { title: 1, curriculumId: 1, moduleId: 1, startsAt: 1, endsAt: 1, cancelledAt: 1, seats: 1, attendance: 1 })
    .lean<LiveSessionDoc[]>()
    .then((all) => all.filter((x) => x.seats.some((seat) => same(seat.userId, s.id)) || x.attendance.some((a) => same(a.userId, s.id))));
}

function documentsOf(s: Subject): Json {
  return { $or: [agentFilter(s, 'agent'), ...(s.registrations.length ? [{ registration: { $in: s.registrations } }] : [])] };
}

function cmi5SessionsOf(s: Subject): Json {
  return { $or: [{ repId: s.id }, ...(s.registrations.length ? [{ registration: { $in: s.registrations } }] : [])] };
}

function cmi5RegistrationsOf(s: Subject): { _id: { $regex: string } } {
  return { _id: { $regex: `^(${s.registrations.map(escapeRegex).join('|')})\\|` } };
}

/** `to` as the outbox stores it: the address alone, or `Name <address>`. */
function toThem(s: Subject): { $regex: string; $options: string } {
  return { $regex: `(^|[<,\\s])${escapeRegex(s.user.email)}($|[>,\\s])`, $options: 'i' };
}
