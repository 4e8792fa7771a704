import { describe, expect, it } from 'vitest';
import { buildInvite, type InviteInput } from '../../src/features/sessions/ics.js';
import { formatSessionTime, isoInZone, zonedTimeToUtc } from '../../src/features/sessions/time.js';

const base: InviteInput = {
  sessionId: '6512bd43d9caa6e02c990b0a',
  method: 'REQUEST',
  status: 'CONFIRMED',
  sequence: 0,
  title: 'Role-play workshop',
  description: "Classroom session for the module 'Role-play workshop'.\nBring your approved script; laptops closed.",
  startsAt: new Date('2027-01-20T08:00:00Z'),
  endsAt: new Date('2027-01-20T16:00:00Z'),
  location: 'Berlin office, room Spree',
  organizer: { name: 'Tess Trainer', email: 'trainer@demo.onramp.dev' },
  attendee: { name: 'Riley Chen', email: 'rep1@demo.onramp.dev' },
  stamp: new Date('2027-01-04T09:00:00Z'),
};

/** The calendar's content lines, unfolded (RFC 5545 §3.1: CRLF + one space or tab continues a line). */
function lines(ics: string): string[] {
  return ics.replace(/\r\n[ \t]/g, '').split('\r\n').filter(Boolean);
}

function prop(ics: string, name: string): string | undefined {
  return lines(ics).find((l) => l.startsWith(`${name}:`) || l.startsWith(`${name};`));
}

describe('calendar invites', () => {
  it('writes a REQUEST with a stable UID, the sequence and UTC times', () => {
    const ics = buildInvite(base);
    expect(ics.startsWith('BEGIN:VCALENDAR\r\n')).toBe(true);
    expect(ics.endsWith('END:VCALENDAR\r\n')).toBe(true);
    expect(ics).not.toMatch(/[^\r]\n/); // CRLF line ends only
    expect(prop(ics, 'METHOD')).toBe('METHOD:REQUEST');
    expect(prop(ics, 'PRODID')).toBe('PRODID:-//Onramp//Live sessions//EN');
    expect(prop(ics, 'UID')).toBe('UID:6512bd43d9caa6e02c990b0a@onramp');
    expect(prop(ics, 'SEQUENCE')).toBe('SEQUENCE:0');
    expect(prop(ics, 'DTSTART')).toBe('DTSTART:20270120T080000Z');
    expect(prop(ics, 'DTEND')).toBe('DTEND:20270120T160000Z');
    expect(prop(ics, 'DTSTAMP')).toBe('DTSTAMP:20270104T090000Z');
    expect(prop(ics, 'STATUS')).toBe('STATUS:CONFIRMED');
    expect(prop(ics, 'SUMMARY')).toBe('SUMMARY:Role-play workshop');
    // text values are escaped: commas, semicolons and new lines
    expect(prop(ics, 'LOCATION')).toBe('LOCATION:Berlin office\\, room Spree');
    expect(prop(ics, 'DESCRIPTION')).toBe("DESCRIPTION:Classroom session for the module 'Role-play workshop'.\\nBring your approved script\\; laptops closed.");
    expect(prop(ics, 'ORGANIZER')).toBe('ORGANIZER;CN="Tess Trainer":MAILTO:trainer@demo.onramp.dev');
    expect(prop(ics, 'ATTENDEE')).toMatch(/PARTSTAT="ACCEPTED".*CN="Riley Chen":mailto:rep1@demo\.onramp\.dev$/);
    expect(prop(ics, 'URL')).toBeUndefined();
  });

  it('carries the meeting link of a virtual session', () => {
    const ics = buildInvite({ ...base, location: 'https://meet.example.com/discovery?pwd=1', url: 'https://meet.example.com/discovery?pwd=1' });
    expect(prop(ics, 'URL')).toBe('URL:https://meet.example.com/discovery?pwd=1');
    expect(prop(ics, 'LOCATION')).toBe('LOCATION:https://meet.example.com/discovery?pwd=1');
  });

  it('marks a waitlisted seat tentative', () => {
    const ics = buildInvite({ ...base, status: 'TENTATIVE' });
    expect(prop(ics, 'METHOD')).toBe('METHOD:REQUEST');
    expect(prop(ics, 'STATUS')).toBe('STATUS:TENTATIVE');
    expect(prop(ics, 'ATTENDEE')).toMatch(/PARTSTAT="TENTATIVE"/);
  });

  it('cancels with the same UID and a higher sequence', () => {
    const ics = buildInvite({ ...base, method: 'CANCEL', status: 'CANCELLED', sequence: 2 });
    expect(prop(ics, 'METHOD')).toBe('METHOD:CANCEL');
    expect(prop(ics, 'STATUS')).toBe('STATUS:CANCELLED');
    expect(prop(ics, 'UID')).toBe('UID:6512bd43d9caa6e02c990b0a@onramp');
    expect(prop(ics, 'SEQUENCE')).toBe('SEQUENCE:2');
  });

  it('does not depend on the server time zone', () => {
    const before = process.env.TZ;
    process.env.TZ = 'America/Los_Angeles';
    try {
      expect(prop(buildInvite(base), 'DTSTART')).toBe('DTSTART:20270120T080000Z');
    } finally {
      if (before === undefined) delete process.env.TZ;
      else process.env.TZ = before;
    }
  });
});

