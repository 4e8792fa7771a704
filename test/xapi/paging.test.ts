import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCursor, StatementsService } from '../../src/xapi/lrs/statements.js';
import { createTestContext, type TestContext } from '../support/context.js';

/** `more` paging never skips or repeats a statement, also when requests share a millisecond. */
let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx?.close());

describe('paging', () => {
  it('pages through statements stored in the same millisecond by separate requests (same seq 0)', async () => {
    const at = new Date('2026-03-01T10:00:00.000Z');
    const frozen = new StatementsService(ctx.container.statements['store'], ctx.container.statements['attachments'], () => at);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const [id] = await frozen.save({ id: randomUUID(), actor: { mbox: 'mailto:tie@example.com' }, verb: { id: 'http://adlnet.gov/expapi/verbs/experienced' }, object: { id: `https://x.example/a/${i}` } }, { objectType: 'Agent', mbox: 'mailto:lrs@example.com' });
      ids.push(id!);
    }
    for (const ascending of [false, true]) {
      const seen: string[] = [];
      let after: ReturnType<typeof readCursor> | undefined;
      for (let page = 0; page < 10; page++) {
        const res = await ctx.container.statements.query({ agent: 'mbox:mailto:tie@example.com', limit: 2, ascending, ...(after ? { after } : {}) }, 'exact', [], '/xapi/statements', new URLSearchParams());
        seen.push(...res.statements.map((s) => String(s.id)));
        if (!res.more) break;
        after = readCursor(new URL(res.more, 'http://x').searchParams.get('cursor')!);
      }
      expect(seen.slice().sort()).toEqual(ids.slice().sort());
      expect(new Set(seen).size).toBe(5);
    }
  });
});
