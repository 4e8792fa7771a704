import { createEmptyCard, fsrs, Rating, type Card } from 'ts-fsrs';
import { addDays } from './sequencing.js';

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
  /** answers given, newest last (right or wrong, and when) */
  history: { at: string; correct: boolean }[];
  retired: boolean;
}

export interface ReinforcementSettings {
  /** FSRS desired retention, from the curriculum (0.7–0.97) */
  retention: number;
  /** questions per delivery */
  perDelivery: number;
  /** the rep's local delivery window, hours [from, to) */
  window: { from: number; to: number };
  /** weekdays deliveries may happen on: 1 = Monday … 7 = Sunday */
  days: number[];
  /** an item retires after this many right answers in a row, the last one at least `retireAfterDays` after the one before */
  retireAfterStreak: number;
  retireAfterDays: number;
}

export const DEFAULT_SETTINGS: ReinforcementSettings = {
  retention: 0.9,
  perDelivery: 3,
  window: { from: 9, to: 17 },
  days: [1, 2, 3, 4, 5],
  retireAfterStreak: 3,
  retireAfterDays: 21,
};

/**
 * The items a module adds to a rep's deck when they complete (or test out of) it: the bank
 * questions marked `reinforcement: true` for that module, as `<bank>.<question id>`.
 */
export function reinforcementItems(banks: Record<string, { questions: { id: string; module?: string; reinforcement?: boolean }[] }>, moduleId: string): string[] {
  return Object.entries(banks).flatMap(([bank, b]) => b.questions.filter((q) => q.reinforcement && q.module === moduleId).map((q) => `${bank}.${q.id}`));
}

/** A new item for the deck: due at once (its first delivery comes with the next one). */
export function newItem(key: string, moduleId: string, now: Date): DeckItem {
  return { key, moduleId, card: createEmptyCard(now), history: [], retired: false };
}

/**
 * An answer moves the item: FSRS rates a right answer Good and a wrong one Again, so a miss brings it
 * back soon and right answers push it further out. Enough right answers at long intervals retire it.
 */
export function answer(item: DeckItem, correct: boolean, now: Date, settings: ReinforcementSettings): DeckItem {
  const scheduler = fsrs({ request_retention: settings.retention, enable_fuzz: false });
  const { card } = scheduler.next(item.card, now, correct ? Rating.Good : Rating.Again);
  const history = [...item.history, { at: now.toISOString(), correct }];
  const streak = history.slice(-settings.retireAfterStreak);
  const spaced =
    streak.length === settings.retireAfterStreak &&
    streak.every((h) => h.correct) &&
    (streak.length < 2 || Date.parse(streak.at(-1)!.at) - Date.parse(streak.at(-2)!.at) >= settings.retireAfterDays * 86_400_000);
  return { ...item, card, history, retired: item.retired || spaced };
}

/** Local calendar parts of an instant in a time zone. */
function local(at: Date, timeZone: string): { day: string; hour: number; weekday: number } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', hourCycle: 'h23', weekday: 'short' })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  const weekday = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(parts.weekday!) + 1;
  return { day: `${parts.year}-${parts.month}-${parts.day}`, hour: Number(parts.hour), weekday };
}

/** The instant of local `hour`:00 on `day` in a time zone (DST-safe: checked by formatting back). */
function instantAt(day: string, hour: number, timeZone: string): Date {
  const guess = new Date(`${day}T${String(hour).padStart(2, '0')}:00:00Z`);
  for (let i = 0; i < 3; i++) {
    const l = local(guess, timeZone);
    const diffHours = (Date.parse(`${day}T00:00:00Z`) - Date.parse(`${l.day}T00:00:00Z`)) / 3_600_000 + (hour - l.hour);
    if (diffHours === 0) break;
    guess.setTime(guess.getTime() + diffHours * 3_600_000);
  }
  return guess;
}

/**
 * The first moment at or after `from` inside the rep's delivery window, on an allowed weekday and
 * not inside a pause (a vacation: the schedule shifts past it instead of piling up during it).
 */
export function nextWindow(from: Date, timeZone: string, settings: ReinforcementSettings, pause: { from: string; to: string } | null = null): Date {
  let at = from;
  for (let i = 0; i < 400; i++) {
    const l = local(at, timeZone);
    const paused = pause !== null && l.day >= pause.from && l.day <= pause.to;
    if (!paused && settings.days.includes(l.weekday)) {
      if (l.hour < settings.window.from) return instantAt(l.day, settings.window.from, timeZone);
      if (l.hour < settings.window.to) return at;
    }
    at = instantAt(addDays(l.day, 1), settings.window.from, timeZone);
  }
  throw new Error('No delivery window in the next 400 days: check the reinforcement days and window.');
}

export interface DeliveryPlan {
  /** when the next delivery happens; null when nothing is left in the deck */
  at: Date | null;
  /** the item keys it will hold (decided again at delivery time) */
  items: string[];
}

/**
 * The rep's next delivery: when the earliest item falls due (moved into the rep's window), with the
 * items due by then, most overdue first, at most `perDelivery` of them. Retired items are left out.
 */
export function planDelivery(deck: DeckItem[], now: Date, timeZone: string, settings: ReinforcementSettings, pause: { from: string; to: string } | null = null): DeliveryPlan {
  const live = deck.filter((i) => !i.retired);
  if (!live.length) return { at: null, items: [] };
  const earliest = new Date(Math.max(now.getTime(), Math.min(...live.map((i) => new Date(i.card.due).getTime()))));
  const at = nextWindow(earliest, timeZone, settings, pause);
  const items = live
    .filter((i) => new Date(i.card.due).getTime() <= at.getTime())
    .sort((a, b) => new Date(a.card.due).getTime() - new Date(b.card.due).getTime() || a.key.localeCompare(b.key))
    .slice(0, settings.perDelivery)
    .map((i) => i.key);
  return { at, items };
}
