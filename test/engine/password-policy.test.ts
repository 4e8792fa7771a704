import { describe, expect, it } from 'vitest';
import { passwordProblems } from '../../src/engine/password-policy.js';

describe('passwordProblems', () => {
  it('accepts a long passphrase', () => {
    expect(passwordProblems('coffee before cold calls', { email: 'rep1@example.com' })).toEqual([]);
  });
  it.each([
    ['short', 'at least 10 characters'],
    ['aaaaaaaaaaaa', 'single character'],
    ['password123', 'most common'],
    ['x'.repeat(201), 'at most 200'],
  ])('refuses %j (%s)', (pw, fragment) => {
    expect(passwordProblems(pw).join(' ')).toContain(fragment);
  });
  it('refuses a password containing the email name', () => {
    expect(passwordProblems('jordan.blake-2026', { email: 'jordan.blake@example.com' })).toContain('must not contain your email address');
  });
});
