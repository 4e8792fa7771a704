import { createHash } from 'node:crypto';
import { Binary, type Collection } from 'mongodb';
import type { Connection } from 'mongoose';

interface ArchivedDocument {
  _id: string; // `${submissionId}:v${version}`
  submissionId: string;
  version: number;
  contentType: string;
  sha256: string;
  data: Binary;
  createdAt: Date;
}

/**
 * The PDF of the version a manager approved, kept with the submission exactly as it was then (a
 * later change to the template does not rewrite it) and attached to the `approved` statement.
 */
export class ApprovedDocuments {
  private readonly col: Collection<ArchivedDocument>;

  constructor(conn: Connection) {
    this.col = conn.db!.collection<ArchivedDocument>('submission_documents');
  }

  async keep(submissionId: string, version: number, pdf: Buffer): Promise<{ content: Buffer; sha2: string }> {
    const sha2 = createHash('sha256').update(pdf).digest('hex');
    await this.col.updateOne(
      { _id: `${submissionId}:v${version}` },
      { $setOnInsert: { submissionId, version, contentType: 'application/pdf', sha256: sha2, data: new Binary(pdf), createdAt: new Date() } },
      { upsert: true },
    );
    // what is kept (the first one written, if this ran twice)
    const kept = (await this.get(submissionId, version))!;
    return { content: kept, sha2: createHash('sha256').update(kept).digest('hex') };
  }

  async get(submissionId: string, version: number): Promise<Buffer | null> {
    const doc = await this.col.findOne({ _id: `${submissionId}:v${version}` });
    return doc ? Buffer.from(doc.data.buffer) : null;
  }
}
