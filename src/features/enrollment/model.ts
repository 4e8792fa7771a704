import { Schema, type Connection, type Model, type Types } from 'mongoose';
import type { ProgressFacts, Roadmap } from '../../engine/curriculum.js';

/**
 * One document per enrollment: the read model of a rep's progress. It holds the facts (what
 * happened) and the roadmap computed from them, and every event changes both in one atomic,
 * revision-checked update, so the roadmap is one read and never disagrees with its facts.
 */
export interface EnrollmentDoc {
  _id: Types.ObjectId;
  userId: Types.ObjectId;
  curriculumId: string;
  /** pinned at enrollment: later publishes do not move it */
  versionId: string;
  cohort: string;
  /** day 0, YYYY-MM-DD */
  startDate: string;
  enrolledBy: string;
  facts: ProgressFacts;
  roadmap: Roadmap;
  /** the calendar day the roadmap was computed for (gates on dates change with it) */
  computedOn: string;
  rev: number;
  createdAt: Date;
  updatedAt: Date;
}

const enrollmentSchema = new Schema<EnrollmentDoc>(
  {
    userId: { type: Schema.Types.ObjectId, required: true, index: true },
    curriculumId: { type: String, required: true },
    versionId: { type: String, required: true },
    cohort: { type: String, default: '', index: true },
    startDate: { type: String, required: true },
    enrolledBy: { type: String, required: true },
    facts: { type: Schema.Types.Mixed, required: true },
    roadmap: { type: Schema.Types.Mixed, required: true },
    computedOn: { type: String, required: true },
    rev: { type: Number, default: 0 },
  },
  { collection: 'enrollments', timestamps: true, minimize: false, versionKey: false },
);
enrollmentSchema.index({ userId: 1, curriculumId: 1 }, { unique: true });

export interface EnrollmentModels {
  Enrollment: Model<EnrollmentDoc>;
}

export function enrollmentModels(conn: Connection): EnrollmentModels {
  return { Enrollment: (conn.models.Enrollment as Model<EnrollmentDoc>) ?? conn.model('Enrollment', enrollmentSchema) };
}
