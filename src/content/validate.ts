import type { CompletionRule, CurriculumDef, Modality, ModuleDef } from '../engine/curriculum.js';
import { bankFile, curriculumFile, formFile, moduleFrontMatter, type BankFile, type BankQuestion, type FormFile, type ModuleFrontMatter } from './schema.js';
import { checkPackage, type CheckedPackage, type PackageSource } from '../xapi/cmi5/package.js';
import { splitFrontMatter, YamlSource, type ContentProblem, type FieldPath } from './source.js';

/** A file of a curriculum folder: its path as shown to the trainer, and its text. */
export interface SourceFile {
  path: string;
  text: string;
}

/** Everything a version holds, once valid. */
export interface CurriculumContent {
  definition: CurriculumDef;
  banks: Record<string, BankFile>;
  forms: Record<string, FormFile>;
  /** cmi5 packages by name (versions published before cmi5 support have none) */
  cmi5?: Record<string, CheckedPackage>;
}

export interface ValidationResult {
  content?: CurriculumContent;
  problems: ContentProblem[];
  /** the cmi5 packages' files, to store (by hash) when the content is published */
  packages?: PackageSource[];
}

const DEFAULT_COMPLETION: Record<Modality, CompletionRule> = {
  elearning: { rule: 'acknowledged' },
  assessment: { rule: 'passed' },
  vilt: { rule: 'attended' },
  ilt: { rule: 'attended' },
  transfer: { rule: 'approved' },
};

const RULES_FOR: Record<CompletionRule['rule'], Modality[]> = {
  viewed: ['elearning'],
  acknowledged: ['elearning'],
  passed: ['assessment'],
  submitted: ['assessment'],
  attended: ['vilt', 'ilt'],
  approved: ['transfer'],
  cmi5: ['elearning'],
};

/** A pre-test is done once taken (it places the rep); other assessments once passed. */
function defaultCompletion(fm: ModuleFrontMatter): CompletionRule {
  if (fm.cmi5) return { rule: 'cmi5' };
  return fm.assessment?.purpose === 'pretest' ? { rule: 'submitted' } : DEFAULT_COMPLETION[fm.modality];
}

interface ModuleSource {
  src: YamlSource;
  fm: ModuleFrontMatter;
  body: string;
}

function questionsOf(bank: BankFile): BankQuestion[] {
  return bank.questions;
}

function choiceProblems(q: BankQuestion, at: (path: FieldPath, message: string) => ContentProblem, path: FieldPath): ContentProblem[] {
  if (q.type === 'scenario' || q.type === 'numeric') return [];
  const correct = q.options.filter((o) => o.correct).length;
  if (q.type === 'single' && correct !== 1) return [at([...path, 'options'], `a single-choice question needs exactly one correct option (has ${correct})`)];
  if (q.type === 'multiple' && correct < 1) return [at([...path, 'options'], 'a multiple-select question needs at least one correct option')];
  if (q.type === 'truefalse' && (q.options.length !== 2 || correct !== 1)) {
    return [at([...path, 'options'], 'a true/false question needs exactly two options, one of them correct')];
  }
  return [];
}

/**
 * Parses and checks one curriculum folder: every file against its schema, then every reference
 * across files. Reports every problem at once; returns content only when there are none.
 */
