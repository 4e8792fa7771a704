import { Types } from 'mongoose';
import { describe, expect, it } from 'vitest';
import { auditEntryProblems } from '../../src/features/audit/service.js';
import { changeOf } from '../../src/features/accounts/service.js';

/** The audit log's rules for what an entry may hold, and how an admin's edit becomes one entry: pure, no database. */
const user = { type: 'user', id: '65f0c0ffee0000000000abcd' };

describe('what an audit entry may hold', () => {
  it('takes a dotted action, a target and a small flat detail', () => {
    expect(auditEntryProblems('user.role.change', user, { fields: ['role'], roleFrom: 'rep', roleTo: 'manager', count: 3, passed: true, managerTo: null })).toEqual([]);
    expect(auditEntryProblems('privacy.erase', { type: 'user', id: 'x' }, {})).toEqual([]);
  });

  it('refuses any key that could hold a secret or an answer, whatever its value', () => {
    for (const key of ['password', 'newPassword', 'token', 'apiToken', 'secret', 'lrsSecret', 'passwordHash', 'hash', 'answers', 'cookie', 'authorization']) {
      expect(auditEntryProblems('user.update', user, { [key]: '' }), key).toEqual([`detail.${key}: may not be recorded (passwords, tokens, secrets and answers never go into the audit log)`]);
    }
    // words that only look alike are fine
    expect(auditEntryProblems('session.rubric.score', user, { passed: true, previousPercent: 50, sessionId: 'x' })).toEqual([]);
  });

  it('refuses nested objects, long text, long lists and a big detail, saying where', () => {
    expect(auditEntryProblems('user.update', user, { scores: { opening: 3 } })).toEqual(['detail.scores: must be a string, number, boolean, null or a list of strings or numbers (no nested objects)']);
    expect(auditEntryProblems('user.update', user, { note: 'x'.repeat(201) })).toEqual(['detail.note: must be at most 200 characters']);
    expect(auditEntryProblems('user.update', user, { ids: Array.from({ length: 51 }, (_, i) => String(i)) })).toEqual(['detail.ids: must list at most 50 values']);
    expect(auditEntryProblems('user.update', user, { n: Number.NaN })).toEqual(['detail.n: must be a finite number']);
    const big = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, 'y'.repeat(190)]));
    expect(auditEntryProblems('user.update', user, big)).toEqual(['detail: at most 2000 characters as JSON']);
  });

  it('refuses a malformed action or target', () => {
    expect(auditEntryProblems('UserCreate', user, {})).toEqual(["action 'UserCreate': dotted lower-case words (e.g. user.role.change), at most 64 characters"]);
    expect(auditEntryProblems('user', user, {})).toHaveLength(1);
    expect(auditEntryProblems('user.create', { type: 'User', id: '' }, {})).toEqual(["target.type 'User': lower-case letters and _ (e.g. api_token)", 'target.id: 1 to 200 characters']);
    expect(auditEntryProblems('user.create', user, ['x'])).toEqual(['detail: must be an object']);
  });
});

describe("an admin's edit as one audit entry", () => {
  const manager = new Types.ObjectId();
  const current = { role: 'rep' as const, managerId: manager, name: 'Riley', active: true, timezone: 'UTC' };
  const same = { role: 'rep' as const, managerId: String(manager) };

  it('is nothing when nothing changes (the form sends every field)', () => {
    expect(changeOf(current, { ...same, name: 'Riley', active: true, timezone: 'UTC' })).toBeUndefined();
  });

  it('names the most telling change: role, then deactivation or reactivation, then an update', () => {
    expect(changeOf(current, { role: 'manager', managerId: null, active: false })).toEqual({
      action: 'user.role.change',
      detail: { fields: ['role', 'managerId', 'active'], roleFrom: 'rep', roleTo: 'manager', managerFrom: String(manager), managerTo: null, active: false },
    });
    expect(changeOf(current, { ...same, active: false })?.action).toBe('user.deactivate');
    expect(changeOf({ ...current, active: false }, { ...same, active: true })?.action).toBe('user.reactivate');
    expect(changeOf(current, { ...same, name: 'Riley Chen', timezone: 'Europe/Berlin' })).toEqual({ action: 'user.update', detail: { fields: ['name', 'timezone'] } });
  });
});
