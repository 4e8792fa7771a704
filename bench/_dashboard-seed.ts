/**
 * The data bench/dashboard.ts measures against: reps at varied points of the sample curriculum, as
 * the app itself would have stored them, written in bulk (the app's own one-at-a-time event path
 * would take hours at 10,000 reps on FerretDB v1).
 *
 * - people: one trainer, BENCH_MANAGERS managers, BENCH_REPS reps spread evenly over them (one
 *   argon2 hash shared by all, so signing in works);
 * - per rep, an enrollment whose facts come from a small simulation (pace, skill, some reps stall)
 *   and whose roadmap is the engine's `computeRoadmap` of those facts today; the transfer
 *   submission those facts describe (submitted, returned, approved, results logged and confirmed);
 *   reinforcement deliveries and answers over the last two weeks for reps with learned items;
 * - per enrollment, its rollup: `summarize()` of exactly the inputs `RepSummaries.refresh` gathers,
 *   stored as `refresh` stores it (`storedDocs`: `rep_summaries` without readiness, `rep_readiness`
 *   with it, and the rep's row in its `dashboard_cells` cell) — and checked against `refresh()` itself on the first chunk of reps, see
 *   `checkAgainstRefresh`;
 * - xAPI statements spread over the reps, written as the LRS stores them (see xapi-ingest.ts).
 *
 * Reproducible: one seeded random generator.
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { Types } from 'mongoose';
import type { Db } from 'mongodb';
import type { CurriculumDef, ModuleDef, ProgressFacts } from '../src/engine/curriculum.js';
import { emptyFacts } from '../src/engine/curriculum.js';
import { streakOf } from '../src/engine/reinforcement.js';
import { summarize, type RepSummary } from '../src/engine/rep-summary.js';
import { addDays, computeRoadmap } from '../src/engine/sequencing.js';
import type { FormFile } from '../src/content/schema.js';
import type { CurriculumVersionDoc } from '../src/features/curricula/model.js';
import { agentOf, curriculumIri, moduleIri, registrationOf, VERBS, type CatalogueConfig } from '../src/xapi/catalogue.js';
import { indexFields, type StatementDoc } from '../src/xapi/lrs/store.js';
import { cellIdOf, placeOf, rowOf, storeRow } from '../src/features/dashboards/cells.js';

const DAY = 86_400_000;

/** mulberry32: small, fast and seeded */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ['Avery', 'Jordan', 'Morgan', 'Riley', 'Casey', 'Taylor', 'Quinn', 'Skyler', 'Reese', 'Rowan', 'Emerson', 'Harper', 'Sage', 'Dakota', 'Kendall', 'Logan', 'Parker', 'Cameron', 'Drew', 'Jamie'];
const LAST = ['Kim', 'Blake', 'Lee', 'Garcia', 'Nguyen', 'Patel', 'Okafor', 'Rossi', 'Schmidt', 'Novak', 'Silva', 'Cohen', 'Ito', 'Moreau', 'Larsen', 'Haddad', 'Kowalski', 'Reyes', 'Walsh', 'Tanaka'];
const TIMEZONES = ['UTC', 'UTC', 'UTC', 'America/Chicago', 'America/New_York', 'Europe/Berlin'];

export interface SeedPlan {
  reps: number;
  managers: number;
  /** reps start over the last N days */
  startWindowDays: number;
  /** one cohort per this many days of start dates */
  cohortDays: number;
  today: string;
  /** the published version */
  version: CurriculumVersionDoc;
  passwordHash: string;
}

export interface SeededPeople {
  trainer: { id: string; email: string };
  managers: { id: string; email: string; team: number }[];
  reps: { id: string; name: string; managerId: string; enrollmentId: string }[];
  cohorts: string[];
}

