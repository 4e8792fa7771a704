import { describe, expect, it } from 'vitest';
import type { Statement } from '@xapi/xapi';
import {
  absent,
  agentOf,
  answered,
  approved,
  attempted,
  attended,
  booked,
  bookingCancelled,
  cmi5Abandoned,
  cmi5Launched,
  cmi5Satisfied,
  completed,
  failed,
  initialized,
  launched,
  loggedActivity,
  moduleIri,
  passed,
  registered,
  reinforcementAnswered,
  returned,
  rubricScored,
  scored,
  submitted,
  testedOut,
  voided,
  type CatalogueConfig,
  type CatalogueEnv,
  type ModuleRef,
} from '../../src/xapi/catalogue.js';
import { agentKey } from '../../src/xapi/validate.js';
import { CSV_HEADER, csvCells, durationWords, groupByDay, presentStatement, zonedTime, type PresentOptions, type TimelineRow } from '../../src/features/timeline/present.js';

// ---- real catalogue statements, as Onramp records them -----------------------------------------------

const config: CatalogueConfig = { baseIri: 'https://onramp.example.com/xapi/activities', platform: 'Onramp' };
function env(): CatalogueEnv {
  let n = 0;
  return { config, newId: () => `00000000-0000-4000-8000-${(++n).toString(16).padStart(12, '0')}` };
}

const rep = { id: '65f1c2a9e4b0a1b2c3d4e501', name: 'Sam Lee', email: 'sam.lee@example.com' };
const trainer = { id: '65f1c2a9e4b0a1b2c3d4e502', name: 'Taylor Brooks' };
const manager = { id: '65f1c2a9e4b0a1b2c3d4e503', name: 'Morgan Diaz' };
const curriculum = { id: 'new-rep-onboarding', title: 'Crewline onboarding', version: 'new-rep-onboarding@4be3a1c2d9f0' };
const lesson: ModuleRef = { id: 'market-and-personas', title: 'Our market and buyer personas', modality: 'elearning' };
const check: ModuleRef = { id: 'foundations-check', title: 'Foundations check', modality: 'assessment' };
const pretest: ModuleRef = { id: 'foundations-pretest', title: 'Foundations pre-test', modality: 'assessment' };
const vilt: ModuleRef = { id: 'roleplay-prep', title: 'Role-play prep', modality: 'vilt' };
const transfer: ModuleRef = { id: 'appointment-script', title: 'Build your appointment-setting script', modality: 'transfer' };
const drill: ModuleRef = { id: 'value-statement-drill', title: 'Value statement drill', modality: 'elearning', cmi5Au: 'https://crewline.example/au' };
const form = { id: 'appointment-script', title: 'Your call script' };
const session = { id: '65f1c2a9e4b0a1b2c3d4e600', title: 'Role-play prep (virtual)', modality: 'vilt' as const };
const AT = '2025-03-04T14:02:11.000Z';
const base = { at: AT, enrollmentId: '65f1c2a9e4b0a1b2c3d4e5f6', curriculum, rep };
const attempt = { attempt: { id: '65f1c2a9e4b0a1b2c3d4e700', number: 2 }, purpose: 'check' as const };
const judged = { ...base, module: check, ...attempt, score: { earned: 8, possible: 10 }, durationMs: 14 * 60_000, threshold: 80 };

/** As the timeline sees a statement: the subject is the rep, times in UTC unless a test says otherwise. */
const subject = [agentKey(agentOf(config, rep))!];
const row = (s: Statement, options: PresentOptions = {}): TimelineRow => presentStatement(JSON.parse(JSON.stringify(s)), { subject, ...options });

