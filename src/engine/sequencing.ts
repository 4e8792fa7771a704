import type { CurriculumDef, ModuleDef, ModuleState, ModuleStatus, ProgressFacts, Roadmap } from './curriculum.js';

/**
 * Sequencing and gating: from a curriculum and the facts of one enrollment to the rep's roadmap.
 * Pure: today comes in as an argument, so the same inputs always give the same roadmap.
 *
 * Done-ness comes from the facts alone (facts are history: a module done stays done even if a gate
 * would now keep it locked), so it is computed for every module first and the gates read that.
 */
export function computeRoadmap(curriculum: CurriculumDef, facts: ProgressFacts, today: string): Roadmap {
  const ctx = buildContext(curriculum, facts, today);
  const modules = curriculum.modules.map((m) => moduleStatus(m, ctx));
  const done = modules.filter(isDone).length;
  return {
    modules,
    next: nextUp(modules),
    done,
    total: modules.length,
    phases: phaseProgress(curriculum, modules),
    completed: done === modules.length,
  };
}

export function isDone(status: ModuleStatus): boolean {
  return status.state === 'completed' || status.state === 'tested_out';
}

/** Calendar arithmetic on `YYYY-MM-DD` in UTC, so that no local time zone or DST shift leaks in. */
export function addDays(date: string, days: number): string {
  if (!Number.isInteger(days)) throw new RangeError(`Not a whole number of days: ${days}`);
  return new Date(parseDate(date) + days * DAY_MS).toISOString().slice(0, 10);
}

// ---- context ------------------------------------------------------------------------------------

interface Done {
  state: 'completed' | 'tested_out';
  at: string;
}

interface Context {
  curriculum: CurriculumDef;
  facts: ProgressFacts;
  today: string;
  byId: Map<string, ModuleDef>;
  done: Map<string, Done>;
}

function buildContext(curriculum: CurriculumDef, facts: ProgressFacts, today: string): Context {
  const byId = new Map(curriculum.modules.map((m) => [m.id, m]));
  const done = new Map<string, Done>();
  for (const m of curriculum.modules) {
    const d = doneFact(m, curriculum, facts);
    if (d) done.set(m.id, d);
  }
  return { curriculum, facts, today, byId, done };
}

/** Records may come from JSON: a module id like "constructor" must not hit Object.prototype. */
function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function titleOf(id: string, ctx: Context): string {
  return `'${ctx.byId.get(id)?.title ?? id}'`;
}

function isModuleDone(id: string, ctx: Context): boolean {
  return ctx.done.has(id);
}

/** The percent an assessment module needs to pass. */
function passMark(m: ModuleDef | undefined, curriculum: CurriculumDef): number {
  return m?.assessment?.threshold ?? curriculum.masteryThreshold;
}

// ---- done ---------------------------------------------------------------------------------------

function doneFact(m: ModuleDef, curriculum: CurriculumDef, facts: ProgressFacts): Done | null {
  const testedOut = own(facts.testedOut, m.id);
  if (testedOut !== undefined) return { state: 'tested_out', at: testedOut };
  const at = completedAt(m, curriculum, facts);
  return at === null ? null : { state: 'completed', at };
}

function completedAt(m: ModuleDef, curriculum: CurriculumDef, facts: ProgressFacts): string | null {
  const rule = m.completion;
  switch (rule.rule) {
    case 'viewed':
    case 'acknowledged':
    case 'cmi5':
      return own(facts.completed, m.id) ?? null;
    case 'passed': {
      const score = own(facts.scores, m.id);
      return score && score.best >= passMark(m, curriculum) ? score.at : null;
    }
    case 'submitted':
      return own(facts.scores, m.id)?.at ?? null;
    case 'attended': {
      const a = own(facts.attendance, m.id);
      return a?.status === 'attended' && rubricMet(a.rubricPercent, rule.rubricPass) ? a.at : null;
    }
    case 'approved': {
      const submission = own(facts.submissions, m.id);
      const logged = own(facts.resultsLogged, m.id);
      return submission?.status === 'approved' && logged !== undefined ? laterInstant(submission.at, logged) : null;
    }
  }
}

function rubricMet(percent: number | undefined, pass: number | undefined): boolean {
  return pass === undefined || (percent !== undefined && percent >= pass);
}

// ---- one module ---------------------------------------------------------------------------------

function moduleStatus(m: ModuleDef, ctx: Context): ModuleStatus {
  const done = ctx.done.get(m.id);
  const dueOn = m.dueDay == null ? null : addDays(ctx.facts.startDate, m.dueDay);
  const base = { id: m.id, overdue: !done && dueOn !== null && ctx.today > dueOn, opensOn: opensOn(m, ctx), dueOn, doneAt: done?.at ?? null };
  if (done) return { ...base, state: done.state, reasons: [], hint: null };
  const reasons = gateReasons(m, ctx);
  if (reasons.length > 0) return { ...base, state: 'locked', reasons, hint: null };
  return { ...base, ...activity(m, ctx), reasons: [] };
}