export function validateCurriculum(folderName: string, files: SourceFile[], packageSources: PackageSource[] = []): ValidationResult {
  const problems: ContentProblem[] = [];
  const packages = new Map<string, CheckedPackage>();
  for (const source of packageSources) {
    const { checked, problems: p } = checkPackage(source);
    problems.push(...p);
    if (checked) packages.set(checked.name, checked);
  }
  const find = (re: RegExp) => files.filter((f) => re.test(f.path.replace(/\\/g, '/'))).sort((a, b) => a.path.localeCompare(b.path));

  // ---- curriculum.yaml ----
  const curriculumSrc = find(/(^|\/)curriculum\.ya?ml$/)[0];
  if (!curriculumSrc) {
    return { problems: [{ file: `${folderName}/curriculum.yaml`, line: 1, field: '', message: 'is missing: every curriculum folder needs one' }] };
  }
  const cSrc = new YamlSource(curriculumSrc.path, curriculumSrc.text);
  const { value: cur, problems: cProblems } = cSrc.parse(curriculumFile);
  problems.push(...cProblems);
  if (cur && cur.id !== folderName) problems.push(cSrc.problem(['id'], `must equal the folder name '${folderName}'`));
  const phaseIds = new Set<string>();
  cur?.phases.forEach((p, i) => {
    if (phaseIds.has(p.id)) problems.push(cSrc.problem(['phases', i, 'id'], `duplicate phase id '${p.id}'`));
    phaseIds.add(p.id);
  });

  // ---- banks and forms ----
  const banks = new Map<string, { src: YamlSource; bank: BankFile }>();
  for (const f of find(/(^|\/)banks\/[^/]+\.ya?ml$/)) {
    const src = new YamlSource(f.path, f.text);
    const { value, problems: p } = src.parse(bankFile);
    problems.push(...p);
    if (!value) continue;
    if (banks.has(value.id)) problems.push(src.problem(['id'], `duplicate bank id '${value.id}' (also in ${banks.get(value.id)!.src.file})`));
    banks.set(value.id, { src, bank: value });
  }
  const forms = new Map<string, { src: YamlSource; form: FormFile }>();
  for (const f of find(/(^|\/)forms\/[^/]+\.ya?ml$/)) {
    const src = new YamlSource(f.path, f.text);
    const { value, problems: p } = src.parse(formFile);
    problems.push(...p);
    if (!value) continue;
    if (forms.has(value.id)) problems.push(src.problem(['id'], `duplicate form id '${value.id}' (also in ${forms.get(value.id)!.src.file})`));
    forms.set(value.id, { src, form: value });
  }

  // ---- modules ----
  const modules: ModuleSource[] = [];
  const byId = new Map<string, ModuleSource>();
  const moduleFiles = find(/(^|\/)modules\/[^/]+\.md$/);
  if (!moduleFiles.length) problems.push({ file: curriculumSrc.path, line: 1, field: '', message: 'the curriculum has no modules (modules/*.md)' });
  for (const f of moduleFiles) {
    const split = splitFrontMatter(f.text);
    if (!split) {
      problems.push({ file: f.path, line: 1, field: '', message: 'needs front matter between --- lines at the top' });
      continue;
    }
    const src = new YamlSource(f.path, split.frontMatter, 1);
    const { value, problems: p } = src.parse(moduleFrontMatter);
    problems.push(...p);
    if (!value) continue;
    if (byId.has(value.id)) {
      problems.push(src.problem(['id'], `duplicate module id '${value.id}' (also in ${byId.get(value.id)!.src.file})`));
      continue;
    }
    const m = { src, fm: value, body: split.body.trim() };
    modules.push(m);
    byId.set(value.id, m);
  }

  // ---- references ----
  const ref = (m: ModuleSource, path: FieldPath, target: string, what = 'module') => {
    if (!byId.has(target)) problems.push(m.src.problem(path, `unknown ${what} '${target}'`));
  };
  for (const m of modules) {
    const { fm, src } = m;
    if (cur && !phaseIds.has(fm.phase)) problems.push(src.problem(['phase'], `unknown phase '${fm.phase}' (phases: ${[...phaseIds].join(', ')})`));
    fm.prerequisites.all.forEach((p, i) => ref(m, ['prerequisites', 'all', i], p));
    fm.prerequisites.any.forEach((p, i) => ref(m, ['prerequisites', 'any', i], p));
    fm.reviews.forEach((p, i) => ref(m, ['reviews', i], p));
    fm.delay?.after.forEach((p, i) => ref(m, ['delay', 'after', i], p));
    for (const [key, list] of [['prerequisites', [...fm.prerequisites.all, ...fm.prerequisites.any]], ['reviews', fm.reviews]] as const) {
      if (list.includes(fm.id)) problems.push(src.problem([key], 'a module cannot refer to itself'));
    }
    fm.mastery.forEach((g, i) => {
      const target = byId.get(g.assessment);
      if (!target) problems.push(src.problem(['mastery', i, 'assessment'], `unknown module '${g.assessment}'`));
      else if (target.fm.modality !== 'assessment') problems.push(src.problem(['mastery', i, 'assessment'], `'${g.assessment}' is a ${target.fm.modality} module, not an assessment`));
    });
    if (fm.dueDay !== null && fm.dueDay < fm.startDay) problems.push(src.problem(['dueDay'], `is before startDay (${fm.startDay})`));

    const completion = fm.completion ?? defaultCompletion(fm);
    if (!RULES_FOR[completion.rule].includes(fm.modality)) {
      problems.push(src.problem(['completion', 'rule'], `'${completion.rule}' does not apply to a ${fm.modality} module (use ${DEFAULT_COMPLETION[fm.modality].rule})`));
    }
    if (completion.rule === 'attended' && completion.rubricPass !== undefined && !fm.rubric) {
      problems.push(src.problem(['completion', 'rubricPass'], 'needs a rubric to score against'));
    }
    if (fm.rubric && fm.modality !== 'ilt' && fm.modality !== 'vilt') problems.push(src.problem(['rubric'], 'only live sessions (vilt, ilt) are scored on a rubric'));

    if (fm.modality === 'assessment' && !fm.assessment) problems.push(src.problem(['assessment'], 'an assessment module needs an assessment definition'));
    if (fm.modality !== 'assessment' && fm.assessment) problems.push(src.problem(['assessment'], `only assessment modules have one (this is ${fm.modality})`));
    if (fm.assessment) {
      fm.assessment.pools.forEach((pool, i) => {
        const bank = banks.get(pool.bank);
        if (!bank) {
          problems.push(src.problem(['assessment', 'pools', i, 'bank'], `unknown bank '${pool.bank}'${banks.size ? ` (banks: ${[...banks.keys()].join(', ')})` : ''}`));
          return;
        }
        const matching = questionsOf(bank.bank).filter((q) => !pool.tags?.length || q.tags.some((t) => pool.tags!.includes(t))).length;
        if (matching === 0) problems.push(src.problem(['assessment', 'pools', i], `no question in bank '${pool.bank}' matches tags ${JSON.stringify(pool.tags)}`));
        else if (pool.draw !== undefined && pool.draw > matching) {
          problems.push(src.problem(['assessment', 'pools', i, 'draw'], `draws ${pool.draw} but only ${matching} question(s) match in bank '${pool.bank}'`));
        }
      });
      if (fm.assessment.testOut && fm.assessment.purpose !== 'pretest') problems.push(src.problem(['assessment', 'testOut'], 'only a pretest lets reps test out'));
      fm.assessment.testOut?.forEach((t, i) => {
        if (t.pool >= fm.assessment!.pools.length) problems.push(src.problem(['assessment', 'testOut', i, 'pool'], `there is no pool ${t.pool} (pools are numbered from 0)`));
        t.modules.forEach((id, j) => ref(m, ['assessment', 'testOut', i, 'modules', j], id));
      });
    }
    if (fm.cmi5) {
      const pkg = packages.get(fm.cmi5.package);
      const names = [...packages.keys()];
      if (fm.modality !== 'elearning') problems.push(src.problem(['cmi5'], `only elearning modules launch a cmi5 AU (this is ${fm.modality})`));
      if (!pkg) {
        if (!packageSources.some((p) => p.name === fm.cmi5!.package)) problems.push(src.problem(['cmi5', 'package'], `unknown cmi5 package '${fm.cmi5.package}': put it in cmi5/${fm.cmi5.package}.zip or cmi5/${fm.cmi5.package}/${names.length ? ` (packages: ${names.join(', ')})` : ''}`));
      } else if (fm.cmi5.au && !pkg.course.aus.some((a) => a.id === fm.cmi5!.au)) {
        problems.push(src.problem(['cmi5', 'au'], `package '${pkg.name}' has no AU '${fm.cmi5.au}' (AUs: ${pkg.course.aus.map((a) => a.id).join(', ')})`));
      } else if (!fm.cmi5.au && pkg.course.aus.length > 1) {
        problems.push(src.problem(['cmi5', 'au'], `package '${pkg.name}' has ${pkg.course.aus.length} AUs: name the one this module launches (${pkg.course.aus.map((a) => a.id).join(', ')})`));
      }
    }
    if (completion.rule === 'cmi5' && !fm.cmi5) problems.push(src.problem(['completion', 'rule'], "'cmi5' completes a module that launches a cmi5 AU: add cmi5: { package: … }"));
    if (fm.modality === 'transfer' && !fm.form) problems.push(src.problem(['form'], 'a transfer module needs a form'));
    if (fm.modality !== 'transfer' && fm.form) problems.push(src.problem(['form'], `only transfer modules have a form (this is ${fm.modality})`));
    if (fm.form && !forms.has(fm.form)) problems.push(src.problem(['form'], `unknown form '${fm.form}'${forms.size ? ` (forms: ${[...forms.keys()].join(', ')})` : ''}`));
  }

  // ---- questions: ids and answer keys ----
  for (const { src, bank } of banks.values()) {
    const seen = new Set<string>();
    bank.questions.forEach((q, i) => {
      const check = (question: BankQuestion, path: FieldPath) => {
        if (seen.has(question.id)) problems.push(src.problem([...path, 'id'], `duplicate question id '${question.id}'`));
        seen.add(question.id);
        if (question.module && modules.length && !byId.has(question.module)) problems.push(src.problem([...path, 'module'], `unknown module '${question.module}'`));
        if (question.reinforcement && !question.module) problems.push(src.problem([...path, 'reinforcement'], 'a reinforcement question names its module (module: <id>): it is used after the rep completes that module'));
        problems.push(...choiceProblems(question, (p, msg) => src.problem(p, msg), path));
      };
      check(q, ['questions', i]);
      if (q.type === 'scenario') q.questions.forEach((sub, j) => check(sub as BankQuestion, ['questions', i, 'questions', j]));
    });
  }

  problems.push(...graphProblems(modules, byId));

  // ---- readiness: what each objective's evidence points at ----
  cur?.readiness?.objectives.forEach((o, i) => {
    const at = (...path: (string | number)[]) => ['readiness', 'objectives', i, ...path];
    const assessment = (key: 'pretest' | 'posttest' | 'retest') => {
      const moduleId = o[key];
      if (!moduleId || !modules.length) return;
      const m = byId.get(moduleId);
      if (!m) problems.push(cSrc.problem(at(key), `unknown module '${moduleId}'`));
      else if (m.fm.modality !== 'assessment') problems.push(cSrc.problem(at(key), `'${moduleId}' is not an assessment (it is ${m.fm.modality})`));
    };
    assessment('pretest');
    assessment('posttest');
    assessment('retest');
    o.retention.forEach((moduleId, j) => {
      if (modules.length && !byId.has(moduleId)) problems.push(cSrc.problem(at('retention', j), `unknown module '${moduleId}'`));
    });
    if (o.results && modules.length) {
      const m = byId.get(o.results.module);
      const form = m?.fm.form ? forms.get(m.fm.form)?.form : undefined;
      if (!m) problems.push(cSrc.problem(at('results', 'module'), `unknown module '${o.results.module}'`));
      else if (!form) problems.push(cSrc.problem(at('results', 'module'), `'${o.results.module}' is not a transfer module with a form`));
      else {
        const field = form.activityLog.fields.find((f) => f.id === o.results!.field);
        if (!field) problems.push(cSrc.problem(at('results', 'field'), `the form '${form.id}' logs no '${o.results.field}' (fields: ${form.activityLog.fields.map((f) => f.id).join(', ')})`));
        else if (!(typeof (field as { target?: number }).target === 'number' && (field as { target?: number }).target! > 0)) problems.push(cSrc.problem(at('results', 'field'), `'${o.results.field}' has no target to measure results against`));
      }
    }
    const has = { pretest: !!o.pretest, posttest: !!o.posttest, retest: !!o.retest, retention: o.retention.length > 0, results: !!o.results };
    for (const [k, w] of Object.entries(o.weights)) {
      if (w && !has[k as keyof typeof has]) problems.push(cSrc.problem(at('weights', k), `weighs ${k}, but the objective names no ${k}`));
    }
    if (!Object.values(o.weights).some((w) => (w ?? 0) > 0)) problems.push(cSrc.problem(at('weights'), 'at least one weight must be more than 0'));
  });

  if (problems.length || !cur) return { problems: sortProblems(problems) };

  const definition: CurriculumDef = {
    id: cur.id,
    title: cur.title,
    description: cur.description,
    masteryThreshold: cur.masteryThreshold,
    ...(cur.reinforcement ? { reinforcement: cur.reinforcement } : {}),
    ...(cur.readiness ? { readiness: cur.readiness } : {}),
    phases: cur.phases.map((p) => ({ id: p.id, title: p.title, description: p.description, targetDay: p.targetDay })),
    modules: modules.map(({ fm, body }): ModuleDef => ({
      id: fm.id,
      title: fm.title,
      phase: fm.phase,
      modality: fm.modality,
      minutes: fm.minutes,
      objectives: fm.objectives,
      prerequisites: fm.prerequisites,
      reviews: fm.reviews,
      startDay: fm.startDay,
      dueDay: fm.dueDay,
      completion: fm.completion ?? defaultCompletion(fm),
      mastery: fm.mastery,
      delay: fm.delay,
      assessment: fm.assessment ? { ...fm.assessment, threshold: fm.assessment.threshold ?? cur.masteryThreshold } : null,
      form: fm.form,
      rubric: fm.rubric,
      ...(fm.cmi5 ? { cmi5: { package: fm.cmi5.package, au: fm.cmi5.au ?? packages.get(fm.cmi5.package)!.course.aus[0]!.id } } : {}),
      body,
    })),
  };
  return {
    content: {
      definition,
      banks: Object.fromEntries([...banks].map(([k, v]) => [k, v.bank])),
      forms: Object.fromEntries([...forms].map(([k, v]) => [k, v.form])),
      ...(packages.size ? { cmi5: Object.fromEntries(packages) } : {}),
    },
    problems: [],
    packages: packageSources,
  };
}

