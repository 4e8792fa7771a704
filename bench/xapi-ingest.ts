/**
 * xAPI ingest and query, against the real local services (FerretDB + Redis), through HTTP as an
 * LRS client would, side by side in the same run with the driver doing the same work directly.
 *
 *   npm run bench -- xapi-ingest            (BENCH_STATEMENTS=1000000 for the query set; default 200000;
 *                                            BENCH_QUERIES per side, default 60)
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/env.js';
import { createContainer } from '../src/container.js';
import { createApp } from '../src/http/app.js';
import { createLogger } from '../src/infra/logger.js';
import { startLocalServices } from '../src/infra/embedded/index.js';
import { indexFields, type StatementDoc } from '../src/xapi/lrs/store.js';

const QUERY_SET = Number(process.env.BENCH_STATEMENTS ?? 200_000);
const INGEST_STATEMENTS = Number(process.env.BENCH_INGEST ?? 3_000);
/** queries per side for the p95 (each is a scan on FerretDB v1: fewer at a million) */
const QUERIES = Number(process.env.BENCH_QUERIES ?? 60);
const log = createLogger({ logLevel: 'warn', logPretty: false }, 'bench');
const dataDir = mkdtempSync(join(tmpdir(), 'onramp-bench-'));
const services = await startLocalServices(loadConfig({ DATA_DIR: dataDir, MONGODB_URL: '', REDIS_URL: '' }), log);
const config = loadConfig({
  NODE_ENV: 'test',
  MONGODB_URL: services.mongodbUrl.replace(/\/[^/]*$/, '/bench'),
  REDIS_URL: services.redisUrl,
  SESSION_SECRET: 'bench-secret-bench-secret-bench-secret-00',
  DATA_DIR: dataDir,
  LOG_LEVEL: 'warn',
  LOG_PRETTY: 'false',
}) as ReturnType<typeof loadConfig> & { mongodbUrl: string; redisUrl: string };
const c = await createContainer(config, log, 'bench');
await c.mongo.dropDatabase();
await c.statements['store'].ensureIndexes();
const app = createApp(c);
const server = app.listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
const { key, secret } = await c.lrsCredentials.issue('system', { name: 'bench', scopes: ['all'] });
const auth = `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;

const verbs = ['experienced', 'attempted', 'passed', 'failed', 'completed'].map((v) => `http://adlnet.gov/expapi/verbs/${v}`);
function statement(i: number) {
  return {
    id: randomUUID(),
    actor: { objectType: 'Agent', name: `Rep ${i % 10_000}`, account: { homePage: 'https://crm.example.com', name: `rep-${i % 10_000}` } },
    verb: { id: verbs[i % verbs.length]!, display: { 'en-US': 'did' } },
    object: { objectType: 'Activity', id: `https://lms.example.com/activities/module-${i % 200}`, definition: { name: { 'en-US': `Module ${i % 200}` } } },
    result: { score: { scaled: (i % 100) / 100 }, success: i % 3 !== 0, completion: true },
    context: { registration: randomUUID(), contextActivities: { grouping: [{ id: 'https://lms.example.com/activities/curriculum' }] } },
    timestamp: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
  };
}

async function viaHttp(batch: number): Promise<number> {
  const batches = Math.ceil(INGEST_STATEMENTS / batch);
  const start = performance.now();
  for (let b = 0; b < batches; b++) {
    const body = JSON.stringify(Array.from({ length: batch }, (_, i) => statement(b * batch + i)));
    const res = await fetch(`${base}/xapi/statements`, { method: 'POST', headers: { Authorization: auth, 'X-Experience-API-Version': '1.0.3', 'Content-Type': 'application/json' }, body });
    if (res.status !== 200) throw new Error(`POST answered ${res.status}: ${await res.text()}`);
  }
  return (batches * batch) / ((performance.now() - start) / 1000);
}

