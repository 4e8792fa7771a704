import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceFile } from '../../src/content/validate.js';
import { createTestContext, seedPeople, type TestContext } from '../support/context.js';
import { apply, browserOn, contentMutation, corpus, countDocuments, listen, messageOf, SAMPLE, Tally, verdict, YAML_TRICKS, type Mutation } from './support.js';

/**
 * POST /curricula/publish with the sample curriculum's folder mutated (as in content.test.ts):
 * every broken folder is answered 422 with its problems as file:line, and nothing is published.
 */
describe('fuzz: POST /curricula/publish with a mutated content folder', () => {
  let ctx: TestContext;
  let http: Awaited<ReturnType<typeof listen>>;
  let contentDir: string;
  const PUBLISHED = ['curricula', 'curriculum_versions', 'cmi5_files'];

  beforeAll(async () => {
    contentDir = mkdtempSync(join(tmpdir(), 'onramp-fuzz-content-'));
    ctx = await createTestContext({ CONTENT_DIR: contentDir });
    await seedPeople(ctx.container);
    http = await listen(ctx.app);
  });
  afterAll(async () => {
    await http?.close();
    await ctx?.close();
    rmSync(contentDir, { recursive: true, force: true });
  });

  /** The content folder as the files say, the sample's cmi5 package beside them. */
  function writeFolder(files: SourceFile[]): void {
    rmSync(join(contentDir, SAMPLE.name), { recursive: true, force: true });
    for (const f of files) {
      const path = join(contentDir, SAMPLE.name, relative(SAMPLE.dir, f.path));
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, f.text);
    }
    for (const p of SAMPLE.packages) {
      for (const [name, bytes] of p.files) {
        const path = join(contentDir, SAMPLE.name, 'cmi5', p.name, name);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, bytes);
      }
    }
  }

  it('answers 422 with the problems and publishes nothing, for every broken folder', async () => {
    const tally = new Tally('content-publish');
    const trainer = await browserOn(http.server, 'trainer@demo.onramp.dev');
    const bank = SAMPLE.files.findIndex((f) => f.path.endsWith('skills.yaml'));
    const cases = [
      ...YAML_TRICKS.map((text): Mutation[] => [{ kind: 'replace-file', file: bank, text }]),
      ...corpus(fc.array(contentMutation(SAMPLE.files.length), { minLength: 1, maxLength: 3 }), 60, 7).filter((m) => !verdict(apply(SAMPLE.files, m)).ok),
    ];
    for (const mutations of cases) {
      writeFolder(apply(SAMPLE.files, mutations));
      const before = await countDocuments(ctx.container.mongo, PUBLISHED);
      const res = await trainer.agent.post('/curricula/publish').type('form').send({ _csrf: trainer.csrf });
      const after = await countDocuments(ctx.container.mongo, PUBLISHED);
      const problems = [...res.text.matchAll(/<li><code>([^<]+)<\/code><\/li>/g)].map((m) => m[1]!);
      const label = JSON.stringify(mutations).slice(0, 200);
      tally.check(label, { status: res.status, message: `${messageOf(res)} ${problems.join(' ')}` }, { before, after, expectStatus: 422, mentions: /problem\(s\) in the content: nothing was published/ });
      if (res.status === 422 && !problems.every((p) => /^\S+:\d+[: ]/.test(p))) tally.fail(`${label}: a problem without file:line: ${problems.join(' | ')}`);
    }
    tally.report();
    expect(tally.cases).toBeGreaterThan(50);
    // and the sample itself still publishes
    writeFolder(SAMPLE.files);
    const ok = await trainer.agent.post('/curricula/publish').type('form').send({ _csrf: trainer.csrf });
    expect(ok.status).toBe(303);
    expect((await countDocuments(ctx.container.mongo, ['curricula'])).curricula).toBe(1);
  });
});