describe('session times', () => {
  it('reads a wall-clock time in the session zone, across DST', () => {
    expect(zonedTimeToUtc('2027-01-12T14:00', 'Europe/Berlin')).toEqual({ ok: true, date: new Date('2027-01-12T13:00:00Z') });
    expect(zonedTimeToUtc('2027-07-12T14:00', 'Europe/Berlin')).toEqual({ ok: true, date: new Date('2027-07-12T12:00:00Z') });
    expect(zonedTimeToUtc('2027-01-12T09:00', 'Asia/Kolkata')).toEqual({ ok: true, date: new Date('2027-01-12T03:30:00Z') });
    // spring forward: 02:30 does not happen; fall back: 02:30 happens twice, the first one counts
    expect(zonedTimeToUtc('2027-03-28T02:30', 'Europe/Berlin')).toEqual({ ok: false, reason: 'nonexistent' });
    expect(zonedTimeToUtc('2027-10-31T02:30', 'Europe/Berlin')).toEqual({ ok: true, date: new Date('2027-10-31T00:30:00Z') });
    expect(zonedTimeToUtc('2027-02-30T10:00', 'UTC')).toEqual({ ok: false, reason: 'format' });
    expect(zonedTimeToUtc('12/01/2027 10:00', 'UTC')).toEqual({ ok: false, reason: 'format' });
  });

  it('formats a session in its own zone', () => {
    expect(formatSessionTime(new Date('2027-01-12T13:00:00Z'), new Date('2027-01-12T14:30:00Z'), 'Europe/Berlin')).toBe('Tue 12 Jan 2027, 14:00–15:30 CET');
    expect(formatSessionTime(new Date('2027-01-12T13:00:00Z'), new Date('2027-01-12T14:30:00Z'), 'America/New_York')).toBe('Tue 12 Jan 2027, 08:00–09:30 EST');
    expect(formatSessionTime(new Date('2027-07-12T21:00:00Z'), new Date('2027-07-13T01:00:00Z'), 'Europe/London')).toBe('Mon 12 Jul 2027, 22:00 – Tue 13 Jul 2027, 02:00 BST');
    expect(formatSessionTime(new Date('2027-01-12T13:00:00Z'), new Date('2027-01-12T14:00:00Z'), 'UTC')).toBe('Tue 12 Jan 2027, 13:00–14:00 UTC');
  });

  it('writes instants with the offset of a zone, so the first ten characters are the local day', () => {
    expect(isoInZone(new Date('2027-01-12T23:30:00Z'), 'Europe/Berlin')).toBe('2027-01-13T00:30:00+01:00');
    expect(isoInZone(new Date('2027-01-12T03:30:00Z'), 'America/St_Johns')).toBe('2027-01-12T00:00:00-03:30');
    expect(isoInZone(new Date('2027-01-12T13:00:00Z'), 'UTC')).toBe('2027-01-12T13:00:00+00:00');
    expect(Date.parse(isoInZone(new Date('2027-01-12T03:30:00Z'), 'Asia/Kolkata'))).toBe(Date.parse('2027-01-12T03:30:00Z'));
  });
});
