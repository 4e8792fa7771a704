import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Statement } from '@xapi/xapi';
import type { Connection } from 'mongoose';
import type { Actor } from '../../engine/access.js';
import { Conflict, NotFound } from '../../errors.js';
import type { CurriculumService } from '../../features/curricula/service.js';
import type { EnrollmentService } from '../../features/enrollment/service.js';
import type { Locker } from '../../infra/locks.js';
import type { Logger } from '../../infra/logger.js';
import * as catalogue from '../catalogue.js';
import type { DocumentService } from '../lrs/documents.js';
import { XapiError } from '../lrs/errors.js';
import type { LrsClient } from '../lrs/credentials.js';
import type { StatementsService } from '../lrs/statements.js';
import { eventId } from '../recorder.js';
import { agentKey } from '../validate.js';
import { isSatisfied, type Cmi5Au, type Cmi5Course, type MoveOn } from './course.js';
import type { PackageSource } from './package.js';
import { checkAuStatements, type SessionFacts } from './rules.js';
import { Cmi5Store, type SessionDoc } from './store.js';

type Json = Record<string, unknown>;
const sha256 = (v: string) => createHash('sha256').update(v).digest();

export const LAUNCH_DATA = 'LMS.LaunchData';
export const LEARNER_PREFERENCES = 'cmi5LearnerPreferences';
const KEY_PREFIX = 'cmi5-';

export interface Cmi5Deps {
  publicUrl: string;
  /** where AU content is served (another origin than publicUrl, when configured) */
  contentUrl: string;
  catalogue: catalogue.CatalogueConfig;
  curricula: CurriculumService;
  enrollments: EnrollmentService;
  statements: StatementsService;
  documents: DocumentService;
  locks: Locker;
  log: Logger;
  now?: () => Date;
}

/** The fetch URL's answer (cmi5 8.2): always HTTP 200, a token once, then an error code. */
export type FetchAnswer = { 'auth-token': string } | { 'error-code': '1' | '2' | '3'; 'error-text': string };

/**
 * cmi5 launch of elearning modules: the LMS side of the cmi5 spec. Onramp keeps the packages,
 * launches an AU with a one-time fetch URL, answers the AU's LRS requests under its session
 * token with the cmi5 rules, writes its own statements (launched, abandoned, satisfied; waived on
 * test-out is the recorder's) and completes the module when the AU's moveOn is met.
 */
export class Cmi5Service {
  readonly store: Cmi5Store;
  private readonly now: () => Date;

  constructor(
    mongo: Connection,
    private readonly d: Cmi5Deps,
  ) {
    this.store = new Cmi5Store(mongo);
    this.now = d.now ?? (() => new Date());
  }

  async ensureIndexes(): Promise<void> {
    await this.store.ensureIndexes();
  }

  /** Stores the packages' files (publishing a curriculum does this before the version exists). */
  async storePackages(sources: PackageSource[]): Promise<void> {
    for (const p of sources) await this.store.putPackage(p);
  }

  private authority(): Json {
    return { objectType: 'Agent', name: 'Onramp', account: { homePage: this.d.publicUrl, name: 'onramp' } };
  }

  private env(key: string): catalogue.CatalogueEnv {
    let n = 0;
    return { config: this.d.catalogue, newId: () => eventId(`cmi5|${key}|${n++}`) };
  }

  /** The package, AU and references of a module that launches one. */
  private async auOf(versionId: string, moduleId: string): Promise<{ course: Cmi5Course; au: Cmi5Au; hash: string; packageName: string }> {
    const version = await this.d.curricula.version(versionId);
    const module = version.content.definition.modules.find((m) => m.id === moduleId);
    if (!module) throw new NotFound('No such module.');
    if (!module.cmi5) throw new Conflict(`'${module.title}' is a lesson in Onramp, not a cmi5 course to launch.`);
    const pkg = version.content.cmi5?.[module.cmi5.package];
    const au = pkg?.course.aus.find((a) => a.id === module.cmi5!.au);
    if (!pkg || !au) throw new NotFound(`The cmi5 package '${module.cmi5.package}' of this curriculum version is missing.`);
    return { course: pkg.course, au, hash: pkg.hash, packageName: pkg.name };
  }

