import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import pino from 'pino';
import { ConfigError, loadConfig, type Config } from './config/env.js';
import { createLogger, type Logger } from './infra/logger.js';
import { startLocalServices } from './infra/embedded/index.js';
import { buildFerretdb, findFerretdb } from './infra/embedded/ferretdb.js';
import { findOrInstallRedis } from './infra/embedded/redis.js';
import { findOnPath } from './infra/embedded/which.js';
import { clearRunning, readRunning, writeRunning } from './infra/embedded/registry.js';
import { connectMongo } from './infra/mongo.js';
import { sessionSecretFor } from './infra/sessions.js';
import { onShutdown } from './infra/shutdown.js';
import { accountModels } from './features/accounts/model.js';
import { AccountService } from './features/accounts/service.js';
import { createUserInput } from './features/accounts/schemas.js';
import { demoLoginLines, seedDemoUsers } from './features/accounts/demo-seed.js';
import { prepareLocalRun } from './features/demo/prepare.js';
import { createContainer, type Container } from './container.js';
import { privacyService } from './features/privacy/service.js';
import { STATEMENT_ERASURES, type StatementErasure } from './engine/privacy.js';
import { ValidationFailed, DomainError } from './errors.js';
import { curriculumModels } from './features/curricula/model.js';
import { CurriculumService } from './features/curricula/service.js';
import { AuditLog } from './features/audit/service.js';
import { findCurriculumFolders } from './content/load.js';
import { formatProblem } from './content/source.js';
import { Cmi5Store } from './xapi/cmi5/store.js';
import type { PackageSource } from './xapi/cmi5/package.js';
import { validateCurriculum, type CurriculumContent } from './content/validate.js';
import { ROLES } from './engine/access.js';

type Ready = Config & { mongodbUrl: string; redisUrl: string };

function boot(): { config: Config; log: Logger } {
  // a .env file in the working folder, if any; variables already set in the environment win
  if (existsSync('.env')) process.loadEnvFile('.env');
  try {
    const config = loadConfig();
    return { config, log: createLogger(config) };
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
}

/** URLs from the environment, else from a running `onramp start` on the same data folder. */
function connectedConfig(config: Config): Ready | undefined {
  if (config.mongodbUrl && config.redisUrl) return config as Ready;
  const running = readRunning(config.dataDir);
  if (!running) return undefined;
  return { ...config, mongodbUrl: config.mongodbUrl ?? running.mongodbUrl, redisUrl: config.redisUrl ?? running.redisUrl };
}

function requireConnected(config: Config, what: string): Ready {
  const ready = connectedConfig(config);
  if (ready) return ready;
  console.error(
    `${what} needs MONGODB_URL and REDIS_URL. Run \`npm start\` to start Onramp with local services, ` +
      'or `npm run onramp -- services` in another terminal and export the URLs it prints.',
  );
  process.exit(2);
}

interface Services {
  accounts: AccountService;
  curricula: CurriculumService;
}

/** Runs a command against the database, starting a local one just for it when none runs. */
async function withDatabase<T>(fn: (s: Services) => Promise<T>): Promise<T> {
  const { config, log } = boot();
  const ready = connectedConfig(config);
  const local = ready ? undefined : await startLocalServices(config, log, { redis: false });
  const conn = await connectMongo(ready?.mongodbUrl ?? local!.mongodbUrl);
  try {
    const models = { ...accountModels(conn), ...curriculumModels(conn) };
    await Promise.all(Object.values(models).map((m) => m.init()));
    // what an operator does from the command line is in the audit log too (actor 'system' or 'cli')
    const audit = new AuditLog(conn, log);
    await audit.init();
    return await fn({ accounts: new AccountService(models, audit), curricula: new CurriculumService(models, audit, new Cmi5Store(conn)) });
  } finally {
    await conn.close();
    await local?.stop();
  }
}

/** Validates every curriculum folder under dir; prints one line per problem. */
function validateFolders(dir: string): { results: { name: string; content?: CurriculumContent; packages?: PackageSource[] }[]; problems: number } {
  const folders = findCurriculumFolders(dir);
  if (!folders.length) throw new ValidationFailed([{ path: dir, message: 'holds no curriculum folder (content/curricula/<id>/curriculum.yaml)' }]);
  let problems = 0;
  const results = folders.map((f) => {
    const r = validateCurriculum(f.name, f.files, f.packages);
    for (const p of r.problems) console.error(formatProblem(p));
    problems += r.problems.length;
    return { name: f.name, ...(r.content ? { content: r.content, packages: r.packages ?? [] } : {}) };
  });
  return { results, problems };
}

function fail(err: unknown): never {
  if (err instanceof ValidationFailed) {
    console.error(`${err.message}\n${err.problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n')}`);
  } else if (err instanceof DomainError) {
    console.error(err.message);
  } else {
    console.error(err instanceof Error ? err.stack : err);
  }
  process.exit(1);
}

async function waitForHttp(url: string, timeoutMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error('the web process exited during start-up (see the log above)');
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`the web process did not answer ${url} within ${timeoutMs / 1000}s`);
}

