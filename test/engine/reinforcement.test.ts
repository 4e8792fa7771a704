import { describe, expect, it } from 'vitest';
import { answer, DEFAULT_DECK, DEFAULT_SCHEDULE, newItem, nextDayWindow, nextWindow, planDelivery, scheduleProblems, streakOf, type DeckItem, type RepSchedule } from '../../src/engine/reinforcement.js';

const S = DEFAULT_DECK;
const chicago: RepSchedule = { ...DEFAULT_SCHEDULE, timeZone: 'America/Chicago' };
const day = 86_400_000;

describe('an item’s schedule (FSRS)', () => {
  it('moves further out with right answers and comes back soon after a miss', () => {
    let item = newItem('foundations.q1', 'market', new Date('2026-03-02T09:00:00Z'));
    let at = new Date('2026-03-02T09:00:00Z');
    const gaps: number[] = [];
    for (let i = 0; i < 4; i++) {
      item = answer(item, true, at, S);
      gaps.push((new Date(item.card.due).getTime() - at.getTime()) / day);
      at = new Date(item.card.due);
    }
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]!).toBeGreaterThan(gaps[i - 1]!);
    const missed = answer(item, false, at, S);
    expect((new Date(missed.card.due).getTime() - at.getTime()) / day).toBeLessThan(1);
    expect(missed.card.lapses).toBe(item.card.lapses + 1);
  });

  it('a higher desired retention brings items back sooner', () => {
    const t = new Date('2026-03-02T09:00:00Z');
    const strict = answer(answer(newItem('a', 'm', t), true, t, { ...S, retention: 0.95 }), true, new Date(t.getTime() + 3 * day), { ...S, retention: 0.95 });
    const loose = answer(answer(newItem('a', 'm', t), true, t, { ...S, retention: 0.8 }), true, new Date(t.getTime() + 3 * day), { ...S, retention: 0.8 });
    expect(new Date(strict.card.due).getTime()).toBeLessThan(new Date(loose.card.due).getTime());
  });

  it('retires after three right answers in a row, the last at least 21 days after the one before; a miss resets the streak', () => {
    const t = new Date('2026-03-02T09:00:00Z');
    let item = answer(newItem('a', 'm', t), true, t, S);
    item = answer(item, true, new Date(t.getTime() + 5 * day), S);
    item = answer(item, true, new Date(t.getTime() + 10 * day), S);
    expect(item.retired).toBe(false); // in a row, but not spaced enough
    item = answer(item, false, new Date(t.getTime() + 40 * day), S);
    item = answer(item, true, new Date(t.getTime() + 41 * day), S);
    item = answer(item, true, new Date(t.getTime() + 50 * day), S);
    expect(item.retired).toBe(false);
    item = answer(item, true, new Date(t.getTime() + 75 * day), S);
    expect(item.retired).toBe(true);
  });
});

describe('delivery windows', () => {
  it('moves a time before the window to its start, keeps one inside, and skips evenings and weekends', () => {
    expect(nextWindow(new Date('2026-03-04T12:00:00Z'), chicago).toISOString()).toBe('2026-03-04T15:00:00.000Z'); // 06:00 CST → 09:00
    expect(nextWindow(new Date('2026-03-04T16:30:00Z'), chicago).toISOString()).toBe('2026-03-04T16:30:00.000Z'); // 10:30 inside
    expect(nextWindow(new Date('2026-03-04T23:30:00Z'), chicago).toISOString()).toBe('2026-03-05T15:00:00.000Z'); // 17:30 → next morning
    expect(nextWindow(new Date('2026-03-06T23:30:00Z'), chicago).toISOString()).toBe('2026-03-09T14:00:00.000Z'); // Friday evening → Monday 09:00 (CDT from 8 March)
  });

  it('shifts past a pause instead of delivering during it', () => {
    const at = nextWindow(new Date('2026-03-04T16:30:00Z'), { ...chicago, pause: { from: '2026-03-04', to: '2026-03-12' } });
    expect(at.toISOString()).toBe('2026-03-13T14:00:00.000Z');
  });

  it('skips quiet hours inside the window, and after a delivery the next one waits for the next allowed day', () => {
    const lunch = { ...chicago, quiet: { from: 12, to: 14 } };
    expect(nextWindow(new Date('2026-03-04T18:15:00Z'), lunch).toISOString()).toBe('2026-03-04T20:00:00.000Z'); // 12:15 CST → 14:00
    const late = { ...chicago, quiet: { from: 15, to: 17 } };
    expect(nextWindow(new Date('2026-03-04T21:30:00Z'), late).toISOString()).toBe('2026-03-05T15:00:00.000Z'); // 15:30 → next morning
    expect(nextDayWindow(new Date('2026-03-06T15:00:00Z'), chicago).toISOString()).toBe('2026-03-09T14:00:00.000Z'); // Friday → Monday
  });

  it('refuses a schedule that could never deliver, naming the field', () => {
    expect(scheduleProblems(chicago)).toEqual([]);
    const paths = (s: RepSchedule) => scheduleProblems(s).map((p) => p.path);
    expect(paths({ ...chicago, timeZone: 'Mars/Olympus' })).toEqual(['timeZone']);
    expect(paths({ ...chicago, window: { from: 17, to: 9 } })).toEqual(['window']);
    expect(paths({ ...chicago, days: [] })).toEqual(['days']);
    expect(paths({ ...chicago, quiet: { from: 8, to: 18 } })).toEqual(['quiet']);
    expect(paths({ ...chicago, pause: { from: '2026-03-10', to: '2026-03-01' } })).toEqual(['pause']);
  });
});

