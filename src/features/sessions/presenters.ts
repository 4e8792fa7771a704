import type { LiveSessionDoc, SeatDoc, SeatStatus } from './model.js';
import { formatSessionTime } from './time.js';

export type SessionState = 'scheduled' | 'in_progress' | 'ended' | 'cancelled';

/** A live session as lists show it: schedule, place, instructor and seat counts. */
export interface SessionSummary {
  id: string;
  curriculumId: string;
  moduleId: string;
  modality: 'vilt' | 'ilt';
  modalityLabel: string;
  moduleTitle: string;
  title: string;
  /** ISO instants (UTC) */
  startsAt: string;
  endsAt: string;
  timeZone: string;
  /** "Tue 12 Jan 2027, 14:00–15:30 CET", in the session's own time zone */
  when: string;
  location: string;
  meetingUrl: string;
  /** the place as one line: the room, or "Online" */
  where: string;
  instructor: { id: string; name: string; email: string };
  notes: string;
  capacity: number;
  booked: number;
  waitlisted: number;
  seatsLeft: number;
  full: boolean;
  state: SessionState;
  /** over (its end has passed), whether it ran or was cancelled */
  past: boolean;
  cancelledAt: string | null;
}

export interface SeatView {
  userId: string;
  enrollmentId: string;
  status: SeatStatus;
  at: string;
  sequence: number;
  /** 1-based place on the waitlist; null unless waitlisted */
  waitlistPosition: number | null;
}

/** A session with its seats (who holds which): what the module page needs to show "your seat". */
export interface LiveSessionView extends SessionSummary {
  seats: SeatView[];
}

const MODALITY_LABELS = { vilt: 'Virtual session', ilt: 'Classroom' } as const;

export function stateOf(s: Pick<LiveSessionDoc, 'startsAt' | 'endsAt' | 'cancelledAt'>, now: Date): SessionState {
  if (s.cancelledAt) return 'cancelled';
  if (now < s.startsAt) return 'scheduled';
  return now < s.endsAt ? 'in_progress' : 'ended';
}

export function presentSeats(seats: SeatDoc[]): SeatView[] {
  let position = 0;
  return seats.map((seat) => ({
    userId: String(seat.userId),
    enrollmentId: String(seat.enrollmentId),
    status: seat.status,
    at: new Date(seat.at).toISOString(),
    sequence: seat.sequence,
    waitlistPosition: seat.status === 'waitlisted' ? ++position : null,
  }));
}

export function presentSession(s: LiveSessionDoc, instructor: { id: string; name: string; email: string } | undefined, now: Date): SessionSummary {
  const booked = s.seats.filter((x) => x.status === 'booked').length;
  const waitlisted = s.seats.filter((x) => x.status === 'waitlisted').length;
  const seatsLeft = Math.max(0, s.capacity - booked);
  return {
    id: String(s._id),
    curriculumId: s.curriculumId,
    moduleId: s.moduleId,
    modality: s.modality,
    modalityLabel: MODALITY_LABELS[s.modality],
    moduleTitle: s.moduleTitle,
    title: s.title,
    startsAt: new Date(s.startsAt).toISOString(),
    endsAt: new Date(s.endsAt).toISOString(),
    timeZone: s.timeZone,
    when: formatSessionTime(new Date(s.startsAt), new Date(s.endsAt), s.timeZone),
    location: s.location,
    meetingUrl: s.meetingUrl,
    where: s.location || 'Online',
    instructor: instructor ?? { id: String(s.instructorId), name: 'Unknown instructor', email: '' },
    notes: s.notes,
    capacity: s.capacity,
    booked,
    waitlisted,
    seatsLeft,
    full: seatsLeft === 0,
    state: stateOf(s, now),
    past: now >= new Date(s.endsAt),
    cancelledAt: s.cancelledAt ? new Date(s.cancelledAt).toISOString() : null,
  };
}

/** One session as a rep sees it on a module page. */
export interface RepSessionOption {
  id: string;
  title: string;
  when: string;
  where: string;
  modalityLabel: string;
  instructorName: string;
  seatsLeft: number;
  full: boolean;
  mySeat: 'booked' | 'waitlisted' | null;
  /** 1-based, when on the waitlist */
  waitlistPosition: number | null;
  /** the meeting link, only for a rep with a seat */
  meetingUrl: string | null;
  /** started already: no booking or leaving any more, but a booked rep still needs the link */
  started: boolean;
  canBook: boolean;
  canLeave: boolean;
  /** the rep's calendar invite, when they hold a seat */
  inviteUrl: string | null;
}

/**
 * For one rep and one module: the sessions they can book or hold a seat on, soonest first, from
 * LiveSessionService.forModule(). Sessions that have started are left out unless the rep has a
 * seat on them (they need the meeting link).
 */
export function sessionsForRep(sessions: LiveSessionView[], userId: string): RepSessionOption[] {
  const options: RepSessionOption[] = [];
  for (const s of sessions) {
    if (s.state === 'cancelled' || s.state === 'ended') continue;
    const seat = s.seats.find((x) => x.userId === userId && x.status !== 'cancelled');
    const mySeat = seat ? (seat.status as 'booked' | 'waitlisted') : null;
    const started = s.state === 'in_progress';
    if (started && !mySeat) continue;
    options.push({
      id: s.id,
      title: s.title,
      when: s.when,
      where: s.where,
      modalityLabel: s.modalityLabel,
      instructorName: s.instructor.name,
      seatsLeft: s.seatsLeft,
      full: s.full,
      mySeat,
      waitlistPosition: seat?.waitlistPosition ?? null,
      meetingUrl: mySeat && s.meetingUrl ? s.meetingUrl : null,
      started,
      canBook: !started && !mySeat,
      canLeave: !started && mySeat !== null,
      inviteUrl: mySeat ? `/sessions/${s.id}/invite.ics` : null,
    });
  }
  return options;
}
