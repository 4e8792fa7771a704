import { resolve } from 'node:path';
import { homedir } from 'node:os';
import { z } from 'zod';

/**
 * The environment, parsed once at start-up into a frozen, typed Config.
 * Every variable is documented in .env.example; a bad value stops the process with a message
 * that names the variable and what was wrong.
 */

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === '' ? undefined : v))
    .refine((v) => v === undefined || protocols.some((p) => v.startsWith(p)), {
      message: `must start with ${protocols.join(' or ')}`,
    });

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  PUBLIC_URL: z.string().url().optional(),
  XAPI_ACTIVITY_BASE: z.string().url().optional(),
  CMI5_CONTENT_URL: optionalUrl(['http://', 'https://']),
  MONGODB_URL: optionalUrl(['mongodb://', 'mongodb+srv://']),
  REDIS_URL: optionalUrl(['redis://', 'rediss://']),
  REDIS_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9_-]+$/, 'letters, digits, _ and - only')
    .default('onramp'),
  DATA_DIR: z.string().default('./data'),
  CONTENT_DIR: z.string().default('./content'),
  ONRAMP_CACHE_DIR: z.string().optional(),
  FERRETDB_BIN: z.string().optional(),
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  SESSION_MAX_AGE_HOURS: z.coerce.number().positive().max(24 * 30).default(12),
  COOKIE_SECURE: bool.optional(),
  TRUST_PROXY: z.coerce.number().int().min(0).default(0),
  LOGIN_RATE_LIMIT: z.coerce.number().int().min(1).default(10),
  LOGIN_RATE_WINDOW_MINUTES: z.coerce.number().int().min(1).default(15),
  DEMO_SEED: bool.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: bool.optional(),
  XAPI_FORWARD_URL: optionalUrl(['http://', 'https://']),
  XAPI_FORWARD_KEY: z.string().trim().optional(),
  XAPI_FORWARD_SECRET: z.string().trim().optional(),
  XAPI_FORWARD_BATCH: z.coerce.number().int().min(1).max(500).default(50),
  SMTP_URL: optionalUrl(['smtp://', 'smtps://']),
  MAIL_FROM: z.string().trim().default('Onramp <onramp@localhost>'),
  METRICS_TOKEN: z
    .string()
    .trim()
    .min(32, 'must be at least 32 characters')
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces only (it is sent in an HTTP header)')
    .optional(),
  METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
});

export type Env = z.infer<typeof schema>;

export interface Config {
  readonly env: Env['NODE_ENV'];
  readonly isProduction: boolean;
  readonly host: string;
  readonly port: number;
  readonly publicUrl: string;
  /**
   * Where launched cmi5 content is served from: a second host name for this same server, so that
   * a course package runs in an origin of its own (no access to Onramp pages or the rep's session)
   */
  readonly cmi5ContentUrl: string;
  /** root of the activity IRIs in Onramp's own xAPI statements; keep it stable once statements exist */
  readonly xapiActivityBase: string;
  /** undefined: start an embedded FerretDB (or mongodb-memory-server) under dataDir */
  readonly mongodbUrl: string | undefined;
  /** undefined: start an embedded redis-server under dataDir */
  readonly redisUrl: string | undefined;
  readonly redisPrefix: string;
  readonly dataDir: string;
  /** curriculum files that "Publish" in the web UI reads */
  readonly contentDir: string;
  readonly cacheDir: string;
  readonly ferretdbBin: string | undefined;
  readonly sessionSecret: string | undefined;
  readonly sessionMaxAgeMs: number;
  readonly cookieSecure: boolean;
  readonly trustProxy: number;
  readonly loginRateLimit: number;
  readonly loginRateWindowMs: number;
  readonly demoSeed: boolean;
  readonly logLevel: Env['LOG_LEVEL'];
  readonly logPretty: boolean;
  /** the external LRS every statement is forwarded to; undefined: forwarding is off */
  readonly xapiForward: XapiForwardConfig | undefined;
  /** smtp(s)://user:pass@host:port (nodemailer reads it); undefined: mail goes to the outbox in the database */
  readonly smtpUrl: string | undefined;
  /** the From of every email */
  readonly mailFrom: string;
  /** the bearer token Prometheus scrapes /metrics with; undefined: /metrics is off (404) */
  readonly metricsToken: string | undefined;
  /** the port the worker serves its own /metrics on; undefined: the worker serves none */
  readonly metricsPort: number | undefined;
}

