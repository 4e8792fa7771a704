import { describe, expect, it } from 'vitest';
import { confirmsErasure, pseudonymise, relationOf, type PersonKeys } from '../../src/engine/privacy.js';

const ME = 'account:https://onramp.example.com|u1';
const MY_MBOX = 'mbox:mailto:sam@example.com';
const person: PersonKeys = {
  isAgent: (key) => key === ME || key === MY_MBOX,
  registrations: new Set(['reg-mine']),
  isOthers: (r) => r === 'reg-other',
};
const s = (agents: string[], relatedAgents: string[] = agents, registrations: string[] = []) => ({ agents, relatedAgents, registrations });

describe('relationOf', () => {
  it('takes as theirs what they did outside anyone else’s enrollment, and anything in their enrollments', () => {
    expect(relationOf(s([ME]), person)).toBe('theirs');
    expect(relationOf(s([MY_MBOX], [MY_MBOX], ['reg-of-another-tool']), person)).toBe('theirs');
    expect(relationOf(s(['account:x|manager'], ['account:x|manager'], ['reg-mine']), person)).toBe('theirs'); // their manager's approval of their work
  });

  it('takes as a mention another person’s record that names them', () => {
    expect(relationOf(s([ME], [ME], ['reg-other']), person)).toBe('mentions'); // they approved a rep's work
    expect(relationOf(s(['account:x|rep2'], ['account:x|rep2', ME], ['reg-other']), person)).toBe('mentions'); // they were the instructor
  });

  it('leaves the rest alone', () => {
    expect(relationOf(s(['account:x|rep2'], ['account:x|rep2'], ['reg-other']), person)).toBe('unrelated');
  });
});

describe('pseudonymise', () => {
  const isTheirs = (a: Record<string, unknown>) => a.mbox === 'mailto:sam@example.com' || (a.account as { name?: string } | undefined)?.name === 'u1';
  const pseudonym = { homePage: 'https://onramp.example.com', name: 'u1' };

  it('replaces the person wherever they appear by a bare account, and leaves everyone else', () => {
    const statement = {
      actor: { objectType: 'Agent', name: 'Sam Seller', account: { homePage: 'https://onramp.example.com', name: 'u1' } },
      verb: { id: 'http://activitystrea.ms/schema/1.0/approve' },
      object: { objectType: 'Activity', id: 'https://onramp.example.com/forms/script' },
      context: {
        instructor: { name: 'Sam Seller', mbox: 'mailto:sam@example.com' },
        team: { objectType: 'Group', member: [{ name: 'Rae', mbox: 'mailto:rae@example.com' }, { name: 'Sam', mbox: 'mailto:sam@example.com' }] },
        extensions: { 'https://onramp.example.com/ext/learner': { objectType: 'Agent', name: 'Rae', account: { homePage: 'https://onramp.example.com', name: 'u2' } } },
      },
    };
    const out = pseudonymise(statement, isTheirs, pseudonym);
    expect(out.actor).toEqual({ objectType: 'Agent', account: pseudonym });
    expect(out.context.instructor).toEqual({ account: pseudonym });
    expect(out.context.team.member).toEqual([{ name: 'Rae', mbox: 'mailto:rae@example.com' }, { account: pseudonym }]);
    expect(out.context.extensions).toBe(statement.context.extensions);
    expect(out.object).toBe(statement.object);
    expect(JSON.stringify(out)).not.toMatch(/Sam|sam@/);
    expect(statement.actor.name).toBe('Sam Seller'); // the input is not changed
  });

  it('returns the very same statement when there is nothing to change (a second pass)', () => {
    const once = pseudonymise({ actor: { name: 'Sam', mbox: 'mailto:sam@example.com' } }, isTheirs, pseudonym);
    expect(pseudonymise(once, isTheirs, pseudonym)).toBe(once);
    const other = { actor: { name: 'Rae', mbox: 'mailto:rae@example.com' } };
    expect(pseudonymise(other, isTheirs, pseudonym)).toBe(other);
  });
});

describe('confirmsErasure', () => {
  it('wants the person’s email address, case and surrounding spaces aside', () => {
    expect(confirmsErasure('  Sam@Example.com ', 'sam@example.com')).toBe(true);
    expect(confirmsErasure('sam@example.co', 'sam@example.com')).toBe(false);
    expect(confirmsErasure('', '')).toBe(false);
  });
});