interface Rep {
  _id: Types.ObjectId;
  name: string;
  email: string;
  managerId: Types.ObjectId;
  timezone: string;
  startDate: string;
  daysIn: number;
  cohort: string;
  /** >1 slower */
  pace: number;
  /** 0–1 */
  skill: number;
  /** the day (since the start) the rep stops doing anything, or Infinity */
  stallDay: number;
  /** answers reinforcement questions when asked (probability) */
  engagement: number;
}

interface TransferHistory {
  moduleId: string;
  /** days since the start: each version submitted, the manager's decisions */
  submitted: number[];
  decisions: { kind: 'approved' | 'returned'; day: number }[];
  logged: number | null;
  confirmed: number | null;
  results: Record<string, number | boolean> | null;
}

const clamp = (x: number) => Math.max(0, Math.min(100, Math.round(x)));

/**
 * What one rep did, from their start to today (or the day they stalled): the facts, as the
 * services would have recorded them, and the transfer submission's history. The engine decides
 * what is open at each step, so the facts are always ones the app could have produced.
 */
function simulate(def: CurriculumDef, rep: Rep, today: string, rnd: () => number): { facts: ProgressFacts; transfer: TransferHistory | null } {
  const f = emptyFacts(rep.startDate);
  const startMs = Date.parse(`${rep.startDate}T09:00:00Z`);
  const at = (d: number) => new Date(startMs + d * DAY).toISOString();
  const dayOf = (d: number) => addDays(rep.startDate, Math.floor(d));
  // never later than a few hours ago (a rep who started today has done nothing yet)
  const limit = Math.min(rep.daysIn - 0.4, rep.stallDay);
  const byId = new Map(def.modules.map((m) => [m.id, m]));
  const tries = new Map<string, number>();
  let transfer: TransferHistory | null = null;
  let pendingDecision: number | null = null;
  let logDue: number | null = null;
  let day = rnd() * 0.3;

  const decide = (d: number) => {
    const t = transfer!;
    const kind = t.decisions.length === 0 && rnd() < 0.25 ? 'returned' : 'approved';
    t.decisions.push({ kind, day: d });
    f.submissions[t.moduleId] = { status: kind, at: at(d) };
    pendingDecision = null;
    if (kind === 'approved') logDue = d + 10 + rnd() * 4; // the form's call block (periodDays 10)
  };

  for (let step = 0; step < 120 && day <= limit; step++) {
    if (pendingDecision !== null && pendingDecision <= day) decide(pendingDecision);
    const roadmap = computeRoadmap(def, f, dayOf(day));
    const status = new Map(roadmap.modules.map((s) => [s.id, s]));
    const actionable = roadmap.next
      .map((id) => status.get(id)!)
      .filter((s) => s.state === 'available' || s.state === 'in_progress')
      .filter((s) => !(byId.get(s.id)!.modality === 'transfer' && f.submissions[s.id]?.status === 'approved' && (logDue === null || logDue > day)));
    const s = actionable[0];
    if (!s) {
      const waits = [pendingDecision, logDue].filter((x): x is number => x !== null && x > day);
      day = waits.length ? Math.min(...waits, day + 1) : day + 1;
      continue;
    }
    const m = byId.get(s.id)!;
    const n = (tries.get(m.id) ?? 0) + 1;
    tries.set(m.id, n);
    f.started[m.id] ??= at(day);
    switch (m.modality) {
      case 'elearning':
        f.completed[m.id] = at(day + 0.05 + rnd() * 0.2);
        day += rep.pace * (0.3 + rnd() * 0.9);
        break;
      case 'assessment':
        act(m, n);
        break;
      case 'vilt':
      case 'ilt': {
        const when = day + 1 + rnd() * 4 * rep.pace;
        const rubric = m.rubric ? { rubricPercent: clamp(45 + rep.skill * 50 + n * 8 + (rnd() - 0.5) * 25) } : {};
        f.attendance[m.id] = { status: rnd() < 0.9 ? 'attended' : 'absent', at: at(when), ...rubric };
        day = when + 0.2;
        break;
      }
      case 'transfer': {
        transfer ??= { moduleId: m.id, submitted: [], decisions: [], logged: null, confirmed: null, results: null };
        const state = f.submissions[m.id]?.status;
        if (state === 'approved') {
          f.resultsLogged[m.id] = at(day);
          transfer.logged = day;
          const calls = 30 + Math.round(rnd() * 45);
          const contacts = Math.round(calls * (0.2 + rnd() * 0.3));
          const presentations = Math.round(contacts * (0.4 + rnd() * 0.5));
          const appointments = Math.round(presentations * (0.3 + rnd() * 0.7));
          transfer.results = { metWithManager: rnd() < 0.75, calls, contacts, presentations, appointments };
          const confirm = day + 0.5 + rnd() * 5;
          if (confirm <= limit) transfer.confirmed = confirm;
          logDue = null;
          day += 0.2;
        } else {
          const submitted = day + rep.pace * (state === 'returned' ? 0.5 + rnd() * 2 : 1 + rnd() * 3);
          transfer.submitted.push(submitted);
          f.submissions[m.id] = { status: 'submitted', at: at(submitted) };
          pendingDecision = submitted + 0.5 + rnd() * rnd() * 8; // most managers answer in a day or two
          day = submitted + 0.1;
        }
        break;
      }
    }
  }
  return { facts: f, transfer: transfer && transfer.submitted.length ? transfer : null };

  function act(m: ModuleDef, n: number) {
    const a = m.assessment!;
    if (a.purpose === 'pretest') {
      const score = clamp(15 + rep.skill * 70 + (rnd() - 0.5) * 30);
      f.scores[m.id] = { best: score, at: at(day) };
      for (const section of a.testOut ?? []) if (rnd() < rep.skill * rep.skill * 0.6) for (const id of section.modules) f.testedOut[id] = at(day);
      day += 0.1 + rnd() * 0.3;
      return;
    }
    const score = clamp(45 + rep.skill * 50 + (n - 1) * 9 + (rnd() - 0.5) * 25);
    const prev = f.scores[m.id];
    f.scores[m.id] = prev && prev.best >= score ? prev : { best: score, at: at(day) };
    day += rep.pace * (0.4 + rnd() * 0.8) + (score < a.threshold ? 1 : 0);
  }
}

