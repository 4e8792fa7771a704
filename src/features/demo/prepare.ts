import type { Connection } from 'mongoose';
import type { Config } from '../../config/env.js';
import { findCurriculumFolders } from '../../content/load.js';
import { formatProblem } from '../../content/source.js';
import { validateCurriculum } from '../../content/validate.js';
import { Cmi5Store } from '../../xapi/cmi5/store.js';
import { dayIn } from '../../engine/calendar.js';
import type { Logger } from '../../infra/logger.js';
import { LocalLocker } from '../../infra/locks.js';
import { accountModels } from '../accounts/model.js';
import { DEMO_PASSWORD, seedDemoUsers } from '../accounts/demo-seed.js';

export const DEMO_LRS_KEY = 'demo-lrs';
import { AccountService } from '../accounts/service.js';
import { AuditLog } from '../audit/service.js';
import { curriculumModels } from '../curricula/model.js';
import { CurriculumService } from '../curricula/service.js';
import { enrollmentModels } from '../enrollment/model.js';
import { EnrollmentService } from '../enrollment/service.js';
import { seedDemoLearning } from './learning.js';
import { seedDemoReinforcement } from './reinforcement.js';
import { reinforcementModels } from '../reinforcement/model.js';
import { RepSummaries, summaryModels } from '../dashboards/summaries.js';
import { cellModels, DashboardCells } from '../dashboards/cells.js';
import { liveSessionModels } from '../sessions/model.js';
import { LiveSessionService } from '../sessions/service.js';
import { submissionModels } from '../transfer/model.js';
import { LrsCredentialService, lrsCredentialModels } from '../../xapi/lrs/credentials.js';
import { StatementStore } from '../../xapi/lrs/store.js';
import { StatementsService } from '../../xapi/lrs/statements.js';
import { AttachmentStore } from '../../xapi/lrs/attachments.js';
import { LearningRecorder } from '../../xapi/recorder.js';

/**
 * What `onramp start` does before web and worker start: publish the content folder (a no-op when
 * unchanged) and, on an empty database outside production, create the demo users and enroll them
 * at different points of the sample curriculum. Runs alone, so an in-process lock is enough.
 */
export async function prepareLocalRun(conn: Connection, config: Config, log: Logger): Promise<{ seededUsers: boolean; lines: string[] }> {
  const models = { ...accountModels(conn), ...curriculumModels(conn), ...enrollmentModels(conn), ...liveSessionModels(conn), ...submissionModels(conn), ...reinforcementModels(conn), ...summaryModels(conn), ...cellModels(conn) };
  await Promise.all(Object.values(models).map((m) => m.init()));
  // the demo's users, credential and publishes are in the audit log too, by 'system' and 'cli'
  const audit = new AuditLog(conn, log);
  await audit.init();
  const accounts = new AccountService(models, audit);
  const curricula = new CurriculumService(models, audit, new Cmi5Store(conn));
  const locks = new LocalLocker();
  const enrollments = new EnrollmentService(models, curricula, accounts, locks);
  const sessions = new LiveSessionService(models, enrollments, locks);
  // the demo's history is recorded as xAPI statements too, as it would have been (timelines show it)
  const statementStore = new StatementStore(conn, { locks });
  await statementStore.ensureIndexes();
  const recorder = new LearningRecorder(new StatementsService(statementStore, new AttachmentStore(conn)), { baseIri: config.xapiActivityBase, platform: 'Onramp', homePage: config.publicUrl }, log);
  enrollments.listen(recorder);
  sessions.listen(recorder);
  const lines: string[] = [];

  const seededUsers = config.demoSeed ? (await seedDemoUsers(accounts)).seeded : false;
  if (seededUsers) {
    const lrs = lrsCredentialModels(conn);
    await lrs.LrsCredential.init();
    await new LrsCredentialService(lrs, audit).issue('system', { name: 'Demo xAPI client', scopes: ['all'], key: DEMO_LRS_KEY, secret: DEMO_PASSWORD });
    lines.push(`xAPI LRS: ${config.publicUrl}/xapi with Basic credentials ${DEMO_LRS_KEY} / ${DEMO_PASSWORD}`);
  }

  let folders: ReturnType<typeof findCurriculumFolders> = [];
  try {
    folders = findCurriculumFolders(config.contentDir);
  } catch {
    lines.push(`curricula: content folder ${config.contentDir} not found, nothing published`);
  }
  for (const f of folders) {
    const { content, problems, packages } = validateCurriculum(f.name, f.files, f.packages);
    if (!content) {
      log.warn(`${f.name} was not published: ${problems.length} problem(s)\n${problems.map(formatProblem).join('\n')}`);
      lines.push(`curriculum ${f.name}: NOT published (${problems.length} problems; run npm run onramp -- content validate)`);
      continue;
    }
    const res = await curricula.publish('cli', content, packages);
    lines.push(res.status === 'unchanged' ? `curriculum ${f.name}: version ${res.versionId}` : `curriculum ${f.name}: published ${res.versionId}`);
  }

  if (seededUsers) {
    const enrolled = await seedDemoLearning({ accounts, enrollments, sessions, submissions: models }, dayIn('UTC', new Date())).catch((err: Error) => {
      log.warn(`demo enrollments skipped: ${err.message}`);
      return 0;
    });
    if (enrolled) lines.push(`demo: ${enrolled} reps enrolled at different points of the sample curriculum, 2 live sessions scheduled`);
    if (enrolled) {
      const r = await seedDemoReinforcement({ models, curricula, log, recorder }, new Date()).catch((err: Error) => {
        log.warn(`demo reinforcement history skipped: ${err.message}`);
        return null;
      });
      if (r) lines.push(`demo: reinforcement history for ${r.reps} reps (${r.deliveries} deliveries, ${r.answers} answers)`);
      const summaries = await new RepSummaries(models, new DashboardCells(models, locks), curricula, log).refreshAll();
      lines.push(`demo: dashboard rollups for ${summaries} enrollments`);
    }
  }
  return { seededUsers, lines };
}
