import { z } from 'zod';
import { ASSESSMENT_DEFAULTS as D, ASSESSMENT_PURPOSES, MODALITIES, REVEAL_POLICIES, SCORE_POLICIES } from '../engine/curriculum.js';

/**
 * The shape of each content file (docs/content-format.md is the prose version). Cross-file rules
 * (references, cycles, reachability) live in validate.ts.
 */
const id = z
  .string({ error: 'must be an id' })
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lowercase letters, digits and hyphens')
  .max(64, 'must be at most 64 characters');
const text = z.string({ error: 'must be text' }).trim().min(1, 'must not be empty');
const percent = z.number({ error: 'must be a number' }).min(1, 'must be between 1 and 100').max(100, 'must be between 1 and 100');
const day = z.number({ error: 'must be a whole number of days' }).int('must be a whole number of days').min(0, 'must be 0 or more');
const ids = z.array(id, { error: 'must be a list of ids' });
const weight = z.number({ error: 'must be a number' }).min(0, 'must be 0 or more').max(100, 'must be at most 100');

export const curriculumFile = z
  .object({
    id,
    title: text,
    description: text,
    masteryThreshold: percent.default(80),
    /** spaced reinforcement after modules: FSRS desired retention and questions per delivery */
    reinforcement: z
      .object({
        retention: z.number({ error: 'must be a number' }).min(0.7, 'must be at least 0.7').max(0.97, 'must be at most 0.97').default(0.9),
        perDelivery: z.number().int().min(1, 'must be at least 1').max(10, 'must be at most 10').default(3),
      })
      .strict()
      .optional(),
    phases: z
      .array(
        z
          .object({
            id,
            title: text,
            description: z.string().default(''),
            targetDay: day.nullable().default(null),
          })
          .strict(),
        { error: 'must be a list of phases' },
      )
      .min(1, 'needs at least one phase'),
    /** the readiness score: per objective, which evidence counts and how much */
    readiness: z
      .object({
        objectives: z
          .array(
            z
              .object({
                id,
                title: text,
                pretest: id.optional(),
                posttest: id.optional(),
                retest: id.optional(),
                /** modules whose reinforcement answers count as retention */
                retention: ids.default([]),
                /** an activity-log field of a transfer module, against its target */
                results: z.object({ module: id, field: id }).strict().optional(),
                weights: z
                  .object({ pretest: weight, posttest: weight, retest: weight, retention: weight, results: weight })
                  .partial()
                  .strict(),
              })
              .strict(),
          )
          .min(1, 'needs at least one objective'),
      })
      .strict()
      .optional(),
  })
  .strict();
export type CurriculumFile = z.infer<typeof curriculumFile>;

const completion = z.discriminatedUnion(
  'rule',
  [
    z.object({ rule: z.literal('viewed') }).strict(),
    z.object({ rule: z.literal('acknowledged'), minMinutes: z.number().int().min(0).optional() }).strict(),
    z.object({ rule: z.literal('passed') }).strict(),
    z.object({ rule: z.literal('submitted') }).strict(),
    z.object({ rule: z.literal('attended'), rubricPass: percent.optional() }).strict(),
    z.object({ rule: z.literal('approved') }).strict(),
    z.object({ rule: z.literal('cmi5') }).strict(),
  ],
  { error: 'rule must be one of viewed, acknowledged, passed, submitted, attended, approved, cmi5' },
);

export const moduleFrontMatter = z
  .object({
    id,
    title: text,
    phase: id,
    modality: z.enum(MODALITIES, { error: `must be one of ${MODALITIES.join(', ')}` }),
    minutes: z.number({ error: 'must be a number of minutes' }).int().min(1, 'must be at least 1').max(24 * 60),
    objectives: z.array(text).default([]),
    prerequisites: z
      .union([ids.transform((all) => ({ all, any: [] as string[] })), z.object({ all: ids.default([]), any: ids.default([]) }).strict()])
      .default({ all: [], any: [] }),
    reviews: ids.default([]),
    startDay: day.default(0),
    dueDay: day.nullable().default(null),
    completion: completion.optional(),
    cmi5: z
      .object({ package: id, au: z.string().trim().min(1).optional() })
      .strict()
      .nullable()
      .default(null),
    mastery: z.array(z.object({ assessment: id, threshold: percent.optional() }).strict()).default([]),
    delay: z
      .object({ after: ids.min(1, 'needs at least one module'), days: day })
      .strict()
      .nullable()
      .default(null),
    assessment: z
      .object({
        purpose: z.enum(ASSESSMENT_PURPOSES, { error: `must be one of ${ASSESSMENT_PURPOSES.join(', ')}` }),
        threshold: percent.optional(),
        pools: z
          .array(
            z
              .object({
                bank: id,
                draw: z.number().int().min(1, 'must be at least 1').optional(),
                tags: z.array(text).optional(),
              })
              .strict(),
          )
          .min(1, 'needs at least one pool'),
        testOut: z.array(z.object({ pool: z.number().int().min(0), modules: ids.min(1) }).strict()).optional(),
        shuffleQuestions: z.boolean().default(D.shuffleQuestions),
        shuffleOptions: z.boolean().default(D.shuffleOptions),
        timeLimitMinutes: z.number().int().min(1, 'must be at least 1').max(600).nullable().default(D.timeLimitMinutes),
        maxAttempts: z.number().int().min(1, 'must be at least 1').nullable().default(D.maxAttempts),
        cooldownHours: z.number().min(0, 'must be 0 or more').max(24 * 30).default(D.cooldownHours),
        scorePolicy: z.enum(SCORE_POLICIES, { error: `must be one of ${SCORE_POLICIES.join(', ')}` }).default(D.scorePolicy),
        partialCredit: z.boolean().default(D.partialCredit),
        revealAnswers: z.enum(REVEAL_POLICIES, { error: `must be one of ${REVEAL_POLICIES.join(', ')}` }).default(D.revealAnswers),
      })
      .strict()
      .nullable()
      .default(null),
    form: id.nullable().default(null),
    rubric: z
      .object({
        criteria: z
          .array(z.object({ id, title: text, description: z.string().optional(), max: z.number().int().min(1, 'must be at least 1') }).strict())
          .min(1, 'needs at least one criterion'),
      })
      .strict()
      .nullable()
      .default(null),
  })
  .strict();
