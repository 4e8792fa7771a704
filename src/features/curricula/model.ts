import { Schema, type Connection, type Model } from 'mongoose';
import type { CurriculumContent } from '../../content/validate.js';

/** An immutable published version: `<curriculumId>@<first 12 of the content hash>`. */
export interface CurriculumVersionDoc {
  _id: string;
  curriculumId: string;
  hash: string;
  title: string;
  publishedAt: Date;
  /** user id, or "cli" */
  publishedBy: string;
  previousVersionId: string | null;
  changes: string[];
  content: CurriculumContent;
}

/** One per curriculum: which version is current. */
export interface CurriculumDoc {
  _id: string;
  title: string;
  latestVersionId: string;
  latestHash: string;
  publishedAt: Date;
  versionCount: number;
}

const versionSchema = new Schema<CurriculumVersionDoc>(
  {
    _id: { type: String, required: true },
    curriculumId: { type: String, required: true, index: true },
    hash: { type: String, required: true },
    title: { type: String, required: true },
    publishedAt: { type: Date, required: true },
    publishedBy: { type: String, required: true },
    previousVersionId: { type: String, default: null },
    changes: { type: [String], default: [] },
    content: { type: Schema.Types.Mixed, required: true },
  },
  { collection: 'curriculum_versions', versionKey: false, minimize: false },
);

const curriculumSchema = new Schema<CurriculumDoc>(
  {
    _id: { type: String, required: true },
    title: { type: String, required: true },
    latestVersionId: { type: String, required: true },
    latestHash: { type: String, required: true },
    publishedAt: { type: Date, required: true },
    versionCount: { type: Number, default: 0 },
  },
  { collection: 'curricula', versionKey: false },
);

export interface CurriculumModels {
  CurriculumVersion: Model<CurriculumVersionDoc>;
  Curriculum: Model<CurriculumDoc>;
}

export function curriculumModels(conn: Connection): CurriculumModels {
  return {
    CurriculumVersion: (conn.models.CurriculumVersion as Model<CurriculumVersionDoc>) ?? conn.model('CurriculumVersion', versionSchema),
    Curriculum: (conn.models.Curriculum as Model<CurriculumDoc>) ?? conn.model('Curriculum', curriculumSchema),
  };
}