function opensOn(m: ModuleDef, ctx: Context): string {
  const startDay = startDayOpensOn(m, ctx);
  const delay = m.delay ? delayOpensOn(m.delay.after, m.delay.days, ctx) : null;
  return delay !== null && delay > startDay ? delay : startDay;
}

// ---- gates --------------------------------------------------------------------------------------

/** Every unmet gate, so the rep sees all that stands in the way at once, not one at a time. */
function gateReasons(m: ModuleDef, ctx: Context): string[] {
  return [...prerequisiteReasons(m, ctx), ...masteryReasons(m, ctx), ...startDayReasons(m, ctx), ...delayReasons(m, ctx)];
}

function prerequisiteReasons(m: ModuleDef, ctx: Context): string[] {
  const reasons = m.prerequisites.all.filter((id) => !isModuleDone(id, ctx)).map((id) => `Complete ${titleOf(id, ctx)} first.`);
  const { any } = m.prerequisites;
  if (any.length > 0 && !any.some((id) => isModuleDone(id, ctx))) {
    const titles = any.map((id) => titleOf(id, ctx));
    reasons.push(titles.length === 1 ? `Complete ${titles[0]} first.` : `Complete one of ${joinList(titles, 'or')} first.`);
  }
  return reasons;
}

function masteryReasons(m: ModuleDef, ctx: Context): string[] {
  const reasons: string[] = [];
  for (const gate of m.mastery) {
    // Testing out of the assessment itself shows the same mastery as passing it.
    if (own(ctx.facts.testedOut, gate.assessment) !== undefined) continue;
    const threshold = gate.threshold ?? passMark(ctx.byId.get(gate.assessment), ctx.curriculum);
    const score = own(ctx.facts.scores, gate.assessment);
    if (score && score.best >= threshold) continue;
    const soFar = score ? `your best so far is ${percent(score.best)}` : 'you have not taken it yet';
    reasons.push(`Pass ${titleOf(gate.assessment, ctx)} at ${percent(threshold)} — ${soFar}.`);
  }
  return reasons;
}

function startDayOpensOn(m: ModuleDef, ctx: Context): string {
  return addDays(ctx.facts.startDate, m.startDay);
}

function startDayReasons(m: ModuleDef, ctx: Context): string[] {
  const opens = startDayOpensOn(m, ctx);
  if (ctx.today >= opens) return [];
  const when = m.startDay === 0 ? 'when your onboarding starts' : `on day ${m.startDay} of your onboarding`;
  return [`Opens ${when} (${dayLabel(opens)}).`];
}

/** The day a delay gate opens, or null while not every module it waits for is done. */
function delayOpensOn(after: string[], days: number, ctx: Context): string | null {
  const doneAts: string[] = [];
  for (const id of after) {
    const at = ctx.done.get(id)?.at;
    if (at === undefined) return null;
    doneAts.push(at);
  }
  if (doneAts.length === 0) return null;
  return addDays(calendarDate(doneAts.reduce(laterInstant)), days);
}

function delayReasons(m: ModuleDef, ctx: Context): string[] {
  // An empty `after` waits for nothing: the content validator rejects it, the engine ignores it.
  if (!m.delay || m.delay.after.length === 0) return [];
  const { after, days } = m.delay;
  const what = `Opens ${days} ${days === 1 ? 'day' : 'days'} after you finish ${joinList(after.map((id) => titleOf(id, ctx)), 'and')}`;
  const opens = delayOpensOn(after, days, ctx);
  if (opens === null) return [`${what}.`];
  return ctx.today < opens ? [`${what} (${dayLabel(opens)}).`] : [];
}

// ---- what to do next in an open module ----------------------------------------------------------

interface Activity {
  state: ModuleState;
  hint: string;
}

function activity(m: ModuleDef, ctx: Context): Activity {
  switch (m.modality) {
    case 'transfer':
      return transferActivity(m, ctx);
    case 'vilt':
    case 'ilt':
      return sessionActivity(m, ctx);
    case 'assessment':
      return assessmentActivity(m, ctx);
    case 'elearning':
      return startedOr(m, ctx, 'Work through the lesson.');
  }
}

function startedOr(m: ModuleDef, ctx: Context, hint: string): Activity {
  return { state: own(ctx.facts.started, m.id) !== undefined ? 'in_progress' : 'available', hint };
}

function transferActivity(m: ModuleDef, ctx: Context): Activity {
  switch (own(ctx.facts.submissions, m.id)?.status) {
    case 'submitted':
      return { state: 'awaiting_review', hint: 'Waiting for your manager to review your submission.' };
    case 'approved':
      return { state: 'in_progress', hint: 'Your manager approved it — log your results to finish.' };
    case 'returned':
      return { state: 'in_progress', hint: 'Your manager asked for changes — revise and resubmit.' };
    case 'draft':
      return { state: 'in_progress', hint: "Finish your draft and submit it for your manager's review." };
    case undefined:
      return startedOr(m, ctx, "Build it and submit it for your manager's review.");
  }
}

