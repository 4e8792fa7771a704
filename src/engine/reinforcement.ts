import { createEmptyCard, fsrs, Rating, type Card } from 'ts-fsrs';

/**
 * Spaced-repetition reinforcement, the pure part: each item's memory state and next due date
 * (FSRS, via ts-fsrs), when an item retires, and when a rep's next delivery happens and what it
 * holds. No I/O: the service stores the states and schedules one delayed job per rep.
 */

/** One item of a rep's deck: a bank question, with its FSRS memory state. */
export interface DeckItem {
  /** `<bank>.<question id>` */
  key: string;
  moduleId: string;
  card: Card;
  /** answers given, newest last (right or wrong, when, and in which delivery) */
  history: { at: string; correct: boolean; deliveryId?: string }[];
  retired: boolean;
}

/** FSRS desired retention and questions per delivery: the curriculum's `reinforcement` settings. */
export interface DeckSettings {
  /** FSRS desired retention (0.7–0.97) */
  retention: number;
  /** questions per delivery */
  perDelivery: number;
}

export const DEFAULT_DECK: DeckSettings = { retention: 0.9, perDelivery: 3 };

/** An item retires after this many right answers in a row, the last at least `days` after the one before. */
export const RETIREMENT = { streak: 3, days: 21 } as const;

/** When a rep takes deliveries: their own settings. */
export interface RepSchedule {
  /** IANA time zone the window is read in */
  timeZone: string;
  /** the local delivery window, whole hours [from, to) */
  window: { from: number; to: number };
  /** weekdays deliveries may happen on: 1 = Monday … 7 = Sunday */
  days: number[];
  /** hours inside the window with no delivery (lunch, a standing team call), [from, to); null: none */
  quiet: { from: number; to: number } | null;
  /** a vacation: no delivery on these local days (YYYY-MM-DD, both included); the schedule shifts past it */
  pause: { from: string; to: string } | null;
  /** also send each delivery by email */
  email: boolean;
}

export const DEFAULT_SCHEDULE: RepSchedule = {
  timeZone: 'UTC',
  window: { from: 9, to: 17 },
  days: [1, 2, 3, 4, 5],
  quiet: null,
  pause: null,
  email: true,
};

export interface FieldProblem {
  path: string;
  message: string;
}

/** What is wrong with a schedule a rep asks for (shape already checked): each problem names its field. */
export function scheduleProblems(s: RepSchedule): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (!isTimeZone(s.timeZone)) problems.push({ path: 'timeZone', message: `"${s.timeZone}" is not a time zone; use a name like Europe/Berlin or America/Chicago` });
  const hour = (n: number) => Number.isInteger(n) && n >= 0 && n <= 24;
  if (!hour(s.window.from) || !hour(s.window.to) || s.window.from >= s.window.to) problems.push({ path: 'window', message: 'the window starts before it ends, in whole hours from 0 to 24' });
  if (!s.days.length || s.days.some((d) => !Number.isInteger(d) || d < 1 || d > 7)) problems.push({ path: 'days', message: 'choose at least one weekday' });
  if (s.quiet) {
    if (!hour(s.quiet.from) || !hour(s.quiet.to) || s.quiet.from >= s.quiet.to) problems.push({ path: 'quiet', message: 'quiet hours start before they end, in whole hours from 0 to 24' });
    else if (s.quiet.from <= s.window.from && s.quiet.to >= s.window.to) problems.push({ path: 'quiet', message: 'quiet hours cover the whole window: no delivery could ever happen' });
  }
  if (s.pause) {
    const day = /^\d{4}-\d{2}-\d{2}$/;
    if (!day.test(s.pause.from) || !day.test(s.pause.to) || Number.isNaN(Date.parse(`${s.pause.from}T00:00:00Z`)) || Number.isNaN(Date.parse(`${s.pause.to}T00:00:00Z`))) problems.push({ path: 'pause', message: 'a pause has a first and a last day, written YYYY-MM-DD' });
    else if (s.pause.from > s.pause.to) problems.push({ path: 'pause', message: 'the pause ends before it starts' });
    else if ((Date.parse(`${s.pause.to}T00:00:00Z`) - Date.parse(`${s.pause.from}T00:00:00Z`)) / 86_400_000 > 365) problems.push({ path: 'pause', message: 'a pause is at most a year long' });
  }
  return problems;
}

function isTimeZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/**
 * The items a module adds to a rep's deck when they complete (or test out of) it: the bank
 * questions marked `reinforcement: true` for that module, as `<bank>.<question id>`.
 */
export function reinforcementItems(banks: Record<string, { questions: { id: string; module?: string; reinforcement?: boolean }[] }>, moduleId: string): string[] {
  return Object.entries(banks).flatMap(([bank, b]) => b.questions.filter((q) => q.reinforcement && q.module === moduleId).map((q) => `${bank}.${q.id}`));
}

const schedulers = new Map<number, ReturnType<typeof fsrs>>();