  private refs(s: Pick<SessionDoc, 'enrollmentId' | 'curriculumId' | 'versionId' | 'moduleId'>, rep: { id: string; name: string }, title: { curriculum: string; module: string }) {
    return {
      enrollmentId: s.enrollmentId,
      curriculum: { id: s.curriculumId, title: title.curriculum, version: s.versionId },
      rep,
      module: { id: s.moduleId, title: title.module, modality: 'elearning' as const },
    };
  }

  /**
   * Launches the module's AU for the rep (cmi5 8 and 10): abandons a session left open in the same
   * registration, writes LMS.LaunchData and the launched statement, and returns the launch URL.
   */
  async launch(actor: Actor, enrollmentId: string, moduleId: string): Promise<string> {
    const view = await this.d.enrollments.open(actor, enrollmentId, moduleId); // the rep's own, unlocked
    const module = view.curriculum.modules.find((m) => m.id === moduleId)!;
    const { au, hash, packageName, course } = await this.auOf(view.enrollment.versionId, moduleId);
    const registration = catalogue.registrationOf(enrollmentId);
    const auId = au.id;
    const now = this.now();
    const rep = { id: view.rep.id, name: view.rep.name };
    const titles = { curriculum: view.curriculum.title, module: module.title };
    const base = { enrollmentId, curriculumId: view.curriculum.id, versionId: view.enrollment.versionId, moduleId };

    for (const open of await this.store.sessions.find({ registration, auId, state: { $in: ['launched', 'initialized'] } }).toArray()) {
      await this.d.locks.withLock(`cmi5:${open._id}`, async () => {
        const res = await this.store.sessions.updateOne({ _id: open._id, state: open.state }, { $set: { state: 'abandoned' } });
        if (!res.modifiedCount) return;
        await this.record([
          catalogue.cmi5Abandoned(this.env(`${open._id}|abandoned`), { ...this.refs(open, rep, titles), au: auId, sessionId: open._id, at: now.toISOString(), durationMs: open.lastAt.getTime() - open.launchedAt.getTime() }),
        ]);
      });
    }

    // once the AU is satisfied a relaunch is for review: nothing it does changes the result
    const launchMode = (await this.store.registration(registration, auId)).satisfiedAt ? 'Review' : 'Normal';
    const sessionId = randomUUID();
    const fetchToken = randomBytes(24).toString('base64url');
    const agent = catalogue.agentOf(this.d.catalogue, rep);
    const activityId = catalogue.moduleIri(this.d.catalogue, view.curriculum.id, moduleId);
    const session: SessionDoc = {
      _id: sessionId,
      ...base,
      repId: rep.id,
      packageHash: hash,
      packageName,
      auId,
      registration,
      activityId,
      actor: { homePage: agent.account!.homePage, name: agent.account!.name },
      launchMode,
      moveOn: au.moveOn,
      masteryScore: au.masteryScore,
      state: 'launched',
      verbs: [],
      preferencesRead: false,
      fetchTokenHash: sha256(fetchToken).toString('hex'),
      fetchedAt: null,
      secretHash: null,
      launchedAt: now,
      lastAt: now,
    };
    await this.store.sessions.insertOne(session);

    const publicUrl = this.d.publicUrl.replace(/\/+$/, '');
    const returnURL = `${publicUrl}/learn/${enrollmentId}/modules/${moduleId}`;
    const launchData = {
      contextTemplate: {
        contextActivities: { grouping: [{ id: auId }] },
        extensions: { [catalogue.CMI5_EXTENSIONS.sessionId]: sessionId },
      },
      launchMode: session.launchMode,
      launchMethod: au.launchMethod,
      moveOn: au.moveOn,
      ...(au.masteryScore !== null ? { masteryScore: au.masteryScore } : {}),
      ...(au.launchParameters !== null ? { launchParameters: au.launchParameters } : {}),
      ...(au.entitlementKey !== null ? { entitlementKey: { courseStructure: au.entitlementKey } } : {}),
      returnURL,
    };
    await this.d.documents.put(
      { resource: 'state', activityId, agent: agentKey(agent as never)!, registration },
      LAUNCH_DATA,
      { contentType: 'application/json', content: Buffer.from(JSON.stringify(launchData)) },
      { ifMatch: null, ifNoneMatch: null },
      false,
    );

    const auUrl = /^[a-z][a-z0-9+.-]*:/i.test(au.url) ? au.url : `${this.d.contentUrl}/cmi5/content/${sessionId}/${au.url.replace(/^\.?\//, '')}`;
    await this.record([
      catalogue.cmi5Launched(this.env(`${sessionId}|launched`), {
        ...this.refs(session, rep, titles),
        au: auId,
        sessionId,
        at: now.toISOString(),
        launchMode: session.launchMode,
        launchUrl: auUrl,
        moveOn: au.moveOn,
        masteryScore: au.masteryScore,
        launchParameters: au.launchParameters,
      }),
    ]);
    // NotApplicable: satisfied as soon as the registration has the AU (cmi5 9.6.1)
    if (au.moveOn === 'NotApplicable') await this.satisfy(session, course, rep, titles);

    const params = new URLSearchParams({
      endpoint: `${publicUrl}/xapi`,
      fetch: `${publicUrl}/cmi5/fetch/${sessionId}.${fetchToken}`,
      actor: JSON.stringify(agent),
      registration,
      activityId,
    });
    return `${auUrl}${auUrl.includes('?') ? '&' : '?'}${params.toString()}`;
  }

