import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/env.js';

describe('loadConfig', () => {
  it('has sensible defaults for a local run', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.mongodbUrl).toBeUndefined();
    expect(c.redisUrl).toBeUndefined();
    expect(c.demoSeed).toBe(true);
    expect(c.cookieSecure).toBe(false);
    expect(c.dataDir.endsWith('/data')).toBe(true);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('names every bad variable and what is wrong with it', () => {
    try {
      loadConfig({ PORT: 'eighty', MONGODB_URL: 'postgres://x', LOG_LEVEL: 'loud' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const text = (err as Error).message;
      expect(text).toContain('PORT="eighty"');
      expect(text).toContain('MONGODB_URL="postgres://x": must start with mongodb://');
      expect(text).toContain('LOG_LEVEL');
    }
  });

  it('treats empty values as unset', () => {
    const c = loadConfig({ PUBLIC_URL: '', MONGODB_URL: ' ', PORT: '' });
    expect(c.publicUrl).toBe('http://localhost:3000');
    expect(c.mongodbUrl).toBeUndefined();
  });

  it('requires real services and a session secret in production, and seeds no demo data there', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/SESSION_SECRET: required[\s\S]*MONGODB_URL: required[\s\S]*REDIS_URL: required/);
    const c = loadConfig({
      NODE_ENV: 'production',
      SESSION_SECRET: 's'.repeat(40),
      MONGODB_URL: 'mongodb://db:27017/onramp?replicaSet=rs0',
      REDIS_URL: 'redis://cache:6379',
    });
    expect(c.demoSeed).toBe(false);
    expect(c.cookieSecure).toBe(true);
    expect(c.mongodbUrl).toContain('replicaSet=rs0');
  });

  it('forwards to an external LRS only with its credentials, and is off without a URL', () => {
    expect(loadConfig({}).xapiForward).toBeUndefined();
    expect(loadConfig({ XAPI_FORWARD_URL: '', XAPI_FORWARD_KEY: 'k' }).xapiForward).toBeUndefined();
    expect(loadConfig({ XAPI_FORWARD_URL: 'https://lrs.example.com/xapi', XAPI_FORWARD_KEY: 'k', XAPI_FORWARD_SECRET: 's' }).xapiForward).toEqual({
      url: 'https://lrs.example.com/xapi/',
      key: 'k',
      secret: 's',
      batchSize: 50,
    });
    expect(() => loadConfig({ XAPI_FORWARD_URL: 'https://lrs.example.com/xapi/' })).toThrow(
      /XAPI_FORWARD_KEY and XAPI_FORWARD_SECRET: required when XAPI_FORWARD_URL is set/,
    );
    expect(() => loadConfig({ XAPI_FORWARD_URL: 'https://u:p@lrs.example.com/xapi/', XAPI_FORWARD_KEY: 'k', XAPI_FORWARD_SECRET: 's' })).toThrow(/not in the URL/);
    expect(() => loadConfig({ XAPI_FORWARD_URL: 'lrs.example.com/xapi' })).toThrow(/XAPI_FORWARD_URL="lrs.example.com\/xapi": must start with http:\/\/ or https:\/\//);
    expect(() => loadConfig({ XAPI_FORWARD_URL: 'https://lrs.example.com/xapi/', XAPI_FORWARD_KEY: 'k', XAPI_FORWARD_SECRET: 's', XAPI_FORWARD_BATCH: '0' })).toThrow(/XAPI_FORWARD_BATCH/);
  });

  it('serves metrics only with a long enough token, and the worker\'s only with it, on a port of their own', () => {
    expect(loadConfig({})).toMatchObject({ metricsToken: undefined, metricsPort: undefined });
    const token = 'm'.repeat(32);
    expect(loadConfig({ METRICS_TOKEN: token, METRICS_PORT: '9464' })).toMatchObject({ metricsToken: token, metricsPort: 9464 });
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN="short": must be at least 32 characters/);
    expect(() => loadConfig({ METRICS_TOKEN: `${token} x` })).toThrow(/METRICS_TOKEN=.*printable ASCII without spaces/);
    expect(() => loadConfig({ METRICS_PORT: '9464' })).toThrow(/METRICS_PORT: requires METRICS_TOKEN/);
    expect(() => loadConfig({ METRICS_TOKEN: token, METRICS_PORT: '3000' })).toThrow(/METRICS_PORT=3000: the web process listens on PORT=3000/);
    expect(() => loadConfig({ METRICS_TOKEN: token, METRICS_PORT: 'ninety' })).toThrow(/METRICS_PORT="ninety"/);
  });
});
