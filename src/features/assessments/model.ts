import { Schema, type Connection, type Model, type Types } from 'mongoose';
import type { Answers, AttemptScore, DrawnAttempt } from '../../engine/assessment.js';

export interface StoredAnswer {
  key: string;
  value: Answers[string];
}

export function storeAnswers(answers: Answers): StoredAnswer[] {
  return Object.entries(answers).map(([key, value]) => ({ key, value }));
}

export function readAnswers(stored: StoredAnswer[] | undefined): Answers {
  return Object.fromEntries((stored ?? []).map((a) => [a.key, a.value]));
}

/**
 * One attempt at an assessment module. The server draws the questions at start and keeps them
 * here with the answers so far; the browser only ever gets the presented form of them.
 */
export interface AttemptDoc {
  _id: Types.ObjectId;
  enrollmentId: Types.ObjectId;
  userId: Types.ObjectId;
  curriculumId: string;
  versionId: string;
  moduleId: string;
  /** 1 for the first attempt of this rep at this module */
  number: number;
  seed: string;
  drawn: DrawnAttempt;
  /**
   * The answers so far as a list: item keys of scenario parts contain a dot, which MongoDB and
   * FerretDB refuse as a field name.
   */
  answers: StoredAnswer[];
  status: 'in_progress' | 'submitted';
  startedAt: Date;
  /** the time limit's end, or null */
  deadline: Date | null;
  submittedAt: Date | null;
  /** who ended it: the rep, or the server when the time limit passed */
  submittedBy: 'rep' | 'time-limit' | null;
  score: AttemptScore | null;
  percent: number | null;
  passed: boolean | null;
  /** pre-tests: the modules this attempt tested the rep out of */
  testedOut: string[];
  rev: number;
}

const attemptSchema = new Schema<AttemptDoc>(
  {
    enrollmentId: { type: Schema.Types.ObjectId, required: true },
    userId: { type: Schema.Types.ObjectId, required: true, index: true },
    curriculumId: { type: String, required: true },
    versionId: { type: String, required: true },
    moduleId: { type: String, required: true },
    number: { type: Number, required: true },
    seed: { type: String, required: true },
    drawn: { type: Schema.Types.Mixed, required: true },
    answers: { type: Schema.Types.Mixed, default: [] },
    status: { type: String, enum: ['in_progress', 'submitted'], required: true },
    startedAt: { type: Date, required: true },
    deadline: { type: Date, default: null },
    submittedAt: { type: Date, default: null },
    submittedBy: { type: String, default: null },
    score: { type: Schema.Types.Mixed, default: null },
    percent: { type: Number, default: null },
    passed: { type: Boolean, default: null },
    testedOut: { type: [String], default: [] },
    rev: { type: Number, default: 0 },
  },
  { collection: 'attempts', minimize: false, versionKey: false },
);
attemptSchema.index({ enrollmentId: 1, moduleId: 1, number: 1 }, { unique: true });
attemptSchema.index({ curriculumId: 1, moduleId: 1, status: 1 });

export interface AssessmentModels {
  Attempt: Model<AttemptDoc>;
}

export function assessmentModels(conn: Connection): AssessmentModels {
  return { Attempt: (conn.models.Attempt as Model<AttemptDoc>) ?? conn.model('Attempt', attemptSchema) };
}