  /** What completes the module, in words, for its page. */
  async moveOnText(versionId: string, moduleId: string): Promise<string> {
    const { au } = await this.auOf(versionId, moduleId);
    const pass = au.masteryScore !== null ? `pass it (${Math.round(au.masteryScore * 100)}% or more)` : 'pass it';
    return { NotApplicable: 'open it', Passed: pass, Completed: 'finish it', CompletedAndPassed: `${pass} and finish it`, CompletedOrPassed: `finish it or ${pass}` }[au.moveOn];
  }

  /** The one-time fetch URL: the session's auth token the first time, error code 1 after. */
  async fetch(handle: string): Promise<FetchAnswer> {
    const dot = handle.indexOf('.');
    const session = dot > 0 ? await this.store.sessions.findOne({ _id: handle.slice(0, dot) }) : null;
    const given = sha256(handle.slice(dot + 1));
    if (!session || !timingSafeEqual(given, Buffer.from(session.fetchTokenHash, 'hex'))) {
      return { 'error-code': '2', 'error-text': 'This fetch URL is not valid: launch the course again from Onramp.' };
    }
    if (session.fetchedAt || session.state === 'terminated' || session.state === 'abandoned') {
      return { 'error-code': '1', 'error-text': 'This fetch URL was already used: a launch hands out its token once. Launch the course again from Onramp.' };
    }
    const secret = randomBytes(24).toString('base64url');
    const res = await this.store.sessions.updateOne({ _id: session._id, fetchedAt: null }, { $set: { fetchedAt: this.now(), secretHash: sha256(secret).toString('hex') } });
    if (!res.modifiedCount) return { 'error-code': '1', 'error-text': 'This fetch URL was already used.' };
    return { 'auth-token': Buffer.from(`${KEY_PREFIX}${session._id}:${secret}`).toString('base64') };
  }

