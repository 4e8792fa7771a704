import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateCurriculum, type SourceFile } from '../../src/content/validate.js';
import { fixtureFiles } from '../support/curriculum-fixture.js';
import { apply, contentMutation, corpus, SAMPLE, Tally, verdict, YAML_TRICKS, type Mutation } from './support.js';

/**
 * Content files: the sample curriculum (content/curricula/new-rep-onboarding) mutated at random —
 * lines replaced, removed, doubled, values swapped for nasty ones, files truncated, deleted or
 * copied, YAML tricks (alias bombs, unknown anchors, several documents, `__proto__`, deep nesting).
 * validateCurriculum must never throw and must point every problem at a file and line. The sample
 * takes ~130 ms to validate, so the bulk of the corpus mutates the small test fixture the same way
 * (content-publish.test.ts sends mutated folders through the publish route).
 */
describe('fuzz: validateCurriculum on the mutated sample', () => {
  it('accepts the sample as it is', () => {
    expect(validateCurriculum(SAMPLE.name, SAMPLE.files, SAMPLE.packages).problems).toEqual([]);
  });

  it('reports what the YAML parser leaves to its last step (an alias bomb, an alias to no anchor) as problems, without throwing', () => {
    const bomb = YAML_TRICKS[0]!;
    expect(validateCurriculum('demo', fixtureFiles({ 'demo/banks/basics.yaml': bomb })).problems).toContainEqual({ file: 'demo/banks/basics.yaml', line: 1, field: '', message: 'YAML: Excessive alias count indicates a resource exhaustion attack' });
    expect(validateCurriculum('demo', fixtureFiles({ 'demo/curriculum.yaml': 'id: *nowhere' })).problems).toContainEqual(expect.objectContaining({ file: 'demo/curriculum.yaml', message: expect.stringContaining('YAML: Unresolved alias') }));
  });

  it('never throws and points every problem at a file and line', () => {
    const tally = new Tally('content-validate', 'with problems');
    const fixture = fixtureFiles();
    const run = (files: SourceFile[], folder: { name: string; packages: typeof SAMPLE.packages }, mutations: Mutation[], where: string) => {
      const v = verdict(apply(files, mutations), folder);
      const label = `${where} ${JSON.stringify(mutations).slice(0, 200)}`;
      if (v.broken) tally.fail(`${label}: ${v.broken}`);
      // a mutation that keeps the content valid (a changed lesson sentence) is accepted, as it should be
      tally.check(label, { status: v.ok ? 200 : 422, message: v.ok ? '' : `${v.problems} problem(s)` });
    };
    const tricks = (files: SourceFile[]) => YAML_TRICKS.flatMap((text) => files.map((_f, file) => [{ kind: 'replace-file' as const, file, text }]));
    const demo = { name: 'demo', packages: [] };
    for (const m of tricks(fixture)) run(fixture, demo, m, 'fixture');
    for (const m of corpus(fc.array(contentMutation(fixture.length), { minLength: 1, maxLength: 3 }), 1200)) run(fixture, demo, m, 'fixture');
    const sampleFiles = SAMPLE.files.filter((f) => /curriculum\.yaml$|06-foundations-check\.md$|skills\.yaml$/.test(f.path)).map((f) => SAMPLE.files.indexOf(f));
    for (const m of tricks(SAMPLE.files).filter(([m]) => sampleFiles.includes(m!.file))) run(SAMPLE.files, SAMPLE, m, 'sample');
    for (const m of corpus(fc.array(contentMutation(SAMPLE.files.length), { minLength: 1, maxLength: 3 }), 150, 1)) run(SAMPLE.files, SAMPLE, m, 'sample');
    tally.report();
    expect(tally.refused).toBeGreaterThan(tally.cases / 2);
  });
});