/** A script that reads like a real one: every field of the form filled with text of a usual length. */
function scriptAnswers(form: FormFile, rnd: () => number): Record<string, unknown> {
  const words = 'the dispatch schedule contract technician response window first-time fix service manager appointment calls customer renewal branch inspection'.split(' ');
  const text = (n: number) => Array.from({ length: n }, () => words[Math.floor(rnd() * words.length)]).join(' ');
  const out: Record<string, unknown> = {};
  for (const step of form.steps) {
    for (const field of step.fields) {
      const f = field as { id: string; type: string; options?: string[] };
      if (f.type === 'choice') out[f.id] = f.options?.[Math.floor(rnd() * (f.options?.length ?? 1))] ?? '';
      else if (f.type === 'shortText') out[f.id] = text(14);
      else if (f.type === 'list') out[f.id] = Array.from({ length: 4 }, () => `${text(12)}?`);
      else out[f.id] = text(45);
    }
  }
  return out;
}

/** the form's activity-log targets per transfer module, as RepSummaries.refresh reads them */
export function targetsOf(content: CurriculumVersionDoc['content']): Record<string, Record<string, number>> {
  const targets: Record<string, Record<string, number>> = {};
  for (const m of content.definition.modules) {
    const form = m.form ? content.forms[m.form] : undefined;
    if (form) targets[m.id] = Object.fromEntries(form.activityLog.fields.filter((f) => typeof (f as { target?: number }).target === 'number').map((f) => [f.id, (f as { target?: number }).target!]));
  }
  return targets;
}

const hoursAfter = (d: Date, h: number) => new Date(d.getTime() + h * 3_600_000);

/**
 * A summary as `RepSummaries.refresh` stores it: `rep_summaries` holds everything but readiness,
 * `rep_readiness` the readiness (see src/features/dashboards/summaries.ts). `checkAgainstRefresh`
 * catches this drifting from refresh's own write.
 */