describe('the timeline presenter, over the statement catalogue', () => {
  it('an enrollment: "enrolled in" the curriculum, with cohort and start date', () => {
    const r = row(registered(env(), { ...base, cohort: '2025-03 West', startDate: '2025-03-03' }));
    expect(r).toMatchObject({ category: 'enrollment', categoryLabel: 'Enrollment', verb: 'enrolled in', object: 'Crewline onboarding', actor: null, result: null, curriculum: null });
    expect(r.context).toEqual(['Cohort 2025-03 West', 'Starts 2025-03-03']);
    expect(r.summary).toBe('Enrolled in Crewline onboarding');
  });

  it('module events: opened, started, completed (with the time spent), under their curriculum', () => {
    expect(row(launched(env(), { ...base, module: lesson }))).toMatchObject({ category: 'module', verb: 'opened', object: 'Our market and buyer personas', curriculum: 'Crewline onboarding', objectKind: 'module' });
    expect(row(initialized(env(), { ...base, module: lesson }))).toMatchObject({ category: 'module', verb: 'started' });
    const done = row(completed(env(), { ...base, module: lesson, durationMs: 25 * 60_000 + 29_000 }));
    expect(done).toMatchObject({ category: 'module', verb: 'completed', result: 'Took 25 min', outcome: null });
    expect(done.summary).toBe('Completed Our market and buyer personas');
  });

  it('an assessment: attempt started, scored, passed and failed, with score, attempt and pass mark', () => {
    const started = row(attempted(env(), { ...base, module: check, ...attempt }));
    expect(started).toMatchObject({ category: 'assessment', verb: 'started an attempt at', object: 'Foundations check', objectKind: 'assessment', result: null });
    expect(started.context).toEqual(['Attempt 2 (check)']);
    expect(row(scored(env(), judged))).toMatchObject({ category: 'assessment', verb: 'was scored on', result: '80% (8 of 10) · took 14 min' });
    const pass = row(passed(env(), judged));
    expect(pass).toMatchObject({ verb: 'passed', result: '80% (8 of 10) · took 14 min', outcome: 'success' });
    expect(pass.context).toEqual(['Attempt 2 (check)', 'Pass mark 80%']);
    // a score just under the pass mark never reads as the pass mark
    expect(row(failed(env(), { ...judged, score: { earned: 7.999, possible: 10 } }))).toMatchObject({ verb: 'failed', outcome: 'failure', result: '79% (7.999 of 10) · took 14 min' });
  });

  it('an answered question: the prompt, right or wrong, and the answer in the words of its options', () => {
    const r = row(
      answered(env(), {
        ...base,
        module: check,
        ...attempt,
        question: { bank: 'foundations', id: 'personas-2', prompt: 'Which metrics matter most to Marco?' },
        answer: { interactionType: 'choice', chosen: [2, 0], options: ['On-time arrival', 'Jobs per day', 'Overtime hours'] },
        credit: 0,
        correct: false,
      }),
    );
    expect(r).toMatchObject({ category: 'assessment', verb: 'answered', object: 'Which metrics matter most to Marco?', objectKind: 'question', result: 'Incorrect', outcome: 'failure', response: 'Answer: On-time arrival; Overtime hours' });
    expect(r.context).toEqual(['In Foundations check', 'Attempt 2 (check)']);
    const tf = row(answered(env(), { ...base, module: check, ...attempt, question: { bank: 'b', id: 'q', prompt: 'True?' }, answer: { interactionType: 'true-false', value: true }, credit: 1, correct: true }));
    expect(tf).toMatchObject({ result: 'Correct', outcome: 'success', response: 'Answer: True' });
    const half = row(answered(env(), { ...base, module: check, ...attempt, question: { bank: 'b', id: 'm' }, answer: { interactionType: 'numeric', value: 42 }, credit: 0.5, correct: false }));
    expect(half).toMatchObject({ result: 'Partly correct (50%)', response: 'Answer: 42', object: 'b.m' });
  });

  it('a pre-test with test-outs: the pre-test lists the modules, each module is "tested out of"', () => {
    const [pre, waiver] = testedOut(env(), { ...judged, module: pretest, success: true, testedOut: [lesson] }).map((s) => row(s));
    expect(pre!.context).toContain('Tested out of market-and-personas');
    // with the names the service knows, the list reads in titles
    const named = row(testedOut(env(), { ...judged, module: pretest, success: true, testedOut: [lesson] })[0]!, { activity: (iri) => (iri === moduleIri(config, curriculum.id, lesson.id) ? { name: lesson.title } : undefined) });
    expect(named.context).toContain('Tested out of Our market and buyer personas');
    expect(waiver).toMatchObject({ category: 'module', verb: 'tested out of', object: 'Our market and buyer personas', outcome: 'success', result: null });
  });

  it('live sessions: booked, waitlisted, cancelled, attended, partly attended, missed, rubric score', () => {
    const s = { ...base, module: vilt, session };
    expect(row(booked(env(), { ...s, seat: 'booked' }))).toMatchObject({ category: 'live-session', categoryLabel: 'Live session', verb: 'registered for', object: 'Role-play prep (virtual)', objectKind: 'live session' });
    expect(row(booked(env(), { ...s, seat: 'waitlisted' }))).toMatchObject({ verb: 'joined the waitlist for' });
    const cancelled = row(bookingCancelled(env(), { ...s, reason: 'session-cancelled' }));
    expect(cancelled).toMatchObject({ category: 'live-session', verb: 'gave up a seat in' });
    expect(cancelled.context).toContain('The session was cancelled');
    const there = row(attended(env(), { ...s, instructor: trainer, durationMs: 90 * 60_000 }));
    expect(there).toMatchObject({ verb: 'attended', result: null });
    expect(there.context).toEqual(['In Role-play prep', 'Instructor: Taylor Brooks']);
    expect(row(attended(env(), { ...s, instructor: trainer, status: 'partial' }))).toMatchObject({ verb: 'partly attended' });
    expect(row(absent(env(), { ...s, instructor: trainer }))).toMatchObject({ verb: 'missed', category: 'live-session' });
    const rubric = row(rubricScored(env(), { ...s, instructor: trainer, criteria: { opening: 4, ask: 8 }, points: 12, maxPoints: 15, passed: true, feedback: 'Strong ask.' }));
    expect(rubric).toMatchObject({ category: 'live-session', verb: 'was scored on', result: '12 of 15 points · pass', outcome: 'success' });
    expect(rubric.context).toContain('Feedback: Strong ask.');
  });

  it('transfer: submitted to the manager, returned and approved by them, results logged', () => {
    const t = { ...base, module: transfer, form, submissionId: '65f1c2a9e4b0a1b2c3d4e800' };
    const sub = row(submitted(env(), { ...t, manager }));
    expect(sub).toMatchObject({ category: 'transfer', verb: 'submitted', object: 'Your call script', objectKind: 'form', actor: null });
    expect(sub.context).toEqual(['In Build your appointment-setting script', 'Manager: Morgan Diaz']);
    const back = row(returned(env(), { ...t, manager, submittedStatementId: '00000000-0000-4000-8000-000000000001', comment: 'Shorter opening, please.' }));
    expect(back).toMatchObject({ category: 'transfer', actor: 'Morgan Diaz', verb: 'asked for changes to', response: '“Shorter opening, please.”' });
    expect(back.summary).toBe('Morgan Diaz asked for changes to Your call script');
    expect(row(approved(env(), { ...t, manager, submittedStatementId: '00000000-0000-4000-8000-000000000001', adjusted: true }))).toMatchObject({ actor: 'Morgan Diaz', verb: 'adjusted and approved' });
    const logged = row(loggedActivity(env(), { ...base, module: transfer, metWithManager: true, calls: 40, contacts: 12, presentations: 3, appointments: 1, manager }));
    expect(logged).toMatchObject({
      category: 'transfer',
      verb: 'logged on-the-job results for',
      object: 'Build your appointment-setting script',
      objectKind: 'results',
      result: '40 calls · 12 contacts · 3 presentations · 1 appointment set · met with their manager',
    });
    expect(logged.context).toEqual(['Manager: Morgan Diaz']);
  });

  it('reinforcement: the question, right or wrong, and the channel it was answered from', () => {
    const r = row(
      reinforcementAnswered(env(), {
        ...base,
        module: lesson,
        question: { bank: 'foundations', id: 'personas-1', prompt: 'Who signs the contract?' },
        answer: { interactionType: 'choice', chosen: [1], options: ['Marco', 'Dana'] },
        credit: 1,
        correct: true,
        deliveryId: 'd1',
        channel: 'email',
      }),
    );
    expect(r).toMatchObject({ category: 'reinforcement', categoryLabel: 'Reinforcement', verb: 'answered', object: 'Who signs the contract?', result: 'Correct', response: 'Answer: Dana' });
    expect(r.context).toEqual(['In Our market and buyer personas', 'Answered from an email']);
  });

  it('cmi5: launched, abandoned and satisfied, with the session', () => {
    const c = { ...base, module: drill, au: drill.cmi5Au!, sessionId: '522e9afc-61b2-584a-bf78-8c4dc491aa5f' };
    const launch = row(cmi5Launched(env(), { ...c, launchMode: 'Normal', launchUrl: 'https://x/au', moveOn: 'Completed', masteryScore: 0.8, launchParameters: null }));
    expect(launch).toMatchObject({ category: 'cmi5', categoryLabel: 'cmi5 course', verb: 'launched', object: 'Value statement drill' });
    expect(launch.context).toContain('cmi5 session 522e9afc');
    expect(row(cmi5Abandoned(env(), { ...c, durationMs: 600_000 }))).toMatchObject({ category: 'cmi5', verb: 'abandoned a session of', result: 'Took 10 min' });
    expect(row(cmi5Satisfied(env(), { ...c, target: { id: 'https://onramp.example.com/xapi/activities/cmi5/course', publisherId: 'p', kind: 'course', title: 'Drill course' } }))).toMatchObject({
      category: 'cmi5',
      verb: 'met the requirements of',
      object: 'Drill course',
      objectKind: 'cmi5 course',
    });
  });

  it("a cmi5 AU's own statement without names takes the module's title from the lookup, and its page", () => {
    const iri = moduleIri(config, curriculum.id, drill.id);
    const au = { actor: agentOf(config, rep), verb: { id: 'http://adlnet.gov/expapi/verbs/terminated', display: { 'en-US': 'terminated' } }, object: { id: iri }, context: { extensions: { 'https://w3id.org/xapi/cmi5/context/extensions/sessionid': 'abc' } }, timestamp: AT };
    const r = presentStatement(au, { subject, activity: (x) => (x === iri ? { name: 'Value statement drill', href: '/learn/e/modules/value-statement-drill' } : undefined) });
    expect(r).toMatchObject({ category: 'cmi5', verb: 'closed', object: 'Value statement drill', objectHref: '/learn/e/modules/value-statement-drill' });
  });

  it('a voiding statement reads as a withdrawal by whoever made it', () => {
    expect(row(voided(env(), { at: AT, actor: trainer, statementId: '00000000-0000-4000-8000-000000000009' }))).toMatchObject({ actor: 'Taylor Brooks', verb: 'withdrew', object: 'an earlier statement', category: 'other' });
  });
});

