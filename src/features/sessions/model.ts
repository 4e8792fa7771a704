import { Schema, type Connection, type Model, type Types } from 'mongoose';
import type { AttendanceStatus } from '../../engine/curriculum.js';

export const SEAT_STATUSES = ['booked', 'waitlisted', 'cancelled'] as const;
export type SeatStatus = (typeof SEAT_STATUSES)[number];
export const ATTENDANCE_STATUSES = ['attended', 'absent', 'partial'] as const satisfies readonly AttendanceStatus[];

/** One rep's place on a session. The array order is the waitlist order. */
export interface SeatDoc {
  userId: Types.ObjectId;
  enrollmentId: Types.ObjectId;
  status: SeatStatus;
  /** when the seat last changed status */
  at: Date;
  /** the calendar invite's SEQUENCE: goes up each time the rep's invite changes */
  sequence: number;
}

export interface AttendanceDoc {
  userId: Types.ObjectId;
  status: AttendanceStatus;
  /** when it was marked */
  at: Date;
  /** criterion id → points; null until scored */
  rubricScores: Record<string, number> | null;
  rubricPercent: number | null;
  feedback: string;
}

/**
 * One document per live session (vILT or ILT): its schedule, its seats and its attendance, so
 * that booking, cancelling and marking are each one update of one document (under the session's
 * lock; see infra/locks.ts).
 */
export interface LiveSessionDoc {
  _id: Types.ObjectId;
  curriculumId: string;
  moduleId: string;
  /** the curriculum version the session was scheduled against */
  versionId: string;
  modality: 'vilt' | 'ilt';
  moduleTitle: string;
  title: string;
  startsAt: Date;
  endsAt: Date;
  /** IANA: the zone the session runs in and is shown in */
  timeZone: string;
  capacity: number;
  location: string;
  meetingUrl: string;
  instructorId: Types.ObjectId;
  notes: string;
  createdBy: string;
  cancelledAt: Date | null;
  seats: SeatDoc[];
  attendance: AttendanceDoc[];
  rev: number;
  createdAt: Date;
  updatedAt: Date;
}

const seatSchema = new Schema<SeatDoc>(
  {
    userId: { type: Schema.Types.ObjectId, required: true },
    enrollmentId: { type: Schema.Types.ObjectId, required: true },
    status: { type: String, enum: SEAT_STATUSES, required: true },
    at: { type: Date, required: true },
    sequence: { type: Number, default: 0, min: 0 },
  },
  { _id: false },
);

const attendanceSchema = new Schema<AttendanceDoc>(
  {
    userId: { type: Schema.Types.ObjectId, required: true },
    status: { type: String, enum: ATTENDANCE_STATUSES, required: true },
    at: { type: Date, required: true },
    rubricScores: { type: Schema.Types.Mixed, default: null },
    rubricPercent: { type: Number, default: null },
    feedback: { type: String, default: '' },
  },
  { _id: false, minimize: false },
);

const liveSessionSchema = new Schema<LiveSessionDoc>(
  {
    curriculumId: { type: String, required: true },
    moduleId: { type: String, required: true },
    versionId: { type: String, required: true },
    modality: { type: String, enum: ['vilt', 'ilt'], required: true },
    moduleTitle: { type: String, required: true },
    title: { type: String, required: true, trim: true },
    startsAt: { type: Date, required: true, index: true },
    endsAt: { type: Date, required: true },
    timeZone: { type: String, required: true },
    capacity: { type: Number, required: true, min: 1 },
    location: { type: String, default: '' },
    meetingUrl: { type: String, default: '' },
    instructorId: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    notes: { type: String, default: '' },
    createdBy: { type: String, required: true },
    cancelledAt: { type: Date, default: null },
    seats: { type: [seatSchema], default: [] },
    attendance: { type: [attendanceSchema], default: [] },
    rev: { type: Number, default: 0 },
  },
  { collection: 'live_sessions', timestamps: true, minimize: false, versionKey: false },
);
liveSessionSchema.index({ curriculumId: 1, moduleId: 1, startsAt: 1 });

export interface LiveSessionModels {
  LiveSession: Model<LiveSessionDoc>;
}

export function liveSessionModels(conn: Connection): LiveSessionModels {
  return { LiveSession: (conn.models.LiveSession as Model<LiveSessionDoc>) ?? conn.model('LiveSession', liveSessionSchema) };
}
