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
});

export type Env = z.infer<typeof schema>;

export interface Config {
  readonly env: Env['NODE_ENV'];
  readonly isProduction: boolean;
  readonly host: string;
  readonly port: number;
  readonly publicUrl: string;
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
  if (problems.length) throw new ConfigError(problems);

  return Object.freeze({
    env: e.NODE_ENV,
    isProduction,
    host: e.HOST,
    port: e.PORT,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, ''),
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
  });
}