export interface XapiForwardConfig {
  /** the LRS's xAPI endpoint, ending in "/" (statements go to `${url}statements`) */
  readonly url: string;
  readonly key: string;
  readonly secret: string;
  /** statements per request */
  readonly batchSize: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}\nSee .env.example for every variable.`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty value (`PUBLIC_URL=` in .env) means "not set".
  const source = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join('.')}=${JSON.stringify(source[String(i.path[0])] ?? '')}: ${i.message}`),
    );
  }
  const e = parsed.data;
  const isProduction = e.NODE_ENV === 'production';
  const problems: string[] = [];
  if (isProduction && !e.SESSION_SECRET) problems.push('SESSION_SECRET: required when NODE_ENV=production');
  if (isProduction && !e.MONGODB_URL) problems.push('MONGODB_URL: required when NODE_ENV=production (no embedded database in production)');
  if (isProduction && !e.REDIS_URL) problems.push('REDIS_URL: required when NODE_ENV=production (no embedded Redis in production)');
  const forward = forwardConfig(e, problems);
  if (e.SMTP_URL && !URL.canParse(e.SMTP_URL)) problems.push('SMTP_URL: not a valid URL (e.g. smtp://user:password@mail.example.com:587; percent-encode special characters)');
  if (e.METRICS_PORT !== undefined && !e.METRICS_TOKEN) problems.push('METRICS_PORT: requires METRICS_TOKEN (the worker serves its metrics to holders of the token only)');
  if (e.METRICS_PORT !== undefined && e.METRICS_PORT === e.PORT) problems.push(`METRICS_PORT=${e.METRICS_PORT}: the web process listens on PORT=${e.PORT}; give the worker's metrics another port`);
  if (problems.length) throw new ConfigError(problems);

  return Object.freeze({
    env: e.NODE_ENV,
    isProduction,
    host: e.HOST,
    port: e.PORT,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, ''),
    cmi5ContentUrl: cmi5ContentUrl(e.CMI5_CONTENT_URL, (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, '')),
    xapiActivityBase: (e.XAPI_ACTIVITY_BASE ?? `${(e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, '')}/xapi/activities`).replace(/\/$/, ''),
    mongodbUrl: e.MONGODB_URL,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    dataDir: resolve(e.DATA_DIR),
    contentDir: resolve(e.CONTENT_DIR),
    cacheDir: resolve(e.ONRAMP_CACHE_DIR ?? `${homedir()}/.cache/onramp`),
    ferretdbBin: e.FERRETDB_BIN,
    sessionSecret: e.SESSION_SECRET,
    sessionMaxAgeMs: e.SESSION_MAX_AGE_HOURS * 3600_000,
    cookieSecure: e.COOKIE_SECURE ?? isProduction,
    trustProxy: e.TRUST_PROXY,
    loginRateLimit: e.LOGIN_RATE_LIMIT,
    loginRateWindowMs: e.LOGIN_RATE_WINDOW_MINUTES * 60_000,
    demoSeed: e.DEMO_SEED ?? !isProduction,
    logLevel: e.LOG_LEVEL,
    logPretty: e.LOG_PRETTY ?? (!isProduction && Boolean(process.stdout.isTTY)),
    xapiForward: forward,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    metricsToken: e.METRICS_TOKEN,
    metricsPort: e.METRICS_PORT,
  });
}

/**
 * CMI5_CONTENT_URL, or for a local run the other loopback name of PUBLIC_URL (localhost ⇄
 * 127.0.0.1: another origin, the same server); otherwise PUBLIC_URL itself, which gives content
 * Onramp's origin (see docs/xapi.md: set CMI5_CONTENT_URL in production).
 */
function cmi5ContentUrl(configured: string | undefined, publicUrl: string): string {
  if (configured) return configured.replace(/\/$/, '');
  const url = new URL(publicUrl);
  if (url.hostname === 'localhost') url.hostname = '127.0.0.1';
  else if (url.hostname === '127.0.0.1') url.hostname = 'localhost';
  return url.toString().replace(/\/$/, '');
}

/** Forwarding is on when XAPI_FORWARD_URL is set; it then needs the external LRS's Basic credentials. */
function forwardConfig(e: Env, problems: string[]): XapiForwardConfig | undefined {
  if (!e.XAPI_FORWARD_URL) return undefined;
  let url: URL;
  try {
    url = new URL(e.XAPI_FORWARD_URL);
  } catch {
    problems.push(`XAPI_FORWARD_URL=${JSON.stringify(e.XAPI_FORWARD_URL)}: not a valid URL`);
    return undefined;
  }
  if (url.search || url.hash) problems.push('XAPI_FORWARD_URL: the endpoint takes no query or fragment (e.g. https://lrs.example.com/xapi/)');
  if (url.username || url.password) problems.push('XAPI_FORWARD_URL: put the credentials in XAPI_FORWARD_KEY and XAPI_FORWARD_SECRET, not in the URL');
  const missing = [!e.XAPI_FORWARD_KEY && 'XAPI_FORWARD_KEY', !e.XAPI_FORWARD_SECRET && 'XAPI_FORWARD_SECRET'].filter(Boolean);
  if (missing.length) problems.push(`${missing.join(' and ')}: required when XAPI_FORWARD_URL is set (the Basic credentials the external LRS issued to Onramp)`);
  if (problems.length) return undefined;
  return Object.freeze({ url: url.href.replace(/\/?$/, '/'), key: e.XAPI_FORWARD_KEY!, secret: e.XAPI_FORWARD_SECRET!, batchSize: e.XAPI_FORWARD_BATCH });
}