function sessionActivity(m: ModuleDef, ctx: Context): Activity {
  const attendance = own(ctx.facts.attendance, m.id);
  const booking = own(ctx.facts.bookings, m.id);
  // A booking made before the attendance was marked is the session already attended or missed.
  if (booking && (!attendance || instantMs(booking.startsAt) > instantMs(attendance.at))) {
    const day = dayLabel(calendarDate(booking.startsAt));
    return { state: 'in_progress', hint: booking.status === 'booked' ? `Booked: attend the session on ${day}.` : `On the waitlist for ${day}.` };
  }
  if (attendance && attendance.status !== 'attended') return { state: 'available', hint: 'You missed the session — book another one.' };
  const rubricPass = m.completion.rule === 'attended' ? m.completion.rubricPass : undefined;
  if (attendance && rubricPass !== undefined) return { state: 'in_progress', hint: rubricHint(attendance.rubricPercent, rubricPass) };
  return startedOr(m, ctx, 'Book a session.');
}

function rubricHint(score: number | undefined, pass: number): string {
  if (score === undefined) return 'You attended — waiting for the instructor to score your role play.';
  return `Your role-play score was ${percent(score)} — ${percent(pass)} passes. Book another session to try again.`;
}

function assessmentActivity(m: ModuleDef, ctx: Context): Activity {
  const score = own(ctx.facts.scores, m.id);
  const mark = passMark(m, ctx.curriculum);
  if (score && score.best < mark) return { state: 'in_progress', hint: `Your best so far is ${percent(score.best)} — ${percent(mark)} passes.` };
  return startedOr(m, ctx, 'Take the assessment.');
}

// ---- the roadmap --------------------------------------------------------------------------------

const ACTIONABLE: ReadonlySet<ModuleState> = new Set(['available', 'in_progress', 'awaiting_review']);

function nextUp(modules: ModuleStatus[]): string[] {
  return modules
    .map((status, order) => ({ status, order }))
    .filter(({ status }) => ACTIONABLE.has(status.state))
    .sort((a, b) => Number(b.status.overdue) - Number(a.status.overdue) || compareDue(a.status.dueOn, b.status.dueOn) || a.order - b.order)
    .map(({ status }) => status.id);
}

/** Earlier due dates first; no due date last. */
function compareDue(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

function phaseProgress(curriculum: CurriculumDef, modules: ModuleStatus[]): Roadmap['phases'] {
  return curriculum.phases.map((phase) => {
    const inPhase = modules.filter((_, i) => curriculum.modules[i]?.phase === phase.id);
    const done = inPhase.filter(isDone);
    const doneAts = done.map((s) => s.doneAt).filter((at): at is string => at !== null);
    const allDone = inPhase.length > 0 && done.length === inPhase.length;
    return { id: phase.id, done: done.length, total: inPhase.length, completedOn: allDone ? calendarDate(doneAts.reduce(laterInstant)) : null };
  });
}

// ---- dates and wording --------------------------------------------------------------------------

const DAY_MS = 86_400_000;
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/** Midnight UTC of a `YYYY-MM-DD`, rejecting dates that do not exist (2025-02-30). */
function parseDate(date: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(date) ? Date.parse(`${date}T00:00:00Z`) : NaN;
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== date) throw new RangeError(`Not a calendar date (YYYY-MM-DD): ${date}`);
  return ms;
}

/**
 * The calendar day of an instant as written: an instant carrying the rep's offset gives the rep's
 * day, a UTC instant the UTC day. Converting would move late-evening events to the next day.
 */
function calendarDate(instant: string): string {
  return instant.slice(0, 10);
}

function instantMs(instant: string): number {
  return Date.parse(instant);
}

/** The later of two instants, compared as moments (offsets may differ), not as strings. */
function laterInstant(a: string, b: string): string {
  const [x, y] = [instantMs(a), instantMs(b)];
  if (Number.isNaN(x) || Number.isNaN(y)) return a >= b ? a : b;
  return x >= y ? a : b;
}

/** "Mon 3 Dec": English and fixed, so it does not depend on the server's locale. */
function dayLabel(date: string): string {
  const d = new Date(parseDate(date));
  return `${WEEKDAYS[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
}

/** Rounded down to one decimal, so a failing score is never shown as the passing one (79.96 → 79.9%). */
function percent(n: number): string {
  return `${Number.isInteger(n) ? n : Math.floor(n * 10 + 1e-9) / 10}%`;
}

/** 'A' · 'A' or 'B' · 'A', 'B' or 'C' */
function joinList(items: string[], conjunction: 'and' | 'or'): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${conjunction} ${items[items.length - 1]}`;
}