/** The same documents the LRS would store, written straight through the driver. */
function docOf(s: ReturnType<typeof statement>, stored: Date, seq: number): StatementDoc {
  const full = { ...s, stored: stored.toISOString(), authority: { objectType: 'Agent', account: { homePage: base, name: key } }, version: '1.0.0' };
  return { _id: s.id, json: JSON.stringify(full), stored, seq, voided: false, ...indexFields(full as never) };
}

async function viaDriver(batch: number): Promise<number> {
  const batches = Math.ceil(INGEST_STATEMENTS / batch);
  const start = performance.now();
  for (let b = 0; b < batches; b++) {
    const stored = new Date();
    await c.statements['store'].col.insertMany(Array.from({ length: batch }, (_, i) => docOf(statement(b * batch + i), stored, i)));
  }
  return (batches * batch) / ((performance.now() - start) / 1000);
}

const figures: Record<string, number> = {};
for (const batch of [10, 100]) {
  await viaHttp(batch); // warm-up: JIT, connections, indexes
  const api = await viaHttp(batch);
  const raw = await viaDriver(batch);
  figures[`batch${batch}_api_per_s`] = Math.round(api);
  figures[`batch${batch}_raw_per_s`] = Math.round(raw);
  console.log(`batch ${batch}: POST /xapi/statements ${Math.round(api)} statements/s · driver insertMany ${Math.round(raw)} statements/s · ratio ${(api / raw).toFixed(2)}`);
}

// ---- query: agent + verb over a large store ----
const have = await c.statements['store'].col.estimatedDocumentCount();
console.log(`seeding the query set up to ${QUERY_SET} statements (have ${have})…`);
for (let n = have; n < QUERY_SET; n += 1000) {
  const stored = new Date();
  await c.statements['store'].col.insertMany(Array.from({ length: Math.min(1000, QUERY_SET - n) }, (_, i) => docOf(statement(n + i), stored, i)));
  if ((n / 1000) % 50 === 0) process.stdout.write(`  ${n}\n`);
}
const agent = JSON.stringify({ objectType: 'Agent', account: { homePage: 'https://crm.example.com', name: 'rep-42' } });
const verb = verbs[2]!;
const p95 = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length * 0.95)]!;
const apiTimes: number[] = [];
const rawTimes: number[] = [];
for (let i = 0; i < QUERIES; i++) {
  let t = performance.now();
  const res = await fetch(`${base}/xapi/statements?agent=${encodeURIComponent(agent)}&verb=${encodeURIComponent(verb)}&limit=25`, { headers: { Authorization: auth, 'X-Experience-API-Version': '1.0.3' } });
  await res.json();
  apiTimes.push(performance.now() - t);
  t = performance.now();
  await c.statements['store'].col.find({ voided: false, agents: 'account:https://crm.example.com|rep-42', verb }).sort({ stored: -1, seq: -1 }).limit(26).toArray();
  rawTimes.push(performance.now() - t);
}
figures.query_statements = QUERY_SET;
figures.queries_per_side = QUERIES;
figures.query_api_p95_ms = Math.round(p95(apiTimes) * 10) / 10;
figures.query_raw_p95_ms = Math.round(p95(rawTimes) * 10) / 10;
console.log(`query agent+verb over ${QUERY_SET}: GET /xapi/statements p95 ${figures.query_api_p95_ms} ms · driver find() p95 ${figures.query_raw_p95_ms} ms`);

const ratios = {
  batch10: Math.round((figures.batch10_api_per_s! / figures.batch10_raw_per_s!) * 100) / 100,
  batch100: Math.round((figures.batch100_api_per_s! / figures.batch100_raw_per_s!) * 100) / 100,
  query_p95: Math.round((figures.query_api_p95_ms / figures.query_raw_p95_ms) * 100) / 100,
};
console.log(JSON.stringify({ bench: 'xapi-ingest', figures, ratios, targets: { batch10: '>= 0.5', batch100: '>= 0.8' }, met: { batch10: ratios.batch10 >= 0.5, batch100: ratios.batch100 >= 0.8 } }));

server.close();
await c.close();
await services.stop();
rmSync(dataDir, { recursive: true, force: true });
process.exit(0);
