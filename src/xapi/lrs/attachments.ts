import { Binary, type Collection } from 'mongodb';
import type { Connection } from 'mongoose';
import type { AttachmentPart } from './multipart.js';

interface AttachmentDoc {
  /** the SHA-2 hash: the same content is stored once, whichever statements carry it */
  _id: string;
  contentType: string;
  length: number;
  data: Binary;
  stored: Date;
}

/** Raw attachment content sent with statements (multipart/mixed), keyed by its hash. */
export class AttachmentStore {
  readonly col: Collection<AttachmentDoc>;

  constructor(conn: Connection) {
    this.col = conn.db!.collection<AttachmentDoc>('xapi_attachments');
  }

  /** Stored before the statements that reference them, so a stored statement never lacks its content. */
  async put(parts: AttachmentPart[]): Promise<void> {
    const unique = new Map(parts.map((p) => [p.sha2, p]));
    await Promise.all(
      [...unique.values()].map((p) =>
        this.col.updateOne(
          { _id: p.sha2 },
          { $setOnInsert: { contentType: p.contentType, length: p.content.length, data: new Binary(p.content), stored: new Date() } },
          { upsert: true },
        ),
      ),
    );
  }

  /** The content of these hashes (one point lookup each); unknown hashes are left out. */
  async get(hashes: string[]): Promise<AttachmentPart[]> {
    const found = await Promise.all([...new Set(hashes)].map((_id) => this.col.findOne({ _id })));
    return found.filter((d): d is AttachmentDoc => d !== null).map((d) => ({ sha2: d._id, contentType: d.contentType, content: Buffer.from(d.data.buffer) }));
  }
}