function schedulerFor(retention: number): ReturnType<typeof fsrs> {
  let s = schedulers.get(retention);
  if (!s) {
    // no learning steps: a first right answer is a review a few days out, not "again in 10 minutes"
    s = fsrs({ request_retention: retention, enable_fuzz: false, learning_steps: [] });
    schedulers.set(retention, s);
  }
  return s;
}

/** A new item for the deck: due at once (its first delivery comes with the next one). */
export function newItem(key: string, moduleId: string, now: Date): DeckItem {
  return { key, moduleId, card: createEmptyCard(now), history: [], retired: false };
}

/**
 * An answer moves the item: FSRS rates a right answer Good and a wrong one Again, so a miss brings it
 * back soon and right answers push it further out. Enough right answers at long intervals retire it.
 */
export function answer<T extends DeckItem>(item: T, correct: boolean, now: Date, settings: Pick<DeckSettings, 'retention'>, deliveryId?: string): T {
  const { card } = schedulerFor(settings.retention).next(item.card, now, correct ? Rating.Good : Rating.Again);
  const history = [...item.history, { at: now.toISOString(), correct, ...(deliveryId ? { deliveryId } : {}) }];
  const streak = history.slice(-RETIREMENT.streak);
  const spaced =
    streak.length === RETIREMENT.streak &&
    streak.every((h) => h.correct) &&
    (streak.length < 2 || Date.parse(streak.at(-1)!.at) - Date.parse(streak.at(-2)!.at) >= RETIREMENT.days * 86_400_000);
  return { ...item, card, history, retired: item.retired || spaced };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** One formatter per time zone: building one costs far more than using it. */
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', weekday: 'short' });
    formatters.set(timeZone, f);
  }
  return f;
}

const HOUR_MS = 3_600_000;
/** 1970-01-01 to 9999-12-31: where the offset cache applies (four-digit years, no negative instants) */
const CACHED_RANGE = { from: 0, to: 253_402_300_799_999 } as const;
/** per time zone: UTC hour (ms ÷ 1 h) → the zone's UTC offset (ms) throughout that hour */
const offsets = new Map<string, Map<number, number>>();
/** hours kept per zone (a few years' worth); past it the zone's cache starts again */
const OFFSET_CACHE_HOURS = 50_000;

/** The zone's UTC offset at an instant, read by formatting it (exact; a few µs a call). */
function offsetByFormatting(ms: number, timeZone: string): number {
  const p: Record<string, string> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(ms))) p[part.type] = part.value;
  const wall = new Date(0);
  wall.setUTCFullYear(Number(p.year), Number(p.month) - 1, Number(p.day));
  wall.setUTCHours(Number(p.hour), Number(p.minute), Number(p.second), 0);
  return wall.getTime() - (ms - (ms % 1000));
}

/**
 * The zone's UTC offset at an instant, cached per UTC hour: the planner asks about ten times per
 * rep, and formatting is what scheduling many reps spent its time on. An hour holding a transition
 * (its first and last second differ; time zone rules change offsets at whole seconds) is not
 * cached: each instant in it is formatted.
 */
function offsetAt(ms: number, timeZone: string): number {
  const hour = Math.floor(ms / HOUR_MS);
  let zone = offsets.get(timeZone);
  if (!zone) {
    zone = new Map();
    offsets.set(timeZone, zone);
  }
  const cached = zone.get(hour);
  if (cached !== undefined) return cached;
  const first = offsetByFormatting(hour * HOUR_MS, timeZone);
  const last = offsetByFormatting(hour * HOUR_MS + HOUR_MS - 1000, timeZone);
  if (first !== last) return offsetByFormatting(ms, timeZone);
  if (zone.size >= OFFSET_CACHE_HOURS) zone.clear();
  zone.set(hour, first);
  return first;
}

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/** Local calendar parts of an instant in a time zone. */
export function localParts(at: Date, timeZone: string): { day: string; hour: number; weekday: number } {
  const ms = at.getTime();
  if (!(ms >= CACHED_RANGE.from && ms <= CACHED_RANGE.to)) {
    // outside the cached range (or an invalid date, which throws here as before): format directly
    const parts: Record<string, string> = {};
    for (const p of formatter(timeZone).formatToParts(at)) parts[p.type] = p.value;
    return { day: `${parts.year}-${parts.month}-${parts.day}`, hour: Number(parts.hour), weekday: WEEKDAYS.indexOf(parts.weekday!) + 1 };
  }
  // the wall clock, read with UTC getters
  const local = new Date(ms + offsetAt(ms, timeZone));
  const weekday = ((local.getUTCDay() + 6) % 7) + 1; // getUTCDay: 0 = Sunday
  return { day: `${local.getUTCFullYear()}-${pad2(local.getUTCMonth() + 1)}-${pad2(local.getUTCDate())}`, hour: local.getUTCHours(), weekday };
}

const DAY_MS = 24 * HOUR_MS;
const mod = (a: number, b: number) => ((a % b) + b) % b;