export function storedDocs(summary: RepSummary, refreshedAt: Date): Record<string, object> {
  const { readiness, ...rollup } = summary;
  return {
    rep_summaries: { ...rollup, refreshedAt },
    rep_readiness: { _id: summary._id, userId: summary.userId, versionId: summary.versionId, readiness, refreshedAt },
  };
}

/**
 * People, enrollments, submissions, reinforcement deliveries and answers, and the summaries built
 * from them, in chunks of `chunk` reps. `progress` hears after each chunk.
 */
export async function seedLearning(
  db: Db,
  plan: SeedPlan,
  hooks: { progress: (done: number) => void; afterFirstChunk: (sample: string[]) => Promise<void> },
  chunk = 500,
): Promise<SeededPeople & { counts: Record<string, number> }> {
  const { version, today } = plan;
  const content = version.content;
  const def = content.definition;
  const targets = targetsOf(content);
  const rnd = random(20261127);
  const now = new Date();
  const refreshedAt = new Date();
  const counts: Record<string, number> = {};
  const user = (o: { _id: Types.ObjectId; email: string; name: string; role: string; managerId: Types.ObjectId | null; timezone?: string }) => ({
    ...o,
    passwordHash: plan.passwordHash,
    mustChangePassword: false,
    active: true,
    timezone: o.timezone ?? 'UTC',
    lastLoginAt: null,
    createdAt: now,
    updatedAt: now,
  });

  const trainer = { _id: new Types.ObjectId(), email: 'trainer@bench.onramp.dev', name: 'Toni Trainer', role: 'trainer', managerId: null };
  const managers = Array.from({ length: plan.managers }, (_, i) => ({
    _id: new Types.ObjectId(),
    email: `manager-${String(i + 1).padStart(3, '0')}@bench.onramp.dev`,
    name: `${FIRST[i % FIRST.length]} ${LAST[Math.floor(i / FIRST.length) % LAST.length]} (manager ${i + 1})`,
    role: 'manager',
    managerId: null,
  }));
  await db.collection('users').insertMany([user(trainer), ...managers.map(user)]);
  counts.users = 1 + managers.length;

  // reinforcement items per module (`<bank>.<question>`)
  const items = new Map<string, string[]>();
  for (const [bankId, bank] of Object.entries(content.banks)) {
    for (const q of (bank as { questions: { id: string; reinforcement?: boolean; module?: string }[] }).questions) {
      if (q.reinforcement && q.module) items.set(q.module, [...(items.get(q.module) ?? []), `${bankId}.${q.id}`]);
    }
  }

  const cells = new Map<string, { place: ReturnType<typeof placeOf>; pending: Record<string, object>; written: boolean }>();
  const writeCells = async () => {
    const fresh: object[] = [];
    for (const [id, cell] of cells) {
      if (!Object.keys(cell.pending).length) continue;
      if (cell.written) await db.collection('dashboard_cells').updateOne({ _id: id as never }, { $set: Object.fromEntries(Object.entries(cell.pending).map(([e, row]) => [`reps.${e}`, row])) });
      else fresh.push({ _id: id, ...cell.place, reps: cell.pending, refreshedAt });
      cell.pending = {};
      cell.written = true;
    }
    for (let k = 0; k < fresh.length; k += 100) await db.collection('dashboard_cells').insertMany(fresh.slice(k, k + 100) as never[]);
  };
  const cohorts = new Set<string>();
  const people: SeededPeople['reps'] = [];
  for (let from = 0; from < plan.reps; from += chunk) {
    const users: object[] = [];
    const enrollments: object[] = [];
    const submissions: object[] = [];
    const deliveries: object[] = [];
    const answers: object[] = [];
    const rollups: Record<string, object[]> = {};
    /** enrollments worth checking against refresh(): results logged, answers, completed, nothing done */
    const interesting = new Map<string, string>();
    for (let i = from; i < Math.min(plan.reps, from + chunk); i++) {
      const daysIn = Math.floor(rnd() * plan.startWindowDays);
      const startDate = addDays(today, -daysIn);
      const cohort = `Cohort ${String.fromCharCode(65 + Math.floor(daysIn / plan.cohortDays))}`;
      cohorts.add(cohort);
      const manager = managers[i % managers.length]!;
      const rep: Rep = {
        _id: new Types.ObjectId(),
        name: `${FIRST[Math.floor(rnd() * FIRST.length)]} ${LAST[Math.floor(rnd() * LAST.length)]}`,
        email: `rep-${String(i + 1).padStart(5, '0')}@bench.onramp.dev`,
        managerId: manager._id,
        timezone: TIMEZONES[Math.floor(rnd() * TIMEZONES.length)]!,
        startDate,
        daysIn,
        cohort,
        pace: 0.6 + rnd() * 1.6,
        skill: 0.35 + rnd() * 0.65,
        stallDay: rnd() < 0.15 ? rnd() * 40 : Infinity,
        engagement: rnd() < 0.3 ? 0 : 0.6 + rnd() * 0.4,
      };
      users.push(user({ _id: rep._id, email: rep.email, name: rep.name, role: 'rep', managerId: rep.managerId, timezone: rep.timezone }));

      const { facts, transfer } = simulate(def, rep, today, rnd);
      const roadmap = computeRoadmap(def, facts, today);
      const enrollmentId = new Types.ObjectId();
      const events = Object.keys(facts.started).length + Object.keys(facts.completed).length + Object.keys(facts.scores).length + Object.keys(facts.attendance).length;
      enrollments.push({ _id: enrollmentId, userId: rep._id, curriculumId: def.id, versionId: version._id, cohort, startDate, enrolledBy: 'bench', facts, roadmap, computedOn: today, rev: events, createdAt: new Date(Date.parse(`${startDate}T08:00:00Z`)), updatedAt: now });
      people.push({ id: String(rep._id), name: rep.name, managerId: String(rep.managerId), enrollmentId: String(enrollmentId) });

      // the transfer submission the facts describe
      const results: Parameters<typeof summarize>[0]['results'] = {};
      if (transfer) {
        const form = content.forms[def.modules.find((m) => m.id === transfer.moduleId)!.form!]!;
        const startMs = Date.parse(`${startDate}T09:00:00Z`);
        const at = (d: number) => new Date(startMs + d * DAY);
        const first = scriptAnswers(form, rnd);
        const versions = transfer.submitted.map((d, k) => ({ n: k + 1, answers: k === 0 ? first : { ...first, opening: `${String(first.opening)} (revised)` }, by: rep._id, kind: 'rep', at: at(d) }));
        const last = transfer.submitted.at(-1)!;
        const approved = transfer.decisions.find((d) => d.kind === 'approved');
        const status = facts.submissions[transfer.moduleId]!.status;
        const logged = transfer.logged !== null ? at(transfer.logged) : null;
        const confirmed = transfer.confirmed !== null ? at(transfer.confirmed) : null;
        submissions.push({
          _id: new Types.ObjectId(),
          enrollmentId,
          moduleId: transfer.moduleId,
          formId: form.id,
          versionId: version._id,
          repId: rep._id,
          managerId: rep.managerId,
          status,
          answers: versions.at(-1)!.answers,
          rev: 6 + versions.length * 5,
          savedAt: at(last - 0.01),
          versions,
          submittedAt: at(last),
          reviewDueAt: hoursAfter(at(last), 72),
          decisions: transfer.decisions.map((d) => ({ kind: d.kind, version: transfer.submitted.filter((s) => s <= d.day).length, by: rep.managerId, at: at(d.day), comments: d.kind === 'returned' ? { opening: 'Lead with your reason for calling.' } : {}, note: d.kind === 'approved' ? 'Approved: your call block starts Monday.' : 'One change before I approve it.' })),
          approvedAt: approved ? at(approved.day) : null,
          coaching: approved ? { metAt: addDays(startDate, Math.floor(approved.day)) } : {},
          results: transfer.results,
          resultsLoggedAt: logged,
          resultsConfirmedAt: confirmed,
          resultsConfirmedBy: confirmed ? rep.managerId : null,
          createdAt: at(transfer.submitted[0]! - 1),
          updatedAt: confirmed ?? logged ?? at(last),
        });
        if (logged) results[transfer.moduleId] = { values: transfer.results!, confirmed: !!confirmed, loggedAt: logged.toISOString() };
      }

      // reinforcement: a delivery every few days over the last two weeks, once items are learned
      const learned = roadmap.modules.filter((s) => s.doneAt && items.has(s.id)).map((s) => ({ moduleId: s.id, at: new Date(s.doneAt!) }));
      const repDeliveries: { status: 'open' | 'answered' | 'lapsed'; slot: Date }[] = [];
      const retention: Record<string, { answered: number; correct: number }> = {};
      if (learned.length) {
        const firstLearned = Math.min(...learned.map((l) => l.at.getTime()));
        let slot = Math.max(Date.parse(`${addDays(today, -14)}T14:00:00Z`), Date.parse(`${addDays(new Date(firstLearned).toISOString().slice(0, 10), 1)}T14:00:00Z`));
        while (slot < now.getTime() - 3_600_000) {
          const asOf = new Date(slot);
          const pool = learned.filter((l) => l.at < asOf).flatMap((l) => items.get(l.moduleId)!.map((key) => ({ key, moduleId: l.moduleId, learnedAt: l.at })));
          if (pool.length) {
            const picked = pool.sort(() => rnd() - 0.5).slice(0, 3);
            const deliveryId = `${rep._id}-${slot}`;
            const isLast = slot + 2 * DAY >= now.getTime();
            const state: 'open' | 'answered' | 'lapsed' = isLast && rnd() < 0.3 ? 'open' : rnd() < rep.engagement ? 'answered' : 'lapsed';
            const answeredAt = new Date(slot + (1 + rnd() * 5) * 3_600_000);
            const deliveryItems = picked.map((p) => {
              const correct = rnd() < 0.55 + rep.skill * 0.4;
              if (state === 'answered') {
                answers.push({
                  _id: `${deliveryId}/${p.key}`,
                  userId: rep._id,
                  managerId: rep.managerId,
                  cohort,
                  curriculumId: def.id,
                  versionId: version._id,
                  moduleId: p.moduleId,
                  key: p.key,
                  deliveryId,
                  correct,
                  at: answeredAt,
                  learnedAt: p.learnedAt,
                  daysSinceLearned: Math.floor((answeredAt.getTime() - p.learnedAt.getTime()) / DAY),
                });
                const r = (retention[p.moduleId] ??= { answered: 0, correct: 0 });
                r.answered++;
                if (correct) r.correct++;
              }
              const [bankId, questionId] = p.key.split('.') as [string, string];
              return {
                key: p.key,
                moduleId: p.moduleId,
                enrollmentId: String(enrollmentId),
                curriculumId: def.id,
                versionId: version._id,
                drawn: { pool: 0, bankId, questionId, optionOrder: [2, 0, 3, 1] },
                answeredAt: state === 'answered' ? answeredAt.toISOString() : null,
                correct: state === 'answered' ? correct : null,
                credit: state === 'answered' ? (correct ? 1 : 0) : null,
                chosen: null,
                channel: state === 'answered' ? (rnd() < 0.7 ? 'in-app' : 'email') : null,
              };
            });
            deliveries.push({ _id: deliveryId, userId: rep._id, slot: asOf, deliveredAt: asOf, items: deliveryItems, status: state, emailKey: `rf-${deliveryId}` });
            repDeliveries.push({ status: state, slot: asOf });
          }
          slot += (1 + Math.floor(rnd() * 3)) * DAY;
        }
      }

      // the rollup: summarize() of what RepSummaries.refresh gathers for this enrollment
      const summary: RepSummary = summarize({
        enrollment: { id: String(enrollmentId), userId: String(rep._id), cohort, curriculumId: def.id, versionId: version._id, startDate, facts, roadmap },
        managerId: String(rep.managerId),
        curriculum: def,
        results,
        targets,
        retention,
        streak: streakOf(repDeliveries.sort((a, b) => b.slot.getTime() - a.slot.getTime()).slice(0, 60)),
      });
      for (const [name, doc] of Object.entries(storedDocs(summary, refreshedAt))) (rollups[name] ??= []).push(doc);
      const kind = Object.keys(results).length ? 'results' : Object.keys(retention).length ? 'answers' : roadmap.completed ? 'completed' : roadmap.done === 0 ? 'nothing' : 'other';
      if (!interesting.has(kind)) interesting.set(kind, String(enrollmentId));
    }
    const write = async (name: string, docs: object[]) => {
      if (!docs.length) return;
      for (let k = 0; k < docs.length; k += 1000) await db.collection(name).insertMany(docs.slice(k, k + 1000) as never[]);
      counts[name] = (counts[name] ?? 0) + docs.length;
    };
    await write('users', users);
    await write('enrollments', enrollments);
    await write('submissions', submissions);
    await write('reinforcement_deliveries', deliveries);
    await write('reinforcement_answers', answers);
    for (const [name, docs] of Object.entries(rollups)) await write(name, docs);
    // the dashboard rows, for their cells (as refresh() puts them): the first chunk's written now, for
    // the check against refresh(); the rest in one write per cell at the end (an update of a cell
    // reads every cell on FerretDB v1, so one per cell per chunk would grow with the square of the reps)
    for (const doc of rollups.rep_summaries ?? []) {
      const summary = doc as RepSummary;
      const id = cellIdOf(summary);
      const cell = cells.get(id) ?? { place: placeOf(summary), pending: {}, written: false };
      cells.set(id, cell);
      cell.pending[summary._id] = storeRow(rowOf(summary));
    }
    if (from === 0) await writeCells();
    if (from === 0) await hooks.afterFirstChunk([...interesting.values()]);
    hooks.progress(Math.min(plan.reps, from + chunk));
  }
  await writeCells();
  counts.dashboard_cells = await db.collection('dashboard_cells').countDocuments();
  return {
    trainer: { id: String(trainer._id), email: trainer.email },
    managers: managers.map((m) => ({ id: String(m._id), email: m.email, team: people.filter((p) => p.managerId === String(m._id)).length })),
    reps: people,
    cohorts: [...cohorts].sort(),
    counts,
  };
}