  /** The LRS client behind a session's auth token, while the session is open. */
  async authenticate(key: string, secret: string): Promise<LrsClient | undefined> {
    if (!key.startsWith(KEY_PREFIX)) return undefined;
    const session = await this.store.sessions.findOne({ _id: key.slice(KEY_PREFIX.length) });
    if (!session?.secretHash || session.state === 'terminated' || session.state === 'abandoned') return undefined;
    if (!timingSafeEqual(sha256(secret), Buffer.from(session.secretHash, 'hex'))) return undefined;
    return { key, name: `cmi5 session ${session._id}`, scopes: ['statements/write', 'state'], cmi5Session: session._id };
  }

  private facts(s: SessionDoc): SessionFacts {
    return {
      sessionId: s._id,
      registration: s.registration,
      activityId: s.activityId,
      actor: s.actor,
      launchMode: s.launchMode,
      masteryScore: s.masteryScore,
      state: s.state,
      verbs: s.verbs,
      preferencesRead: s.preferencesRead,
    };
  }

  private async session(sessionId: string): Promise<SessionDoc> {
    const s = await this.store.sessions.findOne({ _id: sessionId });
    if (!s) throw new XapiError(401, 'This cmi5 session no longer exists.');
    return s;
  }

  /**
   * Statements from an AU: checked against the cmi5 rules (all or nothing), stored by `save`, and
   * then the session and registration move on; a newly met moveOn completes the module.
   */
  async acceptStatements(sessionId: string, statements: Json[], save: () => Promise<string[]>): Promise<string[]> {
    return this.d.locks.withLock(`cmi5:${sessionId}`, async () => {
      const session = await this.session(sessionId);
      const reg = await this.store.registration(session.registration, session.auId);
      const verdict = checkAuStatements(this.facts(session), reg, statements);
      if (!verdict.ok) throw new XapiError(verdict.status, verdict.message);
      const ids = await save();
      const now = this.now();
      await this.store.sessions.updateOne({ _id: sessionId }, { $set: { state: verdict.session.state, verbs: verdict.session.verbs, lastAt: now } });
      const after = { ...reg, ...verdict.registration };
      if (after.completed !== reg.completed || after.passed !== reg.passed) await this.store.saveRegistration(after);
      if (!after.satisfiedAt && isSatisfied(session.moveOn as MoveOn, after)) {
        const version = await this.d.curricula.version(session.versionId);
        const module = version.content.definition.modules.find((m) => m.id === session.moduleId);
        const { course } = await this.auOf(session.versionId, session.moduleId);
        const view = await this.d.enrollments.auSatisfied(session.enrollmentId, session.moduleId, now.toISOString());
        await this.satisfy(session, course, { id: view.rep.id, name: view.rep.name }, { curriculum: version.content.definition.title, module: module?.title ?? session.moduleId });
      }
      return ids;
    });
  }

  /**
   * The AU is satisfied: recorded for the registration, the module completes, and every block and
   * the course whose AUs are now all satisfied gets a satisfied statement (innermost first).
   */
  private async satisfy(session: SessionDoc, course: Cmi5Course, rep: { id: string; name: string }, titles: { curriculum: string; module: string }): Promise<void> {
    const now = this.now();
    const reg = await this.store.registration(session.registration, session.auId);
    if (!reg.satisfiedAt) await this.store.saveRegistration({ ...reg, satisfiedAt: now });
    if (session.moveOn === 'NotApplicable') await this.d.enrollments.auSatisfied(session.enrollmentId, session.moduleId, now.toISOString());
    const satisfied = new Set<string>();
    for (const au of course.aus) if ((await this.store.registration(session.registration, au.id)).satisfiedAt || au.id === session.auId) satisfied.add(au.id);
    const ausUnder = (id: string): string[] => {
      const block = course.blocks.find((b) => b.id === id);
      return block ? block.children.flatMap(ausUnder) : [id];
    };
    const au = course.aus.find((a) => a.id === session.auId)!;
    const curriculumIri = catalogue.curriculumIri(this.d.catalogue, session.curriculumId);
    const targets = [
      ...au.blocks.map((b) => ({ ids: ausUnder(b), target: { id: `${curriculumIri}/cmi5/${session.packageName}/blocks/${course.blocks.findIndex((x) => x.id === b)}`, publisherId: b, kind: 'block' as const, title: course.blocks.find((x) => x.id === b)!.title } })),
      { ids: course.aus.map((a) => a.id), target: { id: `${curriculumIri}/cmi5/${session.packageName}`, publisherId: course.id, kind: 'course' as const, title: course.title } },
    ];
    const out = targets
      .filter((t) => t.ids.every((id) => satisfied.has(id)))
      .map((t) =>
        catalogue.cmi5Satisfied(this.env(`${session.registration}|${t.target.id}|satisfied`), {
          ...this.refs(session, rep, titles),
          au: session.auId,
          sessionId: session._id,
          at: now.toISOString(),
          target: t.target,
        }),
      );
    await this.record(out);
  }