describe('statements from other tools', () => {
  it('an unknown verb falls back to its display, then to its IRI', () => {
    const s = { actor: { mbox: 'mailto:sam.lee@example.com' }, verb: { id: 'https://example.com/verbs/rehearsed', display: { 'en-GB': 'rehearsed' } }, object: { id: 'https://example.com/pitch', definition: { name: { de: 'Pitch' } } }, context: { platform: 'PitchCoach' } };
    const r = presentStatement(s, { subject: [agentKey({ mbox: 'mailto:sam.lee@example.com' })!] });
    expect(r).toMatchObject({ verb: 'rehearsed', object: 'Pitch', category: 'other', actor: null });
    expect(r.context).toEqual(['From PitchCoach']);
    expect(presentStatement({ verb: { id: 'https://example.com/verbs/drilled' }, object: { id: 'https://example.com/x/y' } })).toMatchObject({ verb: 'drilled', object: 'y' });
  });

  it('never throws on missing or mistyped fields', () => {
    const junk: unknown[] = [undefined, null, 42, 'text', [], {}, { verb: 'x', object: 7, result: 'r', context: [] }, { verb: { id: 5 }, object: { objectType: 'Agent' }, result: { score: { scaled: 'high' }, success: 'yes', duration: 'soon' }, timestamp: 'yesterday' }];
    for (const s of junk) {
      const r = presentStatement(s, { subject });
      expect(r.verb).toBeTruthy();
      expect(r.object).toBeTruthy();
      expect(r.category).toBe('other');
    }
    expect(presentStatement({}).dayLabel).toBe('Date unknown');
  });

  it('names someone else as the actor when they are not the person of the timeline', () => {
    const s = { actor: { name: 'Coach Bot', account: { homePage: 'https://bot.example', name: 'b1' } }, verb: { id: 'http://adlnet.gov/expapi/verbs/commented' }, object: { id: 'https://example.com/call-1', definition: { name: { 'en-US': 'Call recording 1' } } } };
    expect(presentStatement(s, { subject })).toMatchObject({ actor: 'Coach Bot', verb: 'commented on', summary: 'Coach Bot commented on Call recording 1' });
  });
});

