import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/content/source.js';
import { validateCurriculum } from '../../src/content/validate.js';
import { contentHash, describeChanges } from '../../src/content/version.js';
import { fixtureFiles } from '../support/curriculum-fixture.js';

const problemsOf = (overrides: Record<string, string | null>) =>
  validateCurriculum('demo', fixtureFiles(overrides)).problems.map(formatProblem);

const replaceIn = (path: string, from: string, to: string) => {
  const file = fixtureFiles().find((f) => f.path === path)!;
  if (!file.text.includes(from)) throw new Error(`fixture ${path} has no ${from}`);
  return { [path]: file.text.replace(from, to) };
};

describe('validateCurriculum', () => {
  it('accepts the fixture and fills in defaults', () => {
    const { content, problems } = validateCurriculum('demo', fixtureFiles());
    expect(problems).toEqual([]);
    const [intro, check, script] = content!.definition.modules;
    expect(intro).toMatchObject({ id: 'intro', completion: { rule: 'acknowledged' }, startDay: 0, dueDay: 3, prerequisites: { all: [], any: [] } });
    expect(check!.assessment).toMatchObject({ purpose: 'check', threshold: 80 });
    expect(script).toMatchObject({ prerequisites: { all: ['check'], any: [] }, completion: { rule: 'approved' }, form: 'script' });
    expect(intro!.body).toContain('# Welcome');
  });

  it('points at the line of an unknown prerequisite', () => {
    expect(problemsOf(replaceIn('demo/modules/02-check.md', 'all: [intro]', 'all: [intro, outro]'))).toEqual([
      "demo/modules/02-check.md:8 prerequisites.all[1]: unknown module 'outro'",
    ]);
  });

  it('finds a prerequisite cycle once and the modules it strands', () => {
    const problems = problemsOf(replaceIn('demo/modules/01-intro.md', 'dueDay: 3', 'dueDay: 3\nprerequisites: [check]'));
    expect(problems).toContain('demo/modules/01-intro.md:10 prerequisites: prerequisites form a cycle: intro → check → intro');
    expect(problems).toContain("demo/modules/03-script.md:7 prerequisites: can never unlock: it waits for 'check', which can never unlock");
    expect(problems).toHaveLength(2);
  });

  it('refuses thresholds out of range, with the field', () => {
    expect(problemsOf(replaceIn('demo/curriculum.yaml', 'masteryThreshold: 80', 'masteryThreshold: 120'))).toEqual([
      'demo/curriculum.yaml:4 masteryThreshold: must be between 1 and 100',
    ]);
  });

  it('reports every problem at once, sorted by file and line', () => {
    const problems = problemsOf({
      ...replaceIn('demo/curriculum.yaml', 'masteryThreshold: 80', 'masteryThreshold: 0'),
      ...replaceIn('demo/modules/02-check.md', 'bank: basics', 'bank: nope'),
      ...replaceIn('demo/modules/03-script.md', 'form: script', 'form: letter'),
    });
    expect(problems).toEqual([
      'demo/curriculum.yaml:4 masteryThreshold: must be between 1 and 100',
      "demo/modules/02-check.md:12 assessment.pools[0].bank: unknown bank 'nope' (banks: basics)",
      "demo/modules/03-script.md:10 form: unknown form 'letter' (forms: script)",
    ]);
  });

  it.each([
    ['duplicate module id', { 'demo/modules/04-dup.md': '---\nid: intro\ntitle: Again\nphase: basics\nmodality: elearning\nminutes: 5\n---\nx' }, "demo/modules/04-dup.md:2 id: duplicate module id 'intro' (also in demo/modules/01-intro.md)"],
    ['unknown phase', replaceIn('demo/modules/01-intro.md', 'phase: basics', 'phase: advanced'), "demo/modules/01-intro.md:4 phase: unknown phase 'advanced' (phases: basics)"],
    ['bad modality', replaceIn('demo/modules/01-intro.md', 'modality: elearning', 'modality: webinar'), 'demo/modules/01-intro.md:5 modality: must be one of elearning, vilt, ilt, assessment, transfer'],
    ['missing title', replaceIn('demo/modules/01-intro.md', 'title: Introduction\n', ''), 'demo/modules/01-intro.md:2 title: is required'],
    ['unknown field', replaceIn('demo/modules/01-intro.md', 'minutes: 10', 'minutes: 10\nduration: 4'), 'demo/modules/01-intro.md:2: unknown field(s): duration'],
    ['draw larger than the pool', replaceIn('demo/modules/02-check.md', 'draw: 2', 'draw: 5'), "demo/modules/02-check.md:13 assessment.pools[0].draw: draws 5 but only 2 question(s) match in bank 'basics'"],
    ['mastery on a non-assessment', replaceIn('demo/modules/03-script.md', 'assessment: check', 'assessment: intro'), "demo/modules/03-script.md:9 mastery[0].assessment: 'intro' is a elearning module, not an assessment"],
    ['completion rule for another modality', replaceIn('demo/modules/01-intro.md', 'dueDay: 3', 'dueDay: 3\ncompletion:\n  rule: attended'), "demo/modules/01-intro.md:11 completion.rule: 'attended' does not apply to a elearning module (use acknowledged)"],
    ['due before start', replaceIn('demo/modules/01-intro.md', 'dueDay: 3', 'dueDay: 3\nstartDay: 5'), 'demo/modules/01-intro.md:9 dueDay: is before startDay (5)'],
    ['single choice with two correct', replaceIn('demo/banks/basics.yaml', '      - text: That one', '      - text: That one\n        correct: true'), 'demo/banks/basics.yaml:10 questions[0].options: a single-choice question needs exactly one correct option (has 2)'],
    ['duplicate question id', replaceIn('demo/banks/basics.yaml', 'id: q2', 'id: q1'), "demo/banks/basics.yaml:13 questions[1].id: duplicate question id 'q1'"],
    ['question on an unknown module', replaceIn('demo/banks/basics.yaml', 'module: intro', 'module: ghost'), "demo/banks/basics.yaml:6 questions[0].module: unknown module 'ghost'"],
    ['empty option', replaceIn('demo/banks/basics.yaml', 'text: That one', 'text: ""'), 'demo/banks/basics.yaml:12 questions[0].options[1].text: must not be empty'],
    ['YAML syntax', { 'demo/forms/script.yaml': 'id: script\ntitle: Call script\ntitle: Again\n' }, 'demo/forms/script.yaml:3: YAML: Map keys must be unique'],
    ['missing front matter', { 'demo/modules/01-intro.md': '# no front matter' }, 'demo/modules/01-intro.md:1: needs front matter between --- lines at the top'],
    ['folder name mismatch', replaceIn('demo/curriculum.yaml', 'id: demo', 'id: other'), "demo/curriculum.yaml:1 id: must equal the folder name 'demo'"],
    ['transfer without a form', replaceIn('demo/modules/03-script.md', 'form: script\n', ''), 'demo/modules/03-script.md:2 form: a transfer module needs a form'],
  ])('%s', (_name, overrides, expected) => {
    const problems = problemsOf(overrides as Record<string, string>);
    expect(problems.some((p) => p.startsWith(expected)), problems.join('\n')).toBe(true);
  });

  it('completes a pre-test once taken, other assessments once passed', () => {
    const pretest = fixtureFiles(replaceIn('demo/modules/02-check.md', 'purpose: check', 'purpose: pretest'));
    expect(validateCurriculum('demo', pretest).content!.definition.modules[1]!.completion).toEqual({ rule: 'submitted' });
    expect(validateCurriculum('demo', fixtureFiles()).content!.definition.modules[1]!.completion).toEqual({ rule: 'passed' });
  });

  it('needs a curriculum.yaml', () => {
    expect(problemsOf({ 'demo/curriculum.yaml': null })).toEqual(['demo/curriculum.yaml:1: is missing: every curriculum folder needs one']);
  });
});

