import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES } from '../../src/engine/access.js';
import { createTestContext, seedPeople, type DemoPeople, type TestContext } from '../support/context.js';
import { FormFuzzer, listen, NASTY_STRINGS, Tally, type FuzzForm } from './support.js';

/**
 * The account forms (and the JSON API beside them) with random and wrong-typed fields: sign-in,
 * the own password, creating and changing a user. Arrays where a string is expected, operator
 * keys, nasty strings, missing fields, no CSRF token. A refusal is a 4xx that says what was wrong
 * (or a redirect to a page that says so), writes no document and changes no watched one.
 */
let ctx: TestContext;
let http: Awaited<ReturnType<typeof listen>>;
let people: DemoPeople;
let fuzz: FormFuzzer;
let spareId: string;
const restore: Record<string, () => Promise<void>> = {};

function forms(): FuzzForm[] {
  const email = fc.constantFrom('rep1@demo.onramp.dev', 'REP1@demo.onramp.dev ', 'admin@demo.onramp.dev', 'nobody@example.com');
  const password = fc.constantFrom('onramp-demo', 'wrong-password', 'a-much-longer-new-passphrase-2');
  const id = fc.constantFrom(people.rep3.id, people.manager1.id, people.admin.id, '0'.repeat(24), 'not-an-id');
  const text = fc.oneof(fc.constantFrom('Fine text', ...NASTY_STRINGS.slice(0, 12)), fc.string({ maxLength: 30 }));
  return [
    {
      name: 'sign-in',
      method: 'post',
      url: () => '/login',
      fields: { email, password, next: fc.constantFrom('/', '/users', '//evil.example', 'https://evil.example', '/\\evil') },
      writes: ['users'],
      watch: fuzz.watch('users', people.rep1.id),
      reset: async () => {
        fuzz.forget(); // signed in now: the next case starts from a new anonymous session
        await restore.rep1!(); // the sign-in time
      },
      cases: 40,
    },
    {
      name: 'account password',
      as: 'rep3@demo.onramp.dev',
      method: 'post',
      url: () => '/account/password',
      fields: { currentPassword: password, newPassword: password, confirmPassword: password },
      writes: ['users', 'audit_log'],
      watch: fuzz.watch('users', people.rep3.id),
      reset: () => restore.rep3!(),
      cases: 36,
    },
    {
      name: 'user create',
      as: 'admin@demo.onramp.dev',
      method: 'post',
      url: () => '/users',
      fields: { email: fc.oneof(fc.emailAddress(), email), name: text, role: fc.constantFrom(...ROLES), managerId: fc.oneof(id, fc.constant('')), password: fc.constantFrom('', 'correct horse battery staple'), timezone: fc.constantFrom('UTC', 'Europe/Paris', 'Mars/Olympus') },
      writes: ['users', 'audit_log'],
      cases: 50,
    },
    {
      name: 'user update',
      as: 'admin@demo.onramp.dev',
      method: 'post',
      url: () => `/users/${spareId}`,
      fields: { name: text, role: fc.constantFrom(...ROLES), managerId: fc.oneof(id, fc.constant('')), active: fc.constantFrom('true', 'false'), timezone: fc.constantFrom('UTC', 'Mars/Olympus') },
      writes: ['users', 'audit_log'],
      watch: fuzz.watch('users', spareId),
      reset: () => restore.spare!(),
      cases: 40,
    },
    {
      name: 'user update api',
      as: 'admin@demo.onramp.dev',
      method: 'patch',
      url: () => `/api/users/${spareId}`,
      json: true,
      fields: { name: text, role: fc.constantFrom(...ROLES), managerId: fc.oneof(id, fc.constant(null)), active: fc.boolean() },
      writes: ['users', 'audit_log'],
      watch: fuzz.watch('users', spareId),
      reset: () => restore.spare!(),
      cases: 30,
    },
  ];
}

beforeAll(async () => {
  ctx = await createTestContext({ LOGIN_RATE_LIMIT: '100000' });
  people = await seedPeople(ctx.container);
  http = await listen(ctx.app);
  fuzz = new FormFuzzer(ctx, http.server, new Tally('forms-accounts'));
  spareId = (await ctx.container.accounts.create('system', { email: 'spare@example.com', name: 'Spare', role: 'trainer', managerId: null, password: 'correct horse battery' })).user.id;
  restore.rep1 = await fuzz.snapshot('users', people.rep1.id);
  restore.rep3 = await fuzz.snapshot('users', people.rep3.id);
  restore.spare = await fuzz.snapshot('users', spareId);
});
afterAll(async () => {
  await http?.close();
  await ctx?.close();
});

describe('fuzz: account forms', () => {
  it('refuses every bad form with a 4xx that says what was wrong and changes nothing, and every form without its CSRF token', async () => {
    await fuzz.run(forms());
    fuzz.tally.report();
    expect(fuzz.tally.refused).toBeGreaterThan(fuzz.tally.cases / 2);
    expect(fuzz.tally.accepted).toBeGreaterThan(5); // valid input still gets through
  });
});