/**
 * The check that the seeded rollup is what the app would write: for a few enrollments, what was
 * written here (`rep_summaries` and `rep_readiness`, put back together) against what
 * `RepSummaries.refresh` computes from the same sources — and that `refresh` changed the size of
 * no other collection (were the rollup split further, this says so instead of measuring a
 * database the app would not have).
 */
export async function checkAgainstRefresh(db: Db, refresh: (enrollmentId: string) => Promise<RepSummary | null>, enrollmentIds: string[]): Promise<{ checked: number; problems: string[] }> {
  const problems: string[] = [];
  const sizes = async () => {
    const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
    return Object.fromEntries(await Promise.all(names.map(async (n) => [n, await db.collection(n).countDocuments()] as const)));
  };
  // through JSON: stored documents are BSON read back, refresh's answer plain JS (undefined vs absent)
  const plain = (x: unknown) => JSON.parse(JSON.stringify(x)) as Record<string, unknown>;
  const before = await sizes();
  const rowIn = async (s: RepSummary) => (await db.collection('dashboard_cells').findOne({ _id: cellIdOf(s) as never }))?.reps?.[s._id] ?? null;
  for (const id of enrollmentIds) {
    const [rollup, readiness] = await Promise.all([db.collection('rep_summaries').findOne({ _id: id as never }), db.collection('rep_readiness').findOne({ _id: id as never })]);
    const seededRow = rollup ? await rowIn(rollup as unknown as RepSummary) : null;
    const fresh = await refresh(id);
    if (!rollup || !readiness || !fresh) {
      problems.push(`${id}: ${rollup ? '' : 'no seeded rep_summaries document; '}${readiness ? '' : 'no seeded rep_readiness document; '}${fresh ? '' : 'refresh() found no enrollment'}`);
      continue;
    }
    const { refreshedAt: _r, ...seededRollup } = rollup;
    const { refreshedAt: _t, ...seededReadiness } = readiness;
    const a = plain({ ...seededRollup, readiness: seededReadiness.readiness });
    const b = plain(fresh);
    if (!isDeepStrictEqual(a, b)) {
      const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !isDeepStrictEqual(a[k], b[k]));
      problems.push(`${id}: the seeded rollup differs from refresh() in ${keys.join(', ')}`);
    }
    // the readiness document's own fields, as refresh writes them
    const expected = plain(storedDocs(fresh, new Date(0)).rep_readiness);
    delete expected.refreshedAt;
    if (!isDeepStrictEqual(plain(seededReadiness), expected)) problems.push(`${id}: the seeded rep_readiness document differs from the one refresh() writes`);
    if (!isDeepStrictEqual(plain(seededRow), plain(await rowIn(fresh)))) problems.push(`${id}: the seeded dashboard_cells row differs from the one refresh() writes`);
  }
  const after = await sizes();
  for (const n of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (before[n] !== after[n]) problems.push(`refresh() changed the size of '${n}' (${before[n] ?? 0} → ${after[n]} documents): it writes somewhere this seeding does not, make _dashboard-seed.ts follow it`);
  }
  return { checked: enrollmentIds.length, problems };
}