/** The modules a module waits for: prerequisites, mastery assessments, delays. */
function dependenciesOf(fm: ModuleFrontMatter): string[] {
  return [...fm.prerequisites.all, ...fm.prerequisites.any, ...fm.mastery.map((g) => g.assessment), ...(fm.delay?.after ?? [])];
}

/** Prerequisite cycles, and modules that can never unlock because of what they wait for. */
function graphProblems(modules: ModuleSource[], byId: Map<string, ModuleSource>): ContentProblem[] {
  const problems: ContentProblem[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const inCycle = new Set<string>();
  const stack: string[] = [];
  const visit = (id: string) => {
    if (state.get(id) === 'done' || !byId.has(id)) return;
    if (state.get(id) === 'visiting') {
      const cycle = [...stack.slice(stack.indexOf(id)), id];
      if (!cycle.some((c) => inCycle.has(c))) {
        const first = byId.get(cycle[0]!)!;
        problems.push(first.src.problem(['prerequisites'], `prerequisites form a cycle: ${cycle.join(' → ')}`));
      }
      cycle.forEach((c) => inCycle.add(c));
      return;
    }
    state.set(id, 'visiting');
    stack.push(id);
    for (const dep of dependenciesOf(byId.get(id)!.fm)) visit(dep);
    stack.pop();
    state.set(id, 'done');
  };
  modules.forEach((m) => visit(m.fm.id));

  // A module can unlock when all of what it waits for can, and at least one of its any-of.
  const reachable = new Set<string>();
  let changed = true;
  while (changed) {
    changed = false;
    for (const { fm } of modules) {
      if (reachable.has(fm.id) || inCycle.has(fm.id)) continue;
      const must = [...fm.prerequisites.all, ...fm.mastery.map((g) => g.assessment), ...(fm.delay?.after ?? [])];
      const anyOk = fm.prerequisites.any.length === 0 || fm.prerequisites.any.some((d) => reachable.has(d));
      if (must.every((d) => reachable.has(d) || !byId.has(d)) && anyOk) {
        reachable.add(fm.id);
        changed = true;
      }
    }
  }
  for (const { fm, src } of modules) {
    if (reachable.has(fm.id) || inCycle.has(fm.id)) continue;
    const blockers = [...new Set(dependenciesOf(fm).filter((d) => byId.has(d) && !reachable.has(d)))];
    problems.push(src.problem(['prerequisites'], `can never unlock: it waits for ${blockers.map((b) => `'${b}'`).join(', ')}, which can never unlock`));
  }
  return problems;
}

function sortProblems(problems: ContentProblem[]): ContentProblem[] {
  return [...problems].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}
