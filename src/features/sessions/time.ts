/**
 * Wall-clock time in an IANA time zone, for live sessions: a trainer schedules "14:00 in
 * Europe/Berlin", reps see the time the way the session runs, and calendar invites carry UTC.
 * Pure: no clock is read here.
 */

const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const partsFormatters = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = partsFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    partsFormatters.set(timeZone, f);
  }
  return f;
}

/** The wall clock in the zone at an instant. */
function wallClockAt(ms: number, timeZone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const p of partsFormatter(timeZone).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour! % 24, minute: parts.minute!, second: parts.second! };
}

function wallClockMs(w: WallClock): number {
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
}

/** The zone's offset from UTC at an instant, in minutes (Berlin in winter: +60). */
export function offsetMinutes(at: Date, timeZone: string): number {
  const ms = Math.floor(at.getTime() / 1000) * 1000;
  return Math.round((wallClockMs(wallClockAt(ms, timeZone)) - ms) / 60_000);
}

export type LocalTimeResult = { ok: true; date: Date } | { ok: false; reason: 'format' | 'nonexistent' };

/**
 * The instant of a wall-clock time (`YYYY-MM-DDTHH:mm`, what `<input type="datetime-local">`
 * sends) in a time zone. A time the clocks skip (spring forward) does not exist; a time they
 * pass twice (fall back) is the earlier of the two.
 */
export function zonedTimeToUtc(local: string, timeZone: string): LocalTimeResult {
  const m = LOCAL_DATE_TIME.exec(local.trim());
  if (!m) return { ok: false, reason: 'format' };
  const w: WallClock = { year: +m[1]!, month: +m[2]!, day: +m[3]!, hour: +m[4]!, minute: +m[5]!, second: m[6] ? +m[6] : 0 };
  const guess = wallClockMs(w);
  const check = new Date(guess);
  if (
    Number.isNaN(guess) ||
    check.getUTCFullYear() !== w.year ||
    check.getUTCMonth() !== w.month - 1 ||
    check.getUTCDate() !== w.day ||
    w.hour > 23 ||
    w.minute > 59 ||
    w.second > 59
  ) {
    return { ok: false, reason: 'format' };
  }
  // The offsets around the moment: every candidate instant is the wall clock minus one of them.
  const offsets = new Set([-86_400_000, 0, 86_400_000].map((d) => offsetMinutes(new Date(guess + d), timeZone)));
  const candidates = [...offsets]
    .map((o) => guess - o * 60_000)
    .filter((t) => wallClockMs(wallClockAt(t, timeZone)) === guess)
    .sort((a, b) => a - b);
  return candidates.length ? { ok: true, date: new Date(candidates[0]!) } : { ok: false, reason: 'nonexistent' };
}

function pad(n: number, width = 2): string {
  return String(Math.abs(n)).padStart(width, '0');
}

/**
 * An ISO 8601 instant written with the zone's offset (`2027-01-12T14:00:00+01:00`): the same
 * moment as toISOString(), but its first ten characters are the calendar day in that zone — what
 * the sequencing engine reads as "the rep's day".
 */
export function isoInZone(at: Date, timeZone: string): string {
  const ms = Math.floor(at.getTime() / 1000) * 1000;
  const w = wallClockAt(ms, timeZone);
  const offset = Math.round((wallClockMs(w) - ms) / 60_000);
  const sign = offset < 0 ? '-' : '+';
  return `${w.year}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}${sign}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/** "Tue 12 Jan 2027": English and fixed, so it does not depend on the server's locale. */
function dayLabel(w: WallClock): string {
  const weekday = new Date(Date.UTC(w.year, w.month - 1, w.day)).getUTCDay();
  return `${WEEKDAYS[weekday]} ${w.day} ${MONTHS[w.month - 1]} ${w.year}`;
}

function clockLabel(w: WallClock): string {
  return `${pad(w.hour)}:${pad(w.minute)}`;
}

/** The zone's short name at an instant: CET, BST, EST, UTC — or GMT+5:30 where none exists. */
export function zoneAbbreviation(at: Date, timeZone: string): string {
  const name = (locale: string) =>
    new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: 'short' }).formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? timeZone;
  const gb = name('en-GB');
  if (!/^GMT[+-]/.test(gb)) return gb;
  const us = name('en-US');
  return /^GMT[+-]/.test(us) ? gb : us;
}

/**
 * When a session runs, in its own time zone: "Tue 12 Jan 2027, 14:00–15:30 CET", or with both
 * days when it runs past midnight.
 */
export function formatSessionTime(startsAt: Date, endsAt: Date, timeZone: string): string {
  const s = wallClockAt(startsAt.getTime(), timeZone);
  const e = wallClockAt(endsAt.getTime(), timeZone);
  const zone = zoneAbbreviation(startsAt, timeZone);
  const sameDay = s.year === e.year && s.month === e.month && s.day === e.day;
  return sameDay
    ? `${dayLabel(s)}, ${clockLabel(s)}–${clockLabel(e)} ${zone}`
    : `${dayLabel(s)}, ${clockLabel(s)} – ${dayLabel(e)}, ${clockLabel(e)} ${zone}`;
}

/** The time zones a trainer can choose from: UTC first, then every IANA zone the runtime knows. */
export function timeZoneChoices(): string[] {
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return ['UTC', ...zones.filter((z) => z !== 'UTC')];
}