describe('time', () => {
  it("shows the time in the viewer's zone, else UTC", () => {
    const s = launched(env(), { ...base, at: '2025-03-04T23:30:00.000Z', module: lesson });
    expect(row(s)).toMatchObject({ day: '2025-03-04', time: '23:30', timeZone: 'UTC', when: '2025-03-04 23:30' });
    expect(row(s, { timeZone: 'Europe/Berlin' })).toMatchObject({ day: '2025-03-05', time: '00:30', dayLabel: 'Wednesday 5 March 2025', timeZone: 'Europe/Berlin' });
    expect(row(s, { timeZone: 'Not/AZone' })).toMatchObject({ time: '23:30', timeZone: 'UTC' });
  });

  it('notes when a statement was stored long after the event it records', () => {
    const s = { ...attended(env(), { ...base, module: vilt, session, instructor: trainer }), stored: '2025-03-05T09:00:00.000Z' };
    expect(row(s).recorded).toBe('2025-03-05 09:00');
    expect(row({ ...s, stored: AT }).recorded).toBeNull();
  });

  it('durations in words', () => {
    expect(['PT45S', 'PT25M29S', 'PT1H5M', 'PT2H', 'P1D', 'PT0.02S', 'soon', 'PT'].map(durationWords)).toEqual(['45 s', '25 min', '1 h 5 min', '2 h', '24 h', undefined, undefined, undefined]);
    expect(zonedTime(new Date('2025-01-01T00:00:00Z'), 'America/New_York').day).toBe('2024-12-31');
  });

  it('groups rows by day, keeping their order', () => {
    const at = (iso: string) => row(launched(env(), { ...base, at: iso, module: lesson }));
    const days = groupByDay([at('2025-03-05T10:00:00Z'), at('2025-03-05T09:00:00Z'), at('2025-03-04T18:00:00Z')]);
    expect(days.map((d) => [d.day, d.rows.length])).toEqual([
      ['2025-03-05', 2],
      ['2025-03-04', 1],
    ]);
  });
});

describe('CSV cells', () => {
  it('one cell per header column', () => {
    const r = row(passed(env(), judged));
    const cells = csvCells(r);
    expect(cells).toHaveLength(CSV_HEADER.length);
    expect(Object.fromEntries(CSV_HEADER.map((h, i) => [h, cells[i]]))).toMatchObject({ when: '2025-03-04 14:02', category: 'assessment', verb: 'passed', object: 'Foundations check', result: '80% (8 of 10) · took 14 min', outcome: 'success', context: 'Attempt 2 (check); Pass mark 80%' });
  });
});
