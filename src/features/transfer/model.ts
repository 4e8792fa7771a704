import { Schema, type Connection, type Model, type Types } from 'mongoose';
import type { Answers } from './answers.js';

export type SubmissionStatus = 'draft' | 'submitted' | 'returned' | 'approved';

/** One version of the work: what the rep submitted, or the manager's edit before approving. */
export interface SubmissionVersion {
  n: number;
  answers: Answers;
  by: Types.ObjectId;
  kind: 'rep' | 'manager-edit';
  at: Date;
}

/**
 * A rep's work on one transfer module of one enrollment: the live draft (autosaved, guarded by
 * `rev`), the submitted versions and the review decisions. One document, updated atomically (under
 * the enrollment's lock on FerretDB), so a submission and its history never disagree.
 */
export interface SubmissionDoc {
  _id: Types.ObjectId;
  enrollmentId: Types.ObjectId;
  moduleId: string;
  formId: string;
  versionId: string;
  repId: Types.ObjectId;
  /** the rep's manager when it was submitted (who reviews it) */
  managerId: Types.ObjectId | null;
  status: SubmissionStatus;
  /** the draft, as the builder last saved it */
  answers: Answers;
  rev: number;
  savedAt: Date;
  versions: SubmissionVersion[];
  submittedAt: Date | null;
  reviewDueAt: Date | null;
  /** the manager's decisions, in order (see review.ts) */
  decisions?: { kind: 'approved' | 'returned' | 'edited-approved'; version: number; by: Types.ObjectId; at: Date; comments: Record<string, string>; note: string }[];
  approvedAt?: Date | null;
  /** the manager's coaching record: days they met the rep about it and observed calls */
  coaching?: { metAt?: string; observedAt?: string };
  /** the rep's on-the-job results (the form's activity log), and the manager's confirmation */
  results?: Answers | null;
  resultsLoggedAt?: Date | null;
  resultsConfirmedAt?: Date | null;
  resultsConfirmedBy?: Types.ObjectId | null;
  createdAt: Date;
  updatedAt: Date;
}

const submissionSchema = new Schema<SubmissionDoc>(
  {
    enrollmentId: { type: Schema.Types.ObjectId, required: true },
    moduleId: { type: String, required: true },
    formId: { type: String, required: true },
    versionId: { type: String, required: true },
    repId: { type: Schema.Types.ObjectId, required: true, index: true },
    managerId: { type: Schema.Types.ObjectId, default: null, index: true },
    status: { type: String, required: true, default: 'draft' },
    answers: { type: Schema.Types.Mixed, default: {} },
    rev: { type: Number, default: 0 },
    savedAt: { type: Date, required: true },
    versions: { type: Schema.Types.Mixed, default: [] },
    submittedAt: { type: Date, default: null },
    reviewDueAt: { type: Date, default: null },
    decisions: { type: Schema.Types.Mixed, default: [] },
    approvedAt: { type: Date, default: null },
    coaching: { type: Schema.Types.Mixed, default: {} },
    results: { type: Schema.Types.Mixed, default: null },
    resultsLoggedAt: { type: Date, default: null },
    resultsConfirmedAt: { type: Date, default: null },
    resultsConfirmedBy: { type: Schema.Types.ObjectId, default: null },
  },
  { collection: 'submissions', timestamps: true, minimize: false, versionKey: false },
);
submissionSchema.index({ enrollmentId: 1, moduleId: 1 }, { unique: true });

export interface SubmissionModels {
  Submission: Model<SubmissionDoc>;
}

export function submissionModels(conn: Connection): SubmissionModels {
  return { Submission: (conn.models.Submission as Model<SubmissionDoc>) ?? conn.model('Submission', submissionSchema) };
}