  private async record(statements: Statement[]): Promise<void> {
    if (!statements.length) return;
    try {
      await this.d.statements.save(statements, this.authority());
    } catch (err) {
      this.d.log.error({ err, ids: statements.map((s) => s.id) }, 'could not record cmi5 LMS statements');
    }
  }

  /**
   * What an AU's token may do with documents: its own agent only, State of its own activity and
   * registration, LMS.LaunchData read only, cmi5LearnerPreferences read only (reading it is noted:
   * the AU must before sending statements).
   */
  async checkDocument(client: LrsClient, req: { resource: 'state' | 'activityProfile' | 'agentProfile'; agent: string | null; activityId: string | null; registration?: string | null; docId?: string; write: boolean }): Promise<void> {
    const session = await this.session(client.cmi5Session!);
    const own = agentKey({ objectType: 'Agent', account: session.actor } as never);
    if (req.resource !== 'activityProfile' && req.agent !== own) throw new XapiError(403, "A cmi5 session's token reaches the launch actor's documents only.");
    if (req.resource === 'activityProfile' && req.write) throw new XapiError(403, "A cmi5 session's token may not change activity profiles.");
    if (req.resource === 'state') {
      if (req.activityId !== session.activityId) throw new XapiError(403, "A cmi5 session's token reaches the State of its own activity only.");
      if (req.registration && req.registration.toLowerCase() !== session.registration) throw new XapiError(403, "A cmi5 session's token reaches the State of its own registration only.");
      if (req.write && (req.docId === undefined || req.docId === LAUNCH_DATA)) throw new XapiError(403, 'LMS.LaunchData is written by the LMS: an AU may only read it.');
    }
    if (req.resource === 'agentProfile') {
      if (req.write) throw new XapiError(403, 'cmi5LearnerPreferences and other agent profiles are kept by the LMS for cmi5 sessions.');
      if (req.docId === LEARNER_PREFERENCES && !session.preferencesRead) await this.store.sessions.updateOne({ _id: session._id }, { $set: { preferencesRead: true } });
    }
  }

  /** Statement queries under an AU's token: the launch actor's own statements only. */
  async checkQuery(client: LrsClient, agent: string | undefined): Promise<void> {
    const session = await this.session(client.cmi5Session!);
    if (agent !== agentKey({ objectType: 'Agent', account: session.actor } as never)) throw new XapiError(403, "A cmi5 session's token may query the launch actor's statements only (add the agent parameter).");
  }

  /** A file of the package a session launched (what the AU's pages load). */
  async file(sessionId: string, path: string): Promise<{ contentType: string; data: Buffer } | null> {
    const session = await this.store.sessions.findOne({ _id: sessionId }, { projection: { packageHash: 1 } });
    return session ? this.store.file(session.packageHash, path) : null;
  }
}
