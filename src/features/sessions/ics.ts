import { createEvent, type EventAttributes } from 'ics';

/**
 * A calendar invite (iCalendar, RFC 5545 / iTIP RFC 5546) for one rep's seat on a live session.
 * One UID per session, so each update (promotion from the waitlist, cancellation) replaces the
 * event in the rep's calendar: clients apply the invite with the highest SEQUENCE.
 */
export interface InviteInput {
  sessionId: string;
  /** REQUEST adds or updates the event; CANCEL removes it */
  method: 'REQUEST' | 'CANCEL';
  /** CONFIRMED: a seat; TENTATIVE: on the waitlist; CANCELLED: with method CANCEL */
  status: 'CONFIRMED' | 'TENTATIVE' | 'CANCELLED';
  sequence: number;
  title: string;
  description: string;
  startsAt: Date;
  endsAt: Date;
  location?: string;
  url?: string;
  organizer: { name: string; email: string };
  attendee: { name: string; email: string };
  /** DTSTAMP: when the invite was made */
  stamp: Date;
}

export const INVITE_PRODUCT_ID = '-//Onramp//Live sessions//EN';

export function inviteUid(sessionId: string): string {
  return `${sessionId}@onramp`;
}

export function buildInvite(input: InviteInput): string {
  const attributes: EventAttributes & { timestamp: number } = {
    productId: INVITE_PRODUCT_ID,
    method: input.method,
    uid: inviteUid(input.sessionId),
    sequence: input.sequence,
    timestamp: input.stamp.getTime(),
    // instants as milliseconds: the library writes them as UTC (…Z), whatever the server's zone
    start: input.startsAt.getTime(),
    end: input.endsAt.getTime(),
    title: input.title,
    description: input.description,
    status: input.status,
    busyStatus: input.status === 'CONFIRMED' ? 'BUSY' : input.status === 'TENTATIVE' ? 'TENTATIVE' : 'FREE',
    organizer: { name: input.organizer.name, email: input.organizer.email },
    attendees: [
      {
        name: input.attendee.name,
        email: input.attendee.email,
        rsvp: false,
        role: 'REQ-PARTICIPANT',
        partstat: input.method === 'CANCEL' ? 'DECLINED' : input.status === 'TENTATIVE' ? 'TENTATIVE' : 'ACCEPTED',
      },
    ],
    ...(input.location ? { location: input.location } : {}),
    ...(input.url ? { url: input.url } : {}),
  };
  const { error, value } = createEvent(attributes);
  if (error || !value) throw new Error(`Could not build the calendar invite: ${error?.message ?? 'no output'}`);
  return value;
}