/** `count` statements, as the LRS stores them, spread over the reps (see xapi-ingest.ts). */
export function statementDocs(config: CatalogueConfig, curriculumId: string, def: CurriculumDef, reps: SeededPeople['reps'], from: number, count: number, startedOf: (rep: number) => number): StatementDoc[] {
  const verbs = [VERBS.launched, VERBS.initialized, VERBS.completed, VERBS.attempted, VERBS.answered, VERBS.scored, VERBS.passed, VERBS.attended];
  const modules = def.modules;
  const stored = new Date();
  const docs: StatementDoc[] = [];
  for (let i = from; i < from + count; i++) {
    const r = i % reps.length;
    const rep = reps[r]!;
    const m = modules[Math.floor(i / reps.length) % modules.length]!;
    const verb = verbs[(i * 7) % verbs.length]!;
    const start = startedOf(r);
    const timestamp = new Date(start + ((i * 9973) % Math.max(1, stored.getTime() - start))).toISOString();
    const id = randomUUID();
    const statement = {
      id,
      actor: agentOf(config, { id: rep.id, name: rep.name }),
      verb: { id: verb.id, display: { 'en-US': verb.display } },
      object: { objectType: 'Activity', id: moduleIri(config, curriculumId, m.id), definition: { type: 'http://adlnet.gov/expapi/activities/module', name: { 'en-US': m.title } } },
      ...(verb === VERBS.scored || verb === VERBS.passed ? { result: { score: { scaled: (i % 100) / 100 }, success: i % 3 !== 0, completion: true } } : {}),
      context: { registration: registrationOf(rep.enrollmentId), platform: config.platform, contextActivities: { parent: [{ id: curriculumIri(config, curriculumId) }] } },
      timestamp,
      stored: stored.toISOString(),
      authority: { objectType: 'Agent', account: { homePage: config.homePage ?? '', name: 'onramp' } },
      version: '1.0.0',
    };
    docs.push({ _id: id, json: JSON.stringify(statement), stored, seq: i - from, voided: false, ...indexFields(statement as never) });
  }
  return docs;
}