/** `onramp start`: local services (when no URLs are set), demo data, then web and worker processes. */
async function start(): Promise<void> {
  const started = Date.now();
  const { config, log } = boot();
  log.info(`data folder: ${config.dataDir}`);
  const services = await startLocalServices(config, log);
  const children: ChildProcess[] = [];
  let stopping = false;
  const stopAll = async () => {
    stopping = true;
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    await services.stop();
    clearRunning(config.dataDir);
  };
  onShutdown(log, stopAll);
  process.once('uncaughtException', (err) => {
    log.fatal({ err }, 'onramp start crashed; stopping everything');
    void stopAll().finally(() => process.exit(1));
  });

  try {
    const env = {
      ...process.env,
      MONGODB_URL: services.mongodbUrl,
      REDIS_URL: services.redisUrl,
      SESSION_SECRET: sessionSecretFor(config.sessionSecret, config.dataDir),
      DATA_DIR: config.dataDir,
    };
    writeRunning(config.dataDir, { pid: process.pid, mongodbUrl: services.mongodbUrl, redisUrl: services.redisUrl, webUrl: config.publicUrl });

    const conn = await connectMongo(services.mongodbUrl);
    const prepared = await prepareLocalRun(conn, config, log).finally(() => conn.close());
    const seeded = prepared.seededUsers;

    for (const role of ['serve', 'worker'] as const) {
      // detached: Ctrl-C reaches only this process, which stops web and worker first, then the services
      const child = fork(process.argv[1]!, [role], { env, execArgv: process.execArgv, stdio: 'inherit', detached: true });
      child.once('exit', (code, signal) => {
        if (stopping) return;
        log.error({ code, signal }, `the ${role} process stopped unexpectedly; stopping Onramp`);
        void stopAll().finally(() => process.exit(1));
      });
      children.push(child);
    }
    await waitForHttp(`http://127.0.0.1:${config.port}/readyz`, 60_000, children[0]!);

    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const lines = [
      '',
      `Onramp is running at ${config.publicUrl}   (ready in ${seconds}s)`,
      `  data folder: ${config.dataDir}`,
      ...services.descriptions.map((d) => `  ${d}`),
      ...prepared.lines.map((l) => `  ${l}`),
      ...(config.demoSeed ? [`Demo sign-ins${seeded ? ' (just created)' : ''}:`, ...demoLoginLines()] : []),
      'Press Ctrl-C to stop.',
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } catch (err) {
    log.error({ err: (err as Error).message }, 'start-up failed');
    await stopAll();
    process.exit(1);
  }
}

const program = new Command('onramp').description('Onramp — blended onboarding curricula for B2B sales teams');

program
  .command('start')
  .description('run web and worker, with local FerretDB and Redis when MONGODB_URL / REDIS_URL are unset, and demo data')
  .action(start);

program
  .command('serve')
  .description('run the web process (Express app and API)')
  .action(async () => {
    const { config, log } = boot();
    const { runWeb } = await import('./main-web.js');
    await runWeb(requireConnected(config, 'onramp serve'), log).catch((err: Error) => {
      log.fatal(err.message);
      process.exit(1);
    });
  });

program
  .command('worker')
  .description('run the background worker (BullMQ)')
  .action(async () => {
    const { config, log } = boot();
    const { runWorker } = await import('./main-worker.js');
    await runWorker(requireConnected(config, 'onramp worker'), log);
  });

program
  .command('services')
  .description('start only the local FerretDB and Redis, and print their URLs (for running serve and worker yourself)')
  .action(async () => {
    const { config, log } = boot();
    const services = await startLocalServices(config, log);
    writeRunning(config.dataDir, { pid: process.pid, mongodbUrl: services.mongodbUrl, redisUrl: services.redisUrl });
    process.stdout.write(`${services.descriptions.join('\n')}\nexport MONGODB_URL=${services.mongodbUrl}\nexport REDIS_URL=${services.redisUrl}\n`);
    onShutdown(log, async () => {
      await services.stop();
      clearRunning(config.dataDir);
    });
  });

program
  .command('prepare')
  .description('build FerretDB and install redis-server if they are missing, without starting anything (CI, first run)')
  .action(async () => {
    const { config, log } = boot();
    const ferretdb = findFerretdb(config) ?? (findOnPath('go') ? await buildFerretdb(config.cacheDir, log) : undefined);
    const redis = await findOrInstallRedis(log);
    console.log(`ferretdb: ${ferretdb ?? 'not available (no Go toolchain): mongodb-memory-server will be used'}\nredis-server: ${redis}`);
  });

program
  .command('seed')
  .description('create the demo users on an empty database')
  .action(() =>
    withDatabase(async ({ accounts }) => {
      const r = await seedDemoUsers(accounts);
      console.log(r.seeded ? `Created ${r.count} demo users:\n${demoLoginLines().join('\n')}` : 'The database already has users: nothing seeded.');
    }).catch(fail),
  );

const content = program.command('content').description('curriculum content: validate and publish');

content
  .command('validate [dir]')
  .description('check every curriculum under dir (default content/): one line per problem as file:line field: message')
  .action((dir = 'content') => {
    try {
      const { results, problems } = validateFolders(dir);
      if (problems) {
        console.error(`\n${problems} problem(s) found: nothing can be published until they are fixed.`);
        process.exit(1);
      }
      for (const r of results) {
        const d = r.content!.definition;
        console.log(`${r.name}: valid — ${d.phases.length} phases, ${d.modules.length} modules, ${Object.keys(r.content!.banks).length} banks, ${Object.keys(r.content!.forms).length} forms`);
      }
    } catch (err) {
      fail(err);
    }
  });

content
  .command('publish [dir]')
  .description('validate, then store each changed curriculum as a new immutable version (unchanged content is a no-op)')
  .action((dir = 'content') =>
    withDatabase(async ({ curricula }) => {
      const { results, problems } = validateFolders(dir);
      if (problems) {
        console.error(`\n${problems} problem(s) found: nothing was published.`);
        process.exit(1);
      }
      for (const r of results) {
        const res = await curricula.publish('cli', r.content!, r.packages);
        if (res.status === 'unchanged') console.log(`${r.name}: unchanged (current version ${res.versionId})`);
        else console.log(`${r.name}: published ${res.versionId}\n${res.changes.map((c) => `  ${c}`).join('\n')}`);
      }
    }).catch(fail),
  );

const user = program.command('user').description('manage user accounts');

user
  .command('create')
  .description('create a user (prints a temporary password when --password is not given)')
  .requiredOption('--email <email>')
  .requiredOption('--name <name>')
  .addOption(new Option('--role <role>').choices([...ROLES]).makeOptionMandatory())
  .option('--manager <email>', "the rep's manager (required for reps)")
  .option('--password <password>', 'initial password (at least 10 characters)')
  .action((opts: { email: string; name: string; role: string; manager?: string; password?: string }) =>
    withDatabase(async ({ accounts }) => {
      let managerId: string | null = null;
      if (opts.manager) {
        const manager = (await accounts.managers()).find((m) => m.email === opts.manager!.trim().toLowerCase());
        if (!manager) throw new ValidationFailed([{ path: '--manager', message: `${opts.manager} is not an active manager` }]);
        managerId = manager.id;
      }
      const input = createUserInput.safeParse({ ...opts, managerId });
      if (!input.success) {
        throw new ValidationFailed(input.error.issues.map((i) => ({ path: `--${i.path.join('.')}`, message: i.message })));
      }
      const { user: created, temporaryPassword } = await accounts.create('system', input.data);
      console.log(`Created ${created.role} ${created.name} <${created.email}> (id ${created.id})`);
      if (temporaryPassword) console.log(`Temporary password (shown once): ${temporaryPassword}`);
    }).catch(fail),
  );

user
  .command('reset-password')
  .description('give a user a new temporary password')
  .requiredOption('--email <email>')
  .action((opts: { email: string }) =>
    withDatabase(async ({ accounts }) => {
      const match = await accounts.findByEmail(opts.email);
      if (!match) throw new ValidationFailed([{ path: '--email', message: `no user with the email ${opts.email}` }]);
      const { temporaryPassword } = await accounts.resetPassword('system', match.id);
      console.log(`Temporary password for ${match.email} (shown once): ${temporaryPassword}`);
    }).catch(fail),
  );

user
  .command('list')
  .description('list users')
  .action(() =>
    withDatabase(async ({ accounts }) => {
      for (const u of await accounts.list({ id: 'cli', role: 'admin' })) {
        console.log(`${u.role.padEnd(8)} ${u.email.padEnd(32)} ${u.name}${u.active ? '' : ' (inactive)'}`);
      }
    }).catch(fail),
  );

/**
 * Runs a command with the whole application (MongoDB and Redis), starting local services when none
 * run. Logs go to stderr: stdout is the command's output (an export, a summary).
 */
async function withContainer<T>(fn: (c: Container) => Promise<T>): Promise<T> {
  const { config } = boot();
  const log = createLogger(config, 'onramp', pino.destination({ dest: 2, sync: true }));
  const ready = connectedConfig(config);
  const local = ready ? undefined : await startLocalServices(config, log);
  const c = await createContainer({ ...config, mongodbUrl: ready?.mongodbUrl ?? local!.mongodbUrl, redisUrl: ready?.redisUrl ?? local!.redisUrl }, log, 'cli');
  try {
    return await fn(c);
  } finally {
    await c.close();
    await local?.stop();
  }
}

const people = program.command('people').description("requests about one person's data: export it, erase it");

people
  .command('export <email-or-id>')
  .description('write everything Onramp holds about the person as JSON (to stdout, or to --out)')
  .option('--out <file>', 'the file to write (it must not exist)')
  .action((person: string, opts: { out?: string }) =>
    withContainer(async (c) => {
      if (opts.out && existsSync(opts.out)) throw new ValidationFailed([{ path: '--out', message: `${opts.out} exists already: name a new file` }]);
      const privacy = privacyService(c);
      const data = await privacy.exportPerson('cli', (await privacy.find(person)).id);
      const json = `${JSON.stringify(data, null, 2)}\n`;
      if (!opts.out) return void process.stdout.write(json);
      writeFileSync(opts.out, json, { flag: 'wx', mode: 0o600 });
      const records = Object.values(data.collections).reduce((n, list) => n + list.length, 0);
      console.error(`Wrote ${records} records about ${data.person.email} to ${opts.out}`);
    }).catch(fail),
  );

people
  .command('erase <email-or-id>')
  .description("erase the person's data and account; run it again to finish an erasure that stopped halfway (by id once the account is gone)")
  .addOption(new Option('--statements <what>', 'their xAPI statements: void (voiding statements, originals kept marked voided) or remove (deleted)').choices([...STATEMENT_ERASURES]).makeOptionMandatory())
  .action((named: string, opts: { statements: StatementErasure }) =>
    withContainer(async (c) => {
      const privacy = privacyService(c);
      const person = await privacy.find(named);
      // naming the person on the command line is the confirmation; an account already gone needs none
      const r = await privacy.erase('cli', person.id, { statements: opts.statements, confirm: person.email ?? '' });
      const lines = Object.entries(r.counts).filter(([, n]) => n > 0).map(([collection, n]) => `  ${collection}: ${n}`);
      const who = person.email ? `${person.email} (id ${r.personId})` : `id ${r.personId}`;
      console.log(`Erased ${who}; statements ${r.statements === 'void' ? 'voided' : 'removed'}. Records changed:\n${lines.join('\n') || '  none'}`);
    }).catch(fail),
  );

await program.parseAsync(process.argv);