export type ModuleFrontMatter = z.infer<typeof moduleFrontMatter>;

const option = z.object({ text, correct: z.boolean().default(false), feedback: z.string().optional() }).strict();

const baseQuestion = {
  id,
  tags: z.array(text).default([]),
  module: id.optional(),
  reinforcement: z.boolean().default(false),
  prompt: text,
  feedback: z.string().optional(),
};

const choiceQuestion = z
  .object({ ...baseQuestion, type: z.enum(['single', 'multiple', 'truefalse']), options: z.array(option).min(2, 'needs at least two options') })
  .strict();
const numericQuestion = z
  .object({ ...baseQuestion, type: z.literal('numeric'), answer: z.number(), tolerance: z.number().min(0).default(0), unit: z.string().optional() })
  .strict();
export const simpleQuestion = z.discriminatedUnion('type', [choiceQuestion, numericQuestion], {
  error: 'type must be one of single, multiple, truefalse, numeric, scenario',
});
const scenarioQuestion = z
  .object({
    id,
    type: z.literal('scenario'),
    tags: z.array(text).default([]),
    module: id.optional(),
    reinforcement: z.boolean().default(false),
    prompt: z.string().optional(),
    case: text,
    questions: z.array(simpleQuestion).min(1, 'needs at least one question'),
  })
  .strict();

export const bankFile = z
  .object({
    id,
    title: text,
    questions: z.array(z.union([scenarioQuestion, simpleQuestion])).min(1, 'needs at least one question'),
  })
  .strict();
export type BankFile = z.infer<typeof bankFile>;
export type BankQuestion = BankFile['questions'][number];

/** form fields name the answers in code and exports, so camelCase reads naturally there */
const fieldId = z.string({ error: 'must be an id' }).regex(/^[a-zA-Z][a-zA-Z0-9_-]*$/, 'must start with a letter; letters, digits, _ and - only').max(64);
const formField = z
  .object({
    id: fieldId,
    label: text,
    type: z.enum(['shortText', 'longText', 'list', 'choice', 'number', 'boolean'], {
      error: 'must be one of shortText, longText, list, choice, number, boolean',
    }),
    required: z.boolean().default(false),
    help: z.string().optional(),
    options: z.array(text).optional(),
    minItems: z.number().int().min(0).optional(),
    target: z.number().min(0).optional(),
  })
  .strict();

export const formFile = z
  .object({
    id,
    title: text,
    description: z.string().default(''),
    steps: z
      .array(
        z
          .object({ id, title: text, help: z.string().default(''), examples: z.array(text).default([]), fields: z.array(formField).min(1, 'needs at least one field') })
          .strict(),
      )
      .min(1, 'needs at least one step'),
    review: z
      .object({
        checklist: z.array(text).default([]),
        workbookPrompts: z.array(text).default([]),
        /** the manager reviews within this many business days of a submission */
        dueBusinessDays: z.number().int().min(1, 'must be at least 1').max(30).default(3),
      })
      .strict()
      .default({ checklist: [], workbookPrompts: [], dueBusinessDays: 3 }),
    activityLog: z
      .object({
        fields: z.array(formField).default([]),
        /** the results cover this many days of calling after the approval */
        periodDays: z.number().int().min(1, 'must be at least 1').max(180).default(14),
      })
      .strict()
      .default({ fields: [], periodDays: 14 }),
  })
  .strict();
export type FormFile = z.infer<typeof formFile>;