/** The wall clock at an instant, as numbers: the local day's midnight read as UTC ms, the hour, the weekday (1 = Monday). */
function wallAt(ms: number, timeZone: string): { dayMs: number; hour: number; weekday: number } {
  if (!(ms >= CACHED_RANGE.from && ms <= CACHED_RANGE.to)) {
    const l = localParts(new Date(ms), timeZone);
    return { dayMs: Date.parse(`${l.day}T00:00:00Z`), hour: l.hour, weekday: l.weekday };
  }
  const wall = ms + offsetAt(ms, timeZone);
  const dayMs = wall - mod(wall, DAY_MS);
  // day 0 (1970-01-01) was a Thursday
  return { dayMs, hour: (wall - dayMs - mod(wall, HOUR_MS)) / HOUR_MS, weekday: mod(dayMs / DAY_MS + 3, 7) + 1 };
}

/**
 * The instant of local `hour`:00 on a local day (given as its midnight read as UTC ms) in a time
 * zone. DST-safe: the guess is read back on the zone's wall clock and moved by the difference.
 */
function instantAt(dayMs: number, hour: number, timeZone: string): number {
  const wanted = dayMs + hour * HOUR_MS;
  let guess = wanted;
  for (let i = 0; i < 3; i++) {
    const l = wallAt(guess, timeZone);
    const diff = wanted - (l.dayMs + l.hour * HOUR_MS);
    if (diff === 0) break;
    guess += diff;
  }
  return guess;
}

/**
 * The first moment at or after `from` inside the rep's delivery window: an allowed weekday, inside
 * the hours, outside quiet hours and not in a pause (a vacation: the schedule shifts past it
 * instead of piling up during it).
 */
export function nextWindow(from: Date, s: Pick<RepSchedule, 'timeZone' | 'window' | 'days' | 'quiet' | 'pause'>): Date {
  let at = from.getTime();
  for (let i = 0; i < 800; i++) {
    const l = wallAt(at, s.timeZone);
    const day = s.pause !== null ? new Date(l.dayMs).toISOString().slice(0, 10) : '';
    const paused = s.pause !== null && day >= s.pause.from && day <= s.pause.to;
    if (!paused && s.days.includes(l.weekday)) {
      if (l.hour < s.window.from) {
        at = instantAt(l.dayMs, s.window.from, s.timeZone);
        continue;
      }
      if (l.hour < s.window.to) {
        if (!s.quiet || l.hour < s.quiet.from || l.hour >= s.quiet.to) return at === from.getTime() ? from : new Date(at);
        if (s.quiet.to < s.window.to) {
          at = instantAt(l.dayMs, s.quiet.to, s.timeZone);
          continue;
        }
      }
    }
    at = instantAt(l.dayMs + DAY_MS, s.window.from, s.timeZone);
  }
  throw new Error('No delivery window in the next 400 days: check the reinforcement days, window and pause.');
}

/** The start of the rep's window on the next allowed day after `at`: at most one delivery a day. */
export function nextDayWindow(at: Date, s: RepSchedule): Date {
  const l = wallAt(at.getTime(), s.timeZone);
  return nextWindow(new Date(instantAt(l.dayMs + DAY_MS, s.window.from, s.timeZone)), s);
}

export interface DeliveryPlan {
  /** when the next delivery happens; null when nothing is left in the deck */
  at: Date | null;
  /** the item keys it will hold (decided again at delivery time) */
  items: string[];
}

/**
 * The rep's next delivery: when the earliest item falls due (not before `notBefore`, moved into the
 * rep's window), with the items due by then, most overdue first, at most `perDelivery` of them.
 * Retired items are left out. (Items of an open delivery count as due: when the rep leaves them
 * unanswered, the next delivery asks them again, first.)
 */
export function planDelivery(
  deck: DeckItem[],
  now: Date,
  schedule: RepSchedule,
  perDelivery: number,
  notBefore: Date | null = null,
): DeliveryPlan {
  // each due date read once (a deck's items are read again and again, sorting included)
  const live: { key: string; due: number }[] = [];
  for (const i of deck) if (!i.retired) live.push({ key: i.key, due: new Date(i.card.due).getTime() });
  if (!live.length) return { at: null, items: [] };
  let earliest = Math.max(now.getTime(), notBefore?.getTime() ?? 0);
  earliest = Math.max(earliest, Math.min(...live.map((i) => i.due)));
  const at = nextWindow(new Date(earliest), schedule);
  const items = live
    .filter((i) => i.due <= at.getTime())
    .sort((a, b) => a.due - b.due || a.key.localeCompare(b.key))
    .slice(0, perDelivery)
    .map((i) => i.key);
  return { at, items };
}

/**
 * The rep's streak: how many deliveries in a row, newest first, they answered in full. The newest
 * one, while still open, neither counts nor breaks it (the rep has until the next delivery).
 */
export function streakOf(deliveries: { status: 'open' | 'answered' | 'lapsed' }[]): number {
  const list = deliveries[0]?.status === 'open' ? deliveries.slice(1) : deliveries;
  let n = 0;
  for (const d of list) {
    if (d.status !== 'answered') break;
    n++;
  }
  return n;
}