describe('versions', () => {
  const content = () => validateCurriculum('demo', fixtureFiles()).content!;

  it('hash the same content the same, whatever the key order', () => {
    const a = content();
    const b = { forms: a.forms, banks: a.banks, definition: Object.fromEntries(Object.entries(a.definition).reverse()) } as typeof a;
    expect(contentHash(a)).toBe(contentHash(b));
    expect(contentHash(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('describe what changed', () => {
    const before = content();
    const after = validateCurriculum('demo', fixtureFiles({
      ...replaceIn('demo/modules/01-intro.md', 'Read this.', 'Read this twice.'),
      ...replaceIn('demo/modules/02-check.md', 'draw: 2', 'draw: 1'),
      'demo/modules/04-extra.md': '---\nid: extra\ntitle: Extra\nphase: basics\nmodality: elearning\nminutes: 5\n---\nMore.',
    })).content!;
    expect(describeChanges(before, after)).toEqual(['~ module intro: lesson text', '~ module check: assessment', "+ module extra 'Extra' (elearning)"]);
    expect(describeChanges(undefined, before)).toEqual(['+ first version: 3 modules, 1 banks, 1 forms']);
    expect(describeChanges(before, before)).toEqual([]);
    expect(contentHash(before)).not.toBe(contentHash(after));
  });
});