describe('planning a delivery', () => {
  const t = new Date('2026-03-04T16:00:00Z'); // Wednesday 10:00 in Chicago
  const item = (key: string, dueInDays: number, retired = false): DeckItem => ({ ...newItem(key, 'm', new Date(t.getTime() + dueInDays * day)), retired });

  it('takes the most overdue items due by the delivery time, at most three', () => {
    const plan = planDelivery([item('d', 0), item('a', -3), item('b', -1), item('c', -2), item('later', 5)], t, chicago, 3);
    expect(plan.at!.toISOString()).toBe(t.toISOString());
    expect(plan.items).toEqual(['a', 'c', 'b']);
  });

  it('waits for the earliest item when nothing is due, and has nothing to plan for a retired deck', () => {
    const plan = planDelivery([item('x', 2.2), item('y', 9)], t, chicago, 3);
    expect(plan.items).toEqual(['x']);
    expect(plan.at!.getTime()).toBeGreaterThanOrEqual(t.getTime() + 2.2 * day);
    expect(planDelivery([item('z', -1, true)], t, chicago, 3)).toEqual({ at: null, items: [] });
  });

  it('plans no earlier than notBefore (one delivery a day)', () => {
    const plan = planDelivery([item('a', -3), item('b', -1)], t, chicago, 3, new Date('2026-03-05T15:00:00Z'));
    expect(plan.items).toEqual(['a', 'b']);
    expect(plan.at!.toISOString()).toBe('2026-03-05T15:00:00.000Z');
  });
});

describe('the streak', () => {
  it('counts deliveries answered in full, newest first; an open newest one neither counts nor breaks it', () => {
    expect(streakOf([{ status: 'open' }, { status: 'answered' }, { status: 'answered' }, { status: 'lapsed' }, { status: 'answered' }])).toBe(2);
    expect(streakOf([{ status: 'lapsed' }, { status: 'answered' }])).toBe(0);
    expect(streakOf([])).toBe(0);
  });
});

describe('the items a module adds to the deck', () => {
  it('are the bank questions marked for reinforcement with that module', async () => {
    const { findCurriculumFolders } = await import('../../src/content/load.js');
    const { validateCurriculum } = await import('../../src/content/validate.js');
    const [folder] = findCurriculumFolders(new URL('../../content', import.meta.url).pathname);
    const { content } = validateCurriculum(folder!.name, folder!.files, folder!.packages);
    const { reinforcementItems } = await import('../../src/engine/reinforcement.js');
    const banks = content!.banks as never;
    const items = reinforcementItems(banks, 'market-and-personas');
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((k) => /^\w[\w-]*\.[\w-]+$/.test(k))).toBe(true);
    const all = content!.definition.modules.flatMap((m) => reinforcementItems(banks, m.id));
    expect(all.length).toBe(18); // 12 + 4 + 2 marked in the sample banks
    expect(new Set(all).size).toBe(all.length);
    expect(content!.definition.reinforcement).toEqual({ retention: 0.9, perDelivery: 3 });
  });

  it('content validation refuses a reinforcement question without a module, and a retention out of range', async () => {
    const { validateCurriculum } = await import('../../src/content/validate.js');
    const { fixtureFiles } = await import('../support/curriculum-fixture.js');
    const files = fixtureFiles();
    const bank = files.find((f) => f.path === 'demo/banks/basics.yaml')!;
    const curriculum = files.find((f) => f.path === 'demo/curriculum.yaml')!;
    const broken = validateCurriculum('demo', [
      ...files.filter((f) => f !== bank && f !== curriculum),
      { path: bank.path, text: bank.text.replace('  - id: q2\n', '  - id: q2\n    reinforcement: true\n') },
      { path: curriculum.path, text: curriculum.text.replace('masteryThreshold: 80\n', 'masteryThreshold: 80\nreinforcement:\n  retention: 0.99\n') },
    ]);
    const messages = broken.problems.map((p) => `${p.field}: ${p.message}`).join('\n');
    expect(messages).toMatch(/reinforcement: a reinforcement question names its module/);
    expect(messages).toMatch(/reinforcement\.retention: must be at most 0\.97/);
  });
});
