import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCurriculum } from '../../src/content/validate.js';
import type { AttemptDoc } from '../../src/features/assessments/model.js';
import { createTestContext, seedPeople, type DemoPeople, type TestContext } from '../support/context.js';
import { fixtureFiles } from '../support/curriculum-fixture.js';

/** Learning events become statements in the LRS store, once each. */
let ctx: TestContext;
let people: DemoPeople;

beforeAll(async () => {
  ctx = await createTestContext();
  people = await seedPeople(ctx.container);
  await ctx.container.curricula.publish('cli', validateCurriculum('demo', fixtureFiles()).content!);
});
afterAll(() => ctx.close());

async function verbsOf(rep: string) {
  const all = await ctx.container.statements.query({ limit: 100, ascending: true }, 'exact', [], '', new URLSearchParams());
  return all.statements.filter((s) => JSON.stringify(s.actor).includes(rep)).map((s) => ((s.verb as { id: string }).id.split('/').pop()));
}

describe('recording learning events', () => {
  it('records enrollment, launch, completion and an assessment attempt as xAPI statements', async () => {
    const rep = { id: people.rep1.id, role: 'rep' as const };
    const { enrollment } = await ctx.container.enrollments.enroll('system', { userId: people.rep1.id, curriculumId: 'demo', startDate: '2026-01-05' });
    const e = String(enrollment._id);
    await ctx.container.enrollments.open(rep, e, 'intro');
    await ctx.container.enrollments.acknowledge(rep, e, 'intro');
    await ctx.container.enrollments.acknowledge(rep, e, 'intro'); // twice: recorded once
    const attemptId = await ctx.container.assessments.start(rep, e, 'check');
    const a = (await ctx.container.models.Attempt.findById(attemptId).lean()) as AttemptDoc;
    const version = await ctx.container.curricula.version(a.versionId);
    const banks = version.content.banks as unknown as Record<string, { questions: { id: string; options: { correct: boolean }[] }[] }>;
    const right = Object.fromEntries(a.drawn.items.map((i) => [i.questionId, [i.optionOrder.indexOf(banks[i.bankId]!.questions.find((q) => q.id === i.questionId)!.options.findIndex((o) => o.correct))]]));
    await ctx.container.assessments.submit(rep, attemptId, right);
    await ctx.container.assessments.submit(rep, attemptId); // double submission: no second record

    const verbs = await verbsOf(people.rep1.id);
    expect(verbs).toEqual(['registered', 'launched', 'completed', 'launched', 'attempted', 'scored', 'passed']);

    const all = (await ctx.container.statements.query({ limit: 100 }, 'exact', [], '', new URLSearchParams())).statements;
    const passed = all.find((s) => (s.verb as { id: string }).id.endsWith('/passed'))!;
    expect(passed.context).toMatchObject({ registration: expect.stringMatching(/^[0-9a-f-]{36}$/), platform: 'Onramp' });
    expect((passed.object as { id: string }).id).toMatch(/\/xapi\/activities\/curricula\/demo\/modules\/check$/);
    expect((passed.result as { score: { scaled: number } }).score.scaled).toBe(1);
  });
});
